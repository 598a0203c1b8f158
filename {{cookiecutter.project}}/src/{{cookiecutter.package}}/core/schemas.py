"""The data contract: a pandera schema built from the column specs in ``confs/data.yaml``.

pandas and pandera are imported by the functions that use them: the verbs that only need
``schema_hash`` or ``CheckFailure`` (`mlops report`, and `train`/`evaluate` reusing the frame
`validate` checked) do not pay for importing them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .specs import ColumnSpec

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

PANDAS_DTYPES = {
    "int": "int64",
    "float": "float64",
    "string": "str",
    "category": "str",
    "datetime": "datetime64[ns]",
    "bool": "bool",
}


def schema_hash(columns: dict[str, ColumnSpec]) -> str:
    """Hash of column names, order and types: changes exactly when the input schema does."""
    shape = [[name, spec.dtype] for name, spec in columns.items()]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()


def _checks(spec: ColumnSpec) -> list[pa.Check]:
    import pandera.pandas as pa

    checks = []
    if spec.min is not None:
        checks.append(pa.Check.ge(spec.min))
    if spec.max is not None:
        checks.append(pa.Check.le(spec.max))
    if spec.allowed is not None:
        # Compared as the column's type: numeric codes of a category column need no quoting in YAML.
        allowed = [str(value) for value in spec.allowed] if spec.dtype in {"category", "string"} else spec.allowed
        checks.append(pa.Check.isin(allowed))
    return checks


def build_schema(columns: dict[str, ColumnSpec]) -> pa.DataFrameSchema:
    """Strict schema: every declared column present, no other column, values coerced and checked."""
    import pandera.pandas as pa

    dtype = {name: ("Int64" if spec.nullable and spec.dtype == "int" else PANDAS_DTYPES[spec.dtype]) for name, spec in columns.items()}
    return pa.DataFrameSchema(
        {name: pa.Column(dtype[name], checks=_checks(spec), nullable=spec.nullable, unique=spec.unique) for name, spec in columns.items()},
        strict=True,
        coerce=True,
        ordered=False,
    )


def production_schema(columns: dict[str, ColumnSpec], *, may_be_missing: set[str]) -> pa.DataFrameSchema:
    """The contract for production data: as ``build_schema``, except that ``may_be_missing`` columns
    (labels that arrive late) may be absent or empty, ids may repeat (a customer scored twice), and
    columns the contract does not declare (a prediction, ingestion metadata) are dropped, not refused.
    """
    import pandera.pandas as pa

    dtype = {
        name: ("Int64" if (spec.nullable or name in may_be_missing) and spec.dtype == "int" else PANDAS_DTYPES[spec.dtype])
        for name, spec in columns.items()
    }
    return pa.DataFrameSchema(
        {
            name: pa.Column(
                dtype[name],
                checks=_checks(spec),
                nullable=spec.nullable or name in may_be_missing,
                required=name not in may_be_missing,
            )
            for name, spec in columns.items()
        },
        strict="filter",
        coerce=True,
        ordered=False,
    )


def scoring_schema(columns: dict[str, ColumnSpec], keep: list[str]) -> pa.DataFrameSchema:
    """The contract for rows to score: the ``keep`` columns (features, id) exactly as ``build_schema`` checks and
    types them; other columns (a label, a timestamp, anything else) are dropped, not judged, since the model never
    sees them. Ids may repeat, as in production data.
    """
    return production_schema({name: columns[name] for name in keep}, may_be_missing=set())


def row_reasons(failure_cases: pd.DataFrame) -> pd.Series:
    """Why each failing row failed, by its index label: "age: > 110 (max) ('140'); region: not one of ...".

    For one cell, a missing value is reported as missing and a value that could not be coerced by its coercion
    alone (pandera also reports them under the column's type and its other checks). Cases without a row (a
    table-level failure, or a check pandera could not run on uncoerced text) are left out: the caller re-checks
    the rows left once these are set aside.
    """
    cases = failure_cases[failure_cases["index"].notna()].copy()
    cases["index"] = cases["index"].astype("int64")
    rank = cases["check"].map(lambda check: 0 if check == "not_nullable" else 1 if check.startswith("coerce_dtype") else 2)
    cases = cases[rank == rank.groupby([cases["index"], cases["column"]]).transform("min")]
    values = cases["failure_case"].map(lambda value: "null" if value is None or value != value else repr(value))
    text = cases["column"].astype(str) + ": " + cases["check"].map(readable_check) + " (" + values + ")"
    return text.groupby(cases["index"], sort=True).agg("; ".join)


@dataclass(frozen=True)
class CheckFailure:
    """One failing check of one column, with how many rows failed and a few examples."""

    column: str
    check: str
    rows: int
    examples: list[str]

    def describe(self) -> str:
        examples = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        if not self.rows:
            return f"{self.column}: {self.check}"
        return f"{self.column}: {self.rows} row(s) {readable_check(self.check)}{examples}"


_BOUND = re.compile(r"(greater_than_or_equal_to|less_than_or_equal_to)\((.*)\)")


def readable_check(check: str) -> str:
    """Pandera's check name as the reason a value failed: "> 110 (max)", "not one of the allowed values"."""
    bound = _BOUND.fullmatch(check)
    if bound:
        return f"< {bound.group(2)} (min)" if bound.group(1).startswith("greater") else f"> {bound.group(2)} (max)"
    if check.startswith("isin("):
        return f"not one of the allowed values {check.removeprefix('isin(').removesuffix(')')}"
    if check.startswith("coerce_dtype("):
        return f"not a valid {check.removeprefix('coerce_dtype(').removesuffix(')').strip(chr(39))} value"
    return {
        "not_nullable": "missing (the column is not nullable; declare it `nullable: true` or list the text under missing_values)",
        "field_uniqueness": "duplicate (the column is declared unique)",
    }.get(check, f"failed {check}")


