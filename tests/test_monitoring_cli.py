"""The monitoring leg of a baked project against the GitHub API double (no act): drift on the demo's
own later batches, the history on the reports branch, and the one retraining pull request."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import DEFAULT, in_project, mlops, tool
from tests.github_double import GitHubDouble

pytestmark = pytest.mark.slow
SHA = hashlib.sha1(b"main with the demo data").hexdigest()
BRANCH = "mlops/retrain"


@pytest.fixture
def project(synced_project) -> Path:
    baked = synced_project(DEFAULT)
    for leftover in ("outputs", "data/current"):
        shutil.rmtree(baked / leftover, ignore_errors=True)
    return baked


def seeded(github: GitHubDouble, project: Path) -> None:
    """main holds the project's data and manifest, the project's workflows exist, and the repository lets
    GITHUB_TOKEN open pull requests (GitHub's default is off: the story needs the setting ticked)."""
    github.actions_can_create_pull_requests = True
    files = {name: (project / name).read_bytes() for name in ("data/reference.csv", "data/manifest.json")}
    github.add_commit(SHA, "2025-06-20T00:00:00Z", "The demo project", branch="main", files=files)
    github.add_workflows_from(project / ".github" / "workflows")


# As .github/workflows/monitor.yml grants them: the drift job only reads; history and retraining write.
DRIFT = {"contents": "read", "attestations": "read"}
HISTORY = {"contents": "write"}
RETRAIN = {"contents": "write", "pull-requests": "write", "issues": "write", "actions": "write"}


def env_for(github: GitHubDouble, tmp_path: Path, permissions: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **github.api_env,
        "GITHUB_TOKEN": github.token if permissions is None else github.token_for(permissions=permissions),
        "GITHUB_REPOSITORY": github.full_name,
        "GITHUB_SHA": SHA,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
    }


def batch(project: Path, kind: str, seed: int, start: str = "2025-06-20", *, alone: bool = False) -> None:
    """A production batch the demo's own generator makes (see scripts/make_dataset.py), landing beside
    the earlier ones as production data does (``alone``: instead of them)."""
    current = project / "data" / "current"
    if alone:
        shutil.rmtree(current, ignore_errors=True)
    current.mkdir(parents=True, exist_ok=True)
    in_project(
        project, tool("uv"), "run", "--frozen", "--no-sync", "python", "scripts/make_dataset.py",
        "--batch", kind, "--rows", "1500", "--seed", str(seed), "--start", start, "--out", f"data/current/{start}.csv",
    )  # fmt: skip


def monitor(project: Path, github: GitHubDouble, tmp_path: Path) -> tuple[dict, str]:
    """monitor.yml's three jobs, each with its own token: drift (reads), history, retraining pull request."""
    reader = env_for(github, tmp_path, DRIFT)
    mlops(project, "champion", env=reader)
    mlops(project, "drift", "--no-history", env=reader)
    drift = json.loads((project / "outputs/drift/drift.json").read_text())
    mlops(project, "drift-history", env=env_for(github, tmp_path, HISTORY))
    retrain = mlops(project, "retrain-pr", env=env_for(github, tmp_path, RETRAIN))
    return drift, retrain.stdout.strip()


def rows_of(content: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(content.decode()))) - 1


