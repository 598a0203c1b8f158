"""The next training snapshot of a retraining pull request: the data plus labelled production rows.

Pure: text frames in (as ``io.datasets.read_table`` reads them), a text frame out, so that rows
already in the data are written back byte for byte and the snapshot's hash only changes when
its rows do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from ..errors import InputError


@dataclass(frozen=True)
class Snapshot:
    frame: pd.DataFrame
    added: int  # production rows that are new
    replaced: int  # production rows that replace a row with the same id
    unlabelled: int  # production rows left out: no label yet
    aged_out: int  # rows dropped by the sliding window

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.aged_out)


def next_snapshot(
    data: pd.DataFrame,
    production: pd.DataFrame,
    *,
    target: str,
    id_column: str | None,
    timestamp_column: str | None,
    policy: Literal["append", "sliding_window"],
    window_days: int,
) -> Snapshot:
    """The data with the labelled production rows appended (an id seen again: the newest row wins).

    ``sliding_window`` then keeps only the rows within ``window_days`` of the newest timestamp.
    Rows keep the data's columns in the data's order; production columns the data does not
    have (predictions, ingestion metadata) are left out.
    """
    missing = [name for name in data.columns if name not in production.columns]
    if missing:
        raise InputError(f"production data lacks column(s) {', '.join(missing)} that the training data has; cannot add its rows")
    labelled = production[production[target].notna() & (production[target].astype(str).str.strip() != "")]
    unlabelled = len(production) - len(labelled)
    incoming = labelled[list(data.columns)]
    replaced = 0
    if id_column:
        incoming = incoming.drop_duplicates(subset=id_column, keep="last")
        known = data[id_column].isin(incoming[id_column])
        existing = data.loc[known].set_index(id_column)
        overlap = incoming.loc[incoming[id_column].isin(existing.index)].set_index(id_column)
        # A production row identical to the one already held is not news.
        same = (overlap.fillna("\0") == existing.loc[overlap.index].fillna("\0")).all(axis=1)
        incoming = incoming.loc[~incoming[id_column].isin(same[same].index)]
        replaced = int((~same).sum())
        data = data.loc[~data[id_column].isin(incoming[id_column])]
    added = len(incoming) - replaced
    combined = pd.concat([data, incoming], ignore_index=True)
    aged_out = 0
    if timestamp_column:
        when = pd.to_datetime(combined[timestamp_column], errors="coerce", utc=True, format="mixed")
        order = when.sort_values(kind="stable", na_position="first").index
        combined, when = combined.loc[order].reset_index(drop=True), when.loc[order].reset_index(drop=True)
        if policy == "sliding_window" and when.notna().any():
            keep = when >= when.max() - pd.Timedelta(days=window_days)
            aged_out = int((~keep).sum())
            combined = combined.loc[keep].reset_index(drop=True)
    return Snapshot(frame=combined, added=added, replaced=replaced, unlabelled=unlabelled, aged_out=aged_out)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The snapshot as the CSV the project reads (missing values as empty cells, ``\\n`` line ends)."""
    return frame.to_csv(index=False, lineterminator="\n").encode()
