"""`mlops champion` and `mlops release` of a baked project against the GitHub API double (no act)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import pickle
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import httpx
import pytest

from tests.act_support import job_permissions
from tests.conftest import DEFAULT, mlops, project_env, tool
from tests.github_double import GitHubDouble
from tests.services import free_port, mlflow_server

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
    return {
        **github.api_env,
        "GITHUB_TOKEN": github.token,
        "GITHUB_REPOSITORY": github.full_name,
        "GITHUB_SHA": SHA,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_ACTOR": "octocat",
        **extra,
    }


def build(project: Path, env: dict[str, str]) -> None:
    for verb in ("champion", "validate", "train", "evaluate"):
        mlops(project, verb, env=env)


def run_release(project: Path, *options: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """What release.yml runs (without its attest step): `mlops release --prepare [options]`, then, when it passed, `mlops release`."""
    prepared = mlops(project, "release", "--prepare", *options, env=env, check=check)
    if prepared.returncode != 0:
        return prepared
    return mlops(project, "release", env=env, check=check)


def test_release_survives_server_errors_and_rate_limits(project: Path, github: GitHubDouble):
    env = github_env(github)
    build(project, env)
    github.fail_next("POST", r"/releases$", status=502)
    github.fail_next("POST", r"/assets$", status=403, headers={"retry-after": "1", "x-ratelimit-remaining": "0"})
    result = run_release(project, "--allow-unreviewed", "--reason", "no PR in this test", env=env)
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
        run_release(project, "--allow-unreviewed", "--reason", "no PR in this test", env=env)
        with httpx.Client(base_url=url) as client:
            alias = client.get("/api/2.0/mlflow/registered-models/alias", params={"name": "churn-model", "alias": "champion"}).json()
    trained = json.loads((project / "outputs" / "train" / "run.json").read_text())
    assert alias["model_version"]["version"] == trained["model"]["version"]
    assert [status["state"] for status in github.deployments[0]["statuses"]] == ["in_progress", "success"]


# The release: checks first, then draft, deployment, publication.


@pytest.fixture
def released(project: Path, github: GitHubDouble) -> Path:
    """A project built against an empty repository, and released once (unreviewed, with a reason)."""
    build(project, github_env(github))
    run_release(project, *UNREVIEWED, env=github_env(github))
    return project


def bot_report(metrics: dict, head_sha: str, run_id: str = "r") -> str:
    block = json.dumps({"run_id": run_id, "head_sha": head_sha, "workflow_run": "1", "metrics": metrics})
    return f"{MARKER}\n## Model report\n<!-- mlops-metrics: {block} -->\n"


def published(github: GitHubDouble) -> list[dict]:
    return [release for release in github.releases if not release["draft"]]


def archive_of(release: dict) -> bytes:
    return next(asset["content"] for asset in release["assets"] if asset["name"] == "model.tar.gz")


def test_a_champion_is_the_newest_complete_semver_release_by_version(released: Path, github: GitHubDouble):
    # Given complete v1.2.0 and v1.0.0 made in that order (GitHub lists the newest made first: v1.0.0 before v1.2.0),
    (first,) = github.releases
    archive = archive_of(first)
    with api(github) as client:
        assert client.delete(f"/repos/{github.full_name}/releases/{first['id']}").status_code == 204
    publish(github, "v1.2.0", model_release(archive))
    publish(github, "v1.0.0", model_release(archive))
    # an incomplete release marked latest, a tag that is not semver, a draft, and an incomplete one between them
    publish(github, "nightly", model_release(b"garbage"))
    publish(github, "v1.1.0", {"model.tar.gz": archive})
    publish(github, "v1.4.0", model_release(archive), draft=True)
    publish(github, "v1.3.0", {"model.tar.gz": archive})
    with api(github) as client:
        assert client.get(f"/repos/{github.full_name}/releases/latest").json()["tag_name"] == "v1.3.0"
    # When the champion is fetched, Then it is v1.2.0: the newest complete release by version, not by date
    result = mlops(released, "champion", env=github_env(github))
    champion = json.loads((released / "outputs" / "champion" / "champion.json").read_text())
    assert champion["tag"] == "v1.2.0"
    assert "ignoring release 'nightly'" in result.stderr and "skipping release v1.3.0: it lacks" in result.stderr


@pytest.mark.parametrize(("gh_exit", "returncode"), [(None, 1), (1, 1), (0, 0)], ids=["no-gh", "gh-rejects", "gh-verifies"])
def test_an_attested_archive_must_pass_gh_attestation_verify(
    released: Path, github: GitHubDouble, tmp_path: Path, gh_exit: int | None, returncode: int
):
    (release,) = github.releases
    archive = next(asset["content"] for asset in release["assets"] if asset["name"] == "model.tar.gz")
    github.add_attestation(f"sha256:{hashlib.sha256(archive).hexdigest()}")
    tools = tmp_path / "bin"
    tools.mkdir()
    if gh_exit is not None:  # gh itself needs sigstore and github.com: a stand-in records its arguments
        (tools / "gh").write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/gh-args"\nexit {gh_exit}\n')
        (tools / "gh").chmod(0o755)
    result = mlops(released, "champion", env=github_env(github, PATH=f"{tools}:/usr/bin:/bin"), check=False)
    assert result.returncode == returncode, result.stderr
    if gh_exit is not None:  # pinned to the release workflow, on main, from the commit the release names
        arguments = (tmp_path / "gh-args").read_text().split()
        assert arguments[:2] == ["attestation", "verify"] and arguments[2].endswith("/model.tar.gz")
        assert arguments[3:] == [
            "--repo", "acme/churn-model",
            "--signer-workflow", "github.com/acme/churn-model/.github/workflows/release.yml",
            "--source-ref", "refs/heads/main",
            "--source-digest", SHA,
        ]  # fmt: skip
    if returncode == 0:
        champion = json.loads((released / "outputs" / "champion" / "champion.json").read_text())
        assert champion["provenance"] == f"attestation verified (.github/workflows/release.yml on main, commit {SHA[:12]})"
    if returncode:
        assert "refusing it" in result.stderr and not (released / "outputs" / "champion" / "model").exists()


def test_a_merge_whose_rebuilt_model_differs_from_the_reviewed_one_is_refused(project: Path, github: GitHubDouble):
    env = github_env(github)
    build(project, env)
    github.add_pull(number=12, head_ref="feature", head_sha=SHA)
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())["challenger"]["metrics"]
    github.add_comment(12, bot_report({**metrics, "roc_auc": metrics["roc_auc"] + 0.01}, SHA), login="github-actions[bot]")
    result = run_release(project, env=env, check=False)
    assert result.returncode == 1, result.stderr
    assert "differs from the one reviewed in https://github.com/acme/churn-model/pull/12: roc_auc" in result.stderr
    assert github.releases == [] and not [ref for ref in github.refs if ref.startswith("refs/tags/")]


def test_a_merge_matching_its_reviewed_comment_is_released_and_says_by_whom_and_why(project: Path, github: GitHubDouble):
    env = github_env(github)
    build(project, env)
    github.add_pull(number=12, head_ref="feature", head_sha=SHA)
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())["challenger"]["metrics"]
    github.add_comment(12, bot_report(metrics, SHA), login="github-actions[bot]")
    run_release(project, env=env)
    (release,) = github.releases
    assert "Released by: octocat; reviewed in https://github.com/acme/churn-model/pull/12" in release["body"]
    record = json.loads(next(asset["content"] for asset in release["assets"] if asset["name"] == "release.json"))
    assert record["released_by"] == "octocat" and record["reason"].endswith("/pull/12")


@pytest.mark.parametrize(
    ("author", "head_sha", "message"),
    [
        ("github-actions[bot]", "1" * 40, "it is stale"),
        ("mallory", SHA, "no reviewed metrics"),  # the same block, written by a person: not the pipeline's
    ],
    ids=["stale-comment", "comment-by-a-person"],
)
def test_reviewed_metrics_must_be_the_bots_and_for_the_pull_requests_head(
    project: Path, github: GitHubDouble, author: str, head_sha: str, message: str
):
    env = github_env(github)
    build(project, env)
    github.add_pull(number=12, head_ref="feature", head_sha=SHA)
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())["challenger"]["metrics"]
    github.add_comment(12, bot_report(metrics, head_sha), login=author)
    result = run_release(project, env=env, check=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert github.releases == []


def test_without_reviewed_metrics_the_release_fails_closed_unless_allowed_with_a_reason(project: Path, github: GitHubDouble, tmp_path):
    summary = tmp_path / "summary.md"
    env = github_env(github, GITHUB_STEP_SUMMARY=str(summary), GITHUB_ACTIONS="true")
    build(project, env)
    refused = run_release(project, env=env, check=False)
    assert refused.returncode == 1 and "no reviewed metrics" in refused.stderr
    assert "### ❌ Release failed: no reviewed metrics" in summary.read_text()
    no_reason = run_release(project, "--allow-unreviewed", env=env, check=False)
    assert no_reason.returncode == 2 and "--allow-unreviewed needs --reason" in no_reason.stderr
    assert github.releases == []
    # A dispatch reason is anyone's text with dispatch rights: it is shown, and does nothing.
    reason = "hotfix for incident 7, cc @octocat, see [the runbook](https://evil.example) ![x](https://evil.example/p.png)"
    allowed = mlops(project, "release", "--prepare", "--allow-unreviewed", "--reason", reason, env=env)
    assert "::warning::releasing" in allowed.stdout and "hotfix for incident 7" in allowed.stdout
    mlops(project, "release", env=env)
    (release,) = published(github)
    assert "Released by: octocat; released without review: hotfix for incident 7" in release["body"]
    shown = summary.read_text()
    assert "### ✅ Released v1.0.0" in shown and "released without review: hotfix for incident 7" in shown
    for text in (release["body"], shown):
        assert "@octocat" not in text and "](https://evil" not in text and "![" not in text


def test_a_release_is_refused_off_main(project: Path, github: GitHubDouble):
    env = github_env(github, GITHUB_REF="refs/heads/feature")
    build(project, env)
    result = run_release(project, *UNREVIEWED, env=env, check=False)
    assert result.returncode == 1
    assert "releases are made from refs/heads/main only; this run is on refs/heads/feature" in result.stderr
    assert github.releases == [] and github.deployments == []


@pytest.mark.parametrize("dropped", [None, "deployments"], ids=["workflow-permissions", "without-deployments-write"])
def test_release_with_the_workflows_permissions_is_all_or_nothing(project: Path, github: GitHubDouble, tmp_path: Path, dropped):
    # The token a release job gets: the permissions block parsed from the baked release.yml (minus one, to break it)
    permissions = job_permissions(project / ".github" / "workflows" / "release.yml")
    permissions.pop(dropped, None)
    summary = tmp_path / "summary.md"
    env = github_env(github, GITHUB_STEP_SUMMARY=str(summary))
    build(project, env)
    env["GITHUB_TOKEN"] = github.token_for(permissions=permissions)
    result = run_release(project, *UNREVIEWED, env=env, check=False)
    if dropped is None:
        assert result.returncode == 0, result.stderr
        assert [release["tag_name"] for release in published(github)] == ["v1.0.0"]
        assert [status["state"] for status in github.deployments[0]["statuses"]] == ["success", "in_progress"][::-1]
        return
    assert result.returncode != 0
    assert "Resource not accessible by integration" in result.stderr
    assert github.releases == [], "the draft is deleted: nothing published, nothing left over"
    assert not [ref for ref in github.refs if ref.startswith("refs/tags/")]
    with api(github) as client:
        assert client.get(f"/repos/{github.full_name}/releases/latest").status_code == 404
    assert "### ❌ Release failed" in summary.read_text()


def test_a_rerun_after_publication_changes_nothing(released: Path, github: GitHubDouble):
    before = len(github.calls)
    run_release(released, *UNREVIEWED, env=github_env(github))
    writes = [f"{call.method} {call.path}" for call in github.calls[before:] if call.method in {"POST", "PATCH", "DELETE"}]
    assert writes == []


def test_a_rerun_completes_a_published_release_that_lost_an_asset(released: Path, github: GitHubDouble):
    (release,) = github.releases
    report = next(asset for asset in release["assets"] if asset["name"] == "report.md")
    with api(github) as client:
        assert client.delete(f"/repos/{github.full_name}/releases/assets/{report['id']}").status_code == 204
    run_release(released, *UNREVIEWED, env=github_env(github))
    (completed,) = github.releases
    assert completed["id"] == release["id"] and {asset["name"] for asset in completed["assets"]} == ASSETS


@pytest.mark.parametrize(
    "left",
    ["nothing", "a-corrupt-archive", "another-archive"],
    ids=["empty-draft-completed", "corrupt-draft-replaced", "other-bytes-replaced"],
)
def test_a_rerun_completes_or_replaces_the_draft_a_killed_run_left(project: Path, tmp_path: Path, left: str):
    with GitHubDouble(owner="acme", repo="churn-model", immutable_releases=True) as github:
        env = github_env(github)
        build(project, env)
        carried = {
            "nothing": {},
            "a-corrupt-archive": {
                "model.tar.gz": tar_gz({"model.skops": b"stale"}),
                "model.tar.gz.sha256": b"0" * 64 + b"  model.tar.gz\n",
            },
            # consistent with its own checksum and record, but not the archive this run prepared (and may have attested)
            "another-archive": model_release(tar_gz({"model.skops": b"another build"})),
        }[left]
        draft = publish(github, "v1.0.0", carried, draft=True, body=f"card\n<!-- mlops-release sha={SHA} -->\n")
        run_release(project, *UNREVIEWED, env=env)
        (release,) = github.releases
        assert (release["id"] != draft["id"]) is (left != "nothing")
        prepared = (project / "outputs" / "release" / "model.tar.gz").read_bytes()
        assert archive_of(release) == prepared
        assert not release["draft"] and release["immutable"]
        assert {asset["name"] for asset in release["assets"]} == ASSETS
        assert github.refs["refs/tags/v1.0.0"] == SHA
        assert github.violations == []


def test_a_leftover_draft_that_carries_every_asset_is_published_by_a_rerun(project: Path, github: GitHubDouble):
    # Given a run killed after uploading every asset of the prepared archive, before publishing
    env = github_env(github)
    build(project, env)
    mlops(project, "release", "--prepare", *UNREVIEWED, env=env)
    prepared = (project / "outputs" / "release" / "model.tar.gz").read_bytes()
    assets = model_release(prepared, **{"release.json": model_release(prepared)["release.json"].replace(b"v9.0.0", b"v1.0.0")})
    draft = publish(github, "v1.0.0", assets, draft=True, body=f"card\n<!-- mlops-release sha={SHA} -->\n")
    before = len(github.calls)
    # When the release runs again, Then that very draft is published, nothing uploaded again
    mlops(project, "release", env=env)
    (release,) = github.releases
    assert release["id"] == draft["id"] and not release["draft"] and github.refs["refs/tags/v1.0.0"] == SHA
    assert not [call for call in github.calls[before:] if call.method in {"POST", "DELETE"} and "/releases" in call.path]
    assert [status["state"] for status in github.deployments[0]["statuses"]] == ["in_progress", "success"]


def test_a_merge_commit_other_than_the_reviewed_pr_head_is_released(project: Path, github: GitHubDouble):
    # Given PR 12 reviewed at its head H and merged as another commit M (a merge or squash commit: GITHUB_SHA)
    head = hashlib.sha1(b"the PR's head").hexdigest()
    env = github_env(github)
    build(project, env)
    github.add_pull(number=12, head_ref="feature", head_sha=head, merge_commit_sha=SHA, merged_at="2025-06-01T00:00:00Z")
    metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())["challenger"]["metrics"]
    github.add_comment(12, bot_report(metrics, head), login="github-actions[bot]")
    # When M is released, Then the review of H counts for it
    run_release(project, env=env)
    (release,) = published(github)
    assert "reviewed in https://github.com/acme/churn-model/pull/12" in release["body"]
    assert github.refs["refs/tags/v1.0.0"] == SHA


def test_a_marker_inside_a_dispatch_reason_never_matches_another_commit(project: Path, github: GitHubDouble):
    # Given commit A released without review, with a reason that carries commit M's hidden marker
    env = github_env(github)
    build(project, env)
    other = hashlib.sha1(b"commit A").hexdigest()
    run_release(project, "--allow-unreviewed", "--reason", f"hotfix <!-- mlops-release sha={SHA} -->", env={**env, "GITHUB_SHA": other})
    # When M is released, Then it gets a release of its own (A's is not taken for M's: M is not "already released")
    run_release(project, *UNREVIEWED, env=env)
    assert [release["tag_name"] for release in published(github)] == ["v1.0.0", "v1.0.1"]
    assert github.refs["refs/tags/v1.0.0"] == other and github.refs["refs/tags/v1.0.1"] == SHA


def test_prepare_writes_nothing_to_github_and_the_archive_must_not_change_before_publication(project: Path, github: GitHubDouble):
    env = github_env(github)
    build(project, env)
    before = len(github.calls)
    prepared = mlops(project, "release", "--prepare", *UNREVIEWED, env=env)
    assert prepared.stdout.startswith("publish v1.0.0; attest: yes (public repository (attestation: auto))")
    assert [call.method for call in github.calls[before:]] == ["GET"] * len(github.calls[before:])
    plan = json.loads((project / "outputs" / "release" / "plan.json").read_text())
    archive = project / "outputs" / "release" / "model.tar.gz"
    assert plan["archive_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest() and plan["publish"] and plan["attest"]
    # When the archive changes after it was prepared (and attested), Then it is not published
    archive.write_bytes(archive.read_bytes() + b"\0")
    result = mlops(project, "release", env=env, check=False)
    assert result.returncode == 1, result.stderr
    assert "it changed since it was prepared (and perhaps attested); refusing to publish it" in result.stderr
    assert github.releases == [] and github.deployments == []


def test_nothing_is_attested_for_a_commit_already_released(released: Path, github: GitHubDouble, tmp_path: Path):
    outputs = tmp_path / "github-output"
    result = mlops(released, "release", "--prepare", *UNREVIEWED, env=github_env(github, GITHUB_OUTPUT=str(outputs)))
    assert result.stdout.startswith("already released as v1.0.0; attest: no")
    assert "attest=false" in outputs.read_text().splitlines()
    assert not (released / "outputs" / "release" / "model.tar.gz").exists()


# The attestation policy (confs/release.yaml): --prepare decides from it and from what GitHub says about the repository.


@pytest.fixture
def release_policy(project: Path):
    """Sets confs/release.yaml of the shared bake for one test (before `build`: outputs record the config they came from)."""
    conf = project / "confs" / "release.yaml"
    original = conf.read_text()

    def choose(attestation: str) -> None:
        conf.write_text(f"attestation: {attestation}\nprivate_attestations: false\n")

    yield choose
    conf.write_text(original)


def prepared_attest(project: Path, github: GitHubDouble, outputs: Path) -> tuple[str, str, subprocess.CompletedProcess]:
    """`mlops release --prepare` against ``github``: the step output `attest`, the plan's reason, and the run."""
    outputs.write_text("")
    result = mlops(project, "release", "--prepare", *UNREVIEWED, env=github_env(github, GITHUB_OUTPUT=str(outputs)))
    (attest,) = [line.removeprefix("attest=") for line in outputs.read_text().splitlines() if line.startswith("attest=")]
    plan = json.loads((project / "outputs" / "release" / "plan.json").read_text())
    assert plan["attest"] is (attest == "true")
    return attest, plan["attest_reason"], result


