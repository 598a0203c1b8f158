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
    answers = iter([httpx.Response(502), httpx.Response(503), httpx.Response(200, json={"tag_name": "v1.0.0"})])
    sleeps: list[float] = []
    github = client(lambda request: next(answers), sleeps)
    assert github.latest_release() == {"tag_name": "v1.0.0"}
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


def test_assets_go_to_the_upload_url_the_api_returned():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"name": request.url.params["name"]})

    release = {"upload_url": "https://uploads.ghe.example/repos/acme/model/releases/9/assets{?name,label}"}
    client(handler, []).upload_asset(release, "model.tar.gz", b"bytes", "application/gzip")
    assert str(seen[0].url) == "https://uploads.ghe.example/repos/acme/model/releases/9/assets?name=model.tar.gz"
    assert seen[0].content == b"bytes" and seen[0].headers["content-type"] == "application/gzip"


def test_missing_environment_is_a_clear_input_error():
    from {{ cookiecutter.package }}.config import Environment
    from {{ cookiecutter.package }}.errors import InputError

    with pytest.raises(InputError, match="GITHUB_TOKEN is not set"):
        GitHubContext.from_env(Environment.read({"GITHUB_REPOSITORY": "acme/model"}))
