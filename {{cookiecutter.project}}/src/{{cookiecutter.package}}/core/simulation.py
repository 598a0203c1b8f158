"""A production batch made from the user's own data: seeded rows of it, with named columns shifted.

What ``mlops simulate-batch`` writes, to try the monitoring leg before real production data
exists: ``--shift COLUMN=+10%`` (relative), ``COLUMN=-3`` (absolute) on a numeric column, and
``COLUMN=value:30%`` (that share of rows set to one category) on any other column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InputError
from .specs import ColumnSpec

if TYPE_CHECKING:
    import pandas as pd

NUMERIC = ("int", "float")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_SHIFT = re.compile(rf"(?P<column>[^=]+)=\s*(?:(?P<value>.*):(?P<share>{_NUMBER})%|(?P<amount>{_NUMBER})(?P<percent>%?))")
EXAMPLES = "COLUMN=+10%, COLUMN=-3 or COLUMN=value:30%"


@dataclass(frozen=True)
class Shift:
    """One ``--shift``: add ``amount`` (a fraction of each value when ``relative``), or set a ``share`` of rows to ``category``."""

    column: str
    amount: float = 0.0
    relative: bool = False
    category: str | None = None
    share: float = 0.0


def parse_shift(text: str) -> Shift:
    """``COLUMN=+10%``, ``COLUMN=-3`` or ``COLUMN=value:30%``; anything else is an ``InputError`` naming the forms."""
    found = _SHIFT.fullmatch(text.strip())
    if found is None or not found["column"].strip():
        raise InputError(f"--shift {text!r}: expected {EXAMPLES}")
    column = found["column"].strip()
    if found["share"] is not None:
        share = float(found["share"]) / 100
        if not 0 < share <= 1 or not found["value"]:
            raise InputError(f"--shift {text!r}: expected a value and a share above 0% and up to 100%, e.g. {column}=value:30%")
        return Shift(column=column, category=found["value"], share=share)
    amount = float(found["amount"])
    if not math.isfinite(amount):
        raise InputError(f"--shift {text!r}: expected a finite number")
    return Shift(column=column, amount=amount / 100 if found["percent"] else amount, relative=bool(found["percent"]))


def check_shifts(shifts: list[Shift], columns: dict[str, ColumnSpec], where: str) -> None:
    """Each shift names a declared column of a kind it can shift, once; the first that does not is an ``InputError``."""
    seen: set[str] = set()
    for shift in shifts:
        spec = columns.get(shift.column)
        if spec is None:
            raise InputError(f"--shift {shift.column}: no such column in {where} (columns: {', '.join(columns)})")
        if shift.column in seen:
            raise InputError(f"--shift {shift.column}: given twice")
        seen.add(shift.column)
        if shift.category is None and spec.dtype not in NUMERIC:
            raise InputError(
                f"--shift {shift.column}: a {spec.dtype} column takes {shift.column}=value:30%, not a number (numeric: int, float)"
            )
        if shift.category is not None and spec.dtype in NUMERIC:
            raise InputError(f"--shift {shift.column}: a numeric ({spec.dtype}) column takes {shift.column}=+10% or {shift.column}=-3")
        if shift.category is not None and spec.allowed is not None and shift.category not in [str(value) for value in spec.allowed]:
            allowed = ", ".join(str(value) for value in spec.allowed)
            raise InputError(f"--shift {shift.column}={shift.category}: not one of the values {where} allows ({allowed})")


def simulate(
    data: pd.DataFrame,
    shifts: list[Shift],
    columns: dict[str, ColumnSpec],
    *,
    rows: int,
    seed: int,
    id_column: str | None = None,
    timestamp_column: str | None = None,
) -> pd.DataFrame:
    """``rows`` rows drawn from ``data`` (cells as text, as read), with ``shifts`` applied; the same seed, the same batch.

    Ids are made new and timestamps moved past the data's last one, so that the batch reads as rows that came after it.
    """
    import numpy as np
    import pandas as pd

    random = np.random.default_rng(seed)
    batch = data.sample(n=rows, replace=rows > len(data), random_state=random).reset_index(drop=True)
    for shift in shifts:
        values = batch[shift.column]
        if shift.category is not None:
            chosen = random.random(len(batch)) < shift.share
            batch[shift.column] = values.where(~chosen, shift.category)
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        moved = numbers * (1 + shift.amount) if shift.relative else numbers + shift.amount
        if columns[shift.column].dtype == "int":
            moved = moved.round()
        dtype = columns[shift.column].dtype
        batch[shift.column] = [_number_text(new, dtype) if pd.notna(new) else old for new, old in zip(moved, values, strict=True)]
    if id_column and id_column in batch:
        ids = pd.to_numeric(data[id_column], errors="coerce")
        start = int(ids.max()) + 1 if ids.notna().all() else None
        batch[id_column] = [str(start + i) if start is not None else f"sim-{seed}-{i}" for i in range(len(batch))]
    if timestamp_column and timestamp_column in batch and columns.get(timestamp_column, ColumnSpec(dtype="string")).dtype == "datetime":
        batch[timestamp_column] = _after(data[timestamp_column], batch[timestamp_column])
    return batch


def _number_text(value: float, dtype: str) -> str:
    return str(int(value)) if dtype == "int" else f"{value:.12g}"  # no 0.1 + 0.2 noise in the file


def _after(reference: pd.Series, times: pd.Series) -> list[str | None]:
    """``times`` moved by the span of ``reference`` plus a day: the same spread, after the last reference time."""
    import pandas as pd

    parsed_reference = pd.to_datetime(reference, errors="coerce")
    parsed = pd.to_datetime(times, errors="coerce")
    if parsed_reference.isna().all():
        return list(times)
    shift = parsed_reference.max() - parsed_reference.min() + pd.Timedelta(days=1)
    dates_only = bool((parsed.dropna() == parsed.dropna().dt.normalize()).all())
    moved = parsed + shift
    return [None if pd.isna(value) else value.strftime("%Y-%m-%d") if dates_only else value.isoformat() for value in moved]
