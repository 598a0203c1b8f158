"""`mlops drift` on the project's own data: what it concludes and writes, and how bad input is refused."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package }}.cli import app
from {{ cookiecutter.package }}.config import load_settings
from {{ cookiecutter.package }}.io.datasets import read_table
from {{ cookiecutter.package }}.jobs import CHAMPION_DIR, CHAMPION_JSON, DRIFT_HTML, DRIFT_JSON, DRIFT_MD, PROFILE_FILE, TRAINING_JSON, steps

from tests.conftest import PROJECT_SETTINGS, feature_column, unseen_rows, write_table

DATA = PROJECT_SETTINGS.data


# The tests that judge the verdict (drift.json, drift.md, the step outputs) pass --no-html: evidently's
# HTML report is most of a drift run's time, and the tests about that report make it themselves.
def mlops(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def crown(workspace: Path, trained: Path, *, published_days_ago: float = 3.0) -> None:
    """Make the trained model the champion, as `mlops champion` leaves a release behind."""
    shutil.copytree(trained / steps.TRAINED_MODEL_DIR, workspace / CHAMPION_DIR)
    run = json.loads((trained / TRAINING_JSON).read_text())
    published = datetime.now(UTC) - timedelta(days=published_days_ago)
    record = {
        "source": "release",
        "tag": "v1.0.0",
        "model_path": str(CHAMPION_DIR),
        "published_at": published.isoformat().replace("+00:00", "Z"),
        "metrics": run["holdout_metrics"],
    }
    (workspace / CHAMPION_JSON).write_text(json.dumps(record))


def production(workspace: Path, change=None) -> Path:
    """The workspace's holdout, split as the project splits (by time, or seeded and shuffled), as a production file.

    Unseen by the model, as production rows are, and every one of them judged: the window is lifted
    (on a table spanning years, the newest window_days of a small sample may be too few rows), so
    the champion's release metrics and the monitor's are taken on the same rows.
    """
    monitor = workspace / "confs" / "monitor.yaml"
    config = yaml.safe_load(monitor.read_text())
    monitor.write_text(yaml.safe_dump({**config, "window_days": None}, sort_keys=False))
    assert mlops("manifest").exit_code == 0
    frame = unseen_rows(workspace)
    if change:
        frame = change(frame)
    path = workspace / "data" / "current" / "batch.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(frame, path)
    return path


def outputs_of(workspace: Path) -> dict:
    return json.loads((workspace / DRIFT_JSON).read_text())


def step_outputs(file: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in file.read_text().splitlines())


def test_unseen_rows_from_the_same_data_make_no_retraining_due(workspace: Path, trained: Path, tmp_path: Path):
    crown(workspace, trained)
    batch = production(workspace)
    if DATA.timestamp_column and (changed := changed_over_time(workspace)):
        shown = ", ".join(changed)
        pytest.skip(f"the newest rows by {DATA.timestamp_column} differ from the older ones in {shown}: this data changes over time")
    github_output = tmp_path / "github_output"
    result = mlops("drift", "--no-html", env={"GITHUB_OUTPUT": str(github_output)})
    assert result.exit_code == 0, result.stderr
    summary = outputs_of(workspace)
    assert not summary["due"], summary["verdict"]
    assert step_outputs(github_output)["retraining_due"] == "false"
    assert summary["rows"] == len(read_table(batch, DATA.missing_values)) >= load_settings(workspace / "confs").monitor.min_rows
    assert summary["champion"] == "v1.0.0"


def changed_over_time(workspace: Path) -> list[str]:
    """Features whose holdout differs from the training rows by two-sample tests of their own (scipy, p < 0.001)."""
    import pandas as pd
    from scipy import stats

    _, train, holdout = steps.split_for_modelling(load_settings(workspace / "confs"))
    changed = [
        name
        for name in DATA.features.numeric
        if stats.ks_2samp(train[name].dropna().astype(float), holdout[name].dropna().astype(float)).pvalue < 0.001
    ]
    for name in DATA.features.categorical:
        values = pd.concat([train[name], holdout[name]]).astype(str)
        table = pd.crosstab(values, [0] * len(train) + [1] * len(holdout))
        if len(table) > 1 and stats.chi2_contingency(table).pvalue < 0.001:
            changed.append(name)
    return changed


def test_a_shifted_column_drifts_and_makes_retraining_due(workspace: Path, trained: Path, tmp_path: Path):
    name, _ = feature_column(lambda spec: spec.dtype == "float" and spec.max is None, "unbounded float")
    crown(workspace, trained)

    def shift(frame):
        frame[name] = (frame[name].astype(float) * 3 + 50).round(2).astype(str)
        return frame

    production(workspace, shift)
    github_output = tmp_path / "github_output"
    assert mlops("drift", "--no-html", env={"GITHUB_OUTPUT": str(github_output)}).exit_code == 0
    summary = outputs_of(workspace)
    assert name in summary["drifted"]
    column = next(c for c in summary["columns"] if c["column"] == name)
    assert column["drifted"] and column["statistic"] >= column["threshold"]
    if summary["due"]:
        assert step_outputs(github_output)["retraining_due"] == "true"
    assert "⚠️" in (workspace / DRIFT_MD).read_text()


def empty_target(frame):
    frame[DATA.target] = ""
    return frame


@pytest.mark.parametrize("late", [lambda frame: frame.drop(columns=[DATA.target]), empty_target], ids=["absent", "present-but-empty"])
def test_late_labels_are_not_compared_and_not_drift(workspace: Path, trained: Path, late):
    crown(workspace, trained)
    production(workspace, late)
    assert mlops("drift", "--no-html").exit_code == 0
    summary = outputs_of(workspace)
    assert DATA.target in summary["not_compared"] and DATA.target not in summary["drifted"]
    assert summary["labelled_rows"] == 0 and summary["decay"] == []


def test_an_old_champion_is_due_for_retraining(workspace: Path, trained: Path):
    crown(workspace, trained, published_days_ago=400)
    production(workspace)
    assert mlops("drift", "--no-html").exit_code == 0
    assert "400 days old" in outputs_of(workspace)["verdict"]


def test_no_production_data_is_a_clear_green_line(workspace: Path, trained: Path):
    crown(workspace, trained)
    result = mlops("drift", "--no-html")
    assert result.exit_code == 0
    assert "nothing to check in data/current/*" in result.stdout
    assert not outputs_of(workspace)["due"]


def test_no_champion_yet_is_a_clear_green_line(workspace: Path):
    (workspace / CHAMPION_JSON).parent.mkdir(parents=True)
    (workspace / CHAMPION_JSON).write_text(json.dumps({"source": "none"}))
    production(workspace)
    result = mlops("drift", "--no-html")
    assert result.exit_code == 0 and "no champion yet" in result.stdout


def test_a_champion_without_a_profile_is_named(workspace: Path, trained: Path):
    crown(workspace, trained)
    (workspace / CHAMPION_DIR / PROFILE_FILE).unlink()
    production(workspace)
    result = mlops("drift", "--no-html")
    assert result.exit_code == 2 and "v1.0.0: its release has no profile.json" in result.stderr


def test_a_corrupt_production_file_is_named_and_nothing_is_written(workspace: Path, trained: Path):
    crown(workspace, trained)
    folder = workspace / "data" / "current"
    folder.mkdir(parents=True)
    (folder / "broken.csv").write_bytes(b'a,b\n"unterminated\n')
    result = mlops("drift", "--no-html")
    assert result.exit_code == 2 and "broken.csv: could not parse as CSV" in result.stderr
    assert not (workspace / DRIFT_JSON).exists()


def test_production_data_missing_a_column_names_it(workspace: Path, trained: Path):
    crown(workspace, trained)
    column = DATA.features.all[-1]
    production(workspace, lambda frame: frame.drop(columns=[column]))
    result = mlops("drift", "--no-html")
    assert result.exit_code == 2 and f"lacks column(s) {column}" in result.stderr


def test_drift_is_stale_for_retrain_pr_once_the_config_changes(workspace: Path, trained: Path):
    crown(workspace, trained)
    production(workspace)
    assert mlops("drift", "--no-html").exit_code == 0
    monitor = workspace / "confs" / "monitor.yaml"
    monitor.write_text(monitor.read_text().replace("min_rows: 100", "min_rows: 101"))
    result = mlops("retrain-pr")
    assert result.exit_code == 2 and "run `mlops drift` again" in result.stderr
    assert load_settings(workspace / "confs").monitor.min_rows == 101


def test_labels_that_no_longer_follow_the_model_are_decay(workspace: Path, trained: Path):
    crown(workspace, trained)

    def scramble(frame):
        # Labels shuffled across rows: the features no longer tell them, as after a change in behaviour.
        frame[DATA.target] = frame[DATA.target].sample(frac=1.0, random_state=5).to_numpy()
        return frame

    production(workspace, scramble)
    assert mlops("drift", "--no-html").exit_code == 0
    summary = outputs_of(workspace)
    decayed = [row["metric"] for row in summary["decay"] if row["decayed"]]
    assert decayed, summary["decay"]
    assert summary["due"] and "decayed on labelled production rows" in summary["verdict"]
    assert summary["labelled_rows"] == summary["rows"] > 0


# A GitHub that cannot be reached: a summary refused before any call fails with its own message, not "unreachable".
NO_GITHUB = {"GITHUB_TOKEN": "ghs_not_a_real_token_0123456789", "GITHUB_REPOSITORY": "acme/model", "GITHUB_API_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (lambda summary: {**summary, "share": "0.5"}, "drift.json: share: "),
        (lambda summary: {**summary, "rows": -1}, "drift.json: rows: "),
        (lambda summary: {**summary, "due": "yes"}, "drift.json: due: "),
        (lambda summary: {**summary, "drifted": ["x" * 100_000]}, "drift.json: drifted.0: "),
        (lambda summary: {**summary, "verdict": ["not", "a", "line"]}, "drift.json: verdict: "),
        (lambda summary: {**summary, "inputs": "0" * 64}, "made from other data or config"),
        (lambda summary: [summary], "expected a JSON object"),
        (lambda summary: {**summary, "padding": "x" * (17 << 20)}, "more than the 16777216 accepted"),
    ],
    ids=["share-a-string", "negative-rows", "due-a-string", "a-huge-column-name", "verdict-a-list", "other-config", "a-list", "too-big"],
)
def test_drift_history_refuses_a_summary_drift_did_not_write_before_asking_github(workspace: Path, trained: Path, tamper, expected):
    crown(workspace, trained)
    production(workspace)
    assert mlops("drift", "--no-history", "--no-html").exit_code == 0
    (workspace / DRIFT_JSON).write_text(json.dumps(tamper(outputs_of(workspace))))
    result = mlops("drift-history", env=NO_GITHUB)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_drift_history_needs_the_drift_outputs(workspace: Path):
    result = mlops("drift-history", env=NO_GITHUB)
    assert result.exit_code == 2 and "run `mlops drift` first" in result.stderr


class _Scripts(HTMLParser):
    """The contents of every <script> element, as a browser splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.contents: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._inside = True
            self.contents.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.contents[-1] += data


