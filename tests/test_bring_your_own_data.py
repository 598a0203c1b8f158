"""Bring your own data: `cookiecutter … data_path=… target=…` on tables unlike the demo, then the PR loop.

Two tables from ``tests/byo_datasets.py`` (seeded, learnable): a binary classification with
string labels, a date, numeric site codes, a yes/no column, a count, an id and empty cells;
and a regression with no date at all, an integer id and free text. Each is baked through the
real cookiecutter CLI, whose post-gen hook installs the project and runs ``mlops init-data``;
the inferred confs must then carry the PR loop and the project's own tests with no hand edit.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEFAULT, TEMPLATE, in_project, interpreter_for, mlops, project_env, tool

DATASETS = {
    # kind: (file name, target, project name, other answers)
    "binary": ("tumours.csv", "diagnosis", "Tumour Model", []),
    # The linear family's settings differ per task: the answered task (the default, binary) must give way to the inferred one.
    "regression": ("flats.csv", "price", "Flat Prices", ["model_family=linear"]),
}


def bake(output: Path, name: str, target: str, project_name: str, answers: list[str], *options: str) -> subprocess.CompletedProcess:
    """The real cookiecutter CLI, run from ``output`` with data_path relative (read from there, as a user's would be)."""
    command = [tool("cookiecutter"), "--no-input", *options, str(TEMPLATE), f"project_name={project_name}", f"data_path={name}"]
    return subprocess.run([*command, f"target={target}", *answers], cwd=output, env=bake_env(output), capture_output=True, text=True)


def bake_env(output: Path) -> dict[str, str]:
    """uv on PATH for the post-gen hook, on an interpreter this machine has (never a download)."""
    python = interpreter_for(DEFAULT["python_version"], output)[1]
    return project_env() | {"PATH": os.pathsep.join([str(Path(tool("uv")).parent), os.environ["PATH"]]), "UV_PYTHON": python}


@pytest.fixture(scope="module")
def baked(synced_project, tmp_path_factory: pytest.TempPathFactory):
    """Bake each table once: (project folder, the table's bytes, the bake's stdout)."""
    made: dict[str, tuple[Path, bytes, str]] = {}

    def get(kind: str) -> tuple[Path, bytes, str]:
        if kind not in made:
            name, target, project_name, answers = DATASETS[kind]
            output = tmp_path_factory.mktemp(f"byo-{kind}")
            # numpy lives in a baked project's environment, not in the template's: make the table there.
            maker = TEMPLATE / "tests" / "byo_datasets.py"
            in_project(synced_project(DEFAULT), tool("uv"), "run", "--frozen", "--no-sync", "python", str(maker), kind, str(output / name))
            result = bake(output, name, target, project_name, answers)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            project = output / project_name.lower().replace(" ", "-")
            made[kind] = (project, (output / name).read_bytes(), result.stdout)
        return made[kind]

    return get


def test_binary_table_bakes_with_inferred_confs_in_the_first_commit(baked):
    project, table, stdout = baked("binary")
    # The table is copied into data/ under its own name
    assert (project / "data" / "tumours.csv").read_bytes() == table
    # The bake printed init-data's decisions, one per line
    for line in (
        "column site: categorical — 5 numeric codes with gaps (11, 23, 37, 42, 58)",
        "column lesions: numeric — integers 0 to 8",
        "column smoker: categorical — yes/no labels no/yes, kept as text, never booleans",
        "column patient_id: id",
        "task: binary_classification — 'diagnosis' has two labels: benign, malignant",
        "positive class: malignant — the less frequent label",
        "timestamp: visit_date — the only date column",
        "split: the most recent 20% of rows by visit_date are the holdout",
    ):
        assert line in stdout, stdout
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert (data["path"], data["target"], data["task"], data["positive_class"]) == (
        "data/tumours.csv",
        "diagnosis",
        "binary_classification",
        "malignant",
    )
    assert data["columns"]["radius_mean"]["nullable"] is True and data["columns"]["texture_mean"]["nullable"] is True
    assert data["features"]["categorical"] == ["site", "sex", "smoker"]
    manifest = json.loads((project / "data" / "manifest.json").read_text())
    assert [entry["path"] for entry in manifest["files"]] == ["data/tumours.csv"]
    # The first commit holds the inferred confs and the table; nothing is left uncommitted (.venv is ignored)
    git = ["git", "-C", str(project)]
    assert subprocess.run([*git, "log", "--format=%s"], capture_output=True, text=True, check=True).stdout.splitlines() == [
        "Initial commit from cookiecutter-mlops-gitops"
    ]
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=True).stdout == ""
    for committed in ("confs/data.yaml", "confs/gates.yaml", "data/manifest.json"):
        shown = subprocess.run([*git, "show", f"HEAD:{committed}"], capture_output=True, text=True, check=True).stdout
        assert shown == (project / committed).read_text()


def test_regression_table_without_a_date_bakes_with_a_random_split(baked):
    project, table, stdout = baked("regression")
    assert (project / "data" / "flats.csv").read_bytes() == table
    assert "timestamp: none — no date column" in stdout and "split: a seeded random 20% — no timestamp" in stdout
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert data["task"] == "regression" and "timestamp_column" not in data and "positive_class" not in data
    assert data["id_column"] == "listing_id"
    assert data["columns"]["description"] == {"dtype": "string"}  # free text: declared, not a feature
    assert "description" not in data["features"]["numeric"] + data["features"]["categorical"]
    gates = yaml.safe_load((project / "confs" / "gates.yaml").read_text())
    assert gates["beat_baseline"] == {"r2": 0.1} and gates["minimums"] == {} and gates["maximums"] == {}


