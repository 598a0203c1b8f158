"""The GitHub client's retry, pagination and upload rules, over an in-process HTTP transport.

The template's own tests run the whole CLI against a stateful GitHub API double; these
check the rules GitHub documents, one at a time, without a network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx
import pytest

from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io.github import BranchMoved, GitHub, GitHubContext, GitHubError, PullRequestsNotAllowed

TOKEN = "ghs_" + "x" * 36


def client(handler, sleeps: list[float]) -> GitHub:
    context = GitHubContext(api_url="https://ghe.example/api/v3", repository="acme/model", token=TOKEN)
    return GitHub(context, sleep=sleeps.append, transport=httpx.MockTransport(handler))


def test_server_errors_are_retried_with_backoff_then_succeed():
    answers = iter([httpx.Response(502), httpx.Response(503), httpx.Response(200, json={"id": 1, "tag_name": "v1.0.0"})])
    sleeps: list[float] = []
    github = client(lambda request: next(answers), sleeps)
    assert github.latest_release() == {"id": 1, "tag_name": "v1.0.0"}
    assert sleeps == [1.0, 2.0]


def test_retry_after_is_honoured_on_secondary_rate_limits():
    answers = iter([httpx.Response(403, headers={"retry-after": "7"}, json={"message": "secondary rate limit"}), httpx.Response(404)])
    sleeps: list[float] = []
    assert client(lambda request: next(answers), sleeps).latest_release() is None
    assert sleeps == [7.0]


def test_a_permission_error_is_not_retried_and_never_shows_the_token():
    sleeps: list[float] = []
    github = client(lambda request: httpx.Response(403, json={"message": "Resource not accessible by integration"}), sleeps)
    with pytest.raises(GitHubError) as caught:
        github.create_tag("v1.0.0", "a" * 40)
    assert caught.value.status == 403
    assert "Resource not accessible by integration" in str(caught.value)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(github.context)
    assert sleeps == []


def test_pagination_follows_link_headers_and_requests_carry_the_token():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json=[{"id": 3}])
        next_page = "https://ghe.example/api/v3/repos/acme/model/issues/5/comments?per_page=100&page=2"
        return httpx.Response(200, json=[{"id": 1}, {"id": 2}], headers={"link": f'<{next_page}>; rel="next"'})

    assert [comment["id"] for comment in client(handler, []).comments(5)] == [1, 2, 3]
    assert seen[0].url.path == "/api/v3/repos/acme/model/issues/5/comments"
    assert all(request.headers["authorization"] == f"Bearer {TOKEN}" for request in seen)


GITHUB_COM = GitHubContext(api_url="https://api.github.com", repository="acme/model", token=TOKEN)
UPLOAD_URL = "https://uploads.github.com/repos/acme/model/releases/9/assets{?name,label}"


def draft_api(seen: list[httpx.Request], upload_url: str = UPLOAD_URL):
    """github.com as it answers the first release of a repository: a new draft whose uploads go to uploads.github.com."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/releases"):
            return httpx.Response(201, json={"id": 9, "tag_name": "v1.0.0", "draft": True, "upload_url": upload_url})
        return httpx.Response(201, json={"name": request.url.params.get("name")})

    return handler