def test_category_values_cannot_write_markup_into_the_html_report(workspace: Path, trained: Path):
    # Given a category value that would end evidently's inline script, and one that would change how it is parsed
    name, spec = feature_column(lambda spec: spec.dtype == "category" and bool(spec.allowed), "categorical")
    script, comment = "</script><script>alert(1)</script>", "<!--<script>"
    path = workspace / "confs" / "data.yaml"
    data = yaml.safe_load(path.read_text())
    data["columns"][name]["allowed"] = [*spec.allowed, script, comment]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert mlops("manifest").exit_code == 0
    crown(workspace, trained)

    def spoil(frame):
        frame.loc[::3, name] = script
        frame.loc[1::3, name] = comment
        return frame

    production(workspace, spoil)
    # When the monitor writes evidently's report
    assert mlops("drift").exit_code == 0
    html = (workspace / DRIFT_HTML).read_text(encoding="utf-8")
    # Then neither value is in it as markup: every script ends where evidently ended it, and none is the value's
    assert script not in html and comment not in html
    scripts = _Scripts()
    scripts.feed(html)
    assert html.lower().count("</script") == len(scripts.contents)
    assert not any(content.strip().startswith("alert(1)") or "<!--" in content for content in scripts.contents)
    # And the values are still shown, with a look-alike of "<"
    assert "\\uff1c/script>\\uff1cscript>alert(1)" in html or "＜/script>＜script>alert(1)" in html


