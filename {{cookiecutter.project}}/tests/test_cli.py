"""The real CLI, in process, over real files and a real SQLite MLflow store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package }}.cli import app
from {{ cookiecutter.package }}.jobs import METRICS_JSON, PR_REPORT_MD, TRAINING_JSON, VALIDATION_JSON

from tests.conftest import PRIMARY, PROJECT_SETTINGS, data_file, edit_yaml, feature_column, rewrite_data


def mlops(*args: str):
    return CliRunner().invoke(app, list(args))


def assert_one_line_error(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_loop_first_model_then_challenger_against_champion(workspace: Path):
    # Given pinned data and no model yet
    assert mlops("validate").exit_code == 0
    assert mlops("train").exit_code == 0
    # When the first model is evaluated, Then it is judged on absolute gates alone
    first = mlops("evaluate")
    assert first.exit_code == 0, first.output
    metrics = json.loads((workspace / METRICS_JSON).read_text())
    assert metrics["champion"] is None
    assert {gate["name"] for gate in metrics["gates"]} <= {"minimum", "maximum", "fairness_gap"}
    # When it is promoted and a new challenger is trained and evaluated
    assert mlops("promote").exit_code == 0
    assert mlops("train").exit_code == 0
    second = mlops("evaluate")
    assert second.exit_code == 0, second.output
    # Then both were scored on the same holdout, and the same seed gives the same metrics
    metrics = json.loads((workspace / METRICS_JSON).read_text())
    assert metrics["champion"]["version"] == "1"
    assert metrics["challenger"]["version"] == "2"
    assert metrics["challenger"]["metrics"] == pytest.approx(metrics["champion"]["metrics"], nan_ok=True)
    assert any(gate["name"] == "no_regression" for gate in metrics["gates"])
    # And the report shows the comparison
    report = mlops("report", "--title", "PR check")
    assert report.exit_code == 0
    assert "## PR check — ✅ pass" in report.stdout
    assert "vs champion **v1**" in report.stdout
    assert (workspace / PR_REPORT_MD).read_text() == report.stdout


def test_training_logs_params_metrics_and_model_to_mlflow(workspace: Path, capfd: pytest.CaptureFixture[str]):
    import mlflow

    trained = mlops("train")
    assert trained.exit_code == 0
    run_record = json.loads((workspace / TRAINING_JSON).read_text())
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{workspace}/.mlflow/mlflow.db")
    run = client.get_run(run_record["model"]["run_id"])
    assert run.data.params["seed"] == "42"
    assert run.data.tags["data_digest"] == run_record["data_digest"]
    assert PRIMARY in run.data.metrics
    assert run.info.artifact_uri.startswith((workspace / ".mlflow" / "artifacts").as_uri())
    # The logged model loads back through the project's safe loader (skops, fixed trusted types).
    from {{ cookiecutter.package }}.config import load_settings
    from {{ cookiecutter.package }}.io import tracking

    model = tracking.load_model(load_settings(workspace / "confs"), run_record["model"]["model_uri"])
    assert hasattr(model, "predict")
    # One line per step in the logs: none of MLflow's progress bars
    assert "Downloading artifacts" not in trained.output + capfd.readouterr().err


def test_a_failed_gate_exits_1_names_the_gate_and_still_writes_the_report(workspace: Path):
    (workspace / "confs" / "gates.yaml").write_text("minimums: {" + PRIMARY + ": 0.9999}\n")
    assert mlops("train").exit_code == 0
    result = mlops("evaluate")
    assert_one_line_error(result, 1, "gate(s) failed", f"minimum {PRIMARY}")
    metrics = json.loads((workspace / METRICS_JSON).read_text())
    assert metrics["passed"] is False
    assert mlops("report").stdout.count("❌ fail") >= 2
    # A failed challenger is never promoted.
    assert_one_line_error(mlops("promote"), 1, "refusing to promote")


def test_the_search_picks_and_logs_the_best_parameters(workspace: Path):
    # The project's own grid, on two folds instead of the configured ones (fewer fits, the same search)
    path = workspace / "confs" / "model.yaml"
    model = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**model, "search": {**model["search"], "enabled": True, "cv": 2}}, sort_keys=False))
    assert mlops("train").exit_code == 0
    record = json.loads((workspace / TRAINING_JSON).read_text())
    assert set(record["search"]["best_params"]) == {f"estimator__{name}" for name in _grid(workspace)}


def _grid(workspace: Path) -> dict:
    return yaml.safe_load((workspace / "confs" / "model.yaml").read_text())["search"]["grid"]


def _rewrite(workspace: Path, change, *, repin: bool) -> None:
    rewrite_data(workspace, change)
    if repin:
        assert mlops("manifest").exit_code == 0


def _set(column: str, row: int, value):
    def change(frame):
        frame.loc[row, column] = value
        return frame

    return change


def _wrong_type():
    name, _ = feature_column(lambda spec: spec.dtype in {"int", "float"} and spec.allowed is None, "numeric")
    return _set(name, 3, "forty"), [f"{name}: 1 row(s) not a valid", "'forty'"]


def _null():
    name, _ = feature_column(lambda spec: not spec.nullable, "non-nullable")
    return _set(name, 5, None), [f"{name}: 1 row(s) missing"]


def _out_of_range():
    name, spec = feature_column(lambda spec: spec.dtype in {"int", "float"} and spec.min is not None, "bounded numeric")
    below = int(spec.min) - 1 if spec.dtype == "int" else spec.min - 1.5
    bound = int(spec.min) if spec.dtype == "int" else float(spec.min)  # as the schema holds it: 0.0 on a float column
    return _set(name, 7, str(below)), [f"{name}: 1 row(s) < {bound} (min)"]


def _unknown_category():
    name, _ = feature_column(lambda spec: spec.dtype in {"category", "string"} and spec.allowed is not None, "categorical")
    return _set(name, 2, "no-such-category"), [f"{name}: 1 row(s) not one of the allowed values", "'no-such-category'"]


def _missing_column():
    name = PROJECT_SETTINGS.data.features.all[0]
    return (lambda frame: frame.drop(columns=[name])), [f"required columns missing: {name}"]


def _extra_column():
    return (lambda frame: frame.assign(colour="red")), ["columns not declared: colour"]


@pytest.mark.parametrize(
    "bad_data",
    [
        pytest.param(_wrong_type, id="wrong-type"),
        pytest.param(_null, id="null"),
        pytest.param(_out_of_range, id="out-of-range"),
        pytest.param(_unknown_category, id="unknown-category"),
        pytest.param(_missing_column, id="missing-column"),
        pytest.param(_extra_column, id="extra-column"),
    ],
)
def test_bad_data_fails_validate_with_1_and_train_with_2(workspace: Path, bad_data):
    # The columns come from the project's config, so this holds for any data the project is given.
    change, fragments = bad_data()
    _rewrite(workspace, change, repin=True)
    assert_one_line_error(mlops("validate"), 1, "data failed validation", *fragments)
    report = json.loads((workspace / VALIDATION_JSON).read_text())
    assert report["passed"] is False
    assert_one_line_error(mlops("train"), 2, "data failed validation", *fragments)
    assert not (workspace / TRAINING_JSON).exists()


def test_changed_data_without_a_new_manifest_is_a_hash_mismatch(workspace: Path):
    _rewrite(workspace, lambda frame: frame.drop(index=[0]), repin=False)
    assert_one_line_error(mlops("validate"), 1, "manifest: sha256 is")


def test_a_schema_change_without_a_new_manifest_is_named(workspace: Path):
    data = yaml.safe_load((workspace / "confs" / "data.yaml").read_text())
    name = next(name for name, spec in data["columns"].items() if spec["dtype"] in {"int", "float"})
    data["columns"][name]["dtype"] = "float" if data["columns"][name]["dtype"] == "int" else "int"
    (workspace / "confs" / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert_one_line_error(mlops("validate"), 1, "the declared columns changed")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(None, "data file not found", id="missing-file"),
        pytest.param("", "data file is empty", id="empty-file"),
        pytest.param('a,b\n1,2\n3,"4,5\n', "could not parse as CSV", id="unparseable"),
        pytest.param("a,b,c\n1,2\n3,4,5,6,7\n", "could not parse as CSV", id="ragged"),
    ],
)
def test_unreadable_data_exits_2_without_writing_a_report(workspace: Path, content, fragment):
    path = data_file(workspace)
    if content is not None and path.suffix.lower() != ".csv":
        pytest.skip("the CSV cases need CSV data")
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    assert_one_line_error(mlops("validate"), 2, PROJECT_SETTINGS.data.path, fragment)
    assert not (workspace / VALIDATION_JSON).exists()


def test_an_unknown_config_key_exits_2_naming_file_and_key(workspace: Path):
    edit_yaml(workspace / "confs" / "gates.yaml", "minimums:", "minimum:")
    assert_one_line_error(mlops("validate"), 2, "gates.yaml", "minimum: unknown key")


def test_an_unknown_estimator_parameter_exits_2(workspace: Path):
    edit_yaml(workspace / "confs" / "model.yaml", "params: {", "params: {colour: red, ")
    assert_one_line_error(mlops("train"), 2, "confs/model.yaml", "no parameter colour")


def test_evaluate_before_train_exits_2_and_writes_nothing(workspace: Path):
    assert_one_line_error(mlops("evaluate"), 2, "run.json: not found; run `mlops train` first")
    assert not (workspace / METRICS_JSON).exists()


def test_a_fetched_empty_champion_means_absolute_gates_only(workspace: Path):
    # Given `mlops champion` found no release (it writes source "none"), even with a registry alias
    assert mlops("train").exit_code == 0
    assert mlops("evaluate").exit_code == 0
    assert mlops("promote").exit_code == 0
    (workspace / "outputs" / "champion").mkdir(parents=True)
    (workspace / "outputs" / "champion" / "champion.json").write_text('{"source": "none"}')
    # When the challenger is evaluated, Then the release (none) decides, not the local alias
    assert mlops("evaluate").exit_code == 0
    assert json.loads((workspace / METRICS_JSON).read_text())["champion"] is None


def test_comment_without_a_pr_number_exits_2(workspace: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PR_NUMBER", raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_" + "y" * 36)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/model")
    assert mlops("validate").exit_code == 0
    assert mlops("report").exit_code == 0
    assert_one_line_error(mlops("comment"), 2, "no pull request number")


def test_report_before_anything_exits_2(workspace: Path):
    assert_one_line_error(mlops("report"), 2, "nothing to report")


def test_debug_shows_the_traceback(workspace: Path):
    data_file(workspace).unlink()
    result = mlops("--debug", "validate")
    assert result.exit_code != 0
    assert type(result.exception).__name__ == "InputError"


def test_report_is_appended_to_the_job_summary(workspace: Path, monkeypatch: pytest.MonkeyPatch):
    summary = workspace / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert mlops("validate").exit_code == 0
    assert mlops("report").exit_code == 0
    assert "### Data checks — ✅ pass" in summary.read_text()


def test_the_console_script_and_module_entry_point_show_every_verb():
    for command in ([sys.executable, "-m", "{{ cookiecutter.package }}", "--help"], [str(Path(sys.executable).parent / "mlops"), "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        for verb in ("validate", "manifest", "train", "evaluate", "report", "promote", "champion", "comment", "release"):
            assert verb in result.stdout


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ("[]", "expected a JSON object"),
        ('{"until": "2026-06-01T00:00:00Z"}', "made from other data or config"),
        ("x" * (17 << 20), "more than the 16777216 accepted"),
    ],
    ids=["a-list", "not-from-this-config", "too-big"],
)
def test_dora_history_refuses_a_report_dora_did_not_write_before_asking_github(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, report: str, expected: str
):
    # A GitHub that cannot be reached: the refusal must come first, with its own message
    for name, value in {
        "GITHUB_TOKEN": "ghs_" + "z" * 36,
        "GITHUB_REPOSITORY": "acme/model",
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    (workspace / "outputs" / "dora").mkdir(parents=True)
    (workspace / "outputs" / "dora" / "dora.json").write_text(report)
    (workspace / "outputs" / "dora" / "dora.md").write_text("# report\n")
    assert_one_line_error(mlops("dora-history"), 2, expected)


def test_the_image_verbs_refuse_without_their_inputs(workspace: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(workspace / "no-bin"))  # no docker: a verb that reached it would say "docker is not on PATH"
    assert_one_line_error(mlops("smoke-test", "acme/churn-model:v1", "--model-dir", "nowhere"), 2, "nowhere: no model folder")
    assert_one_line_error(mlops("push-image", "ghcr.io/acme/churn-model:v1.0.0"), 2, "outputs/release/plan.json")
