"""``mlops init-data`` on small tables a test builds: what it writes, prints and refuses."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package }}.cli import app
from {{ cookiecutter.package }}.config import load_settings
from {{ cookiecutter.package }}.core.inference import MAX_COLUMNS, MAX_NAME_CHARS
from {{ cookiecutter.package }}.core.schemas import schema_hash
from {{ cookiecutter.package }}.core.specs import ColumnSpec
from {{ cookiecutter.package }}.jobs.init_data import Choices, draft_contract, render_data_yaml
from {{ cookiecutter.package }}.jobs.steps import in_window, split_description, split_for_modelling

from tests.conftest import edit_yaml

ROWS = 400


def mlops(*args: str):
    return CliRunner().invoke(app, list(args))


def visits(rows: int = ROWS, seed: int = 3) -> pd.DataFrame:
    """Clinic visits: yes/no labels (the YAML 1.1 trap), codes with gaps, a count, dates, an id, empty cells."""
    rng = np.random.default_rng(seed)
    dose = rng.normal(50, 10, rows).round(1)
    lesions = rng.integers(0, 9, rows)
    relapsed = rng.random(rows) < 1 / (1 + np.exp(-((dose - 50) / 5 + (lesions - 4) / 2 - 0.8)))
    frame = pd.DataFrame(
        {
            "visit_id": [f"V{index:06d}" for index in range(rows)],
            "seen_on": pd.date_range("2023-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "site": rng.choice([11, 23, 37, 42, 58], rows),
            "sex": rng.choice(["female", "male"], rows),
            "dose": dose.astype(object),
            "lesions": lesions,
            "smoker": rng.choice(["yes", "no"], rows),
            "relapsed": np.where(relapsed, "yes", "no"),
        }
    )
    frame.loc[rng.choice(rows, 12, replace=False), "dose"] = None  # empty cells in the CSV
    return frame


def flats(rows: int = ROWS, seed: int = 5) -> pd.DataFrame:
    """No date at all, an integer id, free text, a numeric target."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(20, 150, rows).round(1)
    return pd.DataFrame(
        {
            "listing_id": 7000 + 2 * np.arange(rows),
            "area_m2": area,
            "description": [f"Flat number {index} with {int(a)} square metres" for index, a in enumerate(area)],
            "price": (area * 3000 + rng.normal(0, 5000, rows)).round(0),
        }
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder (the verb writes confs/ and data/ itself), as the working directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_contract_is_written_commented_and_yes_no_labels_stay_text(project: Path, tmp_path: Path):
    # Given a table outside the project whose labels are yes/no
    source = write_csv(visits(), tmp_path / "exports" / "visits.csv")
    # When init-data drafts the contract
    result = mlops("init-data", str(source), "--target", "relapsed", "--sensitive", "sex")
    assert result.exit_code == 0, result.output
    # Then data.yaml reads back with the labels and the positive class as text, not booleans
    text = (project / "confs" / "data.yaml").read_text()
    assert text.startswith("# The data contract, drafted by `mlops init-data")
    data = yaml.safe_load(text)
    assert data["task"] == "binary_classification"
    assert data["positive_class"] == "yes"  # the rarer label
    assert data["columns"]["relapsed"] == {"dtype": "category", "allowed": ["no", "yes"]}
    assert data["columns"]["smoker"] == {"dtype": "category", "allowed": ["no", "yes"]}
    # And each tricky column got the kind it is
    assert data["columns"]["site"] == {"dtype": "int", "allowed": [11, 23, 37, 42, 58]}
    assert data["columns"]["lesions"] == {"dtype": "int", "min": 0, "max": 10}
    assert data["columns"]["dose"]["nullable"] is True and data["columns"]["dose"]["dtype"] == "float"
    assert data["columns"]["visit_id"] == {"dtype": "string", "unique": True}
    assert (data["id_column"], data["timestamp_column"], data["sensitive_attribute"]) == ("visit_id", "seen_on", "sex")
    assert data["features"] == {"numeric": ["dose", "lesions"], "categorical": ["site", "smoker"]}
    assert data["missing_values"] == [""]
    assert list(data["columns"]) == list(visits().columns)  # the table's order
    # And the gates are the data-agnostic defaults, fairness included because a sensitive attribute was given
    gates = yaml.safe_load((project / "confs" / "gates.yaml").read_text())
    assert gates == {
        "beat_baseline": {"roc_auc": 0.05},
        "minimums": {},
        "maximums": {},
        "max_regression": {"roc_auc": 0.01, "average_precision": 0.02},
        "max_fairness_gap": {"recall": 0.15, "false_positive_rate": 0.15},
    }
    # And the data was copied into data/ under its own name, and the manifest pins that copy
    copy = project / "data" / "visits.csv"
    assert copy.read_bytes() == source.read_bytes()
    pinned = json.loads((project / "data" / "manifest.json").read_text())["files"]
    columns = {name: ColumnSpec(**spec) for name, spec in data["columns"].items()}
    assert pinned == [
        {
            "name": "reference",
            "path": "data/visits.csv",
            "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
            "rows": ROWS,
            "schema_hash": schema_hash(columns),
        }
    ]


def test_every_decision_is_printed_with_its_reason(project: Path, tmp_path: Path):
    source = write_csv(visits(), tmp_path / "visits.csv")
    lines = mlops("init-data", str(source), "--target", "relapsed").stdout.splitlines()
    assert lines[0] == f"data: data/visits.csv — copied from {source}, which is outside the project"
    by_subject = {line.split(": ", 1)[0]: line for line in lines}
    assert by_subject["column site"].startswith("column site: categorical — 5 numeric codes with gaps")
    assert by_subject["column lesions"].startswith("column lesions: numeric — integers 0 to 8")
    assert "never booleans" in by_subject["column smoker"]
    assert "id column" in by_subject["column visit_id"]
    assert by_subject["task"] == "task: binary_classification — 'relapsed' has two labels: no, yes"
    assert by_subject["positive class"].startswith("positive class: yes — the less frequent label")
    assert by_subject["timestamp"] == "timestamp: seen_on — the only date column"
    assert by_subject["split"].startswith("split: the most recent 20% of rows by seen_on are the holdout")
    assert by_subject["sensitive attribute"].startswith("sensitive attribute: none — sex looks like one: pass --sensitive sex")


def test_regression_without_a_date_splits_at_random_and_leaves_free_text_out(project: Path):
    write_csv(flats(), project / "data" / "flats.csv")  # already inside the project: not copied
    result = mlops("init-data", "data/flats.csv", "--target", "price")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert data["path"] == "data/flats.csv"
    assert data["task"] == "regression" and "positive_class" not in data
    assert "timestamp_column" not in data
    assert data["id_column"] == "listing_id"
    assert data["features"] == {"numeric": ["area_m2"], "categorical": []}
    assert data["columns"]["description"] == {"dtype": "string"}
    assert "split: a seeded random 20% — no timestamp" in result.stdout
    assert "timestamp: none — no date column" in result.stdout
    gates = yaml.safe_load((project / "confs" / "gates.yaml").read_text())
    assert gates["beat_baseline"] == {"r2": 0.1} and gates["max_regression"] == {"r2": 0.02}
    assert gates["max_fairness_gap"] == {}  # no sensitive attribute given
    assert sorted(path.name for path in (project / "data").iterdir()) == ["flats.csv", "manifest.json"]


def test_zero_one_labels_make_one_the_positive_class_and_task_can_be_overridden(project: Path, tmp_path: Path):
    frame = flats().assign(expensive=lambda table: (table["price"] > table["price"].median()).astype(int))
    source = write_csv(frame.drop(columns="price"), tmp_path / "flats.csv")
    assert mlops("init-data", str(source), "--target", "expensive").exit_code == 0
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert (data["task"], data["positive_class"], data["columns"]["expensive"]) == (
        "binary_classification",
        1,
        {"dtype": "int", "allowed": [0, 1]},
    )
    assert mlops("init-data", str(source), "--target", "expensive", "--task", "regression", "--force").exit_code == 0
    assert yaml.safe_load((project / "confs" / "data.yaml").read_text())["task"] == "regression"


def test_a_zero_one_float_target_is_binary_classification_with_one_positive(project: Path, tmp_path: Path):
    # Given a 0/1 target exported as floats (pandas writes 0.0/1.0 once a column held a missing value), mostly ones
    frame = flats().assign(cheap=lambda table: (table["price"] < table["price"].quantile(0.7)).astype(float))
    source = write_csv(frame.drop(columns="price"), tmp_path / "flats.csv")
    result = mlops("init-data", str(source), "--target", "cheap")
    assert result.exit_code == 0, result.output
    # Then it is two labels, not a regression on two values, and 1.0 is the positive class though the rarer label is 0.0
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert (data["task"], data["positive_class"]) == ("binary_classification", "1.0")
    assert data["columns"]["cheap"] == {"dtype": "category", "allowed": ["0.0", "1.0"]}
    assert "positive class: 1.0 — 0/1 labels: 1.0 is the positive class; pass --positive-class 0.0 to flip" in result.stdout


def test_a_date_column_holding_a_missing_token_declares_it_and_is_a_nullable_datetime(project: Path, tmp_path: Path):
    copy_confs(project, "model.yaml", "tracking.yaml")
    frame = visits()
    frame.loc[[4, 40, 200], "seen_on"] = "n/a"
    source = write_csv(frame, tmp_path / "visits.csv")
    result = mlops("init-data", str(source), "--target", "relapsed")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert data["missing_values"] == ["", "n/a"]
    assert data["columns"]["seen_on"] == {"dtype": "datetime", "nullable": True}
    assert data["timestamp_column"] == "seen_on"
    # And the table validates against the contract: the token is read as missing, the column as dates
    validated = mlops("validate")
    assert validated.exit_code == 0, validated.output


def test_a_repeated_id_is_the_group_the_split_keeps_together_and_exclude_drops_a_feature(project: Path, tmp_path: Path):
    # Given flats listed several times each (one building, several rows) and no date
    frame = flats().assign(building_id=lambda table: 300 + table.index // 4)
    source = write_csv(frame, tmp_path / "flats.csv")
    result = mlops("init-data", str(source), "--target", "price", "--exclude", "listing_id")
    assert result.exit_code == 0, result.output
    # Then the building is the group: out of the features, and the holdout takes whole buildings
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert data["group_column"] == "building_id" and data["columns"]["building_id"] == {"dtype": "int"}
    assert data["features"] == {"numeric": ["area_m2"], "categorical": []}
    for line in (
        "group: building_id — the only id repeated across rows",
        "split: a seeded random 20% of the building_id values, with all their rows — no timestamp; no building_id in both",
        "column listing_id: id — a distinct number on every row, named like an id; excluded with --exclude, never a feature",
    ):
        assert line in result.stdout, result.stdout
    # And the modelling split (train's and evaluate's) puts no building on both sides
    copy_confs(project, "model.yaml", "tracking.yaml")
    assert mlops("validate").exit_code == 0
    settings = load_settings(project / "confs")
    _, train, holdout = split_for_modelling(settings)
    assert set(train["building_id"]).isdisjoint(holdout["building_id"]) and len(train) + len(holdout) == ROWS
    assert "of the building_id values with all their rows" in split_description(settings)
    # And --group must name a column
    failed = mlops("init-data", str(source), "--target", "price", "--group", "floor", "--force")
    assert failed.exit_code == 2 and "--group 'floor' is not a column" in failed.output


def test_a_year_column_orders_the_time_split_when_named_with_timestamp(project: Path, tmp_path: Path):
    # Given flats sold over ten years, the rows shuffled
    frame = flats().assign(year=lambda table: 2015 + table.index % 10).sample(frac=1.0, random_state=1)
    source = write_csv(frame, tmp_path / "flats.csv")
    result = mlops("init-data", str(source), "--target", "price", "--timestamp", "year")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert data["timestamp_column"] == "year" and "year" not in data["features"]["numeric"]
    # Then the config loads, and the holdout is the latest years: none of its rows is older than a training row
    copy_confs(project, "model.yaml", "tracking.yaml")
    assert mlops("validate").exit_code == 0
    settings = load_settings(project / "confs")
    _, train, holdout = split_for_modelling(settings)
    assert holdout["year"].min() >= train["year"].max() and set(holdout["year"]) >= {2023, 2024}
    # And the drift window, which counts days, takes every row and says why
    kept, _, window = in_window(settings, train, train)
    assert len(kept) == len(train) and window == "all rows (year holds integer periods, so window_days does not apply)"


def test_missing_tokens_in_a_numeric_column_are_declared(project: Path, tmp_path: Path):
    frame = flats()
    frame["area_m2"] = frame["area_m2"].astype(object)
    frame.loc[[3, 30, 300], "area_m2"] = "n/a"
    source = write_csv(frame, tmp_path / "flats.csv")
    result = mlops("init-data", str(source), "--target", "price")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert data["missing_values"] == ["", "n/a"]
    assert data["columns"]["area_m2"]["dtype"] == "float" and data["columns"]["area_m2"]["nullable"] is True
    assert 'missing values: "", "n/a"' in result.stdout


def test_parquet_is_read_like_csv(project: Path, tmp_path: Path):
    pytest.importorskip("pyarrow", reason="pyarrow comes with mlflow; without it init-data says to add it")
    source = tmp_path / "flats.parquet"
    flats().to_parquet(source)
    result = mlops("init-data", str(source), "--target", "price")
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    assert data["path"] == "data/flats.parquet" and data["task"] == "regression"
    assert data["columns"]["listing_id"] == {"dtype": "int", "unique": True}


def assert_one_line_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_existing_confs_are_not_overwritten_without_force(project: Path, tmp_path: Path):
    source = write_csv(visits(), tmp_path / "visits.csv")
    assert mlops("init-data", str(source), "--target", "relapsed").exit_code == 0
    before = {path: path.read_bytes() for path in (project / "confs").iterdir()}
    assert_one_line_error(mlops("init-data", str(source), "--target", "smoker"), 2, "confs/data.yaml exists: pass --force")
    assert {path: path.read_bytes() for path in (project / "confs").iterdir()} == before
    (project / "confs" / "data.yaml").unlink()
    assert_one_line_error(mlops("init-data", str(source), "--target", "smoker"), 2, "confs/gates.yaml exists")
    assert mlops("init-data", str(source), "--target", "smoker", "--force").exit_code == 0
    assert yaml.safe_load((project / "confs" / "data.yaml").read_text())["target"] == "smoker"


def test_a_different_file_of_the_same_name_in_data_is_not_overwritten_without_force(project: Path, tmp_path: Path):
    write_csv(flats(), project / "data" / "visits.csv")
    source = write_csv(visits(), tmp_path / "visits.csv")
    assert_one_line_error(mlops("init-data", str(source), "--target", "relapsed"), 2, "data/visits.csv exists")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param([], ["--target is required", "relapsed"], id="no-target"),
        pytest.param(["--target", "outcome"], ["target 'outcome' is not a column"], id="unknown-target"),
        pytest.param(["--target", "site"], ["has 5 labels"], id="five-class-target"),
        pytest.param(
            ["--target", "relapsed", "--timestamp", "dose"], ["--timestamp 'dose' holds numeric values"], id="timestamp-not-a-date"
        ),
        pytest.param(["--target", "relapsed", "--sensitive", "dose"], ["--sensitive 'dose' holds numeric values"], id="sensitive-numeric"),
        pytest.param(["--target", "relapsed", "--positive-class", "maybe"], ["--positive-class 'maybe' is not a label"], id="bad-positive"),
        pytest.param(["--target", "relapsed", "--task", "multiclass"], ["--task 'multiclass' is not supported"], id="bad-task"),
    ],
)
def test_bad_choices_are_one_line_errors_and_write_nothing(project: Path, tmp_path: Path, args: list[str], fragments: list[str]):
    source = write_csv(visits(), tmp_path / "visits.csv")
    assert_one_line_error(mlops("init-data", str(source), *args), 2, *fragments)
    assert not (project / "confs").exists() and not (project / "data").exists()


