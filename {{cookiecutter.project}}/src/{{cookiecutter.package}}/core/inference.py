"""Infer a data contract from a table a user brings: column types, ranges, categories, roles.

Pure: takes the table as read (every cell a string, missing cells as NA) and returns the
column specs plus the reason for each decision, so ``mlops init-data`` can print them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .specs import ColumnSpec

# A column with at most this many distinct values (and few relative to the rows) is categorical.
MAX_CATEGORIES = 20
MAX_CATEGORY_SHARE = 0.2
# Ranges get this share of their span as headroom on each side, so next month's data still fits.
RANGE_HEADROOM = 0.25
INTEGER = re.compile(r"[+-]?\d+")
DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?|\d{4}/\d{2}/\d{2}")
# Boolean-like labels stay text: pandas reads every non-empty text as True when cast to bool.
BOOLEAN_PAIRS = [{"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"}]
ID_NAME = re.compile(r"(^|[_ -])(id|uuid|guid|key)$|^id_", re.IGNORECASE)
# Integer periods that order rows in time (2019, 202403, month 1..36): a time split may order by them.
PERIOD_NAME = re.compile(r"(^|[_ -])(year|month|yyyymm|yearmonth|period|quarter|week)s?($|[_ -])", re.IGNORECASE)
YYYYMM = re.compile(r"(19|20)\d{2}(0[1-9]|1[0-2])")
# Names that say a number is a label (site 11, zip 10115, store 42): the strong evidence numbers with gaps need to be codes.
CODE_NAME = re.compile(
    r"(^|[_ -])(code|site|zip|zipcode|postcode|postal|region|station|store|branch|shop|type|class|category|kind|status|dept|department)s?"
    r"($|[_ -])|[a-z](Code|Site|Zip|Type|Class|Category|Status)$",
    re.IGNORECASE,
)
CAMEL_ID = re.compile(r"[a-z](Id|ID|Key)$")
# Cell texts that mean "missing" in exports from spreadsheets, R, SQL and pandas.
MISSING_TOKENS = ("NA", "N/A", "n/a", "na", "NaN", "nan", "null", "NULL", "None", "none", "-", "?", "#N/A")

KINDS = ("numeric", "categorical", "datetime", "id", "group", "text", "constant")
# What a table may bring into the contract: more columns, or longer names and labels, is an export gone
# wrong (or a table crafted to bloat the config and every report), not a dataset to draft a contract for.
MAX_COLUMNS = 1000
MAX_NAME_CHARS = 200
# Characters no name or label may hold: controls (line breaks, escape sequences), line and paragraph
# separators, and the bidirectional controls that make a name read otherwise than it is.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class InferredColumn:
    """The spec for one column, its kind (one of ``KINDS``) and why."""

    spec: ColumnSpec
    kind: str
    reason: str

    @property
    def is_feature(self) -> bool:
        return self.kind in ("numeric", "categorical")


@dataclass
class InferredSchema:
    columns: dict[str, InferredColumn] = field(default_factory=dict)
    # Cell texts other than "" read as missing (found in columns that are otherwise numbers or dates).
    missing_tokens: list[str] = field(default_factory=list)

    def names(self, kind: str) -> list[str]:
        return [name for name, column in self.columns.items() if column.kind == kind]


def unfit_character(text: str) -> str | None:
    """The first character of ``text`` that may not stand in a column name or label, as ``U+XXXX``; None when all may."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS:
            return f"U+{ord(char):04X}"
    return None


def shown_name(text: str) -> str:
    """A name as an error message shows it: quoted, escapes visible, bounded."""
    return repr(text if len(text) <= 60 else text[:59] + "…")


def check_names(columns: list[str]) -> None:
    """Refuse a table whose column names cannot be written into a contract as they are (InferenceError)."""
    if len(columns) > MAX_COLUMNS:
        raise InferenceError(f"{len(columns)} columns: at most {MAX_COLUMNS} are supported (select the columns to model first)")
    for name in columns:
        _check_text(name, f"column {shown_name(name)}: its name")


def check_labels(columns: dict[str, ColumnSpec]) -> None:
    """Refuse category labels that cannot be written into a contract as they are (InferenceError)."""
    for name, spec in columns.items():
        for label in spec.allowed or []:
            if isinstance(label, str):
                _check_text(label, f"column {shown_name(name)}: its label {shown_name(label)}")


def _check_text(text: str, what: str) -> None:
    char = unfit_character(text)
    if char is not None:
        raise InferenceError(f"{what} holds the control character {char}: remove it from the table (rename the column or fix the value)")
    if len(text) > MAX_NAME_CHARS:
        raise InferenceError(f"{what} is {len(text)} characters long: at most {MAX_NAME_CHARS} are supported")


