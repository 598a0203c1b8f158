"""Production data as the monitor reads it: found by glob, checked against the contract, late labels allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import load_settings
from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io.datasets import matching_files, read_table
from {{ cookiecutter.package }}.jobs import steps

from tests.conftest import PROJECT_SETTINGS, data_file, feature_column, write_table

DATA = PROJECT_SETTINGS.data


def production(workspace: Path, name: str = "batch.csv", change=None) -> str:
    """Rows of the project's own data written as a production file (optionally changed)."""
    frame = read_table(data_file(workspace), DATA.missing_values).tail(300).reset_index(drop=True)
    if change:
        frame = change(frame)
    path = workspace / "data" / "current" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(frame, path)
    return str(path)


def test_the_glob_finds_csv_and_parquet_files_in_order(workspace: Path):
    folder = workspace / "data" / "current"
    folder.mkdir(parents=True)
    for name in ("b.csv", "a.parquet", "notes.txt", "c.CSV"):
        (folder / name).write_text("x\n1\n")
    (folder / "sub").mkdir()
    found = [Path(path).name for path in matching_files(folder / "*")]
    assert found == ["a.parquet", "b.csv", "c.CSV"]


def test_labels_may_be_missing_in_production(workspace: Path):
    file = production(workspace, change=lambda frame: frame.drop(columns=[DATA.target]))
    raw, typed, violations, refused = steps.production_frame(load_settings(workspace / "confs"), [file])
    assert len(typed) == 300 and not violations and refused == 0
    assert DATA.target not in raw.columns


def test_a_missing_feature_column_is_named(workspace: Path):
    column = DATA.features.all[0]
    file = production(workspace, change=lambda frame: frame.drop(columns=[column]))
    with pytest.raises(InputError, match=rf"production data lacks column\(s\) {column} "):
        steps.production_frame(load_settings(workspace / "confs"), [file])


def test_rows_that_break_the_contract_are_left_out_and_described(workspace: Path):
    name, _ = feature_column(lambda spec: spec.dtype in {"int", "float"} and spec.allowed is None, "numeric")

    def spoil(frame):
        frame.loc[[0, 1], name] = "lots"
        return frame

    file = production(workspace, change=spoil)
    _, typed, violations, refused = steps.production_frame(load_settings(workspace / "confs"), [file])
    assert refused == 2 and len(typed) == 298
    assert any(name in violation and "lots" in violation for violation in violations)


def test_extra_columns_and_repeated_ids_are_accepted(workspace: Path):
    def twice(frame):
        return frame.assign(score="0.5").head(10).pipe(lambda head: head._append(head, ignore_index=True))

    file = production(workspace, change=twice)
    _, typed, violations, _ = steps.production_frame(load_settings(workspace / "confs"), [file])
    assert len(typed) == 20 and not violations
    assert "score" not in typed.columns


def test_a_corrupt_file_is_named(workspace: Path):
    folder = workspace / "data" / "current"
    folder.mkdir(parents=True)
    bad = folder / "broken.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"broken\.parquet: could not read as Parquet"):
        steps.production_frame(load_settings(workspace / "confs"), [str(bad)])


def test_the_window_keeps_the_newest_days(workspace: Path):
    if not DATA.timestamp_column:
        pytest.skip("the project's data has no timestamp column")
    file = production(workspace)
    settings = load_settings(workspace / "confs")
    raw, typed, _, _ = steps.production_frame(settings, [file])
    kept_raw, kept, label = steps.in_window(settings, raw, typed)
    newest = typed[DATA.timestamp_column].max()
    assert (kept[DATA.timestamp_column] >= newest - __import__("pandas").Timedelta(days=settings.monitor.window_days)).all()
    assert len(kept_raw) == len(kept) <= len(typed)
    assert f"({settings.monitor.window_days} days)" in label


def test_production_data_can_live_behind_any_fsspec_url(workspace: Path):
    import fsspec

    frame = read_table(data_file(workspace), DATA.missing_values).tail(50)
    with fsspec.open("memory://exports/2025-07.csv", "w") as stream:
        frame.to_csv(stream, index=False)
    with fsspec.open("memory://exports/notes.txt", "w") as stream:
        stream.write("not data")
    files = matching_files("memory://exports/*")
    assert [file.rsplit("/", 1)[-1] for file in files] == ["2025-07.csv"] and files[0].startswith("memory://")
    _, typed, violations, _ = steps.production_frame(load_settings(workspace / "confs"), files)
    assert len(typed) == 50 and not violations
