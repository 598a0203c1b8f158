"""`mlops rollback --tag` of a baked project against the GitHub API double (no act): two real releases, then back."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.act_support import job_permissions
from tests.conftest import DEFAULT, mlops
from tests.github_double import GitHubDouble
from tests.test_release_cli import SHA, UNREVIEWED, build, github_env, published, run_release

FIRST = hashlib.sha1(b"the first merged commit").hexdigest()
WRITES = ("POST", "PATCH", "PUT", "DELETE")
pytestmark = pytest.mark.slow  # every test trains, evaluates and releases twice first


def rollback_env(github: GitHubDouble, project: Path, tmp_path: Path) -> dict[str, str]:
    """What rollback.yml gives `mlops rollback`: its job's permissions, a job summary."""
    token = github.token_for(permissions=job_permissions(project / ".github" / "workflows" / "rollback.yml"))
    return {**github_env(github), "GITHUB_TOKEN": token, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}


def make_two_releases(project: Path, github: GitHubDouble) -> None:
    """v1.0.0 of commit FIRST, then v1.0.1 of commit SHA (the same model config: a patch), both on main."""
    shutil.rmtree(project / "outputs", ignore_errors=True)
    now = datetime.now(UTC)
    github.add_commit(FIRST, now - timedelta(hours=3), "First model (#1)", branch="main")
    github.add_commit(SHA, now - timedelta(hours=2), "Second model (#2)", branch="main")
    env = github_env(github)
    build(project, env)
    run_release(project, *UNREVIEWED, env={**env, "GITHUB_SHA": FIRST})
    run_release(project, *UNREVIEWED, env=env)
    assert [release["tag_name"] for release in published(github)] == ["v1.0.0", "v1.0.1"]


@pytest.fixture
def two_releases(synced_project, github: GitHubDouble) -> Path:
    project = synced_project(DEFAULT)
    make_two_releases(project, github)
    return project


def latest(github: GitHubDouble) -> str:
    with httpx.Client(base_url=github.url, headers={"Authorization": f"Bearer {github.token}"}) as client:
        return client.get(f"/repos/{github.full_name}/releases/latest").json()["tag_name"]


def writes(github: GitHubDouble) -> list[str]:
    return [f"{call.method} {call.path}" for call in github.calls if call.method in WRITES]


def test_a_rollback_makes_the_earlier_release_the_champion_again_once(two_releases: Path, github: GitHubDouble, tmp_path: Path):
    project, env = two_releases, rollback_env(github, two_releases, tmp_path)
    assert latest(github) == "v1.0.1"
    # When v1.0.0 is rolled back to, with the workflow's permissions
    result = mlops(project, "rollback", "--tag", "v1.0.0", env=env)
    assert result.stdout.startswith("rolled back to v1.0.0 from v1.0.1: model ")
    # Then GitHub's latest release is v1.0.0, and the next champion fetched is v1.0.0
    assert latest(github) == "v1.0.0"
    mlops(project, "champion", env=github_env(github))
    assert json.loads((project / "outputs/champion/champion.json").read_text())["tag"] == "v1.0.0"
    # And a production deployment of its commit, marked as a rollback, succeeded
    deployment = github.deployments[-1]
    assert (deployment["sha"], deployment["environment"]) == (FIRST, "production")
    assert deployment["payload"]["rollback"] is True and deployment["payload"]["version"] == "v1.0.0"
    assert deployment["payload"]["rolled_back_from"] == "v1.0.1" and deployment["payload"]["model_changed"] is False
    assert [status["state"] for status in deployment["statuses"]] == ["in_progress", "success"]
    record = json.loads((project / "outputs/rollback/rollback.json").read_text())
    assert (record["tag"], record["previous"], record["changed"], record["deployment_id"]) == ("v1.0.0", "v1.0.1", True, deployment["id"])
    assert (tmp_path / "summary.md").read_text().startswith("### ↩️ rolled back to v1.0.0 from v1.0.1")
    # And DORA counts it: a rollback, which makes the deployment it replaced (v1.0.1) a failed change
    mlops(project, "dora", "--no-history", env=github_env(github))
    dora = json.loads((project / "outputs/dora/dora.json").read_text())
    rows = [(row["version"], row["rollback"], row["failed"]) for row in dora["details"]["deployments"]]
    assert rows == [("v1.0.0", False, False), ("v1.0.1", False, True), ("v1.0.0", True, False)]
    assert "1 rolled back" in dora["metrics"]["change_failure_rate"]["detail"]
    # When the same tag is rolled back to again, Then nothing is written and it says so
    before = writes(github)
    again = mlops(project, "rollback", "--tag", "v1.0.0", env=env)
    assert again.stdout.strip() == "v1.0.0 is the champion already: nothing changed"
    assert writes(github) == before
    assert json.loads((project / "outputs/rollback/rollback.json").read_text())["changed"] is False
    # And the next release numbers on from the highest version (v1.0.1), not from the latest (v1.0.0): v1.0.2
    third = hashlib.sha1(b"the third merged commit").hexdigest()
    run_release(project, *UNREVIEWED, env={**github_env(github), "GITHUB_SHA": third})
    assert latest(github) == "v1.0.2" and github.refs["refs/tags/v1.0.2"] == third


