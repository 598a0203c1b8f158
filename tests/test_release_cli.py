"""`mlops champion` and `mlops release` of a baked project against the GitHub API double (no act)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import pickle
import shutil
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.act_support import job_permissions
from tests.conftest import DEFAULT, mlops, project_env
from tests.github_double import GitHubDouble
from tests.services import mlflow_server

SHA = hashlib.sha1(b"merged commit").hexdigest()
ASSETS = {"model.tar.gz", "model.tar.gz.sha256", "metrics.json", "report.md", "model_card.md", "release.json"}
MARKER = "<!-- mlops-report:churn-model -->"
UNREVIEWED = ("--allow-unreviewed", "--reason", "no PR in this test")


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


def api(github: GitHubDouble) -> httpx.Client:
    return httpx.Client(base_url=github.url, headers={"Authorization": f"Bearer {github.token}"})


def publish(github: GitHubDouble, tag: str, assets: dict[str, bytes], *, draft: bool = False, body: str = "") -> dict:
    """A release made by hand (anyone who can push can do this), carrying exactly ``assets``."""
    with api(github) as client:
        release = client.post(
            f"/repos/{github.full_name}/releases", json={"tag_name": tag, "target_commitish": SHA, "draft": True, "body": body}
        ).json()
        upload = release["upload_url"].split("{")[0]
        for name, content in assets.items():
            client.post(upload, params={"name": name}, content=content, headers={"Content-Type": "application/octet-stream"})
        if not draft:
            release = client.patch(f"/repos/{github.full_name}/releases/{release['id']}", json={"draft": False}).json()
    return release


def model_release(archive: bytes, **overrides: bytes) -> dict[str, bytes]:
    """Every asset of a release, consistent with ``archive`` unless overridden."""
    digest = hashlib.sha256(archive).hexdigest()
    record = {"version": "v9.0.0", "run_id": "r", "model_sha256": digest, "metrics": {"roc_auc": 0.9}}
    assets = {
        "model.tar.gz": archive,
        "model.tar.gz.sha256": f"{digest}  model.tar.gz\n".encode(),
        "metrics.json": b"{}",
        "report.md": b"report",
        "model_card.md": b"card",
        "release.json": json.dumps(record).encode(),
    }
    return assets | overrides


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class _Payload:
    """Unpickling this creates a file: what a pickled "model" in a release asset could do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_a_tampered_release_asset_is_refused_before_loading(project: Path, github: GitHubDouble):
    wrong = hashlib.sha256(b"the model").hexdigest()
    publish(github, "v1.0.0", model_release(b"not the model", **{"model.tar.gz.sha256": f"{wrong}  model.tar.gz\n".encode()}))
    result = mlops(project, "champion", env=github_env(github), check=False)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: release v1.0.0: model.tar.gz has sha256")
    assert "refusing to load it" in result.stderr
    assert not (project / "outputs" / "champion" / "model").exists()


def test_a_pickled_model_in_a_release_is_refused_and_never_runs(project: Path, github: GitHubDouble, tmp_path: Path):
    # Given a release whose archive says "pickle" (MLmodel) and carries a payload, with a matching checksum
    ran = tmp_path / "payload-ran"
    mlmodel = b"flavors:\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n"
    publish(github, "v1.0.0", model_release(tar_gz({"MLmodel": mlmodel, "model.pkl": pickle.dumps(_Payload(ran))})))
    # When the champion is fetched, Then it is refused (exit 2, not ignored) and the payload never ran
    result = mlops(project, "champion", env=github_env(github), check=False)
    assert result.returncode == 2, result.stderr
    assert "release v1.0.0" in result.stderr and "no model.skops" in result.stderr and "never pickle" in result.stderr
    assert not ran.exists()
    assert not (project / "outputs" / "champion" / "model").exists()


def test_a_tar_bomb_is_refused_from_its_headers(project: Path, github: GitHubDouble):
    header = tarfile.TarInfo("model.skops")
    header.size = 3 * 1024**3  # declared, never sent: refused before reading it
    publish(github, "v1.0.0", model_release(gzip.compress(header.tobuf(format=tarfile.PAX_FORMAT) + b"\0" * 512)))
    result = mlops(project, "champion", env=github_env(github), check=False)
    assert result.returncode == 2
    assert "release v1.0.0: model.tar.gz unpacks to more than" in result.stderr
    assert not (project / "outputs" / "champion").exists() or not any((project / "outputs" / "champion").iterdir())


@pytest.mark.parametrize(
    ("asset", "content", "message"),
    [
        ("model.tar.gz.sha256", b"", "release v1.0.0: model.tar.gz.sha256 is not one"),
        ("model.tar.gz.sha256", b"deadbeef model.tar.gz\n", "release v1.0.0: model.tar.gz.sha256 is not one"),
        ("release.json", b"{not json", "release v1.0.0: release.json is not a valid release record"),
        ("release.json", b'{"version": "v1.0.0"}', "release v1.0.0: release.json is not a valid release record"),
    ],
    ids=["empty-checksum", "short-checksum", "release-json-not-json", "release-json-missing-fields"],
)
def test_bad_release_data_is_a_clear_input_error(project: Path, github: GitHubDouble, asset: str, content: bytes, message: str):
    publish(github, "v1.0.0", model_release(tar_gz({"model.skops": b"x"}), **{asset: content}))
    result = mlops(project, "champion", env=github_env(github), check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith(f"error: {message}"), result.stderr


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