def infer_schema(raw: pd.DataFrame) -> InferredSchema:
    """A spec per column of ``raw`` (strings, empty cells as NA), in the table's order."""
    schema = InferredSchema()
    for name in raw.columns:
        values, tokens = _without_missing_tokens(raw[name])
        schema.columns[str(name)] = infer_column(str(name), values)
        schema.missing_tokens.extend(token for token in tokens if token not in schema.missing_tokens)
    return schema


def _without_missing_tokens(values: pd.Series) -> tuple[pd.Series, list[str]]:
    """Treat tokens such as ``n/a`` as missing when the rest of the column is numbers or dates.

    In a text column ``n/a`` may be a real value, so it stays.
    """
    text = values.dropna().astype(str).str.strip()
    found = [token for token in MISSING_TOKENS if (text == token).any()]
    if not found:
        return values, []
    rest = text[~text.isin(found) & (text != "")]
    if rest.empty:
        return values, []
    numbers = pd.to_numeric(rest, errors="coerce")
    dates = rest.map(lambda cell: DATE_LIKE.fullmatch(cell) is not None)
    if numbers.notna().all() or dates.all():
        return values.mask(values.astype(str).str.strip().isin(found)), found
    return values, []


def infer_column(name: str, values: pd.Series) -> InferredColumn:
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    nullable = len(present) < len(values)
    rows = len(present)
    if rows == 0:
        return InferredColumn(ColumnSpec(dtype="string", nullable=True), "text", "every value is missing: not used")
    distinct = present.nunique()
    unique = distinct == rows and rows > 1
    if distinct == 1:
        value = present.iloc[0]
        return InferredColumn(ColumnSpec(dtype="string", nullable=nullable), "constant", f"one value ({value!r}) on every row: not used")
    if present.map(lambda text: INTEGER.fullmatch(text) is not None).all():
        return _integer(name, present.astype("int64"), nullable, unique, distinct, rows)
    as_float = pd.to_numeric(present, errors="coerce")
    if as_float.notna().all() and np.isfinite(as_float).all():
        return _numeric("float", as_float, nullable)
    if present.map(lambda text: DATE_LIKE.fullmatch(text) is not None).all():
        parsed = pd.to_datetime(present, errors="coerce", format="mixed")
        if parsed.notna().all():
            return InferredColumn(
                ColumnSpec(dtype="datetime", nullable=nullable),
                "datetime",
                f"dates from {parsed.min():%Y-%m-%d} to {parsed.max():%Y-%m-%d}",
            )
    lowered = set(present.str.lower().unique())
    if any(lowered <= pair for pair in BOOLEAN_PAIRS) and distinct <= 2:
        allowed = sorted(present.unique().tolist())
        return InferredColumn(
            ColumnSpec(dtype="category", nullable=nullable, allowed=allowed),
            "categorical",
            f"yes/no labels {'/'.join(allowed)}, kept as text, never booleans",
        )
    if not unique and named_like_id(name):
        return _group(present, nullable, "string")
    if unique and (named_like_id(name) or not present.str.contains(r"\s").any()):
        why = "named like an id" if named_like_id(name) else "no spaces"
        return InferredColumn(ColumnSpec(dtype="string", nullable=nullable, unique=True), "id", f"a distinct value on every row, {why}")
    if _few_values(distinct, rows):
        allowed = sorted(present.unique().tolist())
        return InferredColumn(
            ColumnSpec(dtype="category", nullable=nullable, allowed=allowed), "categorical", f"{distinct} distinct labels"
        )
    return InferredColumn(
        ColumnSpec(dtype="string", nullable=nullable),
        "text",
        f"{distinct} distinct values in {rows} rows: free text, not used as a feature",
    )


def named_like_id(name: str) -> bool:
    """``id``, ``patient_id``, ``order-key``, ``customerId``: not ``paid`` or ``valid``."""
    return bool(ID_NAME.search(name) or CAMEL_ID.search(name))


def _few_values(distinct: int, rows: int) -> bool:
    return distinct <= MAX_CATEGORIES and distinct <= max(2, MAX_CATEGORY_SHARE * rows)


def _integer(name: str, numbers: pd.Series, nullable: bool, unique: bool, distinct: int, rows: int) -> InferredColumn:
    if unique and named_like_id(name):
        return InferredColumn(
            ColumnSpec(dtype="int", nullable=nullable, unique=True), "id", "a distinct number on every row, named like an id"
        )
    if not unique and named_like_id(name):
        return _group(numbers, nullable, "int")
    codes = sorted(int(value) for value in numbers.unique())
    if distinct == 2:
        return InferredColumn(ColumnSpec(dtype="int", nullable=nullable, allowed=codes), "categorical", f"two values {codes}: a flag")
    gaps = _few_values(distinct, rows) and _has_gaps(codes)
    if gaps and named_like_codes(name):
        return InferredColumn(
            ColumnSpec(dtype="int", nullable=nullable, allowed=codes),
            "categorical",
            f"{distinct} numeric codes with gaps ({_preview(codes)}), named like codes: labels, not quantities",
        )
    inferred = _numeric("int", numbers, nullable)
    if gaps:  # RAM 2, 4, 8, 16 or speeds 25, 33, 50: more is more, unless the name says these are labels
        why = f"{distinct} values with gaps ({_preview(codes)}), not named like codes: a quantity (else make it categorical in data.yaml)"
        return InferredColumn(inferred.spec, inferred.kind, f"{inferred.reason}; {why}")
    return inferred


