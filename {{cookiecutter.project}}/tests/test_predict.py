"""`mlops predict`: chunked batch scoring through the one prediction function, bad rows set aside with reasons, whole outputs."""

from __future__ import annotations

from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package }}.cli import app
from {{ cookiecutter.package }}.config import Settings
from {{ cookiecutter.package }}.core.schemas import build_schema
from {{ cookiecutter.package }}.io import model_files
from {{ cookiecutter.package }}.io.datasets import read_table
from {{ cookiecutter.package }}.jobs import steps

from tests.conftest import PROJECT_SETTINGS, data_file, feature_column, small_sample, unseen_rows, write_table

DATA = PROJECT_SETTINGS.data
KEY = DATA.id_column or "row"


def mlops(*args: str):
    return CliRunner().invoke(app, list(args))


def model_dir(trained: Path) -> str:
    return str(trained / steps.TRAINED_MODEL_DIR)


def predict(trained: Path, source: str, output: str, *extra: str):
    return mlops("predict", "--input", source, "--output", output, "--model-dir", model_dir(trained), *extra)


def read_predictions(location: str | Path) -> pd.DataFrame:
    """Predictions as written: ids as text, predictions parsed back to the very same float64 bits."""
    if str(location).endswith(".parquet"):
        with fsspec.open(str(location), "rb") as stream:
            return pd.read_parquet(stream)
    with fsspec.open(str(location), "rt") as stream:
        return pd.read_csv(stream, dtype={KEY: str} if DATA.id_column else None, float_precision="round_trip")


def one_shot(trained: Path, file: Path) -> np.ndarray:
    """steps.predict on the whole file, typed as read_table and the data contract type it (as validate and evaluate do)."""
    typed = build_schema(DATA.columns).validate(read_table(file, DATA.missing_values))
    return steps.predict(model_files.load_model(Path(model_dir(trained))), typed[DATA.features.all])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunked_predictions_equal_one_shot_steps_predict_bit_for_bit(workspace: Path, trained: Path, suffix: str):
    # Given the sample scored 400 rows at a time (the last chunk shorter)
    result = predict(trained, str(data_file(workspace)), f"out/predictions{suffix}", "--chunk-rows", "400")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"scored {len(small_sample())} row(s)") and "; 0 row(s) rejected" in result.stdout
    # Then every prediction is the one-shot one, to the bit, in the input's order, beside the input's id (or row number)
    written = read_predictions(workspace / f"out/predictions{suffix}")
    expected = one_shot(trained, data_file(workspace))
    assert list(written.columns) == [KEY, "prediction"]
    assert written["prediction"].to_numpy().tobytes() == np.asarray(expected, dtype="float64").tobytes()
    ids = small_sample()[DATA.id_column].tolist() if DATA.id_column else list(range(1, len(expected) + 1))
    # Compared as text: a CSV's ids are read back as text (an integer id column stays an integer in Parquet)
    assert [str(value) for value in written[KEY]] == [str(value) for value in ids]


def test_predictions_equal_what_evaluate_scores_on_the_holdout(workspace: Path, trained: Path, settings: Settings):
    # Given the holdout as evaluate scores it, and the same rows as a file
    _, _, holdout = steps.split_for_modelling(settings)
    _, evaluated = steps.score(settings, model_files.load_model(Path(model_dir(trained))), holdout, role="challenger", uri="test")
    write_table(unseen_rows(workspace), workspace / "holdout.csv")
    # When they are batch scored, Then the predictions are evaluate's, bit for bit
    assert predict(trained, "holdout.csv", "holdout-scored.csv").exit_code == 0
    written = read_predictions(workspace / "holdout-scored.csv")
    assert written["prediction"].to_numpy().tobytes() == np.asarray(evaluated, dtype="float64").tobytes()


