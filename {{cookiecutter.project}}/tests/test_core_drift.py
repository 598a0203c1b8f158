import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package }}.core.drift import MAX_CATEGORIES, ColumnRule, build_profile, compare
from {{ cookiecutter.package }}.errors import ConfigError, InputError

NUMERIC = ["amount", "tenure", "plan_level"]
CATEGORICAL = ["region", "channel"]


def customers(rows: int, seed: int, *, amount_shift: float = 0.0, region_weights=(0.5, 0.3, 0.2)) -> pd.DataFrame:
    """A seeded table of customers: a continuous, a whole-number and a three-valued number; two categories."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100.0 + amount_shift, 15.0, rows),
            "tenure": rng.integers(1, 60, rows).astype(float),
            "plan_level": rng.choice([1.0, 2.0, 3.0], rows, p=[0.6, 0.3, 0.1]),
            "region": rng.choice(["north", "south", "west"], rows, p=list(region_weights)),
            "channel": rng.choice(["web", "shop"], rows, p=[0.7, 0.3]),
        }
    )


def profile_of(frame: pd.DataFrame) -> dict:
    return build_profile(frame, numeric=NUMERIC, categorical=CATEGORICAL)


def by_column(result) -> dict:
    return {column.column: column for column in result.columns}


def test_a_shifted_numeric_column_drifts_and_the_others_do_not():
    reference, current = customers(5000, seed=1), customers(5000, seed=2, amount_shift=7.5)
    result = by_column(compare(profile_of(reference), current))
    # Half a standard deviation: the normed Wasserstein distance is about 0.5, far above 0.1.
    assert result["amount"].method == "wasserstein"
    assert result["amount"].statistic == pytest.approx(0.5, abs=0.05)
    assert result["amount"].drifted
    assert [name for name, column in result.items() if column.drifted] == ["amount"]


def test_an_iid_sample_does_not_drift_whatever_the_reference_size():
    for rows in (500, 5000):
        result = compare(profile_of(customers(rows, seed=3)), customers(rows, seed=4))
        assert result.drifted_columns == (), rows
        assert not result.dataset_drift


def test_a_new_category_is_listed_and_makes_the_column_drift():
    reference = customers(600, seed=5)
    current = customers(600, seed=6)
    current.loc[current.index[:120], "region"] = "east"
    region = by_column(compare(profile_of(reference), current))["region"]
    assert region.new_categories == ("east",)
    # Chi-square expects no "east" at all from the reference: p is 0, as in evidently.
    assert (region.method, region.statistic, region.drifted) == ("chisquare", 0.0, True)


def test_categories_read_as_numbers_or_text_stay_the_same_categories():
    reference = pd.DataFrame({"code": [1, 2, 3] * 200})
    current = pd.DataFrame({"code": ["1", "2", "3"] * 200})
    (code,) = compare(build_profile(reference, numeric=[], categorical=["code"]), current).columns
    assert code.new_categories == ()
    assert not code.drifted


def test_nulls_appearing_show_as_a_null_rate_change():
    reference, current = customers(2000, seed=7), customers(2000, seed=8)
    current.loc[current.index[::4], "tenure"] = np.nan
    tenure = by_column(compare(profile_of(reference), current))["tenure"]
    assert tenure.reference_null_rate == 0.0
    assert tenure.current_null_rate == pytest.approx(0.25)
    assert tenure.null_rate_change == pytest.approx(0.25)
    # Nulls are left out of the test itself (as evidently does): the remaining values have not moved.
    assert not tenure.drifted


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (1000, {"amount": "ks", "tenure": "ks", "plan_level": "chisquare", "region": "chisquare", "channel": "z"}),
        (
            1001,
            {"amount": "wasserstein", "tenure": "wasserstein", **dict.fromkeys(["plan_level", "region", "channel"], "jensenshannon")},
        ),
    ],
)
def test_up_to_1000_reference_values_use_tests_and_more_use_distances(rows, expected):
    result = compare(profile_of(customers(rows, seed=9)), customers(700, seed=10))
    assert {column.column: column.method for column in result.columns} == expected


@pytest.mark.parametrize(
    ("distinct", "rows", "expected"),
    [(5, 1000, "chisquare"), (6, 1000, "ks"), (5, 1001, "jensenshannon"), (6, 1001, "wasserstein"), (2, 1000, "z")],
)
def test_a_numeric_column_with_at_most_5_values_is_tested_like_categories(distinct, rows, expected):
    # Reference and current together hold `distinct` values: the current adds the last one.
    reference = pd.DataFrame({"stars": np.resize(np.arange(distinct - 1, dtype=float), rows)})
    current = pd.DataFrame({"stars": np.arange(distinct, dtype=float)})
    (stars,) = compare(build_profile(reference, numeric=["stars"], categorical=[]), current).columns
    assert stars.method == expected


def test_the_threshold_is_counted_as_evidently_does_at_the_boundary():
    reference, current = customers(800, seed=11), customers(800, seed=12, amount_shift=2.0)
    measured = by_column(compare(profile_of(reference), current))
    rules = {
        "amount": ColumnRule(threshold=measured["amount"].statistic),
        "region": ColumnRule(threshold=measured["region"].statistic),
        "tenure": ColumnRule(method="wasserstein", threshold=0.5),
    }
    at_threshold = by_column(compare(profile_of(reference), current, rules=rules))
    # K-S drifts when p ≤ threshold, chi-square only when p < threshold.
    assert at_threshold["amount"].drifted
    assert not at_threshold["region"].drifted
    tenure_distance = at_threshold["tenure"].statistic
    rules["tenure"] = ColumnRule(method="wasserstein", threshold=tenure_distance)
    # Distances drift when they reach the threshold.
    assert by_column(compare(profile_of(reference), current, rules=rules))["tenure"].drifted


def test_a_column_rule_overrides_method_and_threshold():
    reference, current = customers(5000, seed=13), customers(5000, seed=14, amount_shift=3.0)
    default = by_column(compare(profile_of(reference), current))["amount"]
    assert (default.method, default.threshold, default.drifted) == ("wasserstein", 0.1, True)
    rules = {"amount": ColumnRule(threshold=0.5), "region": ColumnRule(method="psi", threshold=0.2)}
    overridden = by_column(compare(profile_of(reference), current, rules=rules))
    assert (overridden["amount"].method, overridden["amount"].threshold) == ("wasserstein", 0.5)
    assert overridden["amount"].statistic == default.statistic
    assert not overridden["amount"].drifted
    assert (overridden["region"].method, overridden["region"].threshold) == ("psi", 0.2)


def test_rules_that_cannot_apply_are_one_line_errors():
    profile = profile_of(customers(100, seed=15))
    current = customers(100, seed=16)
    with pytest.raises(ConfigError, match="'ks' does not apply to categorical"):
        compare(profile, current, rules={"region": ColumnRule(method="ks")})
    with pytest.raises(ConfigError, match="does not have: \\['regoin'\\]"):
        compare(profile, current, rules={"regoin": ColumnRule(threshold=0.1)})
    with pytest.raises(ConfigError, match="unknown"):
        ColumnRule(method="kolmogorov")


def test_the_data_set_drifts_when_half_the_columns_drift():
    reference = customers(3000, seed=17)
    current = customers(3000, seed=18, amount_shift=15.0, region_weights=(0.2, 0.3, 0.5))
    result = compare(profile_of(reference), current)
    assert set(result.drifted_columns) == {"amount", "region"}
    assert result.share == pytest.approx(2 / 5)
    assert not result.dataset_drift
    assert compare(profile_of(reference), current, drift_share=0.4).dataset_drift


def test_the_profile_round_trips_through_json_and_stays_compact():
    reference, current = customers(20_000, seed=19), customers(5000, seed=20, amount_shift=5.0)
    profile = profile_of(reference)
    text = json.dumps(profile, allow_nan=False)
    assert compare(json.loads(text), current) == compare(profile, current)
    # A grid of about a thousand quantiles per numeric column, whatever the number of rows.
    assert len(text) < 60_000


def test_a_column_missing_from_current_data_is_reported_not_raised():
    reference, current = customers(1500, seed=21), customers(1500, seed=22).drop(columns=["tenure"])
    current["coupon"] = "none"
    result = compare(profile_of(reference), current)
    tenure = by_column(result)["tenure"]
    assert tenure.missing and tenure.drifted and math.isnan(tenure.statistic)
    assert result.unexpected_columns == ("coupon",)
    assert json.dumps(result.as_dict(), allow_nan=False)


def test_text_in_a_numeric_column_is_a_schema_violation():
    reference, current = customers(400, seed=23), customers(400, seed=24)
    current["amount"] = current["amount"].astype(object)
    current.loc[current.index[:3], "amount"] = "n/a"
    amount = by_column(compare(profile_of(reference), current))["amount"]
    assert amount.schema_violation == "3 values are not numbers"
    assert not amount.drifted


def test_rare_categories_beyond_the_cap_are_pooled():
    labels = [f"c{index}" for index in range(MAX_CATEGORIES + 50)]
    reference = pd.DataFrame({"code": labels * 2})
    profile = build_profile(reference, numeric=[], categorical=["code"])
    column = profile["columns"]["code"]
    assert (len(column["categories"]), column["other"], column["distinct"]) == (MAX_CATEGORIES, 100, MAX_CATEGORIES + 50)
    # A value outside the kept categories may be one of the pooled ones: it is not called new.
    (code,) = compare(profile, pd.DataFrame({"code": [*labels, "brand-new"]})).columns
    assert code.new_categories == ()


def test_a_profile_from_elsewhere_is_checked():
    profile = profile_of(customers(100, seed=25))
    with pytest.raises(InputError, match="version"):
        compare({**profile, "version": 99}, customers(100, seed=26))
    broken = json.loads(json.dumps(profile))
    del broken["columns"]["amount"]["quantiles"]
    with pytest.raises(InputError, match="malformed"):
        compare(broken, customers(100, seed=26))
    broken = json.loads(json.dumps(profile))
    del broken["columns"]["plan_level"]["values"]
    with pytest.raises(InputError, match="no 'values'"):
        compare(broken, customers(100, seed=26))


# --- the same verdicts as evidently -------------------------------------------------------------

EVIDENTLY_METHOD_NAMES = {
    "ks": "K-S p_value",
    "chisquare": "chi-square p_value",
    "z": "Z-test p_value",
    "wasserstein": "Wasserstein distance (normed)",
    "jensenshannon": "Jensen-Shannon distance",
}
# Up to 1,000 reference values the profile keeps them all: same figures up to float rounding.
# Above, Wasserstein uses the reference's quantile grid: within 0.005 of scipy's exact distance.
EXACT_TOLERANCE = 1e-9
QUANTILE_GRID_TOLERANCE = 0.005


@pytest.fixture(scope="module")
def evidently_drift():
    """evidently's DataDriftPreset as a function: (reference, current) → {column: (method, statistic, drifted)}."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)

    def run(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, tuple[str, float, bool]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            snapshot = Report([DataDriftPreset()], include_tests=True).run(
                Dataset.from_pandas(current, data_definition=definition),
                Dataset.from_pandas(reference, data_definition=definition),
            )
        data = snapshot.dict()
        values = {metric["config"]["column"]: metric for metric in data["metrics"] if "column" in metric["config"]}
        drifted = {test["metric_config"]["params"]["column"]: test["status"] == "FAIL" for test in data["tests"] if test["id"] == "drift"}
        return {column: (metric["config"]["method"], metric["value"], drifted[column]) for column, metric in values.items()}

    return run


@pytest.mark.parametrize("reference_rows", [800, 4000])
def test_verdicts_agree_with_evidently(evidently_drift, reference_rows):
    reference = customers(reference_rows, seed=27)
    reference.loc[reference.index[::10], "amount"] = np.nan
    drifted = customers(900, seed=28, amount_shift=6.0, region_weights=(0.3, 0.3, 0.4))
    drifted.loc[drifted.index[:60], "channel"] = "phone"
    verdicts = set()
    for current in (customers(900, seed=29), drifted):
        theirs = evidently_drift(reference, current)
        ours = by_column(compare(profile_of(reference), current))
        assert set(theirs) == set(ours)
        for name, (method, statistic, drifted_verdict) in theirs.items():
            column = ours[name]
            assert (EVIDENTLY_METHOD_NAMES[column.method], column.drifted) == (method, drifted_verdict), name
            tolerance = QUANTILE_GRID_TOLERANCE if column.method == "wasserstein" else EXACT_TOLERANCE
            assert column.statistic == pytest.approx(statistic, rel=EXACT_TOLERANCE, abs=tolerance), name
            verdicts.add(drifted_verdict)
    # Drifted and undrifted columns were both compared.
    assert verdicts == {True, False}


def test_a_column_profiled_on_fewer_rows_is_tested_as_the_size_its_profile_names():
    # The champion's predictions are profiled on the holdout (here 800 rows) beside features of 5,000 training rows.
    holdout, current = customers(800, seed=21), customers(800, seed=22)
    profile = build_profile(holdout, numeric=["amount"], categorical=["region"])
    as_is = by_column(compare(profile, current))
    assert (as_is["amount"].method, as_is["region"].method) == ("ks", "chisquare")
    for column in profile["columns"].values():
        column["tests_as_count"] = 5000
    as_training = by_column(compare(profile, current))
    assert (as_training["amount"].method, as_training["region"].method) == ("wasserstein", "jensenshannon")
    assert not as_training["amount"].drifted


def test_each_column_of_the_json_says_whether_its_statistic_is_a_p_value_or_a_distance():
    reference = customers(800, seed=23)
    rules = {"tenure": ColumnRule(method="psi")}
    columns = {column["column"]: column for column in compare(profile_of(reference), reference, rules=rules).as_dict()["columns"]}
    assert (columns["amount"]["method"], columns["amount"]["statistic_kind"]) == ("ks", "p-value")
    assert (columns["tenure"]["method"], columns["tenure"]["statistic_kind"]) == ("psi", "distance")