@pytest.mark.parametrize(
    ("api_url", "uploads"),
    [
        ("https://api.github.com", "https://uploads.github.com"),
        ("https://api.octocorp.ghe.com", "https://uploads.octocorp.ghe.com"),  # Enterprise Cloud with data residency
        ("https://ghe.example/api/v3", "https://ghe.example"),  # Enterprise Server: /api/uploads on the same host
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_the_upload_origin_is_githubs_own_for_the_api(api_url: str, uploads: str):
    assert GitHubContext(api_url=api_url, repository="acme/model", token=TOKEN).upload_origin == uploads
    given = GitHubContext(api_url=api_url, repository="acme/model", token=TOKEN, upload_url="https://proxy.example/")
    assert given.upload_origin == "https://proxy.example"


def test_the_first_release_uploads_to_githubs_upload_host_with_the_token():
    """No release was ever listed: the draft just made is the first this client sees, as on a new repository."""
    seen: list[httpx.Request] = []
    github = GitHub(GITHUB_COM, transport=httpx.MockTransport(draft_api(seen)))
    draft = github.create_draft_release("v1.0.0", name="v1.0.0", body="card", sha="a" * 40)
    github.upload_asset(draft, "model.tar.gz", b"bytes", "application/gzip")
    assert str(seen[1].url) == "https://uploads.github.com/repos/acme/model/releases/9/assets?name=model.tar.gz"
    assert seen[1].content == b"bytes" and seen[1].headers["content-type"] == "application/gzip"
    assert seen[1].headers["authorization"] == f"Bearer {TOKEN}"
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}" and seen[0].url.host == "api.github.com"


@pytest.mark.parametrize(
    "upload_url",
    [
        "https://uploads.evil.example/repos/acme/model/releases/9/assets{?name,label}",  # another host
        "http://uploads.github.com/repos/acme/model/releases/9/assets{?name,label}",  # GitHub's host in clear text
        "https://uploads.github.com:8443/repos/acme/model/releases/9/assets{?name,label}",  # another port
        "https://api.github.com/repos/acme/model/releases/9/assets{?name,label}",  # not where github.com takes uploads
    ],
)
def test_an_upload_url_elsewhere_than_githubs_upload_origin_is_refused_unsent(upload_url: str):
    seen: list[httpx.Request] = []
    github = GitHub(GITHUB_COM, transport=httpx.MockTransport(draft_api(seen, upload_url)))
    draft = github.create_draft_release("v1.0.0", name="v1.0.0", body="card", sha="a" * 40)
    with pytest.raises(GitHubError, match=r"refusing to send the token there.*MLOPS_GITHUB_UPLOAD_URL"):
        github.upload_asset(draft, "model.tar.gz", b"bytes", "application/gzip")
    assert len(seen) == 1  # the draft only: nothing went to the named host


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/asset",  # another host
        "http://ghe.example/api/v3/asset",  # the API's host, but in clear text
        "https://ghe.example:8443/api/v3/asset",  # the API's host, another port
    ],
)
def test_the_token_is_sent_only_to_the_api_origin_over_https(url: str):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"payload")

    github = client(handler, [])
    assert github.download_asset({"name": "x", "url": url}, max_bytes=100) == b"payload"
    github.download_asset({"name": "x", "url": "https://ghe.example/api/v3/repos/acme/model/releases/assets/1"}, max_bytes=100)
    assert "authorization" not in seen[0].headers
    assert seen[1].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("api_url", ["http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:9000", "http://localhost:3000"])
def test_plain_http_is_allowed_only_to_a_loopback_api(api_url: str):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    context = GitHubContext(api_url=api_url, repository="acme/model", token=TOKEN)
    assert GitHub(context, transport=httpx.MockTransport(handler)).latest_release() is None
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_plain_http_api_elsewhere_is_refused():
    with pytest.raises(InputError, match="expected an https URL"):
        GitHub(GitHubContext(api_url="http://ghe.example/api/v3", repository="acme/model", token=TOKEN))
    with pytest.raises(InputError, match=r"MLOPS_GITHUB_UPLOAD_URL is .http://uploads\.example.: expected an https URL"):
        GitHub(GitHubContext(api_url="https://api.github.com", repository="acme/model", token=TOKEN, upload_url="http://uploads.example"))


def test_pagination_stops_with_an_error_when_the_next_link_never_ends():
    from {{ cookiecutter.package }}.io.github import MAX_PAGES

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params.get("page", "1"))
        next_page = f"https://ghe.example/api/v3/repos/acme/model/releases?page={page + 1}"
        return httpx.Response(200, json=[{"id": page, "tag_name": f"v{page}"}], headers={"link": f'<{next_page}>; rel="next"'})

    with pytest.raises(GitHubError, match=f"still had a next page after {MAX_PAGES} pages"):
        list(client(handler, []).releases())
    assert len(seen) == MAX_PAGES


def test_pagination_does_not_follow_a_next_link_to_another_host():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"id": 1}], headers={"link": '<https://evil.example/comments?page=2>; rel="next"'})

    with pytest.raises(GitHubError, match="the next page is on another host"):
        list(client(handler, []).comments(5))
    assert [request.url.host for request in seen] == ["ghe.example"]


def test_a_download_larger_than_the_cap_is_refused_without_reading_it_all():
    sent: list[int] = []

    def chunks():
        for index in range(1000):
            sent.append(index)
            yield b"x" * 1024

    github = client(lambda request: httpx.Response(200, content=chunks()), [])
    with pytest.raises(InputError, match="larger than 10000 bytes"):
        github.download_asset({"name": "model.tar.gz", "url": "/assets/1"}, max_bytes=10_000)
    assert len(sent) < 20  # streamed: stopped soon after the cap, not after a megabyte
    small = client(lambda request: httpx.Response(200, content=b"y" * 10_000), [])
    assert small.download_asset({"name": "model.tar.gz", "url": "/assets/1"}, max_bytes=10_000) == b"y" * 10_000


def test_a_declared_length_over_the_cap_is_refused_up_front():
    read: list[bytes] = []

    def body():
        read.append(b"z" * 2048)
        yield read[-1]

    github = client(lambda request: httpx.Response(200, headers={"content-length": "2048"}, content=body()), [])
    with pytest.raises(InputError, match="larger than 1024 bytes"):
        github.download_asset({"name": "release.json", "url": "/assets/2"}, max_bytes=1024)
    assert read == []  # refused on the header, before any byte of the body