def test_auto_attests_a_public_repository_and_skips_a_private_one_on_github_free(project: Path, release_policy, tmp_path: Path):
    release_policy("auto")
    with (
        GitHubDouble(owner="acme", repo="churn-model", visibility="public") as public,
        GitHubDouble(owner="acme", repo="churn-model", visibility="private", plan="free") as private,
    ):
        build(project, github_env(public))
        attest, reason, _ = prepared_attest(project, public, tmp_path / "public")
        assert (attest, reason) == ("true", "public repository (attestation: auto)")
        attest, reason, result = prepared_attest(project, private, tmp_path / "private")
        assert attest == "false"
        assert reason.startswith("private repository: GitHub Free, Pro and Team store attestations for public repositories only")
        assert reason in result.stderr  # logged
        assert public.violations == private.violations == []


def test_required_attests_even_a_private_repository_and_refuses_an_unattested_champion(project: Path, release_policy, tmp_path: Path):
    release_policy("required")
    with GitHubDouble(owner="acme", repo="churn-model", visibility="private", plan="free") as github:
        build(project, github_env(github))
        # The attest step is told to run; GitHub refuses it on this plan and the workflow stops before `mlops release`
        attest, reason, _ = prepared_attest(project, github, tmp_path / "out")
        assert attest == "true" and reason.startswith("private repository (attestation: required;")
        assert not [call for call in github.calls if call.method != "GET"]
        # A release without an attestation (made before the policy, or by hand) is refused as the champion
        publish(github, "v1.0.0", model_release(tar_gz({"model.skops": b"x"})))
        result = mlops(project, "champion", env=github_env(github), check=False)
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip() == (
            "error: release v1.0.0: model.tar.gz has no build provenance attestation, and confs/release.yaml requires one "
            "(attestation: required); refusing it as the champion"
        )
        assert github.violations == []


