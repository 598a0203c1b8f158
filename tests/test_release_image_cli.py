"""The serving image's leg of `mlops release` and `mlops rollback`, against the GitHub double and Debian's `docker-registry` on
loopback (the stand-in for GHCR), without act or a Docker daemon.

The registry part is real: images are stored through the registry's HTTP API (a config blob and a manifest, no layers:
the tag `production` only ever copies manifests), and the project moves `production` through the same API. What
`mlops push-image` would record after a `docker push` (outputs/release/image.json) is written here as it writes it;
building, smoke-testing and pushing a real image is the act story's (tests/test_workflows_e2e.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEFAULT, in_project, mlops, running_in_ci
from tests.github_double import GitHubDouble
from tests.services import docker_registry
from tests.test_release_cli import SHA, UNREVIEWED, build, github_env, published
from tests.test_rollback_cli import FIRST, rollback_env

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# What `docker push` writes (Docker's schema 2) and what this test writes (OCI): a registry answers a HEAD for a tag
# only in a type the client accepts.
ACCEPT = ", ".join((MANIFEST, "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.index.v1+json"))


@pytest.fixture
def registry(tmp_path: Path):
    if shutil.which("docker-registry") is None:
        message = "Debian's docker-registry is not installed: `bash .ci/docker up` (as root) installs it, as .ci/run does"
        if running_in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with docker_registry(tmp_path) as host:
        yield host


def store_image(registry: str, repository: str, tag: str, label: str) -> str:
    """An image (a config blob and a manifest naming it) stored under ``tag``; returns the manifest's digest."""
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {"Labels": {"test": label}}, "rootfs": {"type": "layers", "diff_ids": []}}
    )
    blob = f"sha256:{hashlib.sha256(config.encode()).hexdigest()}"
    with httpx.Client(base_url=f"http://{registry}/v2", timeout=10) as client:
        upload = client.post(f"/{repository}/blobs/uploads/")
        assert upload.status_code == 202, upload.text
        location = httpx.URL(f"http://{registry}").join(upload.headers["Location"])
        done = client.put(location.copy_merge_params({"digest": blob}), content=config.encode())
        assert done.status_code == 201, (done.status_code, done.text, location)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob, "size": len(config.encode())},
            "layers": [],
        }
        stored = client.put(f"/{repository}/manifests/{tag}", content=json.dumps(manifest).encode(), headers={"Content-Type": MANIFEST})
        assert stored.status_code == 201, stored.text
        return stored.headers["Docker-Content-Digest"]


def tagged(registry: str, repository: str, tag: str) -> str | None:
    with httpx.Client(base_url=f"http://{registry}/v2", timeout=10) as client:
        answer = client.head(f"/{repository}/manifests/{tag}", headers={"Accept": ACCEPT})
        return answer.headers["Docker-Content-Digest"] if answer.status_code == 200 else None


# Run in the baked project's environment: the registry adapter alone, on images stored above.
MOVE = """
import json, sys
from {package}.config import Environment
from {package}.errors import InputError
from {package}.jobs import production_image
registry, first, second = sys.argv[1:]
env = Environment(github_repository="acme/Churn-Model", image_registry=registry)
name = production_image.image_name(env, "v1.0.0").rsplit(":", 1)[0]
seen = {{"name": production_image.image_name(env, "v1.0.0")}}
restore = production_image.move_production(env, f"{{name}}@{{first}}", where="test")
seen["again"] = production_image.move_production(env, f"{{name}}@{{first}}", where="test") is None
restore_second = production_image.move_production(env, f"{{name}}@{{second}}", where="test")
restore_second()
refused = []
for other in (f"{{registry}}/acme/other@{{first}}", f"{{name}}:v1.0.0", f"evil.example/acme/churn-model@{{first}}"):
    try:
        production_image.move_production(env, other, where="test")
    except InputError as error:
        refused.append(str(error).split(": ")[0])
seen["refused"] = refused
print(json.dumps(seen))
"""