def test_a_shifted_batch_opens_one_retraining_pr_that_later_batches_update(project: Path, github: GitHubDouble, tmp_path: Path):
    seeded(github, project)
    env = env_for(github, tmp_path)
    for verb in ("champion", "validate", "train", "evaluate"):
        mlops(project, verb, env=env)
    mlops(project, "release", "--prepare", "--allow-unreviewed", "--reason", "first model", env=env)
    mlops(project, "release", env=env)

    # An i.i.d. batch: nothing is due, nothing is opened
    batch(project, "iid", seed=12)
    drift, said = monitor(project, github, tmp_path)
    assert not drift["due"], drift["verdict"]
    assert said.startswith("retraining not due") and github.pulls == []
    history = github.files("mlops-reports")["drift/history.jsonl"].decode().splitlines()
    assert len(history) == 1 and json.loads(history[0])["due"] is False

    # The price rise: retraining due, one PR with the snapshot, labelled, and pr.yml dispatched on it
    batch(project, "shifted", seed=11, alone=True)
    drift, said = monitor(project, github, tmp_path)
    assert drift["due"] and "predictions drifted" in drift["verdict"]
    assert "retraining_due=true" in (tmp_path / "github_output").read_text()
    (pull,) = github.pulls
    assert said.startswith(f"#{pull['number']}: opened")
    assert pull["head"]["ref"] == BRANCH and pull["base"]["ref"] == "main"
    assert [label["name"] for label in pull["labels"]] == ["retraining"]
    assert "monthly" in pull["body"] and "v1.0.0" in pull["body"]
    on_branch = github.files(BRANCH)
    assert rows_of(on_branch["data/reference.csv"]) == 6000 + 1500
    manifest = json.loads(on_branch["data/manifest.json"])
    assert manifest["files"][0]["sha256"] == hashlib.sha256(on_branch["data/reference.csv"]).hexdigest()
    assert manifest["files"][0]["rows"] == 7500
    assert github.files("main")["data/reference.csv"] == (project / "data/reference.csv").read_bytes()  # main untouched
    (dispatch,) = github.dispatches
    expected = ("pr.yml", f"refs/heads/{BRANCH}", {"pr_number": str(pull["number"])})
    assert (dispatch["workflow"], dispatch["ref"], dispatch["inputs"]) == expected
    assert len(github.files("mlops-reports")["drift/history.jsonl"].decode().splitlines()) == 2
    # The drift job drew the trend from the history it may only read; the history job published the same report
    assert "### Trend" in (project / "outputs/drift/drift.md").read_text()
    assert github.files("mlops-reports")["drift/latest.md"] == (project / "outputs/drift/drift.md").read_bytes()

    # The same batch again: no new commit, no new dispatch
    before = github.branch_head(BRANCH)
    _, said = monitor(project, github, tmp_path)
    assert "same snapshot" in said and github.branch_head(BRANCH) == before and len(github.dispatches) == 1

    # A new batch lands beside it: the same PR is updated on top of its branch, and dispatched again
    batch(project, "shifted", seed=21, start="2025-07-20")
    _, said = monitor(project, github, tmp_path)
    assert said.startswith(f"#{pull['number']}: updated")
    assert len(github.pulls) == 1 and rows_of(github.files(BRANCH)["data/reference.csv"]) == 9000
    assert github.commit(github.branch_head(BRANCH))["parents"][0]["sha"] == before
    assert len(github.dispatches) == 2

    # A person pushes to the branch: their commit is not overwritten, the PR gets a comment
    theirs = github.push_commit(BRANCH, {"notes.md": b"my fix"}, author_login="maria")
    batch(project, "shifted", seed=31, start="2025-08-20")
    _, said = monitor(project, github, tmp_path)
    assert "commented instead" in said and github.branch_head(BRANCH) == theirs
    assert any("not overwritten" in comment["body"] for comment in github.comments(pull["number"]))

    # A person closes the PR: it is not reopened within the cooldown
    github.close_pull(pull["number"], login="maria")
    batch(project, "shifted", seed=41, start="2025-09-20")
    _, said = monitor(project, github, tmp_path)
    assert "not reopening before" in said
    assert [p["state"] for p in github.pulls] == ["closed"]
    assert github.violations == []


# --- the retraining pull request's edge cases: one drift run, then `mlops retrain-pr` against fresh doubles ---

SETTING = "Allow GitHub Actions to create and approve pull requests"


@pytest.fixture(scope="module")
def due(synced_project) -> Path:
    """The default bake after a release and a shifted batch: `mlops drift` says retraining is due."""
    project = synced_project(DEFAULT)
    for leftover in ("outputs", "data/current"):
        shutil.rmtree(project / leftover, ignore_errors=True)
    with GitHubDouble(owner="acme", repo="churn-model") as github:
        seeded(github, project)
        env = {**github.api_env, "GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": github.full_name}
        env |= {"GITHUB_SHA": SHA, "GITHUB_REF": "refs/heads/main", "GITHUB_ACTOR": "octocat", "GITHUB_RUN_ID": "4242"}
        for verb in ("champion", "validate", "train", "evaluate"):
            mlops(project, verb, env=env)
        mlops(project, "release", "--prepare", "--allow-unreviewed", "--reason", "first model", env=env)
        mlops(project, "release", env=env)
        batch(project, "shifted", seed=11, alone=True)
        mlops(project, "champion", env=env)
        mlops(project, "drift", "--no-history", env=env)
    assert json.loads((project / "outputs/drift/drift.json").read_text())["due"]
    yield project
    for leftover in ("outputs", "data/current"):
        shutil.rmtree(project / leftover, ignore_errors=True)


def retrain_pr(project: Path, github: GitHubDouble, tmp_path: Path, env: dict[str, str] | None = None):
    return mlops(project, "retrain-pr", env=env or env_for(github, tmp_path, RETRAIN), check=False)


def refuse_pull_requests(github: GitHubDouble) -> None:
    """The repository's "Allow GitHub Actions to create and approve pull requests" is off (GitHub's default)."""
    github.actions_can_create_pull_requests = False


