"""Inferring a data contract from a table of text cells: the tricky columns, one by one."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package }}.core.features import group_split
from {{ cookiecutter.package }}.core.inference import (
    InferenceError,
    choose_group,
    choose_timestamp,
    infer_column,
    infer_positive_class,
    infer_schema,
    infer_task,
    named_like_id,
    with_headroom,
)


def column(values: list[str | None], name: str = "x"):
    return infer_column(name, pd.Series(values, dtype=object))


def test_a_small_count_is_a_number_not_a_set_of_codes():
    # 0..8 lesions: a quantity (more is more), so a range, not nine one-hot categories
    inferred = column([str(value % 9) for value in range(200)])
    assert inferred.kind == "numeric"
    assert (inferred.spec.dtype, inferred.spec.min, inferred.spec.max, inferred.spec.allowed) == ("int", 0, 10, None)


def test_numeric_codes_with_gaps_are_categories_compared_as_numbers():
    inferred = column([str([11, 23, 37, 42, 58][value % 5]) for value in range(200)], name="site")
    assert inferred.kind == "categorical"
    assert (inferred.spec.dtype, inferred.spec.allowed) == ("int", [11, 23, 37, 42, 58])


@pytest.mark.parametrize(("name", "values"), [("ram", [2, 4, 8, 16, 24, 32]), ("speed", [25, 33, 50, 66, 75, 100])])
def test_numbers_with_gaps_are_quantities_unless_named_like_codes(name: str, values: list[int]):
    # RAM sizes and CPU speeds skip numbers as codes do, but more is more: a range, and the reason says why not codes
    inferred = column([str(values[index % len(values)]) for index in range(300)], name=name)
    assert (inferred.kind, inferred.spec.dtype, inferred.spec.allowed) == ("numeric", "int", None)
    assert f"{len(values)} values with gaps ({', '.join(map(str, values))}), not named like codes: a quantity" in inferred.reason
    # The same numbers under a name that says they are labels are codes, and the reason says so
    coded = column([str(values[index % len(values)]) for index in range(300)], name=f"{name}_code")
    assert (coded.kind, coded.spec.allowed) == ("categorical", values) and "named like codes: labels" in coded.reason


def test_two_valued_integers_are_a_flag():
    inferred = column(["0", "1", "1", "0"] * 20)
    assert (inferred.kind, inferred.spec.dtype, inferred.spec.allowed) == ("categorical", "int", [0, 1])


@pytest.mark.parametrize("labels", [["yes", "no"], ["True", "False"], ["Y", "N"]])
def test_boolean_like_text_stays_text_labels(labels: list[str]):
    # A bool dtype would read every non-empty text, "no" and "False" included, as True.
    inferred = column(labels * 30)
    assert (inferred.kind, inferred.spec.dtype, inferred.spec.allowed) == ("categorical", "category", sorted(labels))


def test_a_unique_token_column_is_an_id_but_unique_sentences_are_text():
    assert column([f"P{index:05d}" for index in range(50)], name="patient").kind == "id"
    sentences = column([f"Bright flat number {index} near the park" for index in range(50)], name="description")
    assert (sentences.kind, sentences.spec.dtype, sentences.is_feature) == ("text", "string", False)


@pytest.mark.parametrize("ids", [[f"P{index // 3:05d}" for index in range(300)], [str(700 + index // 3) for index in range(300)]])
def test_an_id_repeated_across_rows_is_a_group_never_a_feature(ids: list[str]):
    # One patient in three rows, as text or as numbers: not an id (not unique), not a number, not a hundred labels
    inferred = column(ids, name="patient_id")
    assert (inferred.kind, inferred.is_feature, inferred.spec.unique) == ("group", False, False)
    assert inferred.reason == (
        "named like an id but repeated: 100 values in 300 rows (up to 3 rows each), so a group (one entity in several rows)"
    )
    schema = infer_schema(pd.DataFrame({"patient_id": ids, "dose": [str(index % 7) for index in range(300)]}))
    chosen, decision = choose_group(schema, None, {None})
    assert chosen == "patient_id" and "a random split would put one entity in train and holdout" in decision.reason
    with pytest.raises(InferenceError, match="--group 'ward' is not a column"):
        choose_group(schema, "ward", {None})


def test_a_group_split_keeps_every_group_on_one_side_and_is_seeded():
    frame = pd.DataFrame({"patient_id": [index // 4 for index in range(400)], "x": range(400)})
    train, holdout = group_split(frame, "patient_id", 0.2, seed=42)
    assert set(train["patient_id"]).isdisjoint(holdout["patient_id"]) and len(train) + len(holdout) == 400
    assert holdout["patient_id"].nunique() == 20  # a fifth of the 100 patients, with all their rows
    assert holdout.index.equals(group_split(frame, "patient_id", 0.2, seed=42)[1].index)
    assert not holdout.index.equals(group_split(frame, "patient_id", 0.2, seed=7)[1].index)


def test_unique_integers_are_an_id_only_when_named_like_one():
    assert column([str(5000 + 3 * index) for index in range(50)], name="listing_id").kind == "id"
    assert column([str(5000 + 3 * index) for index in range(50)], name="price").kind == "numeric"


@pytest.mark.parametrize(
    ("name", "expected"), [("id", True), ("patient_id", True), ("customerId", True), ("paid", False), ("valid", False)]
)
def test_id_names(name: str, expected: bool):
    assert named_like_id(name) is expected


def test_dates_are_datetime_and_empty_cells_make_a_column_nullable():
    dates = column(["2023-01-05", "2023-02-11", None, "2024-03-01"] * 5)
    assert (dates.kind, dates.spec.dtype, dates.spec.nullable) == ("datetime", "datetime", True)
    numbers = column(["1.5", "", "2.25", "3.0"] * 10)
    assert (numbers.kind, numbers.spec.dtype, numbers.spec.nullable) == ("numeric", "float", True)


def test_missing_tokens_in_numbers_are_declared_but_kept_in_text():
    raw = pd.DataFrame({"charge": ["1.5", "n/a", "2.0", "3.5"] * 10, "comment": ["n/a", "late", "fine", "late"] * 10})
    schema = infer_schema(raw)
    assert schema.missing_tokens == ["n/a"]
    assert (schema.columns["charge"].kind, schema.columns["charge"].spec.nullable) == ("numeric", True)
    assert "n/a" in schema.columns["comment"].spec.allowed


def test_a_constant_column_is_not_a_feature():
    inferred = column(["EUR"] * 30, name="currency")
    assert (inferred.kind, inferred.is_feature) == ("constant", False)


def test_many_distinct_labels_are_text_not_a_hundred_categories():
    assert column([f"city {index % 60}" for index in range(600)]).kind == "text"


def test_headroom_keeps_a_non_negative_floor_at_zero_and_integers_integral():
    assert with_headroom(18, 95, integer=True) == (0, 120)
    low, high = with_headroom(-3.2, 7.9, integer=False)
    assert low < -3.2 and high > 7.9 and low == pytest.approx(-6.0) and high == pytest.approx(11.0)


def test_task_follows_the_target_and_an_override_must_fit():
    labels = pd.Series(["benign", "malignant", "benign"] * 10)
    numbers = pd.Series([str(value * 1.5) for value in range(30)])
    assert infer_task("y", column(list(labels)), labels, None).choice == "binary_classification"
    assert infer_task("y", column(list(numbers)), numbers, None).choice == "regression"
    with pytest.raises(InferenceError, match="needs a numeric target"):
        infer_task("y", column(list(labels)), labels, "regression")
    three = pd.Series(["a", "b", "c"] * 10)
    with pytest.raises(InferenceError, match="has 3 labels"):
        infer_task("y", column(list(three)), three, None)


def test_positive_class_is_one_for_zero_one_labels_else_the_rarer_label():
    assert infer_positive_class("y", pd.Series(["1", "0", "0", "0"]), None)[0] == "1"
    label, decision = infer_positive_class("y", pd.Series(["benign"] * 6 + ["malignant"] * 4), None)
    assert label == "malignant" and "less frequent" in decision.reason
    assert infer_positive_class("y", pd.Series(["benign"] * 6 + ["malignant"] * 4), "benign")[0] == "benign"
    with pytest.raises(InferenceError, match="not a label"):
        infer_positive_class("y", pd.Series(["a", "b"]), "c")


def test_integer_periods_can_order_a_time_split_when_asked_and_are_proposed_when_there_is_no_date():
    raw = pd.DataFrame({"yyyymm": [str(202201 + index % 12) for index in range(120)], "x": [str(i * 0.5) for i in range(120)]})
    schema = infer_schema(raw)
    # Not chosen unasked (a year may be a car's model year, a feature), but proposed with the flag that makes it the time column
    chosen, decision = choose_timestamp(schema, None, raw)
    assert chosen is None and decision.reason == "no date column; yyyymm holds integer periods: pass --timestamp yyyymm to split by time"
    chosen, decision = choose_timestamp(schema, "yyyymm", raw)
    assert chosen == "yyyymm" and "integer periods" in decision.reason
    with pytest.raises(InferenceError, match="neither dates nor integer periods"):
        choose_timestamp(schema, "x", raw)


def test_timestamp_is_the_only_date_column_or_none_with_the_reason():
    one = infer_schema(pd.DataFrame({"at": ["2024-01-01", "2024-02-01"] * 5, "x": [str(i / 2) for i in range(10)]}))
    assert choose_timestamp(one, None)[0] == "at"
    two = infer_schema(pd.DataFrame({"a": ["2024-01-01", "2024-02-01"] * 5, "b": ["2024-03-01", "2024-04-01"] * 5}))
    chosen, decision = choose_timestamp(two, None)
    assert chosen is None and "several date columns" in decision.reason
    with pytest.raises(InferenceError, match="neither dates nor integer periods"):
        choose_timestamp(one, "x")
