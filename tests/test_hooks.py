"""The pre-generation hook rejects bad answers with one clear line and writes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE, tool


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param(["project=Churn_Model"], "project 'Churn_Model' is not a valid repository slug", id="slug-with-underscore"),
        pytest.param(["project=churn--model"], "is not a valid repository slug", id="slug-double-dash"),
        pytest.param(["package=churn-model"], "package 'churn-model' is not a valid Python package name", id="package-dash"),
        pytest.param(["package=class"], "package 'class' is not a valid Python package name", id="package-keyword"),
        pytest.param(["package=json"], "package 'json' would shadow an existing module", id="package-stdlib"),
        pytest.param(["package=mlflow"], "package 'mlflow' would shadow an existing module", id="package-dependency"),
        pytest.param(["github_owner=-acme"], "github_owner '-acme' is not a valid GitHub user", id="owner-leading-dash"),
        pytest.param(["runs_on=ubuntu latest"], "runs_on 'ubuntu latest' is not a runner label", id="runner-with-space"),
    ],
)
def test_bad_answers_are_rejected_with_one_line(tmp_path: Path, answers: list[str], expected: str):
    result = subprocess.run(
        [tool("cookiecutter"), "--no-input", str(TEMPLATE), "--output-dir", str(tmp_path), *answers],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(error_lines) == 1, result.stderr
    assert expected in error_lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing half-baked is left behind


def test_valid_answers_pass_the_hook(cookies):
    result = cookies.bake(extra_context={"project": "a1-b2", "package": "a1_b2", "github_owner": "my-org", "runs_on": "self-hosted"})
    assert result.exit_code == 0, result.exception
