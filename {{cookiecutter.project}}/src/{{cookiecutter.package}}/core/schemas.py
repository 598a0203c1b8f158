"""The data contract: a pandera schema built from the column specs in ``confs/data.yaml``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from .specs import ColumnSpec

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
    checks = []
    if spec.min is not None:
        checks.append(pa.Check.ge(spec.min))
    if spec.max is not None:
        checks.append(pa.Check.le(spec.max))
    if spec.allowed is not None:
        checks.append(pa.Check.isin(spec.allowed))
    return checks


def build_schema(columns: dict[str, ColumnSpec]) -> pa.DataFrameSchema:
    """Strict schema: every declared column present, no other column, values coerced and checked."""
    dtype = {name: ("Int64" if spec.nullable and spec.dtype == "int" else PANDAS_DTYPES[spec.dtype]) for name, spec in columns.items()}
    return pa.DataFrameSchema(
        {name: pa.Column(dtype[name], checks=_checks(spec), nullable=spec.nullable, unique=spec.unique) for name, spec in columns.items()},
        strict=True,
        coerce=True,
        ordered=False,
    )


@dataclass(frozen=True)
class CheckFailure:
    """One failing check of one column, with how many rows failed and a few examples."""

    column: str
    check: str
    rows: int
    examples: list[str]

    def describe(self) -> str:
        examples = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        where = f"{self.rows} row(s)" if self.rows else "the table"
        return f"{self.column}: {self.check} failed for {where}{examples}"


def summarize_failures(failure_cases: pd.DataFrame, max_examples: int = 3) -> list[CheckFailure]:
    """Group pandera's failure cases by column and check, readable for a PR comment."""
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
        examples = list(dict.fromkeys(group["failure_case"]))[:max_examples]
        rows = int(group["index"].notna().sum())
        if column == "(table)":
            # Table-level failures name the column in failure_case: make it the subject.
            for example in examples:
                failures.append(CheckFailure(column=example.strip("'"), check=_table_check(check), rows=0, examples=[]))
            continue
        failures.append(CheckFailure(column=column, check=check, rows=rows, examples=examples))
    return failures


def _table_check(check: str) -> str:
    return {
        "column_in_dataframe": "required column is missing",
        "column_in_schema": "column is not declared in confs/data.yaml",
    }.get(check, check)
