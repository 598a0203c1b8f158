"""Data drift of current data against the champion's reference profile, decided as evidently 0.7 decides it.

`train` keeps a compact profile of the training data (`build_profile`), which travels with the
model; `compare` judges current data against that profile alone, without the training data.

What is taken from evidently 0.7 (`evidently.legacy.calculations.stattests`, unchanged up to 0.7.23):

- Before any test, nulls and ±inf are dropped from both sides.
- Default test per column (`_get_default_stattest`), where *n* is the number of non-null reference
  values and *distinct* counts the distinct values of reference and current together:
  n ≤ 1,000: numeric → K-S, unless distinct ≤ 5 (then chi-square, or the z-test when distinct ≤ 2);
  categorical → chi-square, or the z-test when distinct ≤ 2.
  n > 1,000: numeric → normed Wasserstein, unless distinct ≤ 5 (then Jensen–Shannon);
  categorical → Jensen–Shannon.
- Verdicts: K-S drifts when p ≤ threshold; chi-square and z when p < threshold (both 0.05 by
  default); Wasserstein, Jensen–Shannon and PSI when the distance ≥ threshold (0.1 by default).
  The data set drifts when the share of drifted columns ≥ `drift_share` (0.5).
- Wasserstein is divided by max(reference std (ddof 0), 0.001). Jensen–Shannon and PSI compare
  shares per value when the reference has ≤ 20 distinct values, else per bin of a Sturges
  histogram over reference and current together; PSI (not Jensen–Shannon) replaces empty bins by
  a small share first. Chi-square scales the reference counts to the current total.

A column's profile may say which reference size chooses its default test (``tests_as_count``):
the champion's predictions are profiled on the holdout, smaller than the training data, and are
judged with the family of tests the features of the training data's size get (K-S on a holdout of
800 rows beside normed Wasserstein on 4,000 training rows would hold them to another standard).

Where the profile holds less than the data, the figures are close rather than identical:
with more than 1,000 non-null reference values a numeric column keeps a grid of quantiles
(`QUANTILE_LEVELS`, finer in the tails) instead of its values, so Wasserstein (and K-S or a
numeric histogram when a rule asks for them) use a reference quantile function that is linear
between grid points; a categorical column keeps at most `MAX_CATEGORIES` categories, the rarer
ones pooled into one "other" bucket (then unseen current values join that bucket and are not
listed as new). Up to 1,000 values, the profile holds them all and every test is evidently's.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from ..errors import ConfigError, InputError

PROFILE_VERSION = 1
NUMERIC, CATEGORICAL = "numeric", "categorical"
# evidently's limits (see the module docstring).
SMALL_REFERENCE_MAX_VALUES = 1000
FEW_DISTINCT_MAX = 5
BINARY_DISTINCT_MAX = 2
VALUE_BINS_MAX_DISTINCT = 20
WASSERSTEIN_MIN_NORM = 0.001
# Ours: how much of a column the profile keeps.
MAX_CATEGORIES = 1000
QUANTILE_SIGNIFICANT_DIGITS = 8
# A uniform grid of 1,001 levels, plus tail levels down to 1e-7 so that the extremes of a
# long-tailed column (where the linear interpolation would err most) are pinned too.
_TAIL_LEVELS = np.array([m * 10.0**e for e in range(-7, -3) for m in (1, 2, 5)])
QUANTILE_LEVELS = np.unique(np.concatenate([np.linspace(0.0, 1.0, 1001), _TAIL_LEVELS, 1.0 - _TAIL_LEVELS]))


@dataclass(frozen=True)
class _Method:
    display_name: str
    kinds: frozenset[str]
    default_threshold: float
    is_p_value: bool
    # K-S counts p == threshold as drift, chi-square and z do not; distances drift at the threshold.
    drifts_at_threshold: bool


_BOTH = frozenset({NUMERIC, CATEGORICAL})
METHODS: Mapping[str, _Method] = {
    "ks": _Method("K-S p_value", frozenset({NUMERIC}), 0.05, is_p_value=True, drifts_at_threshold=True),
    "chisquare": _Method("chi-square p_value", frozenset({CATEGORICAL}), 0.05, is_p_value=True, drifts_at_threshold=False),
    "z": _Method("Z-test p_value", frozenset({CATEGORICAL}), 0.05, is_p_value=True, drifts_at_threshold=False),
    "wasserstein": _Method("Wasserstein distance (normed)", frozenset({NUMERIC}), 0.1, is_p_value=False, drifts_at_threshold=True),
    "jensenshannon": _Method("Jensen-Shannon distance", _BOTH, 0.1, is_p_value=False, drifts_at_threshold=True),
    "psi": _Method("PSI", _BOTH, 0.1, is_p_value=False, drifts_at_threshold=True),
}


@dataclass(frozen=True)
class ColumnRule:
    """A column's own drift method and/or threshold; None keeps evidently's default."""

    method: str | None = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.method is not None and self.method not in METHODS:
            raise ConfigError(f"drift method {self.method!r} is unknown: expected one of {', '.join(METHODS)}")
        if self.threshold is not None and not (math.isfinite(self.threshold) and self.threshold > 0):
            raise ConfigError(f"drift threshold {self.threshold!r} must be a positive number")


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict. `statistic` is a p-value or a distance, as `method` says; NaN when no test could run."""

    column: str
    kind: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    reference_null_rate: float
    current_null_rate: float
    new_categories: tuple[str, ...] = ()
    missing: bool = False
    # Values of a numeric column that are not numbers (left out of the test), or "" when none.
    schema_violation: str = ""

    @property
    def method_display_name(self) -> str:
        return METHODS[self.method].display_name

    @property
    def statistic_kind(self) -> str:
        return statistic_kind(self.method)

    @property
    def null_rate_change(self) -> float:
        return self.current_null_rate - self.reference_null_rate


