"""Baked projects installed from their lock and run for real: their own tests, lint and PR loop."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import DEFAULT, MATRIX, REGRESSION, combo_id, in_project, mlops, tool


def lanes(*combos: dict[str, str]) -> list:
    """The default combination in the fast lane; every other one installed and run only in the slow lane."""
    return [pytest.param(combo, id=combo_id(combo), marks=() if combo == DEFAULT else pytest.mark.slow) for combo in combos]


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


@pytest.mark.parametrize("combo", lanes(DEFAULT, REGRESSION))
def test_second_model_is_compared_with_the_promoted_champion(synced_project, combo):
    project = synced_project(combo)
    for verb in ("validate", "train", "evaluate", "promote", "train", "evaluate"):
        mlops(project, verb)
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())
    assert metrics["champion"] is not None
    assert int(metrics["challenger"]["version"]) == int(metrics["champion"]["version"]) + 1
    assert any(gate["name"] == "no_regression" for gate in metrics["gates"])
    assert f"vs champion **v{metrics['champion']['version']}**" in mlops(project, "report").stdout


@pytest.mark.parametrize("combo", lanes(DEFAULT, REGRESSION))
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
    assert result.stderr.strip() == "error: confs/data.yaml: holdout_fractoin: unknown key"
