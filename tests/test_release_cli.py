"""`mlops champion` and `mlops release` of a baked project against the GitHub API double (no act)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEFAULT, mlops, project_env
from tests.github_double import GitHubDouble
from tests.services import mlflow_server

SHA = hashlib.sha1(b"merged commit").hexdigest()


@pytest.fixture
def project(synced_project) -> Path:
    baked = synced_project(DEFAULT)
    shutil.rmtree(baked / "outputs", ignore_errors=True)
    return baked


def github_env(github: GitHubDouble, **extra: str) -> dict[str, str]:
    return {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": github.full_name, "GITHUB_SHA": SHA, "GITHUB_REF": "refs/heads/main", "GITHUB_ACTOR": "octocat", **extra}


def build(project: Path, env: dict[str, str]) -> None:
    for verb in ("champion", "validate", "train", "evaluate"):
        mlops(project, verb, env=env)


def test_release_survives_server_errors_and_rate_limits(project: Path, github: GitHubDouble):
    env = github_env(github)
    build(project, env)
    github.fail_next("POST", r"/releases$", status=502)
    github.fail_next("POST", r"/assets$", status=403, headers={"retry-after": "1", "x-ratelimit-remaining": "0"})
    result = mlops(project, "release", "--allow-unreviewed", "--reason", "no PR in this test", env=env)
    assert result.stdout.startswith("v1.0.0: https://github.com/acme/churn-model/releases/tag/v1.0.0")
    release_posts = [call.status for call in github.calls if call.method == "POST" and call.path.endswith("/releases")]
    assert release_posts == [502, 201]
    assert len(github.releases[0]["assets"]) == 6
    assert github.token not in result.stdout + result.stderr


def test_a_tampered_release_asset_is_refused_before_loading(project: Path, github: GitHubDouble):
    headers = {"Authorization": f"Bearer {github.token}"}
    with httpx.Client(base_url=github.url, headers=headers) as client:
        release = client.post("/repos/acme/churn-model/releases", json={"tag_name": "v1.0.0", "target_commitish": SHA}).json()
        upload = release["upload_url"].split("{")[0]
        client.post(upload, params={"name": "model.tar.gz"}, content=b"not the model", headers={"Content-Type": "application/gzip"})
        wrong = hashlib.sha256(b"the model").hexdigest()
        client.post(
            upload,
            params={"name": "model.tar.gz.sha256"},
            content=f"{wrong}  model.tar.gz\n".encode(),
            headers={"Content-Type": "text/plain"},
        )
    result = mlops(project, "champion", env=github_env(github), check=False)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: release v1.0.0: model.tar.gz has sha256")
    assert "refusing to load it" in result.stderr
    assert not (project / "outputs" / "champion" / "model").exists()


def test_release_without_a_token_is_a_one_line_error(project: Path):
    env = {"GITHUB_TOKEN": "", "GITHUB_REPOSITORY": "acme/churn-model"}
    result = mlops(project, "champion", env=env, check=False)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: GITHUB_TOKEN is not set: expected a token with access to the repository (in Actions: secrets.GITHUB_TOKEN)"
    )


def test_release_with_a_tracking_server_moves_the_champion_alias(project: Path, github: GitHubDouble, tmp_path: Path):
    with mlflow_server(project / ".venv", tmp_path, project_env()) as url:
        env = github_env(github, MLFLOW_TRACKING_URI=url)
        build(project, env)
        mlops(project, "release", "--allow-unreviewed", "--reason", "no PR in this test", env=env)
        with httpx.Client(base_url=url) as client:
            alias = client.get("/api/2.0/mlflow/registered-models/alias", params={"name": "churn-model", "alias": "champion"}).json()
    trained = json.loads((project / "outputs" / "train" / "run.json").read_text())
    assert alias["model_version"]["version"] == trained["model"]["version"]
    assert [status["state"] for status in github.deployments[0]["statuses"]] == ["success"]
