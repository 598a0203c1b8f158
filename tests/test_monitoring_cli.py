"""The monitoring leg of a baked project against the GitHub API double (no act): drift on the demo's
own later batches, the history on the reports branch, and the one retraining pull request."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
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


def env_for(github: GitHubDouble, tmp_path: Path) -> dict[str, str]:
    return {
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": github.token,
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


def monitor(project: Path, env: dict[str, str]) -> tuple[dict, str]:
    mlops(project, "champion", env=env)
    mlops(project, "drift", env=env)
    drift = json.loads((project / "outputs/drift/drift.json").read_text())
    retrain = mlops(project, "retrain-pr", env=env)
    return drift, retrain.stdout.strip()


def rows_of(content: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(content.decode()))) - 1


def test_a_shifted_batch_opens_one_retraining_pr_that_later_batches_update(project: Path, github: GitHubDouble, tmp_path: Path):
    seeded(github, project)
    env = env_for(github, tmp_path)
    for verb in ("champion", "validate", "train", "evaluate"):
        mlops(project, verb, env=env)
    mlops(project, "release", "--allow-unreviewed", "--reason", "first model", env=env)

    # An i.i.d. batch: nothing is due, nothing is opened
    batch(project, "iid", seed=12)
    drift, said = monitor(project, env)
    assert not drift["due"], drift["verdict"]
    assert said.startswith("retraining not due") and github.pulls == []
    history = github.files("mlops-reports")["drift/history.jsonl"].decode().splitlines()
    assert len(history) == 1 and json.loads(history[0])["due"] is False

    # The price rise: retraining due, one PR with the snapshot, labelled, and pr.yml dispatched on it
    batch(project, "shifted", seed=11, alone=True)
    drift, said = monitor(project, env)
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

    # The same batch again: no new commit, no new dispatch
    before = github.branch_head(BRANCH)
    _, said = monitor(project, env)
    assert "same snapshot" in said and github.branch_head(BRANCH) == before and len(github.dispatches) == 1

    # A new batch lands beside it: the same PR is updated on top of its branch, and dispatched again
    batch(project, "shifted", seed=21, start="2025-07-20")
    _, said = monitor(project, env)
    assert said.startswith(f"#{pull['number']}: updated")
    assert len(github.pulls) == 1 and rows_of(github.files(BRANCH)["data/reference.csv"]) == 9000
    assert github.commit(github.branch_head(BRANCH))["parents"][0]["sha"] == before
    assert len(github.dispatches) == 2

    # A person pushes to the branch: their commit is not overwritten, the PR gets a comment
    theirs = github.push_commit(BRANCH, {"notes.md": b"my fix"}, author_login="maria")
    batch(project, "shifted", seed=31, start="2025-08-20")
    _, said = monitor(project, env)
    assert "commented instead" in said and github.branch_head(BRANCH) == theirs
    assert any("not overwritten" in comment["body"] for comment in github.comments(pull["number"]))

    # A person closes the PR: it is not reopened within the cooldown
    github.close_pull(pull["number"], login="maria")
    batch(project, "shifted", seed=41, start="2025-09-20")
    _, said = monitor(project, env)
    assert "not reopening before" in said
    assert [p["state"] for p in github.pulls] == ["closed"]
    assert github.violations == []
