"""The retraining snapshot: labelled production rows appended, ids de-duplicated, the window applied."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package }}.core.snapshot import next_snapshot, to_csv_bytes
from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io.datasets import read_table

from tests.conftest import PROJECT, PROJECT_SETTINGS

DATA = PROJECT_SETTINGS.data


def frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """A text frame as read_table gives it: id, date, label (None for an unlabelled row)."""
    return pd.DataFrame(rows, columns=["id", "at", "label"]).astype(object)


def snapshot(data, production, policy="append", window_days=30, timestamp="at"):
    return next_snapshot(
        data, production, target="label", id_column="id", timestamp_column=timestamp, policy=policy, window_days=window_days
    )


def test_labelled_production_rows_are_appended_and_unlabelled_ones_wait():
    data = frame([("a", "2025-01-01", "0"), ("b", "2025-01-02", "1")])
    production = frame([("c", "2025-02-01", "1"), ("d", "2025-02-02", None), ("e", "2025-02-03", "")])
    result = snapshot(data, production)
    assert list(result.frame["id"]) == ["a", "b", "c"]
    assert (result.added, result.replaced, result.unlabelled, result.aged_out) == (1, 0, 2, 0)
    assert result.changed


def test_an_id_seen_again_keeps_the_newest_row_and_an_identical_row_is_not_news():
    data = frame([("a", "2025-01-01", "0"), ("b", "2025-01-02", "0")])
    production = frame([("a", "2025-01-01", "0"), ("b", "2025-03-01", "1"), ("b", "2025-03-05", "0")])
    result = snapshot(data, production)
    assert result.frame.set_index("id").loc["b"].tolist() == ["2025-03-05", "0"]
    assert len(result.frame) == 2
    assert (result.added, result.replaced) == (0, 1)


def test_nothing_new_leaves_the_snapshot_unchanged():
    data = frame([("a", "2025-01-01", "0")])
    result = snapshot(data, frame([("a", "2025-01-01", "0"), ("z", "2025-05-01", None)]))
    assert not result.changed
    assert to_csv_bytes(result.frame) == to_csv_bytes(data)


def test_the_sliding_window_keeps_only_the_newest_days():
    data = frame([("old", "2024-01-01", "0"), ("mid", "2025-01-20", "1")])
    result = snapshot(data, frame([("new", "2025-02-01", "1")]), policy="sliding_window", window_days=30)
    assert list(result.frame["id"]) == ["mid", "new"]
    assert result.aged_out == 1


def test_rows_are_ordered_by_time_whatever_order_they_came_in():
    data = frame([("b", "2025-01-05", "0")])
    result = snapshot(data, frame([("a", "2025-01-01", "1")]))
    assert list(result.frame["id"]) == ["a", "b"]


def test_without_id_or_timestamp_rows_are_simply_appended():
    data = frame([("a", "2025-01-01", "0")])
    result = next_snapshot(
        data, frame([("a", "2025-01-01", "0")]), target="label", id_column=None, timestamp_column=None, policy="append", window_days=1
    )
    assert len(result.frame) == 2


def test_production_data_without_a_training_column_is_refused_by_name():
    data = frame([("a", "2025-01-01", "0")])
    with pytest.raises(InputError, match=r"lacks column.*at"):
        snapshot(data, frame([("b", "2025-01-02", "1")]).drop(columns=["at"]))


def test_extra_production_columns_are_left_out():
    data = frame([("a", "2025-01-01", "0")])
    production = frame([("b", "2025-01-02", "1")]).assign(prediction="0.7")
    assert list(snapshot(data, production).frame.columns) == ["id", "at", "label"]


def test_the_project_data_written_back_is_byte_for_byte_the_file(tmp_path):
    # Rows already in the data must not change by passing through a snapshot: the snapshot's
    # hash is what makes the retraining PR idempotent.
    path = PROJECT / DATA.path
    if path.suffix.lower() != ".csv":
        pytest.skip("the project's data is not CSV")
    table = read_table(path, DATA.missing_values)

    def snapshot_of(frame):
        return next_snapshot(
            frame,
            frame.head(0),
            target=DATA.target,
            id_column=DATA.id_column,
            timestamp_column=DATA.timestamp_column,
            policy="append",
            window_days=10_000,
        )

    written, original = to_csv_bytes(snapshot_of(table).frame), path.read_bytes().replace(b"\r\n", b"\n")
    when = pd.to_datetime(table[DATA.timestamp_column], utc=True, format="mixed") if DATA.timestamp_column else None
    if when is None or when.is_monotonic_increasing:
        assert written == original
        return
    # A table not in the order of its timestamp column comes back in that order, every row unchanged, and stays so
    assert written.splitlines()[0] == original.splitlines()[0]
    assert sorted(written.splitlines()) == sorted(original.splitlines())
    (tmp_path / "ordered.csv").write_bytes(written)
    assert to_csv_bytes(snapshot_of(read_table(tmp_path / "ordered.csv", DATA.missing_values)).frame) == written
