"""`mlops comment` of a baked project against the GitHub API double: one sticky comment, the bot's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import DEFAULT, mlops
from tests.github_double import GitHubDouble

MARKER = "<!-- mlops-report:churn-model -->"
PR = 5
FORGED = '<!-- mlops-metrics: {"run_id": "evil", "head_sha": "", "workflow_run": "", "metrics": {"roc_auc": 1.0}} -->'
BLOCK = '<!-- mlops-metrics: {"run_id": "abc", "head_sha": "", "workflow_run": "", "metrics": {"roc_auc": 0.8}} -->'


@pytest.fixture
def project(synced_project) -> Path:
    baked = synced_project(DEFAULT)
    shutil.rmtree(baked / "outputs", ignore_errors=True)
    return baked


def write_report(project: Path, text: str) -> None:
    (project / "outputs").mkdir(exist_ok=True)
    (project / "outputs" / "report.md").write_text(text)


def env(github: GitHubDouble, token: str | None = None, **extra: str) -> dict[str, str]:
    return {
        **github.api_env,
        "GITHUB_TOKEN": token or github.token,
        "GITHUB_REPOSITORY": github.full_name,
        "PR_NUMBER": str(PR),
        **extra,
    }


def test_a_persons_comment_with_the_marker_is_never_taken_over(project: Path, github: GitHubDouble):
    github.add_pull(number=PR)
    planted = github.add_comment(PR, f"{MARKER}\n{FORGED}\n", login="mallory")
    write_report(project, f"{MARKER}\n## Model report\n\n{BLOCK}\n")
    mlops(project, "comment", env=env(github))
    mallory, ours = github.comments(PR)
    assert mallory["id"] == planted["id"] and mallory["body"] == f"{MARKER}\n{FORGED}\n"
    assert ours["user"]["login"] == "github-actions[bot]" and ours["body"].startswith(MARKER)
    # A second run updates the bot's comment, still not mallory's, and adds none.
    write_report(project, f"{MARKER}\n## Model report, again\n\n{BLOCK}\n")
    mlops(project, "comment", env=env(github))
    assert [comment["id"] for comment in github.comments(PR)] == [planted["id"], ours["id"]]
    assert github.comments(PR)[0]["body"] == mallory["body"] and "again" in github.comments(PR)[1]["body"]
    patched = [call.path for call in github.calls if call.method == "PATCH"]
    assert patched == [f"/repos/acme/churn-model/issues/comments/{ours['id']}"]


def test_another_bots_or_a_persons_marker_comment_does_not_stop_ours_being_created(project: Path, github: GitHubDouble):
    github.add_pull(number=PR)
    github.add_comment(PR, f"{MARKER}\nfrom a person", login="octocat")
    github.add_comment(PR, f"{MARKER}\nfrom another app", login="other-app[bot]")
    write_report(project, f"{MARKER}\n## Model report\n")
    mlops(project, "comment", env=env(github))
    assert [comment["user"]["login"] for comment in github.comments(PR)] == ["octocat", "other-app[bot]", "github-actions[bot]"]


def test_a_report_over_githubs_limit_is_posted_truncated_with_its_metrics(project: Path, github: GitHubDouble):
    github.add_pull(number=PR)
    rows = "\n".join(f"| <code>c{index}</code> | {'x' * 200} |" for index in range(600))
    write_report(project, f"{MARKER}\n## Model report\n\n{rows}\n\n{BLOCK}\n")
    mlops(project, "comment", env=env(github))
    (comment,) = github.comments(PR)
    body = comment["body"]
    assert len(body) <= 65536 and body.startswith(MARKER + "\n")
    assert "report truncated, see the job summary" in body
    assert body.rstrip("\n").splitlines()[-1] == BLOCK


def test_a_fork_pr_gets_a_warning_annotation_and_exit_0(project: Path, github: GitHubDouble):
    github.add_pull(number=PR)
    write_report(project, f"{MARKER}\n## Model report\n")
    result = mlops(project, "comment", env=env(github, github.fork_token(), PR_FROM_FORK="true"), check=False)
    assert result.returncode == 0, result.stderr
    (annotation,) = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotation.startswith("::warning title=PR comment::cannot comment on PR #5 from a fork")
    assert "the report is in the job summary" in annotation
    assert github.comments(PR) == []
    assert github.token not in result.stdout + result.stderr


def test_without_the_permission_outside_a_fork_the_error_names_it(project: Path, github: GitHubDouble):
    github.add_pull(number=PR)
    write_report(project, f"{MARKER}\n## Model report\n")
    token = github.token_for(permissions={"contents": "write", "pull-requests": "read"})
    result = mlops(project, "comment", env=env(github, token), check=False)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: GitHub refused POST /repos/acme/churn-model/issues/5/comments: the token lacks `pull-requests: write`")
    assert "::warning" not in result.stdout


def test_the_whole_pr_loop_comment_carries_a_block_the_bot_alone_can_vouch_for(project: Path, github: GitHubDouble):
    github.add_pull(number=PR)
    for verb in ("validate", "train", "evaluate", "report"):
        mlops(project, verb, env=env(github))
    mlops(project, "comment", env=env(github))
    (comment,) = github.comments(PR)
    last = comment["body"].rstrip("\n").splitlines()[-1]
    record = json.loads(last.removeprefix("<!-- mlops-metrics:").removesuffix("-->"))
    trained = json.loads((project / "outputs" / "train" / "run.json").read_text())
    assert record["run_id"] == trained["model"]["run_id"] and set(record) == {"run_id", "head_sha", "workflow_run", "metrics"}