def test_the_html_report_compares_the_same_columns_as_drift_md(workspace: Path, trained: Path):
    crown(workspace, trained)
    production(workspace)  # labelled rows: the target is compared too
    assert mlops("drift").exit_code == 0
    summary = outputs_of(workspace)
    data_columns = [column["column"] for column in summary["columns"] if column["column"] != "prediction"]
    assert DATA.target in data_columns
    # evidently's own count of the columns it compared, read from its report
    assert summary["html_report"]["columns"] == len(data_columns)
    assert f"compares the same {len(data_columns)} data columns" in (workspace / DRIFT_MD).read_text()


def test_no_html_makes_no_report_and_never_imports_evidently(workspace: Path, trained: Path, monkeypatch: pytest.MonkeyPatch):
    crown(workspace, trained)
    production(workspace)
    from {{ cookiecutter.package }} import jobs

    # A fresh import of the verb too, so that an import of evidently at its top would show
    monkeypatch.delattr(jobs, "drift", raising=False)
    for name in [name for name in sys.modules if name.split(".")[0] == "evidently" or name == f"{jobs.__name__}.drift"]:
        monkeypatch.delitem(sys.modules, name)
    assert mlops("drift", "--no-html").exit_code == 0
    assert "evidently" not in sys.modules
    assert not (workspace / DRIFT_HTML).exists() and "html_report" not in outputs_of(workspace)
    assert outputs_of(workspace)["columns"]  # the verdict itself was made