def test_a_rollback_to_a_tampered_release_is_refused_and_changes_nothing(two_releases: Path, github: GitHubDouble, tmp_path: Path):
    # Given v1.0.0's archive replaced by other bytes (anyone who can edit releases can do this), its checksum left as it was
    first = published(github)[0]
    archive = next(asset for asset in first["assets"] if asset["name"] == "model.tar.gz")
    with httpx.Client(base_url=github.url, headers={"Authorization": f"Bearer {github.token}"}) as client:
        assert client.delete(f"/repos/{github.full_name}/releases/assets/{archive['id']}").status_code == 204
        upload = first["upload_url"].split("{")[0]
        client.post(upload, params={"name": "model.tar.gz"}, content=b"not the model", headers={"Content-Type": "application/gzip"})
    before = writes(github)
    result = mlops(two_releases, "rollback", "--tag", "v1.0.0", env=rollback_env(github, two_releases, tmp_path), check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith("error: release v1.0.0: model.tar.gz has sha256")
    assert writes(github) == before and latest(github) == "v1.0.1"
    assert len(github.deployments) == 2
    assert not (two_releases / "outputs/rollback/rollback.json").exists()
    assert "Rollback failed" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("v9.9.9", "error: no published release is tagged v9.9.9 in acme/churn-model"),
        ("v1.0.0; rm -rf /", "error: 'v1.0.0; rm -rf /' is not a release tag: expected vMAJOR.MINOR.PATCH"),
    ],
    ids=["unknown", "not-a-tag"],
)
def test_a_tag_that_is_not_a_published_release_is_a_one_line_error(
    two_releases: Path, github: GitHubDouble, tmp_path: Path, tag: str, message: str
):
    before = writes(github)
    result = mlops(two_releases, "rollback", "--tag", tag, env=rollback_env(github, two_releases, tmp_path), check=False)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert writes(github) == before and latest(github) == "v1.0.1"


def test_a_dry_run_sends_nothing_and_shows_the_rollback(two_releases: Path, github: GitHubDouble, tmp_path: Path):
    before = writes(github)
    result = mlops(two_releases, "rollback", "--tag", "v1.0.0", "--dry-run", env=rollback_env(github, two_releases, tmp_path))
    assert writes(github) == before and latest(github) == "v1.0.1"
    first = published(github)[0]
    sent = [line.split(" (")[0].removeprefix("dry run, not sent: ") for line in result.stdout.splitlines() if line.startswith("dry run")]
    assert sent[0] == "POST /repos/acme/churn-model/deployments"
    assert f"PATCH /repos/acme/churn-model/releases/{first['id']}" in sent
    recorded = sorted((two_releases / "outputs/dry-run/rollback").glob("*-PATCH-*.json"))
    assert json.loads(recorded[0].read_text())["json"] == {"make_latest": "true"}
    assert not (two_releases / "outputs/rollback/rollback.json").exists()
