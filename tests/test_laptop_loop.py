"""The scheduled legs on a laptop: no GitHub repository, no token, no network, yet the whole loop runs.

train → promote → champion (the local alias) → simulate-batch → drift → retrain-pr --dry-run →
dora --dry-run → release --dry-run, on a baked project, each step checked by what it wrote. Any
request that tried to leave the machine would meet a proxy that does not exist.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import DEFAULT, mlops

pytestmark = pytest.mark.slow
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so any HTTP(S) request fails


@pytest.fixture
def laptop(synced_project, tmp_path: Path):
    """The default bake with its own registry and no trace of GitHub in the environment."""
    project = synced_project(DEFAULT)
    for leftover in ("outputs", "data/current"):
        shutil.rmtree(project / leftover, ignore_errors=True)
    env = {name: "" for name in os.environ if name.startswith("GITHUB_")} | {
        "GITHUB_REPOSITORY": "",
        "GITHUB_TOKEN": "",
        "GITHUB_REF": "",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",  # not the shared bake's store
        "HTTPS_PROXY": DEAD_PROXY,
        "HTTP_PROXY": DEAD_PROXY,
        "ALL_PROXY": DEAD_PROXY,
    }
    yield project, env
    for leftover in ("outputs", "data/current"):
        shutil.rmtree(project / leftover, ignore_errors=True)


def recorded(project: Path, verb: str) -> list[dict]:
    folder = project / "outputs" / "dry-run" / verb
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def test_the_whole_loop_runs_offline_and_the_dry_runs_hold_the_requests_they_would_send(laptop):
    project, env = laptop
    for verb in ("validate", "train", "evaluate"):
        mlops(project, verb, env=env)
    assert "champion is now version 1" in mlops(project, "promote", env=env).stdout

    fetched = mlops(project, "champion", env=env)
    assert "champion is the local registry's churn-model v1" in fetched.stderr
    record = json.loads((project / "outputs/champion/champion.json").read_text())
    assert (record["source"], record["tag"], record["model_path"]) == ("local", "churn-model v1", "outputs/champion/model")
    assert (project / "outputs/champion/model/model.skops").is_file() and (project / "outputs/champion/model/profile.json").is_file()
    assert record["metrics"]["roc_auc"] > 0.5

    wrote = mlops(
        project, "simulate-batch", "--shift", "monthly_charges=+60%", "--shift", "support_calls_90d=+4", "--rows", "1500",
        "--seed", "5", "--output", "data/current/simulated.csv", env=env,
    )  # fmt: skip
    assert "wrote 1500 rows" in wrote.stdout
    with (project / "data/current/simulated.csv").open() as stream:
        assert sum(1 for _ in csv.DictReader(stream)) == 1500
    bad = mlops(project, "simulate-batch", "--shift", "monthly_fees=+10%", "--output", "data/current/bad.csv", check=False, env=env)
    assert bad.returncode == 2 and "no such column" in bad.stderr and not (project / "data/current/bad.csv").exists()

    mlops(project, "drift", env=env)
    drift = json.loads((project / "outputs/drift/drift.json").read_text())
    assert drift["due"] is True and drift["champion"] == "churn-model v1"
    assert {"monthly_charges", "support_calls_90d"} <= set(drift["drifted"])

    opened = mlops(project, "retrain-pr", "--dry-run", env=env)
    assert "none sent" in opened.stdout
    requests = recorded(project, "retrain-pr")
    by_path = {(request["method"], request["path"].split("/", 4)[-1]): request for request in requests}
    pull = by_path["POST", "pulls"]["json"]
    assert (pull["head"], pull["base"]) == ("mlops/retrain", "main") and pull["title"].startswith("Retrain:")
    assert by_path["POST", "git/refs"]["json"]["ref"] == "refs/heads/mlops/retrain"
    tree = [item["path"] for item in by_path["POST", "git/trees"]["json"]["tree"]]
    assert sorted(tree) == ["data/manifest.json", "data/reference.csv"]
    assert ("POST", "actions/workflows/pr.yml/dispatches") in by_path
    outcome = json.loads((project / "outputs/retrain/retrain.json").read_text())
    assert outcome["action"] == "opened" and outcome["dry_run"] is True
    assert "dry run, nothing sent; had it been sent: #" in opened.stdout + opened.stderr, "the made-up PR number is marked as such"

    measured = mlops(project, "dora", "--dry-run", env=env)
    assert "deployment_frequency: not enough data" in measured.stdout
    requests = recorded(project, "dora")
    issue = next(request["json"] for request in requests if request["path"].endswith("/issues"))
    assert issue["title"] == "DORA metrics of this model's delivery" and "dora" in issue["labels"]
    assert any(request["json"] and request["json"].get("ref") == "refs/heads/mlops-reports" for request in requests)
    assert all(request["method"] != "GET" for request in requests), "only writes are recorded"
    assert (project / "outputs/dora/dora.json").is_file()

    released = mlops(project, "release", "--dry-run", "--allow-unreviewed", "--reason", "tried on a laptop", env=env)
    assert "would release v1.0.0" in released.stdout
    requests = recorded(project, "release")
    made = next(request["json"] for request in requests if request["path"].endswith("/releases"))
    assert (made["tag_name"], made["draft"]) == ("v1.0.0", True)
    uploaded = {request["query"]["name"]: request["content"]["file"] for request in requests if "content" in request}
    assert {"model.tar.gz", "model.tar.gz.sha256", "release.json"} <= set(uploaded)
    assert (project / "outputs/dry-run/release" / uploaded["model.tar.gz"]).stat().st_size > 0
    assert any(request["path"].endswith("/deployments") for request in requests)
    assert not (project / "outputs/release").exists(), "a dry run prepares nothing for a real release"
