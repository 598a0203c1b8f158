"""Verbs never act on stale inputs: after a failed or changed upstream, the next verb refuses and names the verb to run."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from {{ cookiecutter.package }}.jobs import METRICS_JSON, PR_REPORT_MD, TRAINING_JSON, VALIDATION_JSON

from tests.conftest import put_text_in_a_number
from tests.test_cli import assert_one_line_error, mlops


def _spoil_and_repin(workspace: Path) -> None:
    """Data that fails validation, pinned so that only the schema check can catch it."""
    put_text_in_a_number(workspace, "not-a-number")
    assert mlops("manifest").exit_code == 0


def test_after_data_fails_validation_no_verb_uses_the_previous_runs_outputs(workspace: Path):
    # Given a whole passing loop
    for verb in ("validate", "train", "evaluate", "report"):
        assert mlops(verb).exit_code in {0, 1}, verb
    assert json.loads((workspace / METRICS_JSON).read_text())["inputs"]
    # When the data changes and fails validation
    _spoil_and_repin(workspace)
    assert mlops("validate").exit_code == 1
    # Then train refuses (the data failed) and leaves no record behind
    assert_one_line_error(mlops("train"), 2, "data failed validation")
    assert not (workspace / TRAINING_JSON).exists()
    # And evaluate refuses: there is no current training run
    assert_one_line_error(mlops("evaluate"), 2, "run `mlops train`")
    assert not (workspace / METRICS_JSON).exists()
    # And the report shows the failed validation, never the old "✅ pass" evaluation
    report = mlops("report")
    assert report.exit_code == 0, report.output
    markdown = (workspace / PR_REPORT_MD).read_text()
    assert "❌ fail" in markdown and "### Model" not in markdown


def test_a_config_change_makes_earlier_outputs_stale_and_names_the_verb(workspace: Path):
    # Given a trained and evaluated model
    for verb in ("validate", "train", "evaluate"):
        assert mlops(verb).exit_code in {0, 1}, verb
    # When the model config changes
    model = yaml.safe_load((workspace / "confs" / "model.yaml").read_text())
    (workspace / "confs" / "model.yaml").write_text(yaml.safe_dump({**model, "seed": model["seed"] + 1}))
    # Then evaluate refuses the old training run, and report refuses the old results, each naming what to run
    assert_one_line_error(mlops("evaluate"), 2, f"{TRAINING_JSON}", "other data or config", "run `mlops train` again")
    assert_one_line_error(mlops("report"), 2, f"{VALIDATION_JSON}", "run `mlops validate` again")


def test_promote_refuses_an_evaluation_of_other_inputs(workspace: Path):
    for verb in ("validate", "train", "evaluate"):
        assert mlops(verb).exit_code in {0, 1}, verb
    gates = workspace / "confs" / "gates.yaml"
    gates.write_text(gates.read_text() + "\n# reviewed again\n")
    assert_one_line_error(mlops("promote"), 2, "run `mlops evaluate` again")