@pytest.mark.parametrize(
    ("status", "expected"),
    [(202, "instead of deploying it \\(202 auto-merge\\)"), (409, "required status checks have not passed")],
)
def test_deployments_that_github_does_not_create_are_clear_errors(status: int, expected: str):
    github = client(lambda request: httpx.Response(status, json={"message": "Conflict: Commit status checks failed for main."}), [])
    with pytest.raises(GitHubError, match=expected) as caught:
        github.create_deployment(sha="a" * 40, environment="production", description="v1", payload={})
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("call", "permission"),
    [
        (lambda github: github.create_tag("v1.0.0", "a" * 40), "contents: write"),
        (lambda github: github.create_release("v1.0.0", name="v1.0.0", body="", sha="a" * 40), "contents: write"),
        (lambda github: github.upsert_comment(5, "<!-- m -->", "<!-- m -->"), "pull-requests: read"),
        (lambda github: github.create_deployment(sha="a" * 40, environment="production", description="", payload={}), "deployments: write"),
    ],
)
def test_a_missing_workflow_permission_is_named(call, permission: str):
    github = client(lambda request: httpx.Response(403, json={"message": "Resource not accessible by integration"}), [])
    with pytest.raises(GitHubError) as caught:
        call(github)
    assert f"the token lacks `{permission}`" in str(caught.value)
    assert "\n" not in str(caught.value) and caught.value.status == 403


def test_posting_a_comment_without_the_permission_names_pull_requests_write():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[])
        return httpx.Response(403, json={"message": "Resource not accessible by integration"})

    with pytest.raises(GitHubError, match="lacks `pull-requests: write`"):
        client(handler, []).upsert_comment(5, "<!-- m -->", "<!-- m -->")


def test_githubs_refusal_to_let_actions_open_pull_requests_is_its_own_error():
    refusal = {
        "message": "GitHub Actions is not permitted to create or approve pull requests.",
        "documentation_url": "https://docs.github.com",
    }
    sleeps: list[float] = []
    github = client(lambda request: httpx.Response(403, json=refusal), sleeps)
    with pytest.raises(PullRequestsNotAllowed) as caught:
        github.create_pull(title="t", head="mlops/retrain", base="main", body="b")
    assert caught.value.status == 403 and sleeps == []  # a setting, not a rate limit: not retried
    # Any other 403 stays a plain GitHubError
    other = client(lambda request: httpx.Response(403, json={"message": "Resource not accessible by integration"}), [])
    with pytest.raises(GitHubError) as plain:
        other.create_pull(title="t", head="mlops/retrain", base="main", body="b")
    assert not isinstance(plain.value, PullRequestsNotAllowed) and "lacks `pull-requests: write`" in str(plain.value)


def test_a_personal_access_token_without_the_permission_is_named_too():
    message = "Resource not accessible by personal access token"
    github = client(lambda request: httpx.Response(403, json={"message": message}), [])
    with pytest.raises(GitHubError, match=f"lacks `contents: write`.*403 {message}$"):
        github.create_tag("v1.0.0", "a" * 40)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(200, content=b"<html>proxy login</html>", headers={"content-type": "text/html"}), "not JSON \\(text/html\\)"),
        (httpx.Response(200, json=["not", "a", "release"]), "expected an object"),
        (httpx.Response(200, json={"tag_name": "v1"}), "without id"),
    ],
)
def test_bad_data_from_github_is_a_github_error_not_a_traceback(response: httpx.Response, expected: str):
    with pytest.raises(GitHubError, match=expected):
        client(lambda request: response, []).latest_release()


def test_a_list_endpoint_answering_an_object_is_a_github_error():
    with pytest.raises(GitHubError, match="expected a list of objects"):
        list(client(lambda request: httpx.Response(200, json={"message": "hi"}), []).comments(5))


def comment(comment_id: int, login: str, body: str) -> dict:
    return {"id": comment_id, "user": {"login": login}, "body": body, "html_url": f"https://github.com/c/{comment_id}"}


def test_the_sticky_comment_is_only_ever_the_bots_own():
    marker = "<!-- mlops-report:model -->"
    listed = [comment(1, "mallory", f"{marker}\nlooks like ours"), comment(2, "github-actions[bot]", f"see {marker}")]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=listed)
        return httpx.Response(201, json=comment(3, "github-actions[bot]", "new"))

    _, created = client(handler, []).upsert_comment(5, marker, f"{marker}\nreport")
    # Neither a person's comment with the marker, nor a bot comment that merely mentions it, is taken over.
    assert created is True
    assert [(request.method, request.url.path) for request in seen][-1] == ("POST", "/api/v3/repos/acme/model/issues/5/comments")