def test_off_never_attests_and_the_champion_still_verifies_attestations_it_finds(project: Path, release_policy, tmp_path: Path):
    release_policy("off")
    with GitHubDouble(owner="acme", repo="churn-model", visibility="public") as github:
        build(project, github_env(github))
        attest, reason, _ = prepared_attest(project, github, tmp_path / "out")
        assert (attest, reason) == ("false", "attestation: off in confs/release.yaml")
        assert not [call for call in github.calls if call.path == "/repos/acme/churn-model"], "the repository is not even asked"
        mlops(project, "release", env=github_env(github))
        # An attestation for the released archive exists (made elsewhere): without gh to verify it, the champion is refused
        github.add_attestation(f"sha256:{hashlib.sha256(archive_of(published(github)[0])).hexdigest()}")
        result = mlops(project, "champion", env=github_env(github, PATH="/usr/bin:/bin"), check=False)
        assert result.returncode == 1 and "but gh is not on PATH to verify them; refusing it" in result.stderr


def test_the_first_release_on_github_enterprise_server_uploads_to_its_own_host_and_attests_nothing(project: Path, tmp_path: Path):
    # Given a GitHub Enterprise Server (API under /api/v3, uploads under /api/uploads, no attestation API) and no
    # upload URL named: the client must find the upload origin itself, as it does against a real server
    with GitHubDouble(owner="acme", repo="churn-model", flavour="ghes") as ghes:
        env = github_env(ghes, GITHUB_OUTPUT=str(tmp_path / "outputs.txt"))
        assert "MLOPS_GITHUB_UPLOAD_URL" not in env and env["GITHUB_API_URL"].endswith("/api/v3")
        build(project, env)
        # When the first release is prepared and published
        run_release(project, *UNREVIEWED, env=env)
        # Then every asset went up with the token to the server's own upload path, and nothing asked to be attested
        (release,) = published(ghes)
        assert {asset["name"] for asset in release["assets"]} == ASSETS
        uploads = [call for call in ghes.calls if call.method == "POST" and "/api/uploads/" in call.path]
        assert len(uploads) == len(ASSETS) and all(call.status == 201 and call.login for call in uploads)
        assert "attest=false" in (tmp_path / "outputs.txt").read_text()
        assert ghes.violations == []