def _group(present: pd.Series, nullable: bool, dtype: str) -> InferredColumn:
    """An id repeated across rows (one person in several rows): the split keeps each value on one side."""
    counts = present.value_counts()
    return InferredColumn(
        ColumnSpec(dtype=dtype, nullable=nullable),
        "group",
        f"named like an id but repeated: {len(counts)} values in {len(present)} rows (up to {int(counts.max())} rows each), "
        "so a group (one entity in several rows)",
    )


def named_like_codes(name: str) -> bool:
    """``site``, ``zip_code``, ``store``, ``productType``: not ``ram`` or ``speed``."""
    return bool(CODE_NAME.search(name))


def _has_gaps(codes: list[int]) -> bool:
    """Most steps between consecutive values skip numbers (11, 23, 37; 2, 4, 8, 16): not a count such as 0..8."""
    gaps = np.diff(codes)
    return int((gaps > 1).sum()) * 2 > len(gaps)


def _preview(values: list[int]) -> str:
    shown = ", ".join(str(value) for value in values[:6])
    return shown + (", …" if len(values) > 6 else "")


def _numeric(dtype: str, numbers: pd.Series, nullable: bool) -> InferredColumn:
    low, high = float(numbers.min()), float(numbers.max())
    minimum, maximum = with_headroom(low, high, integer=dtype == "int")
    return InferredColumn(
        ColumnSpec(dtype=dtype, nullable=nullable, min=minimum, max=maximum),
        "numeric",
        f"{'integers' if dtype == 'int' else 'numbers'} {_fmt(low)} to {_fmt(high)}; "
        f"bounds {_fmt(minimum)} to {_fmt(maximum)} leave headroom",
    )


def with_headroom(low: float, high: float, *, integer: bool) -> tuple[float | int, float | int]:
    """Bounds around the observed range; a non-negative column keeps 0 as its floor."""
    span = (high - low) or max(abs(high), 1.0)
    minimum = low - RANGE_HEADROOM * span
    maximum = high + RANGE_HEADROOM * span
    if low >= 0:
        minimum = max(minimum, 0.0)
    minimum, maximum = _round_out(minimum, maximum)
    if integer:
        return math.floor(minimum), math.ceil(maximum)
    return minimum, maximum


def _round_out(minimum: float, maximum: float) -> tuple[float, float]:
    """Round outward to two significant digits of the span, so the YAML reads like a person wrote it."""
    span = maximum - minimum
    step = 10 ** math.floor(math.log10(span)) / 10 if span > 0 else 1.0
    # Round away float noise (0.30000000000000004) after snapping to the step.
    return round(math.floor(minimum / step) * step, 12), round(math.ceil(maximum / step) * step, 12)


def _fmt(value: float) -> str:
    return f"{value:g}"


# --- Roles: target, task, positive class, timestamp -------------------------------------------


class InferenceError(ValueError):
    """The table or the choices cannot make a contract (the message says what was expected)."""


@dataclass(frozen=True)
class Decision:
    """One choice ``init-data`` made and why: printed one per line."""

    subject: str
    choice: str
    reason: str

    def line(self) -> str:
        return f"{self.subject}: {self.choice} — {self.reason}"


def infer_task(target: str, column: InferredColumn, values: pd.Series, requested: str | None) -> Decision:
    """Binary classification for a two-label target, regression for a numeric one; ``requested`` overrides when it fits."""
    labels = values.dropna().astype(str).str.strip()
    labels = labels[labels != ""]
    distinct = labels.nunique()
    # Numeric codes with gaps (site 11, 23, 37) are labels: regression only when asked for.
    numeric = column.kind == "numeric"
    if requested == "regression":
        if column.spec.dtype not in ("int", "float"):
            raise InferenceError(f"--task regression needs a numeric target: {target!r} holds text labels")
        return Decision("task", "regression", "as requested with --task")
    if requested == "binary_classification":
        if distinct != 2:
            raise InferenceError(f"--task binary_classification needs a target with two labels: {target!r} has {distinct}")
        return Decision("task", "binary_classification", "as requested with --task")
    if requested is not None:
        raise InferenceError(f"--task {requested!r} is not supported: expected binary_classification or regression")
    if distinct == 2:
        return Decision("task", "binary_classification", f"{target!r} has two labels: {', '.join(sorted(labels.unique()))}")
    if numeric:
        return Decision("task", "regression", f"{target!r} is numeric with {distinct} distinct values")
    raise InferenceError(
        f"target {target!r} has {distinct} labels: supported are two labels (binary_classification) or a numeric target (regression)"
    )


