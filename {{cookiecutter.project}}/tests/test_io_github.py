"""The GitHub client's retry, pagination and upload rules, over an in-process HTTP transport.

The template's own tests run the whole CLI against a stateful GitHub API double; these
check the rules GitHub documents, one at a time, without a network.
"""

from __future__ import annotations

import httpx
import pytest

from {{ cookiecutter.package }}.io.github import GitHub, GitHubContext, GitHubError

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


UPLOAD_URL = "https://uploads.ghe.example/repos/acme/model/releases/9/assets{?name,label}"


def release_api(seen: list[httpx.Request]):
    """An API whose latest release uploads to another host, as github.com's does (uploads.github.com)."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/releases/latest"):
            return httpx.Response(200, json={"id": 9, "tag_name": "v1.0.0", "upload_url": UPLOAD_URL})
        return httpx.Response(201, json={"name": request.url.params.get("name")})

    return handler


def test_assets_go_to_the_upload_url_the_api_returned_with_the_token():
    seen: list[httpx.Request] = []
    github = client(release_api(seen), [])
    github.upload_asset(github.latest_release(), "model.tar.gz", b"bytes", "application/gzip")
    assert str(seen[1].url) == "https://uploads.ghe.example/repos/acme/model/releases/9/assets?name=model.tar.gz"
    assert seen[1].content == b"bytes" and seen[1].headers["content-type"] == "application/gzip"
    assert seen[1].headers["authorization"] == f"Bearer {TOKEN}"


def test_an_upload_url_the_api_did_not_return_gets_no_token():
    seen: list[httpx.Request] = []
    github = client(release_api(seen), [])
    github.upload_asset({"id": 9, "upload_url": UPLOAD_URL}, "model.tar.gz", b"bytes", "application/gzip")
    assert "authorization" not in seen[0].headers


def test_an_upload_url_in_clear_text_gets_no_token_even_from_the_api():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/releases/latest"):
            return httpx.Response(200, json={"id": 9, "tag_name": "v1.0.0", "upload_url": UPLOAD_URL.replace("https:", "http:")})
        return httpx.Response(201, json={"name": "model.tar.gz"})

    github = client(handler, [])
    github.upload_asset(github.latest_release(), "model.tar.gz", b"bytes", "application/gzip")
    assert seen[1].url.scheme == "http" and "authorization" not in seen[1].headers


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
    assert github.download_asset({"name": "x", "url": url}) == b"payload"
    github.download_asset({"name": "x", "url": "https://ghe.example/api/v3/repos/acme/model/releases/assets/1"})
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
    from {{ cookiecutter.package }}.errors import InputError

    with pytest.raises(InputError, match="expected an https URL"):
        GitHub(GitHubContext(api_url="http://ghe.example/api/v3", repository="acme/model", token=TOKEN))


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
    from {{ cookiecutter.package }}.errors import InputError

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
    from {{ cookiecutter.package }}.errors import InputError

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
    from {{ cookiecutter.package }}.errors import InputError

    with pytest.raises(InputError, match="GITHUB_TOKEN is not set"):
        GitHubContext.from_env(Environment.read({"GITHUB_REPOSITORY": "acme/model"}))