def test_the_newest_of_the_bots_marked_comments_is_updated():
    marker = "<!-- mlops-report:model -->"
    listed = [comment(1, "github-actions[bot]", f"{marker}\nold"), comment(2, "github-actions[bot]", f"{marker}\nnewer")]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=listed)
        return httpx.Response(200, json=comment(2, "github-actions[bot]", "updated"))

    _, created = client(handler, []).upsert_comment(5, marker, f"{marker}\nreport")
    assert created is False
    assert (seen[-1].method, seen[-1].url.path) == ("PATCH", "/api/v3/repos/acme/model/issues/comments/2")


def test_missing_environment_is_a_clear_input_error():
    from {{ cookiecutter.package }}.config import Environment

    with pytest.raises(InputError, match="GITHUB_TOKEN is not set"):
        GitHubContext.from_env(Environment.read({"GITHUB_REPOSITORY": "acme/model"}))


# Branches through the Git Data API


def sha_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


BASE = sha_of("base commit")
BASE_TREE = sha_of("base tree")
API = "/api/v3/repos/acme/model"


class FakeGitHub:
    """The Git Data endpoints commit_files uses, over one in-memory branch; records every request."""

    def __init__(self, branches: dict[str, str], *, new_tree: str | None = None) -> None:
        self.branches = dict(branches)
        self.trees = {BASE: BASE_TREE}  # commit → tree
        self.new_tree = new_tree  # the tree sha POST git/trees answers (default: a fresh one)
        self.requests: list[httpx.Request] = []
        self.fail: dict[tuple[str, str], httpx.Response] = {}

    def calls(self) -> list[tuple[str, str]]:
        return [(request.method, request.url.path.removeprefix(API)) for request in self.requests]

    def body(self, method: str, path: str) -> dict:
        return next(json.loads(request.content) for request in self.requests if (request.method, request.url.path) == (method, API + path))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        method, path = request.method, request.url.path.removeprefix(API)
        if (method, path) in self.fail:
            return self.fail[(method, path)]
        if method == "GET" and path.startswith("/git/ref/heads/"):
            branch = path.removeprefix("/git/ref/heads/")
            if branch not in self.branches:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"ref": f"refs/heads/{branch}", "object": {"type": "commit", "sha": self.branches[branch]}})
        if method == "GET" and path.startswith("/git/commits/"):
            sha = path.rpartition("/")[2]
            return httpx.Response(200, json=git_commit(sha, self.trees[sha], []))
        body = json.loads(request.content) if request.content else None
        if (method, path) == ("POST", "/git/trees"):
            return httpx.Response(201, json={"sha": self.new_tree or sha_of(json.dumps(body)), "tree": [], "truncated": False})
        if (method, path) == ("POST", "/git/blobs"):
            content = base64.b64decode(body["content"])
            return httpx.Response(201, json={"sha": hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()})
        if (method, path) == ("POST", "/git/commits"):
            sha = sha_of(json.dumps(body))
            self.trees[sha] = body["tree"]
            return httpx.Response(201, json=git_commit(sha, body["tree"], body["parents"]))
        if (method, path) == ("POST", "/git/refs"):
            self.branches[body["ref"].removeprefix("refs/heads/")] = body["sha"]
            return httpx.Response(201, json={"ref": body["ref"], "object": {"sha": body["sha"]}})
        if method == "PATCH" and path.startswith("/git/refs/heads/"):
            self.branches[path.removeprefix("/git/refs/heads/")] = body["sha"]
            return httpx.Response(200, json={"ref": path, "object": {"sha": body["sha"]}})
        return httpx.Response(404, json={"message": "Not Found"})


def git_commit(sha: str, tree: str, parents: list[str]) -> dict:
    email = "41898282+github-actions[bot]@users.noreply.github.com"
    person = {"name": "github-actions[bot]", "email": email, "date": "2024-05-01T10:00:00Z"}
    return {
        "sha": sha,
        "tree": {"sha": tree},
        "parents": [{"sha": parent} for parent in parents],
        "author": person,
        "committer": person,
        "message": "m",
    }


def test_commit_files_starts_a_missing_branch_from_the_base_commit():
    fake = FakeGitHub({"main": BASE})
    head = client(fake, []).commit_files("mlops-reports", {"drift/history.json": b'{"runs": []}\n'}, "Drift history", base_sha=BASE)
    assert fake.calls() == [
        ("GET", "/git/ref/heads/mlops-reports"),
        ("GET", f"/git/commits/{BASE}"),
        ("POST", "/git/trees"),
        ("POST", "/git/commits"),
        ("POST", "/git/refs"),
    ]
    tree = fake.body("POST", "/git/trees")
    assert tree["base_tree"] == BASE_TREE  # files not listed keep their content
    assert tree["tree"] == [{"path": "drift/history.json", "mode": "100644", "type": "blob", "content": '{"runs": []}\n'}]
    assert fake.body("POST", "/git/commits")["parents"] == [BASE]
    assert fake.body("POST", "/git/refs") == {"ref": "refs/heads/mlops-reports", "sha": head}
    assert fake.branches["mlops-reports"] == head != BASE