def test_a_missing_file_is_a_one_line_error(project: Path):
    assert_one_line_error(mlops("init-data", "nowhere.csv", "--target", "y"), 2, "nowhere.csv: data file not found")


# The config reads what init-data writes: these need settings that know `task`, `positive_class`,
# `missing_values`, an optional `timestamp_column` and `beat_baseline`.


def test_written_confs_load_and_the_data_validates(project: Path, tmp_path: Path):
    copy_confs(project, "model.yaml", "tracking.yaml")
    source = write_csv(visits(), tmp_path / "visits.csv")
    assert mlops("init-data", str(source), "--target", "relapsed", "--sensitive", "sex").exit_code == 0
    settings = load_settings(project / "confs")
    assert settings.data.target == "relapsed"
    result = mlops("validate")
    assert result.exit_code == 0, result.output


def test_a_noisy_missing_token_fails_validation_unless_declared(project: Path, tmp_path: Path):
    copy_confs(project, "model.yaml", "tracking.yaml")
    write_csv(flats(), project / "data" / "flats.csv")
    assert mlops("init-data", "data/flats.csv", "--target", "price").exit_code == 0
    # Given an export that later writes "n/a" into a numeric column, re-pinned
    frame = pd.read_csv(project / "data" / "flats.csv", dtype=str)
    frame.loc[7, "area_m2"] = "n/a"
    frame.to_csv(project / "data" / "flats.csv", index=False)
    assert mlops("manifest").exit_code == 0
    # Then validation reports the bad value in that column
    failed = mlops("validate")
    assert failed.exit_code == 1, failed.output
    failures = json.loads((project / "outputs" / "validation" / "report.json").read_text())["failures"]
    assert [failure["column"] for failure in failures] == ["area_m2"] and failures[0]["examples"] == ["'n/a'"]
    # And once missing_values declares it, the cell is missing and the nullable column passes
    data = project / "confs" / "data.yaml"
    edit_yaml(data, "missing_values: ['']", "missing_values: ['', n/a]")
    edit_yaml(data, "area_m2: {dtype: float,", "area_m2: {dtype: float, nullable: true,")
    assert mlops("manifest").exit_code == 0
    assert mlops("validate").exit_code == 0