def test_rows_that_break_the_contract_go_to_the_side_file_with_their_reasons(workspace: Path, trained: Path):
    # Given, by the contract's own column specs, a value under a numeric feature's minimum on data row 2 and text in
    # it on row 4 (pandera checks no bound on a column it could not coerce: the rows are judged in two rounds), and
    # a missing value on row 9
    number, spec = feature_column(lambda spec: spec.dtype in {"int", "float"} and spec.min is not None, "bounded numeric")
    required, _ = feature_column(lambda spec: not spec.nullable, "non-nullable")
    frame = small_sample().head(50)
    frame.loc[1, number] = str(int(spec.min) - 1)
    frame.loc[3, number] = "lots"
    frame.loc[8, required] = None
    write_table(frame, workspace / "batch.csv")
    # When it is scored in chunks of 5 (the bad rows fall in two chunks)
    result = predict(trained, "batch.csv", "scored.csv", "--chunk-rows", "5")
    # Then the three rows are in the side file with why, the line says so, and every other row is scored
    assert result.exit_code == 0, result.output
    assert f"scored {len(frame) - 3} row(s)" in result.stdout and "; 3 row(s) rejected → scored.rejected.csv" in result.stdout
    rejected = pd.read_csv(workspace / "scored.rejected.csv", dtype=str, keep_default_na=False)
    assert rejected["row"].tolist() == ["2", "4", "9"]
    assert rejected["reason"][0].startswith(f"{number}: < ") and "(min)" in rejected["reason"][0]
    assert rejected["reason"][1].startswith(f"{number}: not a valid") and "'lots'" in rejected["reason"][1]
    assert rejected["reason"][2].startswith(f"{required}: missing")
    assert rejected[number][1] == "lots"  # the cells as read, to fix and score again
    assert len(read_predictions(workspace / "scored.csv")) == len(frame) - 3


def test_a_failure_part_way_leaves_the_earlier_output_as_it_was(workspace: Path, trained: Path):
    # Given an earlier output, and an input whose 1000th data row has a field too many (parsed in a later chunk)
    (workspace / "scored.csv").write_text("earlier\n")
    before = sorted(path.name for path in workspace.iterdir())
    lines = data_file(workspace).read_text().splitlines()
    lines[1000] += ",extra"
    (workspace / "broken.csv").write_text("\n".join(lines) + "\n")
    before.append("broken.csv")
    # When it is scored, Then it is one line and exit 2, and neither output nor any staging file is left behind
    result = predict(trained, "broken.csv", "scored.csv", "--chunk-rows", "100")
    assert result.exit_code == 2 and result.stderr.startswith("error: broken.csv: could not parse as CSV"), result.output
    assert (workspace / "scored.csv").read_text() == "earlier\n"
    assert sorted(path.name for path in workspace.iterdir()) == sorted(before)  # no staging file, no side file


def test_inputs_and_outputs_may_be_fsspec_uris(workspace: Path, trained: Path):
    # Given the sample in fsspec's in-memory file system
    with fsspec.open("memory://batch/input.csv", "wb") as stream:
        stream.write(data_file(workspace).read_bytes())
    # When it is scored there and to a file:// URI, Then both equal the local run's predictions
    assert predict(trained, "memory://batch/input.csv", "memory://batch/scored.parquet").exit_code == 0
    assert predict(trained, str(data_file(workspace)), f"file://{workspace}/local.parquet").exit_code == 0
    remote, local = read_predictions("memory://batch/scored.parquet"), read_predictions(workspace / "local.parquet")
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    assert fsspec.filesystem("memory").exists("/batch/scored.rejected.csv")


def test_a_table_without_a_feature_is_refused_whole(workspace: Path, trained: Path):
    feature = DATA.features.all[0]
    write_table(small_sample().drop(columns=[feature]), workspace / "narrow.csv")
    result = predict(trained, "narrow.csv", "scored.csv")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: narrow.csv: lacks column(s) {feature} ")
    assert not (workspace / "scored.csv").exists() and not (workspace / "scored.rejected.csv").exists()


def test_without_a_champion_the_message_says_how_to_get_one(workspace: Path):
    result = mlops("predict", "--input", str(data_file(workspace)), "--output", "scored.csv")
    assert result.exit_code == 2 and "run `mlops champion`, or pass --release TAG or --model-dir DIR" in result.stderr