@dataclass(frozen=True)
class DriftResult:
    """All columns' verdicts and the data set's: it drifts when the share of drifted columns ≥ `drift_share`."""

    columns: tuple[ColumnDrift, ...]
    drifted_columns: tuple[str, ...]
    share: float
    dataset_drift: bool
    drift_share: float
    # Columns of the current data the profile does not know (the model never saw them).
    unexpected_columns: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes None)."""
        data = asdict(self)
        for column, result in zip(data["columns"], self.columns, strict=True):
            for key, value in column.items():
                if isinstance(value, float) and math.isnan(value):
                    column[key] = None
            # One column, one meaning: a reader of the JSON sees which way the statistic drifts.
            column["statistic_kind"] = result.statistic_kind
        return data


def statistic_kind(method: str) -> str:
    """The kind of statistic ``method`` gives: "p-value" (drift below the threshold) or "distance" (at or above it)."""
    return "p-value" if METHODS[method].is_p_value else "distance"


# --- the profile -----------------------------------------------------------------------------


def build_profile(frame: pd.DataFrame, *, numeric: Sequence[str], categorical: Sequence[str]) -> dict[str, Any]:
    """The compact, JSON-ready reference profile of `frame`'s numeric and categorical columns."""
    both = sorted(set(numeric) & set(categorical))
    if both:
        raise InputError(f"drift profile: columns {both} are listed as both numeric and categorical")
    absent = [name for name in [*numeric, *categorical] if name not in frame.columns]
    if absent:
        raise InputError(f"drift profile: columns {absent} are not in the data (it has {list(frame.columns)})")
    columns: dict[str, Any] = {}
    for name in numeric:
        columns[name] = _numeric_profile(name, frame[name])
    for name in categorical:
        columns[name] = _categorical_profile(frame[name])
    return {
        "version": PROFILE_VERSION,
        "rows": len(frame),
        "quantile_levels": QUANTILE_LEVELS.tolist(),
        "columns": columns,
    }