def summarize_failures(failure_cases: pd.DataFrame, max_examples: int = 3) -> list[CheckFailure]:
    """Group pandera's failure cases by column and check, readable for a PR comment."""
    import pandas as pd

    cases = failure_cases.copy()
    cases["column"] = cases["column"].fillna("(table)")
    cases["failure_case"] = cases["failure_case"].map(lambda value: "null" if pd.isna(value) else repr(value))
    # A value that could not be coerced also "fails" every later check with a TypeError:
    # report the coercion alone, which is the real cause.
    uncoercible = set(cases.loc[cases["check"].str.startswith("coerce_dtype"), "column"])
    noise = cases["column"].isin(uncoercible) & (cases["failure_case"].str.contains("TypeError") | cases["check"].str.startswith("dtype("))
    cases = cases[~noise]
    failures = []
    for (column, check), group in cases.groupby(["column", "check"], sort=True):
        distinct = list(dict.fromkeys(group["failure_case"]))
        rows = int(group["index"].notna().sum())
        if column == "(table)":
            # Table-level failures name the column in failure_case: make it the subject, every one of them.
            for name in distinct:
                failures.append(CheckFailure(column=name.strip("'"), check=_table_check(check), rows=0, examples=[]))
            continue
        examples = distinct[:max_examples]
        failures.append(CheckFailure(column=column, check=check, rows=rows, examples=examples))
    return failures


def _table_check(check: str) -> str:
    return {
        "column_in_dataframe": "required column is missing",
        "column_in_schema": "column is not declared in confs/data.yaml",
    }.get(check, check)


def listed(names: list[str], limit: int = 10) -> str:
    """Names in a one-line message: all of them, or the first ``limit`` and how many more."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def failure_reasons(failures: list[CheckFailure], limit: int = 10) -> list[str]:
    """One reason per failure, with the columns a table-level check names gathered into one."""
    reasons: list[str] = []
    by_check: dict[str, list[str]] = {}
    for failure in failures:
        if failure.rows:
            reasons.append(failure.describe())
        else:
            by_check.setdefault(failure.check, []).append(failure.column)
    plural = {"required column is missing": "required columns missing", "column is not declared in confs/data.yaml": "columns not declared"}
    gathered = [f"{plural.get(check, check)}: {listed(columns, limit)}" for check, columns in by_check.items()]
    return gathered + reasons[:limit] + ([f"and {len(reasons) - limit} more failing checks"] if len(reasons) > limit else [])
