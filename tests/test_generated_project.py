"""Baked projects installed from their lock and run for real: their own tests, lint and PR loop."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEFAULT, MATRIX, REGRESSION, combo_id, in_project, mlops, tool


def lanes(*combos: dict[str, str]) -> list:
    """The default combination in the fast lane; every other one installed and run only in the slow lane."""
    return [pytest.param(combo, id=combo_id(combo), marks=() if combo == DEFAULT else pytest.mark.slow) for combo in combos]


# The project's own unit tests of its pure logic (no training): seconds, so in the fast lane.
UNIT_TESTS = (
    "tests/test_core_dora.py",
    "tests/test_core_drift.py",
    "tests/test_core_gates.py",
    "tests/test_core_monitoring.py",
    "tests/test_core_report.py",
    "tests/test_core_schemas.py",
    "tests/test_core_snapshot.py",
    "tests/test_core_versioning.py",
)


@pytest.mark.parametrize("combo", lanes(*MATRIX))
def test_pr_loop_passes_on_the_embedded_defaults(synced_project, combo):
    project = synced_project(combo)
    for verb in ("validate", "train", "evaluate"):
        mlops(project, verb)
    report = mlops(project, "report").stdout
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())
    assert metrics["passed"] is True, metrics["gates"]
    assert metrics["task"] == combo["task"]
    assert "— ✅ pass" in report
    assert report == (project / "outputs" / "report.md").read_text()
    assert "### Data checks — ✅ pass" in report and "### Model — ✅ pass" in report


@pytest.mark.slow  # six verbs: about 50 s even for the default bake
@pytest.mark.parametrize("combo", [DEFAULT, REGRESSION], ids=combo_id)
def test_second_model_is_compared_with_the_promoted_champion(synced_project, combo):
    project = synced_project(combo)
    for verb in ("validate", "train", "evaluate", "promote", "train", "evaluate"):
        mlops(project, verb)
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())
    assert metrics["champion"] is not None
    assert int(metrics["challenger"]["version"]) == int(metrics["champion"]["version"]) + 1
    assert any(gate["name"] == "no_regression" for gate in metrics["gates"])
    assert f"vs champion **v{metrics['champion']['version']}**" in mlops(project, "report").stdout


@pytest.mark.slow  # the project's whole suite trains models: its unit tests alone run in the fast lane below
@pytest.mark.parametrize("combo", [DEFAULT, REGRESSION], ids=combo_id)
def test_baked_project_passes_its_own_tests_and_lint(synced_project, combo):
    project = synced_project(combo)
    uv = tool("uv")
    in_project(project, uv, "lock", "--check")
    in_project(project, uv, "run", "--frozen", "--no-sync", "ruff", "check", ".")
    in_project(project, uv, "run", "--frozen", "--no-sync", "ruff", "format", "--check", ".")
    # The project's pre-commit hooks (ruff through uv, the lock check) pass on its own files.
    in_project(
        project,
        uv,
        "run",
        "--frozen",
        "--no-sync",
        "pre-commit",
        "run",
        "--all-files",
        # The hooks call `uv`, as a developer's shell would find it on PATH.
        env={
            "PRE_COMMIT_HOME": str(project.parent / "pre-commit-home"),
            "PATH": os.pathsep.join([str(Path(uv).parent), os.environ["PATH"]]),
        },
    )
    suite = in_project(project, uv, "run", "--frozen", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider")
    assert " passed" in suite.stdout and " failed" not in suite.stdout


def test_baked_project_unit_tests_pass(synced_project):
    project = synced_project(DEFAULT)
    suite = in_project(project, tool("uv"), "run", "--frozen", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider", *UNIT_TESTS)
    assert " passed" in suite.stdout and " failed" not in suite.stdout


def test_bad_input_in_a_baked_project_is_one_line_and_exit_2(synced_project):
    project = synced_project(DEFAULT)
    data = project / "confs" / "data.yaml"
    original = data.read_text()
    try:
        data.write_text(original.replace("holdout_fraction:", "holdout_fractoin:"))
        result = mlops(project, "validate", check=False)
    finally:
        data.write_text(original)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: confs/data.yaml: holdout_fractoin: unknown key (did you mean `holdout_fraction`?)"


@pytest.mark.slow  # a bake of its own, trained with a grid search
def test_grid_search_best_parameters_are_logged_to_mlflow_and_run_json(synced_project):
    project = synced_project({**DEFAULT, "hyperparameter_search": "yes"})
    mlops(project, "validate")
    mlops(project, "train")
    run = json.loads((project / "outputs" / "train" / "run.json").read_text())
    grid = yaml.safe_load((project / "confs" / "model.yaml").read_text())["search"]["grid"]
    best = {name.removeprefix("estimator__"): value for name, value in run["search"]["best_params"].items()}
    # One chosen value for each parameter of the grid, taken from the grid
    assert set(best) == set(grid)
    assert all(value in grid[name] for name, value in best.items()), (best, grid)
    # And the run in MLflow's own store (read through its client, not through run.json) has them as params
    read = (
        "import json, sys; from mlflow import MlflowClient; print(json.dumps(MlflowClient(sys.argv[1]).get_run(sys.argv[2]).data.params))"
    )
    store = f"sqlite:///{(project / '.mlflow' / 'mlflow.db').resolve()}"  # confs/tracking.yaml's embedded default
    assert run["tracking_uri"] == store
    uv_python = (tool("uv"), "run", "--frozen", "--no-sync", "python")
    logged = json.loads(in_project(project, *uv_python, "-c", read, store, run["model"]["run_id"]).stdout)
    assert {f"best_{name}": str(value) for name, value in best.items()}.items() <= logged.items(), logged