@pytest.mark.slow  # a bake of its own, with the project installed
def test_a_column_name_that_would_write_config_of_its_own_fails_the_bake_in_one_line(tmp_path: Path):
    # Given a table whose column name carries a line break and a key of its own (path: replaced by a URL)
    name = "x\npath: https://evil.example/data.csv"
    with (tmp_path / "table.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["age", name, "label"])
        writer.writerows([index % 50, "abc"[index % 3], "yn"[index % 2]] for index in range(60))
    # When it is baked as data_path
    result = subprocess.run(
        [tool("cookiecutter"), "--no-input", str(TEMPLATE), "data_path=table.csv", "target=label"],
        cwd=tmp_path,
        env=bake_env(tmp_path),
        capture_output=True,
        text=True,
    )
    # Then the bake fails with one line naming the column, and no project (no first commit) is left
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and "column 'x\\npath: https://evil.example/data.csv': its name holds the control character U+000A" in errors[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["table.csv"]


def committed(project: Path) -> list[str]:
    return subprocess.run(["git", "-C", str(project), "ls-files"], capture_output=True, text=True, check=True).stdout.splitlines()


def test_a_regression_bake_describes_the_users_task_and_table_and_keeps_nothing_of_the_demo(baked):
    project = baked("regression")[0]
    # The answered task (the default, binary classification) gave way to the inferred one everywhere the bake wrote it
    readme = (project / "README.md").read_text()
    assert "Task: **regression**" in readme and "binary classification" not in readme
    assert 'TASK: Literal["binary_classification", "regression"] = "regression"' in (project / "src/flat_prices/project.py").read_text()
    model = yaml.safe_load((project / "confs" / "model.yaml").read_text())
    assert model["params"] == {} and list(model["search"]["grid"]) == ["alpha"]  # ridge's, not logistic regression's
    # The description, README and datasheet speak of the user's table, not of churn or customers
    description = "Predicts price from the table flats.csv, with its whole life cycle run as GitOps on GitHub."
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["description"] == description
    datasheet = (project / "docs" / "datasheet.md").read_text()
    assert datasheet.startswith("# Datasheet: `flats.csv`") and "the target `price`" in datasheet
    for text in (readme, datasheet):
        assert "churn" not in text.lower() and "customer" not in text.lower()
    # The demo's table, its generator and its datasheet are not committed; the user's table and the image's build script are
    files = committed(project)
    assert "data/flats.csv" in files and "data/reference.csv" not in files
    assert [name for name in files if name.startswith("scripts/")] == ["scripts/build_image.py"]
    # The answers record the inferred task, and the table by its copy in the project: relative, never a path on this machine
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert (answers["task"], answers["data_path"], answers["target"]) == ("regression", "flat-prices/data/flats.csv", "price")


def test_a_binary_bake_records_its_table_relative_to_where_it_was_baked(baked):
    project = baked("binary")[0]
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert (answers["task"], answers["data_path"]) == ("binary_classification", "tumour-model/data/tumours.csv")
    assert not Path(answers["data_path"]).is_absolute() and str(project.parent) not in json.dumps(answers)


def test_a_replay_of_the_recorded_answers_bakes_the_same_project(baked):
    project = baked("regression")[0]
    answers = json.loads((project / ".cookiecutter.json").read_text())
    before = {name: (project / name).read_bytes() for name in committed(project)}
    # When the recorded answers are baked again from where the project was baked (over it, as a template update would)
    replay = [f"{key}={value}" for key, value in answers.items() if not key.startswith("_") and key not in ("data_path", "target")]
    result = bake(project.parent, answers["data_path"], answers["target"], answers["project_name"], replay, "--overwrite-if-exists")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # Then every committed file is as it was, and the bake added none
    assert {name: (project / name).read_bytes() for name in committed(project)} == before
    assert subprocess.run(["git", "-C", str(project), "status", "--porcelain"], capture_output=True, text=True).stdout == ""


def test_inferred_confs_pass_validation(baked):
    for kind in DATASETS:
        project = baked(kind)[0]
        mlops(project, "validate")


@pytest.mark.slow  # trains and runs each project's whole suite
@pytest.mark.parametrize("kind", list(DATASETS))
def test_pr_loop_and_the_projects_own_tests_pass_on_own_data(baked, kind: str):
    project = baked(kind)[0]
    for verb in ("validate", "train", "evaluate"):
        mlops(project, verb)
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())
    assert metrics["passed"] is True, metrics["gates"]
    assert any(gate["name"] == "beat_baseline" for gate in metrics["gates"]), metrics["gates"]
    report = mlops(project, "report").stdout
    assert "### Data checks — ✅ pass" in report and "### Model — ✅ pass" in report
    suite = in_project(project, tool("uv"), "run", "--frozen", "--no-sync", "--group", "dev", "pytest", "-q", "-p", "no:cacheprovider")
    assert " passed" in suite.stdout and " failed" not in suite.stdout


@pytest.mark.slow
def test_a_sensitive_attribute_adds_fairness_gates_that_pass_on_independent_groups(baked):
    project = baked("binary")[0]
    mlops(project, "init-data", "data/tumours.csv", "--target", "diagnosis", "--sensitive", "sex", "--force")
    for verb in ("validate", "train", "evaluate"):
        mlops(project, verb)
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())
    assert metrics["passed"] is True, metrics["gates"]
    fairness = [gate for gate in metrics["gates"] if gate["name"] == "fairness_gap"]
    assert {gate["metric"] for gate in fairness} == {"recall", "false_positive_rate"}, fairness