def test_commit_files_fast_forwards_an_existing_branch_and_sends_binary_as_a_blob():
    fake = FakeGitHub({"mlops/retrain": BASE})
    snapshot = bytes(range(256))
    head = client(fake, []).commit_files("mlops/retrain", {"data/snapshot.parquet": snapshot}, "Snapshot", base_sha=BASE)
    assert ("POST", "/git/blobs") in fake.calls()
    assert base64.b64decode(fake.body("POST", "/git/blobs")["content"]) == snapshot
    [entry] = fake.body("POST", "/git/trees")["tree"]
    assert entry["sha"] == hashlib.sha1(b"blob 256\0" + snapshot).hexdigest() and "content" not in entry
    assert fake.calls()[-1] == ("PATCH", "/git/refs/heads/mlops/retrain")
    assert fake.body("PATCH", "/git/refs/heads/mlops/retrain") == {"sha": head, "force": False}


def test_commit_files_refuses_a_branch_that_moved_since_it_was_read():
    pushed = sha_of("a person's commit")
    fake = FakeGitHub({"mlops/retrain": pushed})
    with pytest.raises(BranchMoved, match=f"is at {pushed[:12]}, not at {BASE[:12]}"):
        client(fake, []).commit_files("mlops/retrain", {"a.csv": b"1"}, "Snapshot", base_sha=BASE)
    assert fake.calls() == [("GET", "/git/ref/heads/mlops/retrain")]  # nothing written
    with pytest.raises(BranchMoved, match="not at nothing"):
        client(fake, []).commit_files("mlops/retrain", {"a.csv": b"1"}, "Snapshot", base_sha=None)


def test_a_push_between_reading_and_moving_the_branch_is_caught_by_github():
    fake = FakeGitHub({"mlops/retrain": BASE})
    refusal = {"message": "Update is not a fast forward", "documentation_url": "https://docs.github.com/rest/git/refs#update-a-reference"}
    fake.fail[("PATCH", "/git/refs/heads/mlops/retrain")] = httpx.Response(422, json=refusal)
    with pytest.raises(BranchMoved, match="someone pushed to it") as caught:
        client(fake, []).commit_files("mlops/retrain", {"a.csv": b"1"}, "Snapshot", base_sha=BASE)
    assert caught.value.status == 422
    other = FakeGitHub({"main": BASE})
    other.fail[("POST", "/git/refs")] = httpx.Response(422, json={"message": "Reference already exists"})
    with pytest.raises(BranchMoved, match="created by someone else"):
        client(other, []).commit_files("mlops/retrain", {"a.csv": b"1"}, "Snapshot", base_sha=BASE)


def test_commit_files_makes_no_commit_when_nothing_changes():
    fake = FakeGitHub({"mlops-reports": BASE}, new_tree=BASE_TREE)
    assert client(fake, []).commit_files("mlops-reports", {"same.json": b"{}"}, "Nothing new", base_sha=BASE) == BASE
    assert ("POST", "/git/commits") not in fake.calls() and ("PATCH", "/git/refs/heads/mlops-reports") not in fake.calls()


def test_a_blob_github_names_otherwise_than_git_is_refused():
    fake = FakeGitHub({"main": BASE})
    fake.fail[("POST", "/git/blobs")] = httpx.Response(201, json={"sha": "0" * 40})
    with pytest.raises(GitHubError, match="not as git names it"):
        client(fake, []).commit_files("mlops/retrain", {"model.bin": b"\xff\xfe"}, "Snapshot", base_sha=BASE)


@pytest.mark.parametrize(
    "call",
    [
        lambda github: github.commit_files("../../pulls", {"a": b"1"}, "m", base_sha=BASE),
        lambda github: github.commit_files("ok", {"../escape": b"1"}, "m", base_sha=BASE),
        lambda github: github.commit_files("ok", {".git/config": b"1"}, "m", base_sha=BASE),
        lambda github: github.commit_files("ok", {"a": b"1"}, "m", base_sha="main"),
        lambda github: github.branch_head("feature..x"),
        lambda github: github.branch_head("name with space"),
        lambda github: github.read_file("/etc/passwd", "main"),
        lambda github: github.read_file("data/a.csv", "main\nInjected: header"),
        lambda github: github.dispatch_workflow("../pr.yml", ref="main"),
        lambda github: github.dispatch_workflow("pr.yml", ref="main", inputs={"n": 7}),
        lambda github: github.pulls(state="merged"),
        lambda github: github.ensure_label("retraining", color="blue", description=""),
    ],
)
def test_unsafe_or_invalid_names_are_refused_before_any_request(call):
    seen: list[httpx.Request] = []
    with pytest.raises(InputError):
        call(client(lambda request: seen.append(request) or httpx.Response(404), []))
    assert seen == []


# Reading files back


