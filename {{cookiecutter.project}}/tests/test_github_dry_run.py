"""``--dry-run``: the GitHub client records every write and sends none; reads go out only when there is a repository."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from {{ cookiecutter.package }}.config import Environment
from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io.github import DryRun, GitHub, GitHubContext

TOKEN = "ghs_" + "x" * 36
HEAD = "a" * 40
TREE = "b" * 40


def test_a_write_never_reaches_the_transport_and_is_recorded_as_a_file(tmp_path):
    sent: list[httpx.Request] = []

    def github_api(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/git/ref/heads/main"):
            return httpx.Response(200, json={"ref": "refs/heads/main", "object": {"sha": HEAD}})
        if request.url.path.endswith(f"/git/commits/{HEAD}"):
            person = {"name": "a", "email": "a@example.com", "date": "2026-01-01T00:00:00Z"}
            return httpx.Response(
                200, json={"sha": HEAD, "tree": {"sha": TREE}, "parents": [], "message": "m", "author": person, "committer": person}
            )
        return httpx.Response(404, json={"message": "Not Found"})

    recorder = DryRun(tmp_path / "retrain-pr", offline=False)
    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token=TOKEN)
    with GitHub(context, transport=httpx.MockTransport(github_api), dry_run=recorder) as github:
        head = github.branch_head("main")
        commit = github.commit_files("mlops/retrain", {"data/reference.csv": b"a,b\n1,2\n"}, "snapshot", base_sha=head)
        pull = github.create_pull(title="Retrain", head="mlops/retrain", base="main", body="evidence")

    assert {request.method for request in sent} == {"GET"}, "a write reached GitHub"
    assert [line.split(" ")[5] for line in recorder.lines] == [
        "/repos/acme/model/git/trees",
        "/repos/acme/model/git/commits",
        "/repos/acme/model/git/refs",
        "/repos/acme/model/pulls",
    ]
    files = sorted(path.name for path in recorder.folder.iterdir())
    assert files == ["001-POST-git-trees.json", "002-POST-git-commits.json", "003-POST-git-refs.json", "004-POST-pulls.json"]
    branch = json.loads((recorder.folder / "003-POST-git-refs.json").read_text())
    assert branch["method"] == "POST" and branch["json"] == {"ref": "refs/heads/mlops/retrain", "sha": commit}
    opened = json.loads((recorder.folder / "004-POST-pulls.json").read_text())["json"]
    assert (opened["title"], opened["head"], opened["base"]) == ("Retrain", "mlops/retrain", "main")
    assert isinstance(pull["number"], int)
    assert TOKEN not in "".join(path.read_text(errors="replace") for path in recorder.folder.iterdir())


def test_without_a_repository_nothing_is_sent_and_github_looks_empty(tmp_path):
    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    recorder = DryRun(tmp_path / "release", offline=True)
    context = GitHubContext(api_url="https://api.github.com", repository="dry-run/model", token="")
    with GitHub(context, transport=httpx.MockTransport(no_network), dry_run=recorder) as github:
        assert list(github.releases()) == [] and github.latest_release() is None
        assert github.pulls(head_branch="mlops/retrain", state="all") == []
        assert github.branch_head("main") is not None and github.branch_head("mlops/retrain") is None
        draft = github.create_draft_release("v1.0.0", name="v1.0.0", body="notes", sha=HEAD)
        github.upload_asset(draft, "model.tar.gz", b"model bytes", "application/gzip")
        github.upload_asset(draft, "metrics.json", b'{"f1": 0.5}', "application/json")
        listed = {asset["name"]: asset for asset in github.release_assets(draft)}

    assert listed["model.tar.gz"]["size"] == len(b"model bytes")
    assert listed["model.tar.gz"]["digest"] == "sha256:" + hashlib.sha256(b"model bytes").hexdigest()
    assert (recorder.folder / "assets/002-model.tar.gz").read_bytes() == b"model bytes"
    assert (recorder.folder / "assets/003-metrics.json").read_bytes() == b'{"f1": 0.5}'
    record = json.loads((recorder.folder / "003-POST-releases-1-assets.json").read_text())
    assert (record["query"], record["json"], record["content"]["file"]) == ({"name": "metrics.json"}, None, "assets/003-metrics.json")
    assert len(recorder.lines) == 3


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_no_write_method_gets_through_even_when_reads_do(tmp_path, method):
    sent: list[str] = []
    recorder = DryRun(tmp_path / "comment", offline=False)
    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token=TOKEN)
    transport = httpx.MockTransport(lambda request: sent.append(request.method) or httpx.Response(200, json={}))
    with GitHub(context, transport=transport, dry_run=recorder) as github:
        github.request(method, "/repos/acme/model/issues/1", json={"body": "x"}, ok=(200, 201, 204))
        github.request("GET", "/repos/acme/model")
    assert sent == ["GET"]
    assert recorder.lines[0].startswith(f"dry run, not sent: {method} /repos/acme/model/issues/1")


def test_only_a_run_without_a_repository_is_offline_and_a_repository_still_needs_its_token(tmp_path):
    laptop = Environment.read({"GITHUB_TOKEN": TOKEN})  # a gh user's token alone names no repository
    recorder = DryRun(tmp_path / "dora", offline=not laptop.github_repository)
    with GitHub.connect(laptop, recorder) as github:
        assert github.context.repository.startswith("dry-run/") and github.context.token == ""
        # Answered by the dry run, not by GitHub (where dry-run/<project> has no main branch, or is not reachable).
        assert github.latest_release() is None and github.branch_head("main") is not None
    with pytest.raises(InputError, match="GITHUB_TOKEN"):
        GitHub.connect(Environment.read({"GITHUB_REPOSITORY": "acme/model"}), DryRun(tmp_path / "dora", offline=False))