def test_per_column_rules_in_monitor_yaml_reach_drift_json(workspace: Path, trained: Path):
    # PSI applies to numeric and categorical columns alike; a threshold alone keeps the default test
    first, *others = DATA.features.all
    rules = {first: {"method": "psi", "threshold": 0.37}} | {name: {"threshold": 0.0123} for name in others[:1]}
    path = workspace / "confs" / "monitor.yaml"
    monitor = yaml.safe_load(path.read_text())
    monitor["drift"]["columns"] = rules
    path.write_text(yaml.safe_dump(monitor, sort_keys=False))
    crown(workspace, trained)
    production(workspace)
    assert mlops("drift", "--no-html").exit_code == 0
    columns = {column["column"]: column for column in outputs_of(workspace)["columns"]}
    assert (columns[first]["method"], columns[first]["threshold"]) == ("psi", 0.37)
    for name in others[:1]:
        assert columns[name]["threshold"] == 0.0123


def test_the_html_report_runs_the_tests_monitor_yaml_names(workspace: Path, trained: Path):
    first = DATA.features.all[0]
    path = workspace / "confs" / "monitor.yaml"
    monitor = yaml.safe_load(path.read_text())
    monitor["drift"] = {"share": 0.3, "columns": {first: {"method": "psi", "threshold": 0.37}}}
    path.write_text(yaml.safe_dump(monitor, sort_keys=False))
    crown(workspace, trained)
    production(workspace)
    assert mlops("drift").exit_code == 0
    summary = outputs_of(workspace)
    # evidently's own record of the test it ran on the column, read from its report: the rule, not its default
    assert summary["html_report"]["tests"][first] == {"method": "psi", "threshold": 0.37}