def test_the_production_tag_moves_by_digest_once_is_put_back_and_only_on_this_repositorys_image(synced_project, registry: str):
    project = synced_project(DEFAULT)
    repository = "acme/churn-model"
    first = store_image(registry, repository, "v1.0.0", "first")
    second = store_image(registry, repository, "v1.0.1", "second")
    python = str(project / ".venv/bin/python")
    seen = json.loads(
        in_project(project, python, "-c", MOVE.format(package=project.name.replace("-", "_")), registry, first, second).stdout
    )
    # The image is named in lower case (registries refuse upper case), on the configured registry
    assert seen["name"] == f"{registry}/acme/churn-model:v1.0.0"
    # Moved to the first digest; a second move to it changes nothing; a move to the second, undone, leaves it on the first
    assert seen["again"] is True
    assert tagged(registry, repository, "production") == first
    # Another repository's image, an image named by tag only, another registry: refused, none tagged
    assert seen["refused"] == ["test"] * 3
    assert tagged(registry, "acme/other", "production") is None


@pytest.mark.slow  # trains, evaluates and releases twice
def test_releases_name_their_image_tag_it_production_and_a_rollback_moves_production_back_once(
    synced_project, github: GitHubDouble, registry: str, tmp_path: Path
):
    project = synced_project(DEFAULT)
    shutil.rmtree(project / "outputs", ignore_errors=True)
    now = datetime.now(UTC)
    github.add_commit(FIRST, now - timedelta(hours=3), "First model (#1)", branch="main")
    github.add_commit(SHA, now - timedelta(hours=2), "Second model (#2)", branch="main")
    env = {**github_env(github), "IMAGE_REGISTRY": registry, "GITHUB_ACTOR": "octocat"}
    repository = "acme/churn-model"
    build(project, env)
    digests = {}
    for version, sha in (("v1.0.0", FIRST), ("v1.0.1", SHA)):
        mlops(project, "release", "--prepare", *UNREVIEWED, env={**env, "GITHUB_SHA": sha})
        plan = json.loads((project / "outputs/release/plan.json").read_text())
        # The plan names the image to build, from the prepared archive unpacked as a model folder
        assert plan["image"] == f"{registry}/{repository}:{version}"
        serving = json.loads((project / "outputs/release/serving/champion.json").read_text())
        assert (serving["tag"], serving["sha256"]) == (version, plan["archive_sha256"])
        assert (project / "outputs/release/serving/model/MLmodel").is_file()
        # What `mlops push-image` records after pushing it
        digests[version] = store_image(registry, repository, version, version)
        pushed = {"name": f"{registry}/{repository}", "tag": version, "digest": digests[version], "inputs": plan["inputs"]}
        (project / "outputs/release/image.json").write_text(json.dumps(pushed))
        mlops(project, "release", env={**env, "GITHUB_SHA": sha})
        reference = f"{registry}/{repository}@{digests[version]}"
        release = published(github)[-1]
        assert release["tag_name"] == version and f"docker pull {reference}" in release["body"]
        record = json.loads(next(asset["content"] for asset in release["assets"] if asset["name"] == "release.json"))
        assert record["image"] == reference
        assert github.deployments[-1]["payload"]["image"] == reference
        assert json.loads((project / "outputs/release/release.json").read_text())["image"] == reference
        assert tagged(registry, repository, "production") == digests[version]

    # Rolled back to v1.0.0: production names its digest again, and the rollback's Deployment names the image
    rollback = rollback_env(github, project, tmp_path) | {"IMAGE_REGISTRY": registry}
    mlops(project, "rollback", "--tag", "v1.0.0", env=rollback)
    assert tagged(registry, repository, "production") == digests["v1.0.0"]
    deployment = github.deployments[-1]
    assert deployment["payload"]["rollback"] is True and deployment["payload"]["image"] == f"{registry}/{repository}@{digests['v1.0.0']}"
    assert json.loads((project / "outputs/rollback/rollback.json").read_text())["image"].endswith(digests["v1.0.0"])
    # The same tag again: nothing changes, on GitHub or in the registry
    count = len(github.deployments)
    again = mlops(project, "rollback", "--tag", "v1.0.0", env=rollback)
    assert again.stdout.strip() == "v1.0.0 is the champion already: nothing changed"
    assert len(github.deployments) == count and tagged(registry, repository, "production") == digests["v1.0.0"]