# Names and labels come from whoever made the table (through `data_path`, into the bake's first commit):
# what the config reads back must be what the table said, and nothing else.

HOSTILE_NAMES = [
    "#hash",
    "a: b",
    '"double"',
    "'single'",
    "größe 年齢 🙂",
    "- dash",
    "{brace",
    "[x](https://evil)",
    "&anchor *alias !tag %pct @octocat",
    "yes",
    "null",
    "1e3",
    "x" * MAX_NAME_CHARS,
]
HOSTILE_LABELS = ["#x", "a: b", "- z", "{", "'q'", '"q"', "yes", "~", "null", "<!-- mlops -->"]
TARGET = "outcome: #1"
POSITIVE = "{bad}: 'yes'"


def hostile(rows: int = ROWS, seed: int = 7) -> pd.DataFrame:
    """Every other column categorical with awkward labels, the others numbers; a target with awkward labels."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            name: rng.choice(HOSTILE_LABELS, rows) if index % 2 else rng.normal(10 * index, 3, rows).round(2)
            for index, name in enumerate(HOSTILE_NAMES)
        }
    )
    frame[TARGET] = np.where(rng.random(rows) < 0.3, POSITIVE, "ok")
    return frame


def copy_confs(project: Path, *names: str) -> None:
    (project / "confs").mkdir(exist_ok=True)
    for name in names:
        (project / "confs" / name).write_text((Path(__file__).resolve().parents[1] / "confs" / name).read_text())


def test_hostile_names_and_labels_read_back_as_they_are(project: Path, tmp_path: Path):
    # Given a table whose names and labels are YAML syntax, markdown, unicode and as long as allowed
    copy_confs(project, "model.yaml", "tracking.yaml")
    source = write_csv(hostile(), tmp_path / "odd: name #1.csv")
    # When init-data drafts the contract
    result = mlops("init-data", str(source), "--target", TARGET)
    assert result.exit_code == 0, result.output
    # Then the settings read back exactly the names, labels and roles the table has
    data = load_settings(project / "confs").data
    assert data.path == "data/odd: name #1.csv" and data.manifest == "data/manifest.json"
    assert list(data.columns) == [*HOSTILE_NAMES, TARGET]
    assert (data.target, data.positive_class) == (TARGET, POSITIVE)
    assert data.features.numeric == HOSTILE_NAMES[0::2] and data.features.categorical == HOSTILE_NAMES[1::2]
    for name in HOSTILE_NAMES[1::2]:
        assert data.columns[name].allowed == sorted(HOSTILE_LABELS), name
    assert data.columns[TARGET].allowed == sorted([POSITIVE, "ok"])
    # And no comment carries text from the table: comments are the project's own lines
    text = (project / "confs" / "data.yaml").read_text()
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    for value in [*HOSTILE_NAMES, *HOSTILE_LABELS, TARGET, POSITIVE, "odd: name"]:
        assert not any(value in comment for comment in comments), value
    # And the data validates against the contract drafted from it
    assert mlops("validate").exit_code == 0


def test_whatever_a_draft_holds_its_yaml_reads_back_as_that(project: Path):
    # Given a draft whose names were not checked (the emitter alone must keep them values)
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 10, "y": ["p", "n"] * 20})
    draft = draft_contract(frame.astype(str), "data/t.csv", "t.csv", "y", Choices())
    evil = "x\npath: https://evil\n# \u2028y: {z: [1]}\r\n\x1b[0m"
    draft.columns = {evil: draft.columns["a"], "y": draft.columns["y"]}
    draft.numeric, draft.location = [evil], "data/t.csv\npath: https://evil"
    # Then the YAML reads back as that draft, not as keys of its own
    data = yaml.safe_load(render_data_yaml(draft))
    assert data["path"] == "data/t.csv\npath: https://evil"
    assert list(data["columns"]) == [evil, "y"] and data["features"]["numeric"] == [evil]


@pytest.mark.parametrize(
    ("names", "labels", "fragments"),
    [
        pytest.param(["x\npath: https://evil", "y"], ["p", "n"], ["column 'x\\npath: https://evil': its name", "U+000A"], id="newline"),
        pytest.param(["ok\r", "y"], ["p", "n"], ["column 'ok\\r'", "U+000D"], id="carriage-return"),
        pytest.param(["\x1b[31mred", "y"], ["p", "n"], ["U+001B"], id="escape-sequence"),
        pytest.param(["a\u2028b", "y"], ["p", "n"], ["U+2028"], id="line-separator"),
        pytest.param(["invoice\u202efdp.exe", "y"], ["p", "n"], ["U+202E"], id="bidi-override"),
        pytest.param(["x", "y"], ["p", "n\nq"], ["column 'y': its label 'n\\nq'", "U+000A"], id="label-newline"),
        pytest.param(["x" * (MAX_NAME_CHARS + 1), "y"], ["p", "n"], [f"{MAX_NAME_CHARS + 1} characters long", "at most"], id="long-name"),
        pytest.param(["x", "y"], ["p", "n" * (MAX_NAME_CHARS + 1)], ["its label", "characters long"], id="long-label"),
        pytest.param([f"c{index}" for index in range(MAX_COLUMNS)] + ["y"], ["p", "n"], [f"{MAX_COLUMNS + 1} columns"], id="columns"),
    ],
)
def test_names_and_labels_that_cannot_stand_in_a_contract_are_refused(
    project: Path, tmp_path: Path, names: list[str], labels: list[str], fragments: list[str]
):
    rows = 40
    frame = pd.DataFrame({name: np.arange(rows) % 7 for name in names[:-1]})
    frame[names[-1]] = [labels[index % 2] for index in range(rows)]
    source = tmp_path / "table.csv"
    frame.to_csv(source, index=False, quoting=csv.QUOTE_ALL)  # quoted: a bare \r would end the row for any CSV reader
    assert_one_line_error(mlops("init-data", str(source), "--target", names[-1]), 2, *fragments)
    assert not (project / "confs").exists() and not (project / "data").exists()
