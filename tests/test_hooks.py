"""The pre-generation hook rejects bad answers with one clear line and writes nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CHOICES, OPTIONS, TEMPLATE, tool


def bake(output: Path, *arguments: str, without_uv: bool = False) -> subprocess.CompletedProcess:
    """The real cookiecutter CLI on the template, into ``output``; ``without_uv``: on a PATH with git and no uv."""
    env = dict(os.environ)
    if without_uv:
        env["PATH"] = os.pathsep.join(path for path in ("/usr/bin", "/bin") if Path(path, "git").exists())
    command = [tool("cookiecutter"), "--no-input", str(TEMPLATE), "--output-dir", str(output), *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    """The ``ERROR:`` lines a hook wrote to stderr."""
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]


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
        # GitHub's limit is 39 characters (test_valid_answers_pass_the_hook bakes one of exactly 39).
        pytest.param([f"github_owner={'a' * 40}"], f"github_owner '{'a' * 40}' is not a valid GitHub user", id="owner-40-characters"),
        pytest.param(["runs_on=ubuntu latest"], "runs_on 'ubuntu latest' is not a runner label", id="runner-with-space"),
        pytest.param(["monitor_schedule=weekly"], "monitor_schedule 'weekly' is not a cron schedule", id="schedule-not-cron"),
        pytest.param(["monitor_schedule=0 6 * *"], "expected five fields", id="schedule-four-fields"),
        # Answers outside an option's choices (cookiecutter itself would raise a traceback for
        # a choice list, so the lists live in `_choices` and this hook checks them).
        pytest.param(["task=foo"], "task 'foo' is not supported: expected binary_classification or regression", id="choice-task"),
        pytest.param(["model_family=xgboost"], "model_family 'xgboost' is not supported", id="choice-model-family"),
        pytest.param(
            ["hyperparameter_search=maybe"], "hyperparameter_search 'maybe' is not supported: expected no or yes", id="choice-search"
        ),
        pytest.param(
            ["license=GPL-3.0"], "license 'GPL-3.0' is not supported: expected MIT, Apache-2.0 or Proprietary", id="choice-license"
        ),
        pytest.param(["python_version=3.10"], "python_version '3.10' is not supported: expected 3.11, 3.12 or 3.13", id="choice-python"),
        pytest.param(
            ["release_policy=blue-green"],
            "release_policy 'blue-green' is not supported: expected direct, canary or shadow",
            id="choice-policy",
        ),
        # Bring your own data: the table must exist (a relative path is read from the output directory), with a target.
        pytest.param(["data_path=missing.csv", "target=churned"], "data_path 'missing.csv': no such file (looked for", id="data-missing"),
        pytest.param(["data_path=missing.csv"], "data_path 'missing.csv' needs target", id="data-without-target"),
        pytest.param(["target=churned"], "target 'churned' needs data_path", id="target-without-data"),
    ],
)
def test_bad_answers_are_rejected_with_one_line(tmp_path: Path, answers: list[str], expected: str):
    result = bake(tmp_path, *answers)
    assert result.returncode != 0
    # No traceback on stderr, where an exception escaping cookiecutter would land. (cookiecutter
    # 2.7 logs every failed hook with its own FailedHookException traceback on stdout: not ours to change.)
    assert "Traceback" not in result.stderr, result.stderr
    refused = error_lines(result)
    assert len(refused) == 1, result.stderr
    assert expected in refused[0]
    assert list(tmp_path.iterdir()) == []  # nothing half-baked is left behind


def test_valid_answers_pass_the_hook(cookies):
    owner = "my-org-" + "x" * 32  # 39 characters: GitHub's longest user or organisation name
    result = cookies.bake(extra_context={"project": "a1-b2", "package": "a1_b2", "github_owner": owner, "runs_on": "self-hosted"})
    assert result.exit_code == 0, result.exception


def test_every_choice_option_defaults_to_its_first_choice_and_every_choice_bakes(cookies):
    # The option holds the default and `_choices` the allowed values: the two must agree.
    for option, allowed in CHOICES.items():
        assert OPTIONS[option] == allowed[0], f"{option}: default {OPTIONS[option]!r} is not the first of {allowed}"
    # Each value passes the hook (the bake matrix bakes them all; here the last of each, at once).
    result = cookies.bake(extra_context={option: allowed[-1] for option, allowed in CHOICES.items()})
    assert result.exit_code == 0, result.exception


def test_data_path_is_read_from_the_output_directory_and_needs_uv(tmp_path: Path):
    # Given a table beside the project-to-be, and a PATH without uv
    (tmp_path / "my.csv").write_text("x,y\n1,0\n2,1\n")
    result = bake(tmp_path, "data_path=my.csv", "target=y", without_uv=True)
    # Then the path was found (no "no such file"), and the bake stops on the missing uv with one line
    assert result.returncode != 0
    refused = error_lines(result)
    assert refused == [
        "ERROR: data_path needs uv to install the project and infer its config: install uv (https://docs.astral.sh/uv/) and bake again"
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["my.csv"]


def test_a_target_of_three_classes_is_refused_before_anything_is_installed(tmp_path: Path):
    # Given a table whose target has three labels, and a PATH without uv (nothing could be installed)
    (tmp_path / "iris.csv").write_text("petal,species\n1.4,setosa\n4.7,versicolor\n6.0,virginica\n1.3,setosa\n")
    result = bake(tmp_path, "data_path=iris.csv", "target=species", without_uv=True)
    # Then the bake stops on the target, not on the missing uv, in one line naming the classes and the choices
    assert result.returncode != 0
    refused = error_lines(result)
    assert refused == [
        "ERROR: data_path 'iris.csv': target 'species' has 3 classes (setosa, versicolor, virginica); supported are two labels "
        "(task binary_classification) or a numeric target (task regression): multiclass is not supported yet, so map the labels "
        "to two (one against the rest) or choose a numeric target"
    ]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["iris.csv"]


@pytest.mark.parametrize(
    ("table", "target", "expected"),
    [
        pytest.param("x,y\n1,0\n2,1\n3,1\n", "label", "target 'label' is not a column (columns: x, y)", id="no-such-column"),
        pytest.param("x,y\n1,a\n2,b\n3,\n", "y", "target 'y' is missing on 1 row(s): drop those rows or label them first", id="unlabelled"),
        # Two labels or numbers pass the check (then the missing uv stops the bake): not refused as classes
        pytest.param("x,y\n1,a\n2,b\n3,a\n", "y", "data_path needs uv", id="two-labels"),
        pytest.param("x,y\n1,0.5\n2,1.5\n3,2.5\n", "y", "data_path needs uv", id="numeric"),
    ],
)
def test_a_table_the_project_cannot_model_is_refused_before_anything_is_installed(tmp_path: Path, table: str, target: str, expected: str):
    (tmp_path / "t.csv").write_text(table)
    result = bake(tmp_path, "data_path=t.csv", f"target={target}", without_uv=True)
    refused = error_lines(result)
    assert len(refused) == 1 and expected in refused[0], result.stderr


def test_a_refused_bake_over_an_existing_project_folder_keeps_it(tmp_path: Path):
    # Given the user's project folder (baked before, with their own work in it), baked over with --overwrite-if-exists
    project = tmp_path / "churn-model"
    project.mkdir()
    (project / "notes.md").write_text("mine\n")
    result = bake(tmp_path, "--overwrite-if-exists", "runs_on=a b")
    # Then the hook's refusal leaves the folder and the user's file as they were, and its ERROR line is the one on stderr
    assert result.returncode != 0
    assert error_lines(result) == ["ERROR: runs_on 'a b' is not a runner label: expected one word such as ubuntu-latest or self-hosted"]
    assert "Traceback" not in result.stderr
    assert [path.name for path in project.iterdir()] == ["notes.md"] and (project / "notes.md").read_text() == "mine\n"