def infer_positive_class(target: str, values: pd.Series, requested: str | None) -> tuple[str, Decision]:
    """The label counted as positive, as text; ``requested`` must be one of the labels."""
    labels = values.dropna().astype(str).str.strip()
    counts = labels[labels != ""].value_counts()
    known = sorted(counts.index)
    if requested is not None:
        if requested not in counts.index:
            raise InferenceError(f"--positive-class {requested!r} is not a label of {target!r}: expected one of {', '.join(known)}")
        return requested, Decision("positive class", requested, "as requested with --positive-class")
    values = pd.to_numeric(pd.Series(known), errors="coerce")
    if len(known) == 2 and set(values) == {0.0, 1.0}:  # 0/1, or 0.0/1.0 as an export writes a float column
        one, zero = (known[0], known[1]) if values[0] == 1.0 else (known[1], known[0])
        return one, Decision("positive class", one, f"0/1 labels: {one} is the positive class; pass --positive-class {zero} to flip")
    # The rarer label is usually the event to catch (churn, fraud, disease); ties go to the last label.
    rarest = min(reversed(known), key=lambda label: counts[label])
    share = counts[rarest] / counts.sum()
    return rarest, Decision(
        "positive class", rarest, f"the less frequent label ({share * 100:.0f}% of rows); pass --positive-class to choose another"
    )


def choose_group(schema: InferredSchema, requested: str | None, taken: set[str | None]) -> tuple[str | None, Decision]:
    """The column whose values the split keeps on one side: the requested one, else the single repeated id, else none."""
    groups = [name for name in schema.names("group") if name not in taken]
    if requested is not None:
        if requested not in schema.columns or requested in taken:
            raise InferenceError(f"--group {requested!r} is not a column other than the target, timestamp or sensitive attribute")
        return requested, Decision("group", requested, "as requested with --group: rows of one value stay on one side of the split")
    if len(groups) == 1:
        reason = "the only id repeated across rows: a random split would put one entity in train and holdout and flatter the model"
        return groups[0], Decision("group", groups[0], reason)
    if not groups:
        return None, Decision("group", "none", "no id repeats across rows (--group COLUMN names one)")
    return None, Decision("group", "none", f"several repeated ids ({', '.join(groups)}): pass --group to split by one")


def integer_periods(name: str, column: InferredColumn, values: pd.Series | None = None) -> bool:
    """An int column that can order rows in time: named like a period (year, month, yyyymm), or holding only yyyymm values."""
    if column.spec.dtype != "int" or column.kind not in ("numeric", "categorical"):
        return False
    if PERIOD_NAME.search(name):
        return True
    present = values.dropna().astype(str).str.strip() if values is not None else pd.Series([], dtype=str)
    return not present.empty and bool(present.map(lambda text: YYYYMM.fullmatch(text) is not None).all())


def choose_timestamp(schema: InferredSchema, requested: str | None, raw: pd.DataFrame | None = None) -> tuple[str | None, Decision]:
    """The column a time split orders by: the requested one (dates or integer periods), else the single datetime column, else none.

    Integer periods are never chosen unasked: a ``year`` may as well be a car's model year, a feature.
    """
    dates = schema.names("datetime")
    periods = [
        name
        for name, column in schema.columns.items()
        if integer_periods(name, column, raw[name] if raw is not None and name in raw else None)
    ]
    if requested is not None:
        if requested not in schema.columns:
            raise InferenceError(f"--timestamp {requested!r} is not a column of the table")
        column = schema.columns[requested]
        if column.kind != "datetime" and column.spec.dtype != "int":
            raise InferenceError(
                f"--timestamp {requested!r} holds {column.kind} values, neither dates nor integer periods: "
                f"expected one of the date or integer columns ({', '.join(dates + periods) or 'none found'})"
            )
        if column.kind == "datetime":
            return requested, Decision("timestamp", requested, "as requested with --timestamp")
        return requested, Decision("timestamp", requested, "as requested with --timestamp: integer periods, ordered as numbers")
    if len(dates) == 1:
        return dates[0], Decision("timestamp", dates[0], "the only date column")
    if not dates:
        hint = f"; {periods[0]} holds integer periods: pass --timestamp {periods[0]} to split by time" if periods else ""
        return None, Decision("timestamp", "none", f"no date column{hint}")
    return None, Decision("timestamp", "none", f"several date columns ({', '.join(dates)}): pass --timestamp to split by one")