# `--release TAG`: a named release, verified as the champion is (jobs/release_model.py).


def test_predict_with_a_release_tag_scores_with_that_release_verified_as_the_champion_is(
    released: Path, github: GitHubDouble, tmp_path: Path
):
    # Given v1.0.0 released from this project, a tampered v1.1.0 (its checksum names another archive) and a draft v1.2.0
    archive = archive_of(github.releases[0])
    wrong = hashlib.sha256(b"another archive").hexdigest()
    publish(github, "v1.1.0", model_release(archive, **{"model.tar.gz.sha256": f"{wrong}  model.tar.gz\n".encode()}))
    publish(github, "v1.2.0", model_release(archive), draft=True)
    env = github_env(github)

    def predict(tag: str, output: str) -> subprocess.CompletedProcess:
        return mlops(
            released, "predict", "--input", "data/reference.csv", "--output", str(tmp_path / output), "--release", tag, env=env, check=False
        )

    # When v1.0.0 scores the data, Then its verified archive is unpacked in the champion's layout and scores like the trained model
    result = predict("v1.0.0", "release.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("scored 6000 row(s) with v1.0.0 → ")
    folder = released / "outputs" / "releases" / "v1.0.0"
    record = json.loads((folder / "champion.json").read_text())
    assert (record["source"], record["tag"], record["sha256"]) == ("release", "v1.0.0", hashlib.sha256(archive).hexdigest())
    assert (folder / "model" / "model.skops").is_file()
    mlops(
        released,
        "predict",
        "--input",
        "data/reference.csv",
        "--output",
        str(tmp_path / "trained.csv"),
        "--model-dir",
        "outputs/train/model",
    )
    assert (tmp_path / "release.csv").read_bytes() == (tmp_path / "trained.csv").read_bytes()
    # And a tampered release, a draft, a tag with no release and one that is not a version are each one line, exit 2, nothing written
    for tag, message in [
        ("v1.1.0", "error: release v1.1.0: model.tar.gz has sha256"),
        ("v1.2.0", "error: no published release is tagged v1.2.0 in acme/churn-model"),
        ("v9.9.9", "error: no published release is tagged v9.9.9 in acme/churn-model"),
        ("nightly", "error: 'nightly' is not a release tag: expected vMAJOR.MINOR.PATCH"),
    ]:
        refused = predict(tag, f"{tag}.csv")
        assert (refused.returncode, refused.stderr.count("\n")) == (2, 1), refused.stderr
        assert refused.stderr.startswith(message), refused.stderr
        assert not (tmp_path / f"{tag}.csv").exists() and not (released / "outputs" / "releases" / tag / "model").exists()
    # And `mlops serve --release` takes the same verified releases, and refuses the same tampered one
    serves_the_release(released, archive, env)


def serves_the_release(released: Path, archive: bytes, env: dict[str, str]) -> None:
    """`mlops serve --release`: v1.0.0 served once verified, the tampered v1.1.0 refused before anything listens."""
    # A tampered release is refused in one line before anything listens; two models named at once too
    for args, message in [
        (("--release", "v1.1.0"), "error: release v1.1.0: model.tar.gz has sha256"),
        (("--release", "v1.0.0", "--model-dir", "outputs/train"), "error: --release v1.0.0 and --model-dir outputs/train: two models"),
    ]:
        refused = mlops(released, "serve", *args, "--port", str(free_port()), env=env, check=False)
        assert (refused.returncode, refused.stderr.count("\n")) == (2, 1), refused.stderr
        assert refused.stderr.startswith(message), refused.stderr
    # v1.0.0 is fetched, verified and served: /metadata names it once /ready says the model is loaded
    port = free_port()
    command = [tool("uv"), "run", "--frozen", "--no-sync", "mlops", "serve", "--release", "v1.0.0", "--port", str(port)]
    server = subprocess.Popen(command, cwd=released, env=project_env() | env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        metadata = httpx.get(f"{url}/metadata", timeout=5).json()
        assert json.dumps(metadata).count('"v1.0.0"') >= 1, metadata
        assert hashlib.sha256(archive).hexdigest() in json.dumps(metadata), metadata
    finally:
        server.terminate()
        server.wait(timeout=30)