def contents(content: bytes, *, inline: bool = True) -> dict:
    encoded = base64.b64encode(content).decode()
    return {
        "type": "file",
        "size": len(content),
        "sha": hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest(),
        # GitHub wraps base64 at 60 characters; over 1 MB it sends no content at all.
        "content": "".join(encoded[start : start + 60] + "\n" for start in range(0, len(encoded), 60)) if inline else "",
        "encoding": "base64" if inline else "none",
    }


def test_read_file_decodes_githubs_base64_and_checks_it_against_the_sha():
    history = b'{"runs": [1, 2, 3]}\n' * 10
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=contents(history))

    assert client(handler, []).read_file("drift/history.json", "mlops-reports") == history
    assert seen[0].url.path == f"{API}/contents/drift/history.json"
    assert seen[0].url.params["ref"] == "mlops-reports"
    tampered = {**contents(history), "content": base64.b64encode(b"something else").decode()}
    with pytest.raises(GitHubError, match="does not match its size and sha"):
        client(lambda request: httpx.Response(200, json=tampered), []).read_file("drift/history.json", "mlops-reports")


def test_read_file_is_none_for_a_missing_file_or_branch():
    assert client(lambda request: httpx.Response(404, json={"message": "Not Found"}), []).read_file("a.json", "mlops-reports") is None


def test_files_over_a_megabyte_are_read_through_the_blob_api_within_the_cap():
    large = b"x" * (1024 * 1024 + 5)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if "/git/blobs/" in request.url.path:
            return httpx.Response(200, json={"content": base64.b64encode(large).decode(), "encoding": "base64"})
        return httpx.Response(200, json=contents(large, inline=False))

    assert client(handler, []).read_file("data/big.csv", "main") == large
    assert seen[1] == f"{API}/git/blobs/{contents(large)['sha']}"
    seen.clear()
    with pytest.raises(InputError, match="more than the 1024 accepted"):
        client(handler, []).read_file("data/big.csv", "main", max_bytes=1024)
    assert len(seen) == 1  # refused on the declared size: the blob was never fetched


# Pull requests, labels, dispatch


def pull(number: int, branch: str, repository: str = "acme/model") -> dict:
    return {
        "number": number,
        "state": "open",
        "html_url": f"https://github.com/acme/model/pull/{number}",
        "head": {"ref": branch, "repo": {"full_name": repository}},
        "base": {"ref": "main"},
    }


def test_pulls_filter_on_owner_and_branch_and_keep_only_this_repositorys():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[pull(3, "mlops/retrain"), pull(4, "mlops/retrain", "mallory/model"), pull(5, "other")])

    found = client(handler, []).pulls(head_branch="mlops/retrain", state="all")
    assert [item["number"] for item in found] == [3]
    assert (seen[0].url.params["head"], seen[0].url.params["state"]) == ("acme:mlops/retrain", "all")


def test_githubs_reasons_for_a_422_are_part_of_the_error():
    refusal = {
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for acme:mlops/retrain."}],
    }
    github = client(lambda request: httpx.Response(422, json=refusal), [])
    with pytest.raises(GitHubError, match=re.escape("422 Validation Failed: A pull request already exists for acme:mlops/retrain.") + "$"):
        github.create_pull(title="Retrain", head="mlops/retrain", base="main", body="why")


def test_ensure_label_creates_it_once_and_copes_with_a_race():
    seen: list[tuple[str, str]] = []
    label = {"id": 1, "name": "retraining", "color": "1d76db"}
    answers = iter([httpx.Response(404), httpx.Response(422, json={"message": "Validation Failed"}), httpx.Response(200, json=label)])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.raw_path.decode()))
        return next(answers)

    assert client(handler, []).ensure_label("retraining", color="1d76db", description="Opened by monitoring") == label
    assert [method for method, _ in seen] == ["GET", "POST", "GET"]  # someone created it between our GET and POST
    quoted: list[str] = []
    client(lambda request: quoted.append(request.url.raw_path.decode()) or httpx.Response(200, json=label), []).ensure_label(
        "area/ui", color="ededed", description=""
    )
    assert quoted == [f"{API}/labels/area%2Fui"]  # a slash in a label name stays inside the one path segment


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(204), None),
        (httpx.Response(200, content=b""), None),
        (
            httpx.Response(
                200,
                json={"workflow_run_id": 42, "run_url": "https://x/runs/42", "html_url": "https://github.com/acme/model/actions/runs/42"},
            ),
            {"workflow_run_id": 42, "run_url": "https://x/runs/42", "html_url": "https://github.com/acme/model/actions/runs/42"},
        ),
    ],
)
def test_dispatch_takes_githubs_204_and_its_200_with_the_run(response: httpx.Response, expected):
    seen: list[httpx.Request] = []
    github = client(lambda request: seen.append(request) or response, [])
    assert github.dispatch_workflow("pr.yml", ref="mlops/retrain", inputs={"pr_number": "7"}, return_run_details=True) == expected
    assert seen[0].url.path == f"{API}/actions/workflows/pr.yml/dispatches"
    assert json.loads(seen[0].content) == {"ref": "mlops/retrain", "inputs": {"pr_number": "7"}, "return_run_details": True}