def test_with_the_setting_off_one_line_names_it_and_the_next_run_opens_the_pull_request(due: Path, github: GitHubDouble, tmp_path: Path):
    seeded(github, due)
    main = github.branch_head("main")
    refuse_pull_requests(github)
    refused = retrain_pr(due, github, tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    (line,) = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert SETTING in line and "Settings → Actions → General → Workflow permissions" in line and "GitHub App token" in line
    assert github.pulls == [] and github.dispatches == []
    left = github.branch_head(BRANCH)
    assert left and github.commit(left)["parents"][0]["sha"] == main  # the snapshot waits, one commit on main
    assert f"{BRANCH} ({left[:12]})" in line

    # The setting is turned on: the next run starts the branch again from main and opens the pull request
    github.actions_can_create_pull_requests = True
    opened = retrain_pr(due, github, tmp_path)
    assert opened.returncode == 0 and "opened" in opened.stdout, opened.stdout + opened.stderr
    (pull,) = github.pulls
    head = github.branch_head(BRANCH)
    assert pull["head"]["sha"] == head != left and github.commit(head)["parents"][0]["sha"] == main
    assert len(github.dispatches) == 1


def test_an_app_token_opens_the_pull_request_whatever_the_setting(due: Path, github: GitHubDouble, tmp_path: Path):
    seeded(github, due)
    refuse_pull_requests(github)  # it governs GITHUB_TOKEN only
    app = {**env_for(github, tmp_path), "GITHUB_TOKEN": github.token_for(login="mlops-bot[bot]", permissions=RETRAIN)}
    opened = retrain_pr(due, github, tmp_path, {**app, "MLOPS_BOT_LOGIN": "mlops-bot[bot]"})
    assert opened.returncode == 0 and "opened" in opened.stdout, opened.stdout + opened.stderr
    (pull,) = github.pulls
    assert pull["user"]["login"] == "mlops-bot[bot]"


def test_a_persons_commit_on_the_branch_is_never_restarted(due: Path, github: GitHubDouble, tmp_path: Path):
    seeded(github, due)
    refuse_pull_requests(github)
    assert retrain_pr(due, github, tmp_path).returncode == 2  # our snapshot waits on the branch
    # A person builds on it: the branch is no longer just the job's own commit
    theirs = github.push_commit(BRANCH, {"notes.md": b"my fix"}, author_login="maria")
    result = retrain_pr(due, github, tmp_path)
    assert result.returncode == 2 and "commits this job did not write" in result.stderr, result.stderr
    assert github.branch_head(BRANCH) == theirs and github.pulls == []


def test_a_persons_commit_carrying_the_jobs_trailer_is_still_theirs(due: Path, github: GitHubDouble, tmp_path: Path):
    seeded(github, due)
    message = "Retraining snapshot, by hand\n\nMlops-Retrain: churn-model\n"
    theirs = github.push_commit(BRANCH, {"data/reference.csv": b"a,b\n1,2\n"}, author_login="maria", message=message)
    result = retrain_pr(due, github, tmp_path)
    assert result.returncode == 2 and "commits this job did not write" in result.stderr, result.stderr
    assert github.branch_head(BRANCH) == theirs and github.pulls == []


def test_a_persons_pull_request_from_the_branch_is_never_taken_for_the_bots(due: Path, github: GitHubDouble, tmp_path: Path):
    seeded(github, due)
    theirs = github.push_commit(BRANCH, {"notes.md": b"my retraining"}, author_login="maria")
    # Their body copies the bot's markers, even the head it would recognise as the last one it wrote
    body = f"<!-- mlops-retrain:churn-model -->\nmy own retraining\n<!-- mlops-retrain-head: {theirs} -->\n"
    pull = github.add_pull(head_ref=BRANCH, head_sha=theirs, body=body, user="maria")
    result = retrain_pr(due, github, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"#{pull['number']} from {BRANCH} was opened by @maria" in result.stderr
    assert github.branch_head(BRANCH) == theirs and github.pulls[0]["body"] == body
    assert github.comments(pull["number"]) == [] and github.dispatches == []


@pytest.mark.parametrize(("closed_days_ago", "reopened"), [(2, False), (8, True)], ids=["2-days-ago-blocks", "8-days-ago-does-not"])
def test_the_cooldown_after_a_person_closed_the_pull_request_counts_days(
    due: Path, github: GitHubDouble, tmp_path: Path, closed_days_ago: int, reopened: bool
):
    seeded(github, due)
    assert retrain_pr(due, github, tmp_path).returncode == 0
    (first,) = github.pulls
    github.close_pull(first["number"], login="maria", at=datetime.now(UTC) - timedelta(days=closed_days_ago))  # cooldown_days: 7
    again = retrain_pr(due, github, tmp_path)
    assert again.returncode == 0, again.stderr
    if reopened:
        assert "opened" in again.stdout and [p["state"] for p in github.pulls] == ["closed", "open"]
    else:
        assert "not reopening before" in again.stdout and [p["state"] for p in github.pulls] == ["closed"]
