"""`mlops dora` of a baked project against the GitHub API double seeded with a month of delivery
(tests/dora_history.py, where the expected metrics are worked out by hand): the report, the
history on the reports branch, and one tracking issue updated in place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import dora_history
from tests.conftest import DEFAULT, mlops
from tests.github_double import GitHubDouble

pytestmark = pytest.mark.slow
HOUR = 3600.0
MARKER = "<!-- mlops-dora-tracking-issue -->"


@pytest.fixture
def project(synced_project) -> Path:
    baked = synced_project(DEFAULT)
    shutil.rmtree(baked / "outputs", ignore_errors=True)
    return baked


# As .github/workflows/dora.yml grants them: the measuring job reads, the history job only writes contents.
MEASURE = {"deployments": "read", "contents": "read", "pull-requests": "read", "issues": "write"}
HISTORY = {"contents": "write"}


def env_for(github: GitHubDouble, tmp_path: Path, permissions: dict[str, str] = MEASURE) -> dict[str, str]:
    return {
        **github.api_env,
        "GITHUB_TOKEN": github.token_for(permissions=permissions),
        "GITHUB_REPOSITORY": github.full_name,
        "GITHUB_RUN_ID": "77",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }


def dora_issues(github: GitHubDouble) -> list[dict]:
    return [issue for issue in github.issues if "dora" in [label["name"] for label in issue["labels"]]]


def test_dora_on_a_seeded_month_reports_the_hand_worked_metrics_and_keeps_one_tracking_issue(
    project: Path, github: GitHubDouble, tmp_path: Path
):
    dora_history.seed(github)
    # Someone else's issue with the marker is never taken over.
    github.add_issue("my notes", f"{MARKER}\nmine", labels=["dora"], user="someone", created_at="2026-06-01T00:00:00Z")
    env, writer = env_for(github, tmp_path), env_for(github, tmp_path, HISTORY)

    def measure(until: str):
        run = mlops(project, "dora", "--window", dora_history.WINDOW, "--until", until, "--no-history", env=env)
        mlops(project, "dora-history", env=writer)
        return run

    first = measure("2026-06-23")
    assert "tracking issue:" in first.stdout
    second = measure(dora_history.UNTIL)
    report = json.loads((project / "outputs/dora/dora.json").read_text())
    metrics, expected = report["metrics"], dora_history.EXPECTED
    assert metrics["lead_time"]["value"] == pytest.approx(expected["lead_time_hours"] * HOUR)
    assert metrics["deployment_frequency"]["count"] == expected["deployments"]
    assert metrics["change_failure_rate"]["value"] == pytest.approx(expected["change_failure_rate"])
    assert metrics["change_failure_rate"]["fourkeys"] == pytest.approx(expected["fourkeys_change_failure_rate"])
    assert metrics["recovery_time"]["value"] == pytest.approx(expected["recovery_hours"] * HOUR)
    assert metrics["data_change_lead_time"]["value"] == pytest.approx(expected["data_change_hours"] * HOUR)
    assert report["previous"]["deployment_frequency"] == pytest.approx(expected["previous_deployments"] / 30)
    assert (report["details"]["model_changed"], report["details"]["code_only"], report["details"]["model_unknown"]) == (1, 1, 2)
    assert len(report["details"]["open_incidents"]) == 1
    # The passer-by's incident is listed, not counted, and shown inert (no mention, no link)
    (ignored,) = report["details"]["ignored_incidents"]
    assert ignored["title"] == dora_history.IGNORED_TITLE and ignored["author"] == "passer-by"
    assert "label added by passer-by without triage access" in ignored["why"]
    # One issue of ours, updated by the second run; the person's stays as it was.
    ours = [issue for issue in dora_issues(github) if issue["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1 and ours[0]["body"].startswith(MARKER)
    assert "2026-07-01" in ours[0]["body"] and "### Trend" in ours[0]["body"]
    assert f"- #{ignored['number']} everything is down" in ours[0]["body"]
    assert "@octocat" not in ours[0]["body"] and "https://evil" not in ours[0]["body"] and "[details]" not in ours[0]["body"]
    assert report["tracking_issue"]["number"] == ours[0]["number"] and not report["tracking_issue"]["created"]
    assert f"#{ours[0]['number']}" in second.stdout or ours[0]["html_url"] in second.stdout
    theirs = [issue for issue in dora_issues(github) if issue["user"]["login"] == "someone"]
    assert theirs[0]["body"] == f"{MARKER}\nmine"
    history = github.files("mlops-reports")["dora/history.jsonl"].decode().splitlines()
    assert [json.loads(line)["until"][:10] for line in history] == ["2026-06-24", "2026-07-01"]
    summary = (tmp_path / "summary.md").read_text()
    assert "## DORA metrics" in summary and "not enough data" not in summary.split("### ML")[0]
    # The same week again, in one job allowed both: the history keeps one line for it, the issue is still the one.
    both = env_for(github, tmp_path, {**MEASURE, **HISTORY})
    mlops(project, "dora", "--window", dora_history.WINDOW, "--until", dora_history.UNTIL, env=both)
    assert len(github.files("mlops-reports")["dora/history.jsonl"].decode().splitlines()) == 2
    assert len([issue for issue in dora_issues(github) if issue["user"]["login"] == "github-actions[bot]"]) == 1


def test_dora_on_a_repository_without_deployments_says_not_enough_data(project: Path, github: GitHubDouble, tmp_path: Path):
    github.add_commit("1" * 40, "2026-06-01T00:00:00Z", "The project", branch="main")
    env = env_for(github, tmp_path, {**MEASURE, **HISTORY})
    result = mlops(project, "dora", "--until", "2026-06-30", env=env)
    assert result.stdout.count("not enough data") == 5
    report = json.loads((project / "outputs/dora/dora.json").read_text())
    assert all(metric["value"] is None for metric in report["metrics"].values())
    assert "not enough data" in (tmp_path / "summary.md").read_text()


def test_dora_with_a_bad_window_or_date_is_a_one_line_error(project: Path, github: GitHubDouble, tmp_path: Path):
    env = env_for(github, tmp_path)
    bad_window = mlops(project, "dora", "--window", "3 months", env=env, check=False)
    assert bad_window.returncode == 2 and "window '3 months'" in bad_window.stderr
    bad_date = mlops(project, "dora", "--until", "30/06/2026", env=env, check=False)
    assert bad_date.returncode == 2 and "--until '30/06/2026'" in bad_date.stderr