@pytest.mark.parametrize(
    ("call", "response", "expected"),
    [
        (lambda github: github.branch_head("main"), httpx.Response(200, json={"ref": "refs/heads/main", "object": {}}), "no object sha"),
        (lambda github: github.branch_head("main"), httpx.Response(200, json={"object": {"sha": "HEAD"}}), "not a 40-character hex sha"),
        (lambda github: github.git_commit(BASE), httpx.Response(200, json={"sha": BASE}), "without tree"),
        (lambda github: github.git_commit(BASE), httpx.Response(200, json=git_commit(sha_of("other"), BASE_TREE, [])), "when asked for"),
        (lambda github: github.create_tree([("a", b"1")], base_tree=None), httpx.Response(201, json=[]), "expected an object"),
        (lambda github: github.read_file("a.json", "main"), httpx.Response(200, json=[{"name": "a.json"}]), "is a directory"),
        (lambda github: github.read_file("a", "main"), httpx.Response(200, json={**contents(b"1"), "type": "symlink"}), "expected a file"),
        (lambda github: github.pulls(head_branch="x"), httpx.Response(200, json={"message": "hi"}), "expected a list of objects"),
        (lambda github: github.add_labels(5, ["retraining"]), httpx.Response(200, json={"name": "x"}), "expected a list of labels"),
        (lambda github: github.dispatch_workflow("pr.yml", ref="main"), httpx.Response(200, content=b"<html>"), "not JSON"),
        (
            lambda github: github.commits_between("main", "x"),
            httpx.Response(200, json={"commits": [{"sha": BASE}], "total_commits": 300}),
            "more than GitHub lists",
        ),
    ],
)
def test_malformed_replies_are_one_line_github_errors(call, response: httpx.Response, expected: str):
    with pytest.raises(GitHubError, match=expected) as caught:
        call(client(lambda request: response, []))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("call", "permission"),
    [
        (lambda github: github.branch_head("mlops/retrain"), "contents: read"),
        (lambda github: github.move_branch("mlops/retrain", BASE), "contents: write"),
        (lambda github: github.create_blob(b"x"), "contents: write"),
        (lambda github: github.read_file("a.json", "main"), "contents: read"),
        (lambda github: github.branch_commits("mlops/retrain"), "contents: read"),
        (lambda github: github.create_pull(title="t", head="mlops/retrain", base="main", body=""), "pull-requests: write"),
        (lambda github: github.update_pull(3, state="closed"), "pull-requests: write"),
        (lambda github: github.ensure_label("retraining", color="ededed", description=""), "issues: read"),
        (lambda github: github.add_labels(3, ["retraining"]), "issues: write"),
        (lambda github: github.dispatch_workflow("pr.yml", ref="main"), "actions: write"),
    ],
)
def test_the_permission_a_new_call_lacks_is_named(call, permission: str):
    github = client(lambda request: httpx.Response(403, json={"message": "Resource not accessible by integration"}), [])
    with pytest.raises(GitHubError, match=f"the token lacks `{permission}`"):
        call(github)