def _numeric_profile(name: str, series: pd.Series) -> dict[str, Any]:
    values, _ = _finite_numbers(series)
    if values is None:
        raise InputError(f"drift profile: column {name!r} is declared numeric but holds {series.dtype} values")
    nulls = int(series.isna().sum())
    entry: dict[str, Any] = {"kind": NUMERIC, "rows": len(series), "nulls": nulls, "count": int(values.size)}
    if values.size == 0:
        return entry
    ordered = np.sort(values)
    # Runs of equal values in the sorted column: their starts give the distinct values and their counts.
    starts = np.concatenate([[0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1])
    entry.update(
        mean=float(ordered.mean()),
        std=float(ordered.std()),
        min=float(ordered[0]),
        max=float(ordered[-1]),
        distinct=int(starts.size),
        quantiles=[_rounded(value) for value in _sorted_quantiles(ordered, QUANTILE_LEVELS)],
    )
    if starts.size <= VALUE_BINS_MAX_DISTINCT:
        run_lengths = np.diff([*starts, ordered.size])
        entry["value_counts"] = [[float(ordered[start]), int(count)] for start, count in zip(starts, run_lengths, strict=True)]
    if ordered.size <= SMALL_REFERENCE_MAX_VALUES:
        entry["values"] = ordered.tolist()
    return entry


def _categorical_profile(series: pd.Series) -> dict[str, Any]:
    counts = _category_counts(series)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = ranked[:MAX_CATEGORIES]
    return {
        "kind": CATEGORICAL,
        "rows": len(series),
        "nulls": int(series.isna().sum()),
        "count": int(sum(counts.values())),
        "distinct": len(counts),
        "categories": [label for label, _ in kept],
        "counts": [count for _, count in kept],
        # Rows of the categories beyond MAX_CATEGORIES, pooled.
        "other": int(sum(count for _, count in ranked[MAX_CATEGORIES:])),
    }


def _sorted_quantiles(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """np.quantile's default (linear) method on an already sorted array."""
    position = (ordered.size - 1) * levels
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, ordered.size - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


def _rounded(value: float) -> float:
    return float(format(value, f".{QUANTILE_SIGNIFICANT_DIGITS}g"))


def _finite_numbers(series: pd.Series) -> tuple[np.ndarray | None, int]:
    """The finite values as float64 (evidently drops ±inf like nulls) and how many non-null values are not numbers.

    None when the column holds no numbers at all although it has values (a text column).
    """
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        not_numbers = 0
    else:
        parsed = pd.to_numeric(series, errors="coerce")
        not_numbers = int((parsed.isna() & series.notna()).sum())
        if not_numbers and not_numbers == int(series.notna().sum()):
            return None, not_numbers
        numbers = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    return numbers[np.isfinite(numbers)], not_numbers


def _category_label(value: Any) -> str:
    """A category as text, so that 1, 1.0 and "1" read from CSV or Parquet stay one category."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _category_counts(series: pd.Series) -> dict[str, int]:
    # Count the raw values first: labelling a handful of distinct values beats labelling every row.
    counts: dict[str, int] = {}
    for value, count in series.value_counts(dropna=True).items():
        label = _category_label(value)
        counts[label] = counts.get(label, 0) + int(count)
    return counts


# --- reading a profile back --------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    """One column of a profile, checked: the profile is read back from a release, written by whoever could."""

    kind: str
    rows: int
    nulls: int
    count: int
    distinct: int
    std: float
    levels: np.ndarray
    quantiles: np.ndarray | None
    values: np.ndarray | None
    # Numeric: value → count when few values; categorical: category → count.
    counts: dict[Any, int] | None
    other: int
    # The reference size that chooses the default test (``count`` unless the profile says otherwise).
    tests_as_count: int | None = None

    @property
    def choice_count(self) -> int:
        return self.count if self.tests_as_count is None else self.tests_as_count

    @property
    def null_rate(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0


def _read_profile(profile: Mapping[str, Any]) -> dict[str, _Reference]:
    try:
        if profile["version"] != PROFILE_VERSION:
            raise InputError(f"drift profile: version {profile['version']!r} is not supported (expected {PROFILE_VERSION})")
        levels = np.asarray(profile["quantile_levels"], dtype=np.float64)
        if levels.ndim != 1 or levels.size < 2 or levels[0] != 0.0 or levels[-1] != 1.0 or np.any(np.diff(levels) <= 0):
            raise InputError("drift profile: quantile_levels must rise strictly from 0 to 1")
        return {str(name): _read_column(entry, levels) for name, entry in profile["columns"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(f"drift profile is malformed: {type(error).__name__}: {error}") from error


def _read_column(entry: Mapping[str, Any], levels: np.ndarray) -> _Reference:
    reference = _read_kind(entry, levels)
    if entry.get("tests_as_count") is None:
        return reference
    tests_as_count = entry["tests_as_count"]
    if isinstance(tests_as_count, bool) or not isinstance(tests_as_count, int) or tests_as_count < 0:
        raise ValueError(f"tests_as_count {tests_as_count!r} is not a count")
    return replace(reference, tests_as_count=tests_as_count)


def _read_kind(entry: Mapping[str, Any], levels: np.ndarray) -> _Reference:
    kind = entry["kind"]
    rows, nulls, count = int(entry["rows"]), int(entry["nulls"]), int(entry["count"])
    if kind == CATEGORICAL:
        categories = [str(label) for label in entry["categories"]]
        counts = [int(value) for value in entry["counts"]]
        return _Reference(
            kind,
            rows,
            nulls,
            count,
            int(entry["distinct"]),
            math.nan,
            levels,
            quantiles=None,
            values=None,
            counts=dict(zip(categories, counts, strict=True)),
            other=int(entry["other"]),
        )
    if kind != NUMERIC:
        raise ValueError(f"unknown column kind {kind!r}")
    if count == 0:
        return _Reference(kind, rows, nulls, count, 0, math.nan, levels, quantiles=None, values=None, counts=None, other=0)
    quantiles = np.asarray(entry["quantiles"], dtype=np.float64)
    if quantiles.shape != levels.shape or not np.all(np.isfinite(quantiles)):
        raise ValueError("quantiles do not match quantile_levels")
    values = np.asarray(entry["values"], dtype=np.float64) if "values" in entry else None
    value_counts = {float(value): int(n) for value, n in entry["value_counts"]} if "value_counts" in entry else None
    # What compare relies on: all values up to evidently's small-sample limit, the counts when values are few.
    if values is None and count <= SMALL_REFERENCE_MAX_VALUES:
        raise ValueError(f"{count} values but no 'values'")
    if values is None and value_counts is None and int(entry["distinct"]) <= VALUE_BINS_MAX_DISTINCT:
        raise ValueError("few distinct values but no 'value_counts'")
    return _Reference(
        kind, rows, nulls, count, int(entry["distinct"]), float(entry["std"]), levels, quantiles, values, value_counts, other=0
    )


# --- the comparison ----------------------------------------------------------------------------


def compare(
    profile: Mapping[str, Any],
    current: pd.DataFrame,
    *,
    rules: Mapping[str, ColumnRule] | None = None,
    drift_share: float = 0.5,
) -> DriftResult:
    """Each profiled column of `current` against the reference, and whether the data set drifts."""
    references = _read_profile(profile)
    rules = dict(rules or {})
    unknown = sorted(set(rules) - set(references))
    if unknown:
        raise ConfigError(f"drift rules name columns the champion's profile does not have: {unknown}")
    if not 0 < drift_share <= 1:
        raise ConfigError(f"drift_share {drift_share!r} must be in (0, 1]")
    results = []
    for name, reference in references.items():
        rule = rules.get(name, ColumnRule())
        if rule.method is not None and reference.kind not in METHODS[rule.method].kinds:
            raise ConfigError(f"drift rule for column {name!r}: method {rule.method!r} does not apply to {reference.kind} columns")
        if name not in current.columns:
            results.append(_missing_column(name, reference, rule))
        elif reference.kind == NUMERIC:
            results.append(_numeric_drift(name, reference, current[name], rule))
        else:
            results.append(_categorical_drift(name, reference, current[name], rule))
    drifted = tuple(result.column for result in results if result.drifted)
    share = len(drifted) / len(results) if results else 0.0
    return DriftResult(
        columns=tuple(results),
        drifted_columns=drifted,
        share=share,
        dataset_drift=bool(results) and share >= drift_share,
        drift_share=drift_share,
        unexpected_columns=tuple(str(name) for name in current.columns if str(name) not in references),
    )


def _default_method(kind: str, reference_count: int, distinct: int) -> str:
    """evidently's `_get_default_stattest`; `distinct` counts reference and current values together."""
    if reference_count <= SMALL_REFERENCE_MAX_VALUES:
        if kind == NUMERIC and distinct > FEW_DISTINCT_MAX:
            return "ks"
        return "chisquare" if distinct > BINARY_DISTINCT_MAX else "z"
    if kind == NUMERIC and distinct > FEW_DISTINCT_MAX:
        return "wasserstein"
    return "jensenshannon"


def _verdict(method: str, statistic: float, threshold: float) -> bool:
    spec = METHODS[method]
    if spec.is_p_value:
        return bool(statistic <= threshold) if spec.drifts_at_threshold else bool(statistic < threshold)
    return bool(statistic >= threshold)


def _missing_column(name: str, reference: _Reference, rule: ColumnRule) -> ColumnDrift:
    # A column the current data lacks counts as drifted: the model cannot score such data.
    method = rule.method or _default_method(reference.kind, reference.choice_count, reference.distinct)
    threshold = rule.threshold if rule.threshold is not None else METHODS[method].default_threshold
    return ColumnDrift(name, reference.kind, method, math.nan, threshold, True, reference.null_rate, math.nan, missing=True)


def _empty_side(reference: _Reference, current_count: int) -> bool | None:
    """The verdict when one side has no values (no test can run): drift unless both are empty; None when both have values."""
    if reference.count and current_count:
        return None
    return bool(reference.count or current_count)


def _numeric_drift(name: str, reference: _Reference, series: pd.Series, rule: ColumnRule) -> ColumnDrift:
    values, not_numbers = _finite_numbers(series)
    if values is None:
        values = np.empty(0)
    violation = format(not_numbers, ",") + " values are not numbers" if not_numbers else ""
    null_rate = float(series.isna().mean()) if len(series) else 0.0
    distinct = reference.distinct
    if reference.count and distinct <= FEW_DISTINCT_MAX:
        # Only then can the union of reference and current values be as small as evidently's limit.
        distinct = len(set(_reference_value_counts(reference)) | set(pd.unique(values).tolist()))
    method = rule.method or _default_method(NUMERIC, reference.choice_count, distinct)
    threshold = rule.threshold if rule.threshold is not None else METHODS[method].default_threshold
    empty = _empty_side(reference, values.size)
    if empty is not None:
        statistic, drifted = math.nan, empty
    else:
        statistic = _numeric_statistic(method, reference, values)
        drifted = _verdict(method, statistic, threshold)
    return ColumnDrift(name, NUMERIC, method, statistic, threshold, drifted, reference.null_rate, null_rate, schema_violation=violation)


def _categorical_drift(name: str, reference: _Reference, series: pd.Series, rule: ColumnRule) -> ColumnDrift:
    current_counts = _category_counts(series)
    reference_counts = dict(reference.counts or {})
    unseen = [label for label in current_counts if label not in reference_counts]
    if reference.other:
        # The profile pooled its rarer categories: an unseen value may be one of them, so none is called new.
        new_categories: tuple[str, ...] = ()
        pooled = sum(current_counts.pop(label) for label in unseen)
        reference_counts[_OTHER] = reference.other
        current_counts[_OTHER] = pooled
    else:
        new_categories = tuple(sorted(unseen))
    null_rate = float(series.isna().mean()) if len(series) else 0.0
    distinct = len(set(reference_counts) | set(current_counts)) if not reference.other else reference.distinct + len(unseen)
    method = rule.method or _default_method(CATEGORICAL, reference.choice_count, distinct)
    threshold = rule.threshold if rule.threshold is not None else METHODS[method].default_threshold
    current_count = sum(current_counts.values())
    empty = _empty_side(reference, current_count)
    if empty is not None:
        statistic, drifted = math.nan, empty
    else:
        statistic = _keyed_statistic(method, reference_counts, current_counts)
        drifted = _verdict(method, statistic, threshold)
    return ColumnDrift(name, CATEGORICAL, method, statistic, threshold, drifted, reference.null_rate, null_rate, new_categories)


class _Other:
    """The key of the pooled "other" bucket: it equals no category."""

    def __repr__(self) -> str:
        return "<other>"


_OTHER = _Other()


def _reference_value_counts(reference: _Reference) -> dict[float, int]:
    if reference.counts is not None:
        return reference.counts
    assert reference.values is not None, "a numeric profile keeps its values or its value counts when few"
    return _value_counts(reference.values)


def _value_counts(values: np.ndarray) -> dict[float, int]:
    distinct, counts = np.unique(values, return_counts=True)
    return dict(zip(distinct.tolist(), counts.tolist(), strict=True))


def _numeric_statistic(method: str, reference: _Reference, current: np.ndarray) -> float:
    exact = reference.values
    if method == "ks":
        if exact is not None:
            return float(stats.ks_2samp(exact, current).pvalue)
        return _ks_from_quantiles(reference, current)
    if method == "wasserstein":
        norm = max(reference.std, WASSERSTEIN_MIN_NORM)
        if exact is not None:
            return float(stats.wasserstein_distance(exact, current)) / norm
        return _wasserstein_from_quantiles(reference, current) / norm
    # Jensen–Shannon and PSI: per value when the reference has few, else per histogram bin.
    if reference.distinct <= VALUE_BINS_MAX_DISTINCT:
        return _keyed_statistic(method, _reference_value_counts(reference), _value_counts(current))
    reference_shares, current_shares = _sturges_shares(reference, current)
    return _shares_statistic(method, reference_shares, current_shares)


def _keyed_statistic(method: str, reference_counts: Mapping[Any, int], current_counts: Mapping[Any, int]) -> float:
    """A test on counts per value or category; a key seen on one side only counts 0 on the other."""
    keys = list(set(reference_counts) | set(current_counts))
    reference = np.array([reference_counts.get(key, 0) for key in keys], dtype=np.float64)
    current = np.array([current_counts.get(key, 0) for key in keys], dtype=np.float64)
    if method == "chisquare":
        expected = reference * (current.sum() / reference.sum())
        # A key the reference never had expects 0: the statistic is infinite and p is 0, as in evidently.
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(stats.chisquare(current, expected).pvalue)
    if method == "z":
        return _z_test(keys, reference, current)
    return _shares_statistic(method, reference / reference.sum(), current / current.sum())


def _z_test(keys: list[Any], reference: np.ndarray, current: np.ndarray) -> float:
    """evidently's two-proportion z-test: the share of values other than the smallest key."""
    if np.count_nonzero(reference) == 1 and np.count_nonzero(current) == 1 and np.argmax(reference) == np.argmax(current):
        return 1.0
    first = min(range(len(keys)), key=lambda index: _sort_key(keys[index]))
    n1, n2 = reference.sum(), current.sum()
    p1 = (n1 - reference[first]) / n1
    p2 = (n2 - current[first]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    # 2 * (1 - cdf), not the survival function: the same figure as evidently, down to its underflow to 0.
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))


def _sort_key(key: Any) -> tuple[int, float, str]:
    """Numbers (and categories that read as numbers) by value, before other text, as evidently's sort of the raw values."""
    if isinstance(key, float | int):
        return (0, float(key), "")
    try:
        return (0, float(key), str(key))
    except (TypeError, ValueError):
        return (1, 0.0, str(key))


def _shares_statistic(method: str, reference: np.ndarray, current: np.ndarray) -> float:
    if method == "jensenshannon":
        return float(distance.jensenshannon(reference, current))
    # PSI: evidently first gives empty bins a share of a millionth of the smallest one (1e-4 at most).
    reference, current = _fill_empty(reference), _fill_empty(current)
    return float(np.sum((reference - current) * np.log(reference / current)))


def _fill_empty(shares: np.ndarray) -> np.ndarray:
    smallest = shares[shares != 0].min()
    return np.where(shares == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001, shares)


def _sturges_shares(reference: _Reference, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares per bin of np.histogram_bin_edges(reference + current, "sturges"), the reference's from its profile."""
    assert reference.quantiles is not None
    low = min(float(reference.quantiles[0]), float(current.min()))
    high = max(float(reference.quantiles[-1]), float(current.max()))
    if high > low:
        width = (high - low) / (np.log2(reference.count + current.size) + 1.0)
        edges = np.linspace(low, high, int(np.ceil((high - low) / width)) + 1)
    else:
        edges = np.array([low - 0.5, high + 0.5])  # numpy's range for a single value
    current_shares = np.histogram(current, edges)[0] / current.size
    if reference.values is not None:
        return np.histogram(reference.values, edges)[0] / reference.count, current_shares
    cumulative = _reference_cdf(reference, edges)
    cumulative[0], cumulative[-1] = 0.0, 1.0
    return np.diff(cumulative), current_shares


def _reference_cdf(reference: _Reference, points: np.ndarray) -> np.ndarray:
    """The reference's cumulative share at `points`, from its quantile function (linear between grid points)."""
    quantiles, levels = reference.quantiles, reference.levels
    assert quantiles is not None
    # The grid interval [q_i, q_i+1) holding each point; right-continuous on ties (an atom counts once passed).
    upper = np.searchsorted(quantiles, points, side="right")
    inside = (upper > 0) & (upper < quantiles.size)
    result = np.where(upper >= quantiles.size, 1.0, 0.0)
    i = upper[inside]
    low, high = quantiles[i - 1], quantiles[i]
    result[inside] = levels[i - 1] + (levels[i] - levels[i - 1]) * (points[inside] - low) / (high - low)
    return result


def _wasserstein_from_quantiles(reference: _Reference, current: np.ndarray) -> float:
    """W1 = ∫₀¹ |Q_ref(u) − Q_cur(u)| du: the current's exact quantile function (its sorted values) against the grid's."""
    assert reference.quantiles is not None
    ordered = np.sort(current)
    # The current's quantile function is ordered[i] on ((i)/n, (i+1)/n]; its midpoint stands for the interval.
    midpoints = (np.arange(ordered.size) + 0.5) / ordered.size
    return float(np.mean(np.abs(np.interp(midpoints, reference.levels, reference.quantiles) - ordered)))


def _ks_from_quantiles(reference: _Reference, current: np.ndarray) -> float:
    """Two-sided K-S p-value with scipy's asymptotic distribution; the reference CDF comes from its quantile grid."""
    assert reference.quantiles is not None
    ordered = np.sort(current)
    n = ordered.size
    # The sup of |F_ref − F_cur| lies at a current value (either side of its step) or at a grid point.
    at_current = _reference_cdf(reference, ordered)
    steps_after = np.searchsorted(ordered, ordered, side="right") / n
    steps_before = np.searchsorted(ordered, ordered, side="left") / n
    at_grid = np.searchsorted(ordered, reference.quantiles, side="right") / n
    statistic = max(
        np.max(np.abs(at_current - steps_after)),
        np.max(np.abs(at_current - steps_before)),
        np.max(np.abs(reference.levels - at_grid)),
    )
    larger, smaller = max(reference.count, n), min(reference.count, n)
    effective = larger * smaller / (larger + smaller)
    return float(np.clip(stats.kstwo.sf(statistic, np.round(effective)), 0.0, 1.0))