def paged(items: list[dict], path: str):
    """A list endpoint serving ``items`` two to a page with GitHub's Link header; records each request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "PATCH":
            return httpx.Response(
                200, json={"number": int(request.url.path.rsplit("/", 1)[1]), "html_url": "u", **json.loads(request.content)}
            )
        if request.method == "POST":
            return httpx.Response(201, json={"number": 99, "html_url": "u", **json.loads(request.content)})
        page = int(request.url.params.get("page", "1"))
        links = {}
        if page * 2 < len(items):
            query = "&".join(f"{key}={value}" for key, value in {**dict(request.url.params), "page": page + 1}.items())
            links = {"link": f'<https://ghe.example/api/v3/repos/acme/model/{path}?{query}>; rel="next"'}
        return httpx.Response(200, json=items[(page - 1) * 2 : page * 2], headers=links)

    return handler, seen


def test_issues_leave_pull_requests_out_and_follow_every_page_with_the_filters():
    items = [
        {"number": n, "title": f"t{n}", "state": "open", "created_at": "2026-01-01T00:00:00Z", **({"pull_request": {}} if n % 2 else {})}
        for n in range(1, 6)
    ]
    handler, seen = paged(items, "issues")
    found = client(handler, []).issues(labels=["incident"], state="all", since="2026-01-01T00:00:00Z")
    assert [issue["number"] for issue in found] == [2, 4]  # 1, 3 and 5 are pull requests, over three pages
    assert len(seen) == 3
    assert all(request.url.params["labels"] == "incident" and request.url.params["state"] == "all" for request in seen)


def test_upsert_issue_updates_the_bots_oldest_marked_issue_and_never_a_persons():
    def issue(number: int, login: str, body: str) -> dict:
        opened = "2026-01-01T00:00:00Z"
        return {"number": number, "title": "t", "state": "closed", "created_at": opened, "user": {"login": login}, "body": body}

    marker = "<!-- tracking -->"
    handler, seen = paged(
        [issue(9, "someone", marker), issue(7, "github-actions[bot]", marker), issue(5, "github-actions[bot]", marker)], "issues"
    )
    updated, created = client(handler, []).upsert_issue(marker, title="T", body=f"{marker}\nnew", label="dora")
    assert (updated["number"], updated["state"], created) == (5, "open", False)  # reopened
    assert [request.method for request in seen] == ["GET", "GET", "PATCH"]
    handler, seen = paged([issue(9, "someone", marker), issue(8, "github-actions[bot]", "no marker")], "issues")
    made, created = client(handler, []).upsert_issue(marker, title="T", body=f"{marker}\nnew", label="dora")
    assert created and made["labels"] == ["dora"] and seen[-1].method == "POST"


def test_deployments_and_pull_request_commits_follow_every_page():
    deployments = [{"id": n, "sha": "a" * 40, "created_at": "2026-01-01T00:00:00Z"} for n in range(5)]
    handler, seen = paged(deployments, "deployments")
    assert [d["id"] for d in client(handler, []).deployments(environment="production")] == list(range(5))
    assert all(request.url.params["environment"] == "production" for request in seen) and "sha" not in seen[0].url.params
    commits = [{"sha": f"{n:040x}", "commit": {}} for n in range(3)]
    handler, seen = paged(commits, "pulls/4/commits")
    assert len(client(handler, []).pull_commits(4)) == 3 and seen[0].url.path.endswith("/pulls/4/commits") and len(seen) == 2


@pytest.mark.parametrize(
    ("api_url", "answer", "headers", "facts"),
    [
        ("https://api.github.com", {"private": False, "visibility": "public"}, {}, ("public", False)),
        ("https://api.github.com", {"private": True, "visibility": "internal"}, {}, ("internal", False)),
        ("https://api.acme.ghe.com", {"private": True}, {}, ("private", False)),  # no visibility: `private` decides
        ("https://ghe.example/api/v3", {"private": False, "visibility": "public"}, {}, ("public", True)),
        ("https://proxy.example", {"private": True}, {"X-GitHub-Enterprise-Version": "3.17.0"}, ("private", True)),
    ],
    ids=["github.com", "internal", "ghe.com", "ghes-path", "ghes-header"],
)
def test_repository_facts_come_from_github(api_url: str, answer: dict, headers: dict, facts: tuple[str, bool]):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/repos/acme/model")
        return httpx.Response(200, json=answer, headers=headers)

    context = GitHubContext(api_url=api_url, repository="acme/model", token=TOKEN)
    found = GitHub(context, transport=httpx.MockTransport(handler)).repository_facts()
    assert (found.visibility, found.enterprise_server) == facts


def test_a_repository_answer_without_a_known_visibility_is_a_github_error():
    github = client(lambda request: httpx.Response(200, json={"private": None, "visibility": "secret"}), [])
    with pytest.raises(GitHubError, match="answered visibility 'secret': expected public, private or internal"):
        github.repository_facts()


def test_a_collaborators_permission_is_asked_only_for_a_login_and_a_stranger_is_none():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/collaborators/eve/permission"):
            return httpx.Response(404, json={"message": "Not Found"})
        if request.url.path.endswith("/collaborators/broken/permission"):
            return httpx.Response(200, json=["not", "an", "object"])
        return httpx.Response(200, json={"permission": "write", "role_name": "write", "user": {"login": "x"}})

    github = client(handler, [])
    assert github.collaborator_permission("octo-cat")["permission"] == "write"
    assert github.collaborator_permission("dependabot[bot]")["permission"] == "write"
    assert github.collaborator_permission("eve") is None
    for login in ("../../admin", "a/b", "x" * 40, "-lead", "", "a b"):
        assert github.collaborator_permission(login) is None
    assert [request.url.path.rsplit("/", 2)[1] for request in seen] == ["octo-cat", "dependabot[bot]", "eve"]
    with pytest.raises(GitHubError, match="collaborator permission that is list"):
        github.collaborator_permission("broken")


def test_an_issues_events_follow_every_page():
    events = [{"event": "labeled", "label": {"name": "incident"}, "actor": {"login": f"u{n}"}} for n in range(5)]
    handler, seen = paged(events, "issues/7/events")
    assert [event["actor"]["login"] for event in client(handler, []).issue_events(7)] == [f"u{n}" for n in range(5)]
    assert len(seen) == 3 and seen[0].url.path.endswith("/issues/7/events")
