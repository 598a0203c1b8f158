"""The GitHub REST API double answers like GitHub: real HTTP on loopback, every call held to GitHub's OpenAPI description.

Each test ends with ``gh.violations == []`` (the ``gh`` fixture asserts it); tests that provoke a violation
on purpose take it out with :func:`take_violations` and assert on it, which also proves the checker can fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.github_double import GitHubDouble, check
from tests.github_double.make_openapi_subset import OPERATIONS
from tests.github_double.openapi import default_subset, to_json_schema

REPO = "/repos/acme/churn-model"
HEAD_SHA = "a" * 40
OTHER_SHA = "b" * 40


@pytest.fixture
def gh() -> Iterator[GitHubDouble]:
    with GitHubDouble(owner="acme", repo="churn-model") as double:
        yield double
        assert double.violations == [], "\n".join(double.violations)


@pytest.fixture
def api(gh: GitHubDouble) -> Iterator[httpx.Client]:
    """A client set up as the generated project's: bearer token, GitHub's media type and API version."""
    headers = {"Authorization": f"Bearer {gh.token}", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    with httpx.Client(base_url=gh.url, headers=headers, timeout=5.0) as client:
        yield client


def take_violations(gh: GitHubDouble) -> list[str]:
    """The violations so far, removed so that the fixture's final check covers only what follows."""
    taken = list(gh.violations)
    gh.violations.clear()
    return taken


def upload_target(release: dict) -> str:
    """``upload_url`` is an RFC 6570 template ending in ``{?name,label}``: clients strip it."""
    return re.sub(r"\{[^}]*\}$", "", release["upload_url"])


def upload(api: httpx.Client, release: dict, body: bytes, content_type: str = "application/octet-stream", **query: str) -> httpx.Response:
    return api.post(upload_target(release), params=query, content=body, headers={"Content-Type": content_type})


# Releases, tags and assets


def test_release_with_tag_and_assets_round_trips_through_upload_url_and_redirect(gh: GitHubDouble, api: httpx.Client) -> None:
    main_sha = gh.refs["refs/heads/main"]
    tag = api.post(f"{REPO}/git/refs", json={"ref": "refs/tags/v1.0.0", "sha": main_sha})
    assert tag.status_code == 201
    assert tag.json()["object"]["sha"] == main_sha
    assert api.get(f"{REPO}/git/ref/tags/v1.0.0").json()["ref"] == "refs/tags/v1.0.0"
    assert api.get(f"{REPO}/git/ref/tags/v9.9.9").status_code == 404

    created = api.post(f"{REPO}/releases", json={"tag_name": "v1.0.0", "target_commitish": main_sha, "name": "v1.0.0", "body": "notes"})
    assert created.status_code == 201
    release = created.json()
    assert release["html_url"] == "https://github.com/acme/churn-model/releases/tag/v1.0.0"
    assert release["url"].startswith(gh.url)
    # Uploads go to another origin than the API, as uploads.github.com is another host than api.github.com.
    assert release["upload_url"] == f"{gh.uploads_url}/repos/acme/churn-model/releases/{release['id']}/assets{{?name,label}}"
    assert len({urlsplit(gh.url).netloc, urlsplit(gh.uploads_url).netloc, urlsplit(gh.storage_url).netloc}) == 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", release["created_at"])

    model_bytes = bytes(range(256)) * 4
    uploaded = upload(api, release, model_bytes, name="model.pkl", label="Model")
    assert uploaded.status_code == 201
    asset = uploaded.json()
    assert (asset["name"], asset["label"], asset["size"], asset["state"]) == ("model.pkl", "Model", len(model_bytes), "uploaded")
    assert asset["url"] == f"{gh.url}/repos/acme/churn-model/releases/assets/{asset['id']}"
    assert gh.calls[-1].content_type == "application/octet-stream"
    assert (gh.calls[-1].json, gh.calls[-1].host, gh.calls[-1].path) == (None, "uploads", f"{REPO}/releases/{release['id']}/assets")
    report = upload(api, release, b"# Report\n", "text/markdown", name="report.md")
    assert report.status_code == 201
    duplicate = upload(api, release, b"x", name="model.pkl")
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["code"] == "already_exists"

    listed = api.get(f"{REPO}/releases/{release['id']}/assets")
    assert [item["name"] for item in listed.json()] == ["model.pkl", "report.md"]
    assert api.get(asset["url"]).json()["id"] == asset["id"]  # without the binary Accept: the asset's JSON

    # Binary download: a 302 to the storage host (another origin), which serves the bytes without the token.
    redirect = api.get(asset["url"], headers={"Accept": "application/octet-stream"})
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(gh.storage_url)
    assert httpx.get(location, timeout=5.0).content == model_bytes
    # Following the redirect as the generated client does: httpx drops Authorization when the origin changes.
    followed = api.get(asset["url"], headers={"Accept": "application/octet-stream"}, follow_redirects=True)
    assert followed.content == model_bytes
    assert httpx.get(asset["browser_download_url"], timeout=5.0).content == model_bytes

    assert api.get(f"{REPO}/releases/latest").json()["id"] == release["id"]
    assert api.get(f"{REPO}/releases/tags/v1.0.0").json()["id"] == release["id"]
    [state] = gh.releases
    assert [item["content"] for item in state["assets"]] == [model_bytes, b"# Report\n"]
    assert state["assets"][0]["download_count"] == 3


def test_duplicate_tag_and_duplicate_release_are_422(gh: GitHubDouble, api: httpx.Client) -> None:
    ref = {"ref": "refs/tags/v1.0.0", "sha": gh.refs["refs/heads/main"]}
    assert api.post(f"{REPO}/git/refs", json=ref).status_code == 201
    again = api.post(f"{REPO}/git/refs", json=ref)
    assert again.status_code == 422
    assert again.json()["message"] == "Reference already exists"

    assert api.post(f"{REPO}/releases", json={"tag_name": "v1.0.0"}).status_code == 201
    duplicate = api.post(f"{REPO}/releases", json={"tag_name": "v1.0.0"})
    assert duplicate.status_code == 422
    assert duplicate.json()["message"] == "Validation Failed"
    assert duplicate.json()["errors"] == [{"resource": "Release", "code": "already_exists", "field": "tag_name"}]


def test_release_without_a_tag_creates_it_and_latest_follows_github_rules(gh: GitHubDouble, api: httpx.Client) -> None:
    assert api.get(f"{REPO}/releases/latest").status_code == 404
    first = api.post(f"{REPO}/releases", json={"tag_name": "v1.0.0"}).json()
    assert gh.refs["refs/tags/v1.0.0"] == gh.refs["refs/heads/main"]  # GitHub tags target_commitish (default branch)
    api.post(f"{REPO}/releases", json={"tag_name": "v2.0.0-rc1", "prerelease": True})
    api.post(f"{REPO}/releases", json={"tag_name": "v1.0.1", "make_latest": "false"})
    draft = api.post(f"{REPO}/releases", json={"tag_name": "v3.0.0", "draft": True}).json()
    assert "refs/tags/v3.0.0" not in gh.refs  # drafts have no tag until published
    assert draft["published_at"] is None
    assert api.get(f"{REPO}/releases/latest").json()["id"] == first["id"]
    assert api.get(f"{REPO}/releases/tags/v3.0.0").status_code == 404

    published = api.patch(f"{REPO}/releases/{draft['id']}", json={"draft": False})
    assert published.status_code == 200
    assert published.json()["published_at"] is not None
    assert "refs/tags/v3.0.0" in gh.refs
    assert api.get(f"{REPO}/releases/latest").json()["tag_name"] == "v3.0.0"
    assert [release["tag_name"] for release in api.get(f"{REPO}/releases").json()][-1] == "v1.0.0"  # newest first


def test_make_latest_alone_moves_latest_back_to_an_older_release_as_a_rollback_does(gh: GitHubDouble, api: httpx.Client) -> None:
    older = api.post(f"{REPO}/releases", json={"tag_name": "v1.0.0"}).json()
    api.post(f"{REPO}/releases", json={"tag_name": "v1.1.0"})
    assert api.get(f"{REPO}/releases/latest").json()["tag_name"] == "v1.1.0"
    # An edit of a published release that does not say make_latest leaves latest alone ("defaults to true for newly
    # published releases" only); make_latest "true" alone marks it latest; a token that may only read is refused.
    assert api.patch(f"{REPO}/releases/{older['id']}", json={"body": "notes"}).status_code == 200
    assert api.get(f"{REPO}/releases/latest").json()["tag_name"] == "v1.1.0"
    with client(gh, gh.token_for(permissions={"contents": "read"})) as reader:
        assert reader.patch(f"{REPO}/releases/{older['id']}", json={"make_latest": "true"}).status_code == 403
    moved = api.patch(f"{REPO}/releases/{older['id']}", json={"make_latest": "true"})
    assert moved.status_code == 200 and moved.json()["tag_name"] == "v1.0.0"
    assert api.get(f"{REPO}/releases/latest").json()["id"] == older["id"]


# Comments, pagination


def test_comments_create_list_paginate_and_update(gh: GitHubDouble, api: httpx.Client) -> None:
    pull = gh.add_pull(number=12, head_ref="feat", head_sha=HEAD_SHA, base_ref="main")
    assert pull["number"] == 12
    for index in range(35):
        assert api.post(f"{REPO}/issues/12/comments", json={"body": f"comment {index}"}).status_code == 201

    first_page = api.get(f"{REPO}/issues/12/comments")
    assert len(first_page.json()) == 30
    assert set(first_page.links) == {"next", "last"}
    assert first_page.links["next"]["url"] == f"{gh.url}{REPO}/issues/12/comments?page=2"
    second_page = api.get(first_page.links["next"]["url"])
    assert [comment["body"] for comment in second_page.json()] == [f"comment {index}" for index in range(30, 35)]
    assert set(second_page.links) == {"prev", "first"}
    everything = api.get(f"{REPO}/issues/12/comments", params={"per_page": 100})
    assert len(everything.json()) == 35
    assert "link" not in everything.headers

    comment = first_page.json()[0]
    assert comment["html_url"] == f"https://github.com/acme/churn-model/pull/12#issuecomment-{comment['id']}"
    updated = api.patch(f"{REPO}/issues/comments/{comment['id']}", json={"body": "edited"})
    assert updated.status_code == 200
    assert updated.json()["body"] == "edited"
    assert gh.comments(12)[0]["body"] == "edited"
    assert api.patch(f"{REPO}/issues/comments/999", json={"body": "x"}).status_code == 404
    assert api.post(f"{REPO}/issues/999/comments", json={"body": "x"}).status_code == 404


def test_concurrent_comments_all_land_with_distinct_ids(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_pull(number=3, head_sha=HEAD_SHA)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda index: api.post(f"{REPO}/issues/3/comments", json={"body": str(index)}).status_code, range(40)))
    assert statuses == [201] * 40
    assert len({comment["id"] for comment in gh.comments(3)}) == 40


# Pull requests and issues


def test_pulls_create_filter_update_and_find_by_commit(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.actions_can_create_pull_requests = True  # `api` is GITHUB_TOKEN: the repository lets it open pull requests
    gh.add_ref("refs/heads/feat", HEAD_SHA)
    created = api.post(f"{REPO}/pulls", json={"title": "Train v2", "head": "feat", "base": "main", "body": "why"})
    assert created.status_code == 201
    number = created.json()["number"]
    assert created.json()["head"]["sha"] == HEAD_SHA

    again = api.post(f"{REPO}/pulls", json={"title": "again", "head": "acme:feat", "base": "main"})
    assert again.status_code == 422
    assert again.json()["errors"][0]["message"] == "A pull request already exists for acme:feat."
    assert api.post(f"{REPO}/pulls", json={"title": "x", "head": "missing", "base": "main"}).status_code == 422

    assert [pull["number"] for pull in api.get(f"{REPO}/pulls", params={"head": "acme:feat"}).json()] == [number]
    assert api.get(f"{REPO}/pulls", params={"head": "acme:other"}).json() == []
    assert [pull["number"] for pull in api.get(f"{REPO}/commits/{HEAD_SHA}/pulls").json()] == [number]

    merged = gh.add_pull(head_ref="done", head_sha=OTHER_SHA, merge_commit_sha="c" * 40, merged_at="2024-05-01T10:00:00Z")
    assert [pull["number"] for pull in api.get(f"{REPO}/commits/{'c' * 40}/pulls").json()] == [merged["number"]]
    assert api.get(f"{REPO}/pulls/{merged['number']}").json()["merged"] is True

    closed = api.patch(f"{REPO}/pulls/{number}", json={"state": "closed"})
    assert closed.json()["state"] == "closed"
    assert closed.json()["closed_at"] is not None
    assert api.get(f"{REPO}/pulls").json() == []
    assert {pull["number"] for pull in api.get(f"{REPO}/pulls", params={"state": "all"}).json()} == {number, merged["number"]}
    assert api.get(f"{REPO}/pulls/999").status_code == 404


def test_issues_create_filter_by_label_and_close(gh: GitHubDouble, api: httpx.Client) -> None:
    incident = api.post(f"{REPO}/issues", json={"title": "Model drift", "body": "p95 up", "labels": ["incident"]})
    assert incident.status_code == 201
    api.post(f"{REPO}/issues", json={"title": "Docs", "labels": ["docs"]})
    gh.add_pull(head_sha=HEAD_SHA)  # pull requests share the numbering and appear in the issue list, as on GitHub

    listed = api.get(f"{REPO}/issues", params={"labels": "incident"}).json()
    assert [issue["title"] for issue in listed] == ["Model drift"]
    assert len(api.get(f"{REPO}/issues").json()) == 3
    assert sum("pull_request" in issue for issue in api.get(f"{REPO}/issues").json()) == 1

    closed = api.patch(f"{REPO}/issues/{incident.json()['number']}", json={"state": "closed"})
    assert (closed.json()["state"], closed.json()["state_reason"]) == ("closed", "completed")
    assert [issue["title"] for issue in api.get(f"{REPO}/issues", params={"state": "closed"}).json()] == ["Model drift"]
    assert [issue["title"] for issue in gh.issues] == ["Model drift", "Docs"]


# Deployments


def test_deployment_and_statuses(gh: GitHubDouble, api: httpx.Client) -> None:
    sha = gh.refs["refs/heads/main"]
    body = {
        "ref": sha,
        "environment": "staging",
        "description": "churn-model v1.0.0",
        "auto_merge": False,
        "required_contexts": [],
        "payload": {"model_version": "3"},
        "production_environment": False,
    }
    created = api.post(f"{REPO}/deployments", json=body)
    assert created.status_code == 201
    deployment = created.json()
    assert (deployment["sha"], deployment["environment"], deployment["payload"]) == (sha, "staging", {"model_version": "3"})

    status = api.post(
        f"{REPO}/deployments/{deployment['id']}/statuses",
        json={
            "state": "success",
            "description": "deployed",
            "environment_url": "https://staging.example.com",
            "log_url": "https://ci.example/1",
        },
    )
    assert status.status_code == 201
    assert status.json()["target_url"] == "https://ci.example/1"

    listed = api.get(f"{REPO}/deployments", params={"sha": sha, "environment": "staging"}).json()
    assert [item["id"] for item in listed] == [deployment["id"]]
    assert api.get(f"{REPO}/deployments", params={"environment": "production"}).json() == []
    assert [item["state"] for item in api.get(f"{REPO}/deployments/{deployment['id']}/statuses").json()] == ["success"]

    # A newer successful deployment to the same non-production environment makes the older one inactive.
    newer = api.post(f"{REPO}/deployments", json={**body, "ref": "main"}).json()
    api.post(f"{REPO}/deployments/{newer['id']}/statuses", json={"state": "success"})
    assert [[status["state"] for status in item["statuses"]] for item in gh.deployments] == [["success", "inactive"], ["success"]]

    unknown_ref = api.post(f"{REPO}/deployments", json={"ref": "no-such-branch"})
    assert unknown_ref.status_code == 422
    assert unknown_ref.json()["message"] == "No ref found for: no-such-branch"
    too_long = api.post(f"{REPO}/deployments/{deployment['id']}/statuses", json={"state": "success", "description": "x" * 141})
    assert too_long.status_code == 422


# Compare


def test_compare_lists_the_commits_between_two_tags(gh: GitHubDouble, api: httpx.Client) -> None:
    shas = [f"{digit}" * 40 for digit in "123"]
    for day, sha in enumerate(shas, start=1):
        gh.add_commit(sha, f"2024-03-0{day}T12:00:00Z", f"change {day}")
    gh.add_ref("refs/tags/v1", shas[0])
    gh.add_ref("refs/tags/v2", shas[2])
    comparison = api.get(f"{REPO}/compare/v1...v2").json()
    assert (comparison["status"], comparison["ahead_by"], comparison["behind_by"]) == ("ahead", 2, 0)
    assert [commit["sha"] for commit in comparison["commits"]] == shas[1:]
    assert comparison["commits"][0]["commit"]["author"]["date"] == "2024-03-02T12:00:00Z"
    assert api.get(f"{REPO}/compare/v2...v1").json()["status"] == "behind"
    assert api.get(f"{REPO}/compare/v1...nope").status_code == 404


def test_compare_of_diverged_branches_and_of_a_rollback_counts_both_sides(gh: GitHubDouble, api: httpx.Client) -> None:
    root, left, right = "a" * 40, "b" * 40, "c" * 40
    gh.add_commit(root, "2024-03-01T12:00:00Z", "root")
    gh.add_commit(left, "2024-03-02T12:00:00Z", "left")
    gh.add_commit(right, "2024-03-03T12:00:00Z", "right", branch="other", parents=[root])
    diverged = api.get(f"{REPO}/compare/{left}...{right}").json()
    assert (diverged["status"], diverged["ahead_by"], diverged["behind_by"]) == ("diverged", 1, 1)
    assert diverged["merge_base_commit"]["sha"] == root
    back = api.get(f"{REPO}/compare/{left}...{root}").json()  # a rollback: the head is behind the base
    assert (back["status"], back["ahead_by"], back["behind_by"], back["commits"]) == ("behind", 0, 1, [])
    assert api.get(f"{REPO}/compare/{left}...{left}").json()["status"] == "identical"


def test_pull_request_commits_are_the_heads_own_oldest_first_and_paginate(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_commit("0" * 40, "2024-03-01T00:00:00Z", "base")
    own = [f"{index:040x}" for index in range(1, 6)]
    for day, sha in enumerate(own, start=2):  # the feature branch starts from main's tip
        gh.add_commit(sha, f"2024-03-0{day}T00:00:00Z", f"work {day}", branch="feature", parents=None if day > 2 else ["0" * 40])
    gh.add_commit("f" * 40, "2024-03-09T00:00:00Z", "squash", files={"a.txt": b"a"})
    pull = gh.add_pull(7, head_ref="feature", head_sha=own[-1], merge_commit_sha="f" * 40, merged_at="2024-03-09T00:00:00Z")
    first = api.get(f"{REPO}/pulls/{pull['number']}/commits", params={"per_page": 2})
    assert [commit["sha"] for commit in first.json()] == own[:2]
    assert 'rel="next"' in first.headers["link"]
    rest = api.get(f"{REPO}/pulls/7/commits", params={"per_page": 2, "page": 3}).json()
    assert [commit["sha"] for commit in rest] == own[4:]
    assert api.get(f"{REPO}/pulls/99/commits").status_code == 404


def test_seeded_deployments_and_incidents_list_by_environment_and_label_with_pagination(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_commit("1" * 40, "2024-03-01T00:00:00Z", "one")
    for day in range(1, 6):
        gh.add_deployment(
            "1" * 40,
            [("in_progress", f"2024-03-0{day}T10:00:00Z"), ("success", f"2024-03-0{day}T10:05:00Z")],
            created_at=f"2024-03-0{day}T09:59:00Z",
            payload={"version": f"v1.0.{day}"},
        )
    gh.add_deployment("1" * 40, [("failure", "2024-03-06T10:00:00Z")], environment="staging", created_at="2024-03-06T09:00:00Z")
    page = api.get(f"{REPO}/deployments", params={"environment": "production", "per_page": 2})
    assert [deployment["payload"]["version"] for deployment in page.json()] == ["v1.0.5", "v1.0.4"]  # newest first
    assert 'rel="next"' in page.headers["link"]
    assert len(api.get(f"{REPO}/deployments", params={"environment": "production"}).json()) == 5
    statuses = api.get(f"{REPO}/deployments/{page.json()[0]['id']}/statuses").json()
    assert [(status["state"], status["created_at"]) for status in statuses] == [
        ("success", "2024-03-05T10:05:00Z"),
        ("in_progress", "2024-03-05T10:00:00Z"),
    ]
    gh.add_issue(
        "old outage", "root cause: 1111111", labels=["incident"], created_at="2024-01-01T00:00:00Z", closed_at="2024-01-02T00:00:00Z"
    )
    gh.add_issue("outage", None, labels=["incident"], created_at="2024-03-02T00:00:00Z")
    gh.add_issue("unrelated", None, created_at="2024-03-02T00:00:00Z")
    found = api.get(f"{REPO}/issues", params={"labels": "incident", "state": "all", "since": "2024-02-01T00:00:00Z"}).json()
    assert [issue["title"] for issue in found] == ["outage"]
    everything = api.get(f"{REPO}/issues", params={"labels": "incident", "state": "all"}).json()
    assert [(issue["title"], issue["state"], issue["closed_at"]) for issue in everything] == [
        ("outage", "open", None),
        ("old outage", "closed", "2024-01-02T00:00:00Z"),
    ]


# Errors like GitHub's


def test_requests_without_a_valid_token_are_401_and_the_token_is_never_recorded(gh: GitHubDouble) -> None:
    anonymous = httpx.get(f"{gh.url}{REPO}", timeout=5.0)
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Requires authentication"
    assert anonymous.headers["content-type"] == "application/json; charset=utf-8"
    wrong = httpx.get(f"{gh.url}{REPO}", headers={"Authorization": "Bearer ghs_wrong"}, timeout=5.0)
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Bad credentials")
    assert httpx.get(f"{gh.url}{REPO}", headers={"Authorization": f"token {gh.token}"}, timeout=5.0).status_code == 200
    assert gh.token.startswith("ghs_")
    assert len(gh.token) == 40
    assert gh.token not in repr(gh.calls)


def test_other_repositories_are_404(gh: GitHubDouble, api: httpx.Client) -> None:
    for path in ("/repos/acme/other", "/repos/someone/churn-model/releases", "/repos/acme/other/issues/1/comments"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not Found"
        assert response.json()["documentation_url"].startswith("https://docs.github.com/")
    assert api.get(REPO).json()["full_name"] == "acme/churn-model"


def test_unknown_paths_and_methods_are_404_and_flagged_as_outside_the_description(gh: GitHubDouble, api: httpx.Client) -> None:
    assert api.get(f"{REPO}/no-such-endpoint").status_code == 404
    assert api.delete(f"{REPO}/releases").status_code == 404  # GitHub answers 404, not 405
    # Asset uploads exist only on the uploads host: the same path on the API host is unknown.
    assert api.post(f"{REPO}/releases/1/assets", params={"name": "x"}, content=b"x").status_code == 404
    problems = take_violations(gh)
    assert len(problems) == 3
    assert "no operation in the OpenAPI subset matches this path" in problems[0]
    assert "method DELETE is not documented" in problems[1]


def test_malformed_json_is_400(gh: GitHubDouble, api: httpx.Client) -> None:
    response = api.post(f"{REPO}/issues", content=b'{"title": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "Problems parsing JSON"
    assert any("not valid JSON" in problem for problem in take_violations(gh))


def test_missing_required_field_is_422_from_the_double_and_a_violation_from_the_checker(gh: GitHubDouble, api: httpx.Client) -> None:
    response = api.post(f"{REPO}/deployments", json={"environment": "production"})
    assert response.status_code == 422
    assert response.json()["message"] == "Validation Failed"
    assert response.json()["errors"] == [{"resource": "Deployment", "code": "missing_field", "field": "ref"}]
    problems = take_violations(gh)
    assert problems == [
        "POST /repos/{owner}/{repo}/deployments (/repos/acme/churn-model/deployments): request body: $: 'ref' is a required property"
    ]


def test_the_checker_rejects_wrong_responses_statuses_and_queries(gh: GitHubDouble, api: httpx.Client) -> None:
    release = api.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
    path = f"{REPO}/releases/{release['id']}"
    assert check("GET", path, {}, None, 200, release) == []

    broken = {**release, "created_at": "yesterday", "author": None}
    del broken["upload_url"]
    problems = check("GET", path, {}, None, 200, broken)
    assert any("'upload_url' is a required property" in problem for problem in problems)
    assert any("$.created_at: 'yesterday' is not a 'date-time'" in problem for problem in problems)
    assert any("$.author: None is not of type 'object'" in problem for problem in problems)
    assert "status 418 is not documented" in check("GET", path, {}, None, 418, {"message": "teapot"})[0]
    assert "query parameter 'colour' is not documented" in check("GET", f"{REPO}/releases", {"colour": "red"}, None, 200, [])[0]
    assert "'many' is not of type 'integer'" in check("GET", f"{REPO}/releases", {"per_page": "many"}, None, 200, [])[0]
    assert check("PATCH", f"{REPO}/issues/comments/1", {}, {"body": 3}, 200, None)[:1] == [
        "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id} (/repos/acme/churn-model/issues/comments/1): request body: $.body: "
        "3 is not of type 'string'"
    ]


def test_statuses_github_answers_beyond_its_description_are_allowed_only_where_seen() -> None:
    refusal = {"message": "Validation Failed", "errors": [{"resource": "ReleaseAsset", "code": "custom"}]}
    assert check("DELETE", f"{REPO}/releases/assets/1", {}, None, 422, refusal) == []
    assert check("PATCH", f"{REPO}/releases/1", {}, {"body": "x"}, 422, refusal) == []
    assert "status 422 is not documented" in check("GET", f"{REPO}/releases/1/assets", {}, None, 422, refusal)[0]
    assert "'message' string" in check("DELETE", f"{REPO}/releases/assets/1", {}, None, 422, {"errors": []})[0]


def test_nullable_becomes_a_union_with_null() -> None:
    assert to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert to_json_schema({"type": "string", "enum": ["a"], "nullable": True}) == {"type": ["string", "null"], "enum": ["a", None]}
    assert to_json_schema({"allOf": [{"$ref": "#/x"}], "nullable": True}) == {"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/x"}]}]}
    assert to_json_schema({"properties": {"nullable": {"type": "boolean"}}}) == {"properties": {"nullable": {"type": "boolean"}}}


# Fault injection and rate limits


def test_injected_fault_answers_once_then_the_double_recovers(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.fail_next(method="POST", path_regex=r"/releases$", status=502)
    failed = api.post(f"{REPO}/releases", json={"tag_name": "v1"})
    assert failed.status_code == 502
    assert gh.releases == []  # the fault answered before the double did anything
    assert api.post(f"{REPO}/releases", json={"tag_name": "v1"}).status_code == 201
    assert [call.status for call in gh.calls] == [502, 201]


def test_injected_rate_limits_carry_githubs_headers(gh: GitHubDouble, api: httpx.Client) -> None:
    reset = str(int(time.time()) + 2)
    gh.fail_next(method="GET", path_regex=r"/pulls$", status=403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    gh.fail_next(path_regex=r"/issues", status=403, headers={"retry-after": "1"})
    gh.fail_next(path_regex=r"/deployments", status=429, headers={"Retry-After": "1"}, times=2)

    primary = api.get(f"{REPO}/pulls")
    assert (primary.status_code, primary.headers["x-ratelimit-remaining"], primary.headers["x-ratelimit-reset"]) == (403, "0", reset)
    assert primary.json()["message"].startswith("API rate limit exceeded")
    secondary = api.get(f"{REPO}/issues")
    assert (secondary.status_code, secondary.headers["retry-after"]) == (403, "1")
    assert "secondary rate limit" in secondary.json()["message"]
    assert [api.get(f"{REPO}/deployments").status_code for _ in range(3)] == [429, 429, 200]
    assert api.get(f"{REPO}/pulls").status_code == 200


def test_fault_after_handling_loses_only_the_reply(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.fail_next(method="POST", path_regex=r"/releases$", status=504, after_handling=True)
    assert api.post(f"{REPO}/releases", json={"tag_name": "v1"}).status_code == 504
    assert [release["tag_name"] for release in gh.releases] == ["v1"]
    retry = api.post(f"{REPO}/releases", json={"tag_name": "v1"})  # a client retrying must cope with this
    assert retry.status_code == 422


def test_every_response_has_githubs_headers_and_the_rate_limit_runs_out() -> None:
    with GitHubDouble(rate_limit=2) as gh:
        headers = {"Authorization": f"Bearer {gh.token}"}
        first = httpx.get(f"{gh.url}{REPO}", headers=headers, timeout=5.0)
        assert first.headers["content-type"] == "application/json; charset=utf-8"
        assert first.headers["x-github-api-version-selected"] == "2022-11-28"
        assert first.headers["x-github-request-id"]
        rate = tuple(first.headers[f"x-ratelimit-{name}"] for name in ("limit", "remaining", "used", "resource"))
        assert rate == ("2", "1", "1", "core")
        assert int(first.headers["x-ratelimit-reset"]) > time.time()
        assert httpx.get(f"{gh.url}{REPO}", headers=headers, timeout=5.0).status_code == 200
        exhausted = httpx.get(f"{gh.url}{REPO}", headers=headers, timeout=5.0)
        assert (exhausted.status_code, exhausted.headers["x-ratelimit-remaining"]) == (403, "0")
        assert gh.violations == []


# The double itself


def test_the_token_must_not_reach_the_storage_host(gh: GitHubDouble, api: httpx.Client) -> None:
    release = api.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
    asset = upload(api, release, b"1", name="a.bin").json()
    location = api.get(asset["url"], headers={"Accept": "application/octet-stream"}).headers["location"]
    assert httpx.get(location, headers={"Authorization": f"Bearer {gh.token}"}, timeout=5.0).content == b"1"
    [problem] = take_violations(gh)
    assert "storage host carried an Authorization header" in problem


def test_asset_names_are_renamed_like_github(gh: GitHubDouble, api: httpx.Client) -> None:
    release = api.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
    uploaded = upload(api, release, b"1", "text/plain", name="my model (v1).pkl")
    assert uploaded.json()["name"] == "my.model..v1..pkl"
    assert uploaded.json()["content_type"] == "text/plain"
    assert upload(api, release, b"1").status_code == 422  # name is required


def test_routes_are_exactly_the_operations_of_the_committed_subset() -> None:
    subset = default_subset()
    documented = {operation.key for operation in subset.operations}
    assert set(GitHubDouble.routes()) == documented
    assert {(method.upper(), template) for method, template in OPERATIONS} == documented
    assert subset.source["package"] == "@octokit/openapi"
    assert subset.source["file"] == "generated/api.github.com.json"
    assert subset.document["openapi"].startswith("3.0")


def test_stop_is_prompt_even_with_an_idle_keep_alive_connection() -> None:
    double = GitHubDouble()
    double.start()
    url = double.url
    with httpx.Client(headers={"Authorization": f"Bearer {double.token}"}, timeout=5.0) as client:
        assert client.get(f"{url}{REPO}").status_code == 200  # leaves a pooled keep-alive connection open
        started = time.monotonic()
        double.stop()
        assert time.monotonic() - started < 2.0
        assert not [thread for thread in threading.enumerate() if thread.name.startswith("github-double-")]
        with pytest.raises(httpx.TransportError):
            client.get(f"{url}{REPO}")


# Identities and permissions


def client(gh: GitHubDouble, token: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    return httpx.Client(base_url=gh.url, headers=headers, timeout=5.0)


def assert_not_accessible(response: httpx.Response, docs_anchor: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["message"] == "Resource not accessible by integration"
    assert response.json()["documentation_url"] == f"https://docs.github.com/rest/{docs_anchor}"


def test_tokens_are_unique_and_act_as_their_identity(gh: GitHubDouble, api: httpx.Client) -> None:
    bot = gh.token_for(login="release-drafter[bot]")
    person = gh.token_for(login="alice")
    assert len({gh.token, bot, person, gh.token_for()}) == 4
    assert all(re.fullmatch(r"ghs_[A-Za-z0-9]{36}", token) for token in (bot, person))
    gh.add_pull(number=5, head_sha=HEAD_SHA)
    seeded = gh.add_comment(5, "Looks good to me", login="carol")

    with client(gh, bot) as as_bot, client(gh, person) as as_person:
        by_bot = as_bot.post(f"{REPO}/issues/5/comments", json={"body": "bot"}).json()["user"]
        by_person = as_person.post(f"{REPO}/issues/5/comments", json={"body": "person"}).json()["user"]
    by_actions = api.post(f"{REPO}/issues/5/comments", json={"body": "actions"}).json()["user"]
    assert (by_bot["login"], by_bot["type"]) == ("release-drafter[bot]", "Bot")
    assert by_bot["html_url"] == "https://github.com/apps/release-drafter"
    assert (by_person["login"], by_person["type"]) == ("alice", "User")
    assert (by_actions["login"], by_actions["id"], by_actions["type"]) == ("github-actions[bot]", 41898282, "Bot")
    assert (seeded["user"]["login"], seeded["user"]["type"]) == ("carol", "User")
    assert [comment["user"]["login"] for comment in gh.comments(5)] == ["carol", "release-drafter[bot]", "alice", "github-actions[bot]"]
    assert [call.login for call in gh.calls] == ["release-drafter[bot]", "alice", "github-actions[bot]"]
    other = GitHubDouble()  # ids derive from the login: stable across doubles and runs
    with other, client(other, other.token_for(login="alice")) as as_alice:
        assert as_alice.post(f"{REPO}/issues", json={"title": "x"}).json()["user"]["id"] == by_person["id"]


def test_what_is_created_records_who_created_it(gh: GitHubDouble) -> None:
    with client(gh, gh.token_for(login="deployer[bot]")) as deployer:
        release = deployer.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
        asset = upload(deployer, release, b"1", name="a.bin").json()
        deployment = deployer.post(f"{REPO}/deployments", json={"ref": "main", "required_contexts": []}).json()
        status = deployer.post(f"{REPO}/deployments/{deployment['id']}/statuses", json={"state": "success"}).json()
        issue = deployer.post(f"{REPO}/issues", json={"title": "Drift"}).json()
    gh.add_ref("refs/heads/feat", HEAD_SHA)
    with client(gh, gh.token_for(login="alice")) as alice:
        pull = alice.post(f"{REPO}/pulls", json={"title": "t", "head": "feat", "base": "main"}).json()
    who = [release["author"], asset["uploader"], deployment["creator"], status["creator"], issue["user"]]
    assert {(user["login"], user["type"]) for user in who} == {("deployer[bot]", "Bot")}
    assert (pull["user"]["login"], pull["user"]["type"]) == ("alice", "User")
    assert gh.releases[0]["author"]["login"] == "deployer[bot]"
    assert gh.deployments[0]["statuses"][0]["creator"]["login"] == "deployer[bot]"


def test_a_token_without_the_permission_gets_403_resource_not_accessible(gh: GitHubDouble) -> None:
    gh.add_pull(number=3, head_sha=HEAD_SHA)
    reader = gh.token_for(permissions={"contents": "read", "pull-requests": "read"})
    with client(gh, reader) as api:
        assert api.get(f"{REPO}/releases").status_code == 200
        assert api.get(f"{REPO}/pulls").status_code == 200
        assert_not_accessible(api.post(f"{REPO}/releases", json={"tag_name": "v1"}), "releases/releases#create-a-release")
        assert_not_accessible(
            api.post(f"{REPO}/git/refs", json={"ref": "refs/tags/v1", "sha": gh.refs["refs/heads/main"]}), "git/refs#create-a-reference"
        )
        assert_not_accessible(api.get(f"{REPO}/deployments"), "deployments/deployments#list-deployments")
        assert_not_accessible(api.get(f"{REPO}/issues"), "issues/issues#list-repository-issues")
        assert_not_accessible(api.patch(f"{REPO}/pulls/3", json={"title": "x"}), "pulls/pulls#update-a-pull-request")
    assert gh.releases == [] and "refs/tags/v1" not in gh.refs and gh.pulls[0]["title"] != "x"

    # An empty block (`permissions: {}`) leaves metadata only: the repository itself, nothing in it.
    with client(gh, gh.token_for(permissions={})) as api:
        assert api.get(REPO).status_code == 200
        assert_not_accessible(api.get(f"{REPO}/releases"), "releases/releases#list-releases")
        assert_not_accessible(api.get(f"{REPO}/pulls/3"), "pulls/pulls#get-a-pull-request")
        assert_not_accessible(api.get(f"{REPO}/issues/3/comments"), "issues/comments#list-issue-comments")
    # Write implies read; the all-write default token reaches everything.
    with client(gh, gh.token_for(permissions={"deployments": "write"})) as api:
        assert api.get(f"{REPO}/deployments").status_code == 200


def test_every_route_declares_the_permission_it_needs() -> None:
    from tests.github_double.server import _NEEDS, ISSUE_OR_PULL, METADATA_READ

    def alternatives(needs) -> tuple:
        """A route's (permission, level) pairs: one, or several any of which will do."""
        return needs if isinstance(needs[0], tuple) else (needs,)

    assert set(_NEEDS) == set(GitHubDouble.routes())
    markers = {needs for needs in _NEEDS.values() if isinstance(needs, str)}
    pairs = [pair for needs in _NEEDS.values() if not isinstance(needs, str) for pair in alternatives(needs)]
    assert markers | {permission for permission, _ in pairs} == {
        METADATA_READ,
        ISSUE_OR_PULL,
        "actions",
        "contents",
        "issues",
        "pull-requests",
        "deployments",
        "attestations",
        "administration",
    }
    for (method, _), needs in _NEEDS.items():
        if not isinstance(needs, str):
            assert {level for _, level in alternatives(needs)} == {"read" if method == "GET" else "write"}


def test_attestations_are_listed_by_subject_digest_and_need_attestations_read(gh: GitHubDouble) -> None:
    digest = "sha256:" + "ab" * 32
    gh.add_attestation(digest)
    with client(gh, gh.token_for(permissions={"attestations": "read"})) as api:
        found = api.get(f"{REPO}/attestations/{digest}")
        assert found.status_code == 200 and len(found.json()["attestations"]) == 1
        assert api.get(f"{REPO}/attestations/sha256:{'cd' * 32}").status_code == 404
    with client(gh, gh.token_for(permissions={"contents": "read"})) as api:
        assert_not_accessible(api.get(f"{REPO}/attestations/{digest}"), "repos/attestations#list-attestations")
    assert gh.violations == []


def test_issue_comments_on_a_pull_request_take_pull_requests_or_issues(gh: GitHubDouble) -> None:
    gh.add_pull(number=7, head_sha=HEAD_SHA)
    with client(gh, gh.token) as api:
        issue_number = api.post(f"{REPO}/issues", json={"title": "an issue"}).json()["number"]
    pulls_writer = gh.token_for(permissions={"pull-requests": "write"})
    issues_writer = gh.token_for(permissions={"issues": "write"})
    pulls_reader = gh.token_for(permissions={"pull-requests": "read"})
    with client(gh, pulls_writer) as api:
        comment = api.post(f"{REPO}/issues/7/comments", json={"body": "from pulls"})
        assert comment.status_code == 201
        assert api.patch(f"{REPO}/issues/comments/{comment.json()['id']}", json={"body": "edited"}).status_code == 200
        assert_not_accessible(
            api.post(f"{REPO}/issues/{issue_number}/comments", json={"body": "x"}), "issues/comments#create-an-issue-comment"
        )
    with client(gh, issues_writer) as api:
        assert api.post(f"{REPO}/issues/7/comments", json={"body": "from issues"}).status_code == 201
        assert api.post(f"{REPO}/issues/{issue_number}/comments", json={"body": "on the issue"}).status_code == 201
    with client(gh, pulls_reader) as api:
        assert [comment["body"] for comment in api.get(f"{REPO}/issues/7/comments").json()] == ["edited", "from issues"]
        assert_not_accessible(api.get(f"{REPO}/issues/{issue_number}/comments"), "issues/comments#list-issue-comments")
        assert_not_accessible(api.post(f"{REPO}/issues/7/comments", json={"body": "x"}), "issues/comments#create-an-issue-comment")
    assert len(gh.comments(7)) == 2


def test_a_fork_pull_requests_token_reads_but_cannot_write(gh: GitHubDouble) -> None:
    gh.add_pull(number=9, head_sha=HEAD_SHA)
    with client(gh, gh.token) as api:
        api.post(f"{REPO}/releases", json={"tag_name": "v1"})
    with client(gh, gh.fork_token()) as fork:
        assert fork.get(f"{REPO}/releases/latest").status_code == 200
        assert fork.get(f"{REPO}/issues/9/comments").json() == []
        assert fork.get(f"{REPO}/deployments").status_code == 200
        writes = [
            fork.post(f"{REPO}/issues/9/comments", json={"body": "x"}),
            fork.post(f"{REPO}/releases", json={"tag_name": "v2"}),
            fork.post(f"{REPO}/deployments", json={"ref": "main"}),
            fork.post(f"{REPO}/issues", json={"title": "x"}),
            fork.patch(f"{REPO}/pulls/9", json={"state": "closed"}),
        ]
    assert [response.status_code for response in writes] == [403] * 5
    assert gh.comments(9) == [] and len(gh.releases) == 1 and gh.deployments == [] and gh.issues == []
    assert gh.token_for(permissions="read-all") != gh.fork_token()


def test_permissions_take_a_workflow_blocks_shape() -> None:
    from tests.github_double.server import _normalise_permissions

    normalised = _normalise_permissions({"contents": "read", "pull-requests": "write", "some-future-permission": "write"})
    assert (normalised["contents"], normalised["pull-requests"], normalised["issues"]) == ("read", "write", "none")
    assert "some-future-permission" not in normalised  # a key the double does not know is ignored
    assert set(_normalise_permissions(None).values()) == {"write"}
    assert set(_normalise_permissions("read-all").values()) == {"read"}
    with pytest.raises(ValueError, match="admin"):
        _normalise_permissions({"contents": "admin"})
    with pytest.raises(ValueError):
        GitHubDouble().token_for(login="")


# Drafts, publishing, deleting, immutable releases


def test_drafts_are_hidden_from_readers_latest_and_tag_lookup_until_published(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_commit("1" * 40, "2024-03-01T12:00:00Z", "release candidate", branch="release")
    stable = api.post(f"{REPO}/releases", json={"tag_name": "v1.0.0"}).json()
    draft = api.post(f"{REPO}/releases", json={"tag_name": "v2.0.0", "target_commitish": "release", "draft": True}).json()
    assert (draft["draft"], draft["published_at"], draft["html_url"].split("/")[-1].startswith("untagged-")) == (True, None, True)
    assert "refs/tags/v2.0.0" not in gh.refs
    assert [release["tag_name"] for release in api.get(f"{REPO}/releases").json()] == ["v2.0.0", "v1.0.0"]  # push access
    assert api.get(f"{REPO}/releases/latest").json()["id"] == stable["id"]
    assert api.get(f"{REPO}/releases/tags/v2.0.0").status_code == 404

    with client(gh, gh.token_for(permissions={"contents": "read"})) as reader:
        assert [release["tag_name"] for release in reader.get(f"{REPO}/releases").json()] == ["v1.0.0"]
        assert reader.get(f"{REPO}/releases/{draft['id']}").status_code == 404
        assert reader.get(f"{REPO}/releases/{draft['id']}/assets").status_code == 404

    # Publishing with make_latest "false" creates the tag on target_commitish but leaves latest alone.
    published = api.patch(f"{REPO}/releases/{draft['id']}", json={"draft": False, "make_latest": "false"}).json()
    assert published["draft"] is False and published["published_at"] is not None
    assert published["html_url"].endswith("/releases/tag/v2.0.0")
    assert gh.refs["refs/tags/v2.0.0"] == "1" * 40
    assert api.get(f"{REPO}/releases/latest").json()["id"] == stable["id"]
    assert api.get(f"{REPO}/releases/tags/v2.0.0").json()["id"] == draft["id"]

    # A prerelease is never latest, whatever make_latest says.
    api.post(f"{REPO}/releases", json={"tag_name": "v3.0.0-rc1", "prerelease": True, "make_latest": "true"})
    assert api.get(f"{REPO}/releases/latest").json()["id"] == stable["id"]
    assert [(release["tag_name"], release["draft"], release["immutable"]) for release in gh.releases] == [
        ("v1.0.0", False, False),
        ("v2.0.0", False, False),
        ("v3.0.0-rc1", False, False),
    ]


def test_releases_and_assets_can_be_deleted(gh: GitHubDouble, api: httpx.Client) -> None:
    release = api.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
    asset = upload(api, release, b"1", name="a.bin").json()
    deleted_asset = api.delete(asset["url"])
    assert (deleted_asset.status_code, deleted_asset.content) == (204, b"")
    assert api.get(asset["url"]).status_code == 404
    assert api.delete(asset["url"]).status_code == 404
    assert upload(api, release, b"2", name="a.bin").status_code == 201  # the name is free again

    assert api.delete(release["url"]).status_code == 204
    assert gh.releases == []
    assert api.get(f"{REPO}/releases/latest").status_code == 404
    assert "refs/tags/v1" in gh.refs  # deleting a release leaves its tag
    assert api.post(f"{REPO}/releases", json={"tag_name": "v1"}).status_code == 201
    with client(gh, gh.token_for(permissions={"contents": "read"})) as reader:
        assert_not_accessible(reader.delete(f"{REPO}/releases/{gh.releases[0]['id']}"), "releases/releases#delete-a-release")


def test_immutable_releases_lock_assets_and_tag_once_published() -> None:
    with GitHubDouble(immutable_releases=True) as gh, client(gh, gh.token) as api:
        # The recommended flow: draft, attach everything, publish. A draft stays mutable.
        draft = api.post(f"{REPO}/releases", json={"tag_name": "v1", "draft": True}).json()
        model = upload(api, draft, b"model", name="model.pkl").json()
        scratch = upload(api, draft, b"tmp", name="scratch.txt").json()
        assert api.delete(scratch["url"]).status_code == 204
        published = api.patch(draft["url"], json={"draft": False}).json()
        assert published["immutable"] is True

        late = upload(api, published, b"late", name="late.txt")
        assert late.status_code == 422
        assert late.json()["message"] == "Cannot upload assets to an immutable release."
        deleting = api.delete(model["url"])
        assert deleting.status_code == 422
        assert deleting.json()["errors"] == [
            {"resource": "ReleaseAsset", "code": "custom", "message": "Cannot delete asset from an immutable release"}
        ]
        retag = api.patch(published["url"], json={"tag_name": "v1.0.1"})
        assert (retag.status_code, retag.json()["errors"][0]["field"]) == (422, "tag_name")
        assert api.patch(published["url"], json={"draft": True}).status_code == 422
        # Title, notes and prerelease stay editable.
        edited = api.patch(published["url"], json={"name": "First", "body": "notes", "prerelease": True})
        assert (edited.status_code, edited.json()["name"], edited.json()["prerelease"]) == (200, "First", True)
        assert [asset["name"] for asset in gh.releases[0]["assets"]] == ["model.pkl"]

        # Deleting an immutable release frees nothing: its tag is never reusable.
        assert api.delete(published["url"]).status_code == 204
        again = api.post(f"{REPO}/releases", json={"tag_name": "v1"})
        assert again.status_code == 422
        assert again.json()["errors"] == [
            {"resource": "Release", "code": "custom", "field": "tag_name", "message": "tag_name was used by an immutable release"}
        ]

        # The setting holds for releases published while it is on; turning it off unlocks new ones only.
        gh.immutable_releases = False
        mutable = api.post(f"{REPO}/releases", json={"tag_name": "v2"}).json()
        assert mutable["immutable"] is False
        assert upload(api, mutable, b"x", name="x.txt").status_code == 201
        assert gh.violations == []


# Uploads


def test_an_upload_without_content_type_is_400(gh: GitHubDouble, api: httpx.Client) -> None:
    release = api.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
    bare = api.post(upload_target(release), params={"name": "model.pkl"}, content=b"1")
    assert bare.status_code == 400
    assert bare.json()["message"] == "Invalid Content-Type: ''"
    assert gh.releases[0]["assets"] == []
    duplicate = (upload(api, release, b"1", name="model.pkl"), upload(api, release, b"2", name="model.pkl"))
    assert [response.status_code for response in duplicate] == [201, 422]
    assert duplicate[1].json()["errors"] == [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]


# Deployments: auto-merge, commit statuses, unknown commits


def test_deploying_a_branch_behind_the_default_branch_auto_merges_first(gh: GitHubDouble, api: httpx.Client) -> None:
    base = gh.refs["refs/heads/main"]
    gh.add_commit("1" * 40, "2024-03-01T12:00:00Z", "topic work", branch="topic", parents=[base])
    gh.add_commit("2" * 40, "2024-03-02T12:00:00Z", "main moved on")  # main is now ahead of topic's base

    merged = api.post(f"{REPO}/deployments", json={"ref": "topic", "environment": "review"})
    assert merged.status_code == 202
    assert merged.json() == {"message": "Auto-merged main into topic on deployment."}
    assert gh.deployments == []
    merge_sha = gh.refs["refs/heads/topic"]
    comparison = api.get(f"{REPO}/compare/main...topic").json()
    assert (comparison["status"], comparison["behind_by"]) == ("ahead", 0)
    assert comparison["commits"][-1]["parents"] == [
        {"sha": sha, "url": f"{gh.url}{REPO}/commits/{sha}", "html_url": f"https://github.com/acme/churn-model/commit/{sha}"}
        for sha in ("1" * 40, "2" * 40)
    ]
    again = api.post(f"{REPO}/deployments", json={"ref": "topic", "environment": "review"})  # up to date now: deploys
    assert (again.status_code, again.json()["sha"]) == (201, merge_sha)

    gh.add_commit("3" * 40, "2024-03-03T12:00:00Z", "main moves again")
    skipped = api.post(f"{REPO}/deployments", json={"ref": "topic", "auto_merge": False, "environment": "review"})
    assert (skipped.status_code, skipped.json()["sha"]) == (201, merge_sha)
    # Shas and tags are never auto-merged; neither is the default branch itself.
    assert api.post(f"{REPO}/deployments", json={"ref": "1" * 40}).status_code == 201
    assert api.post(f"{REPO}/deployments", json={"ref": "main"}).status_code == 201


def test_deployments_wait_for_commit_statuses(gh: GitHubDouble, api: httpx.Client) -> None:
    sha = gh.refs["refs/heads/main"]
    assert api.post(f"{REPO}/deployments", json={"ref": "main"}).status_code == 201  # no statuses at all: nothing fails
    gh.add_commit_status(sha, "ci", "success")
    gh.add_commit_status(sha, "lint", "pending")

    blocked = api.post(f"{REPO}/deployments", json={"ref": "main"})  # omitted required_contexts: every context counts
    assert blocked.status_code == 409
    assert blocked.json()["message"] == "Conflict: Commit status checks failed for main."
    assert blocked.json()["errors"] == [
        {
            "contexts": [{"context": "ci", "state": "success"}, {"context": "lint", "state": "pending"}],
            "resource": "Deployment",
            "field": "required_contexts",
            "code": "invalid",
        }
    ]
    assert api.post(f"{REPO}/deployments", json={"ref": "main", "required_contexts": ["ci"]}).status_code == 201
    assert api.post(f"{REPO}/deployments", json={"ref": "main", "required_contexts": []}).status_code == 201
    not_reported = api.post(f"{REPO}/deployments", json={"ref": sha, "required_contexts": ["security"]})
    assert not_reported.status_code == 409
    assert not_reported.json()["message"] == f"Conflict: Commit status checks failed for {sha}."
    gh.add_commit_status(sha, "lint", "success")
    assert api.post(f"{REPO}/deployments", json={"ref": "main"}).status_code == 201
    assert len(gh.deployments) == 4
    with pytest.raises(ValueError):
        gh.add_commit_status(sha, "ci", "green")


def test_known_commits_only_refuses_shas_the_repository_does_not_have() -> None:
    unknown = "f" * 40
    with GitHubDouble(known_commits_only=True) as gh, client(gh, gh.token) as api:
        missing = api.post(f"{REPO}/git/refs", json={"ref": "refs/tags/v1", "sha": unknown})
        assert (missing.status_code, missing.json()["message"]) == (422, "Object does not exist")
        deploy = api.post(f"{REPO}/deployments", json={"ref": unknown, "required_contexts": []})
        assert (deploy.status_code, deploy.json()["message"]) == (422, f"No ref found for: {unknown}")
        release = api.post(f"{REPO}/releases", json={"tag_name": "v1", "target_commitish": unknown})
        assert (release.status_code, release.json()["errors"][0]["field"]) == (422, "target_commitish")

        gh.add_commit(unknown, "2024-03-01T12:00:00Z", "now it exists")
        pulled = gh.add_pull(head_sha="e" * 40)["head"]["sha"]  # a pull request's head exists too
        for sha in (unknown, pulled):
            assert api.post(f"{REPO}/git/refs", json={"ref": f"refs/tags/at-{sha[:4]}", "sha": sha}).status_code == 201
        assert api.post(f"{REPO}/deployments", json={"ref": unknown, "required_contexts": []}).status_code == 201
        assert gh.violations == []
    with GitHubDouble() as lenient, client(lenient, lenient.token) as api:  # the default: any sha is a commit
        assert api.post(f"{REPO}/git/refs", json={"ref": "refs/tags/v1", "sha": unknown}).status_code == 201


# Body limits


def test_bodies_over_githubs_limits_are_422(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_pull(number=4, head_sha=HEAD_SHA)
    longest = "x" * 65536
    comment = api.post(f"{REPO}/issues/4/comments", json={"body": longest})
    assert comment.status_code == 201
    too_long = api.post(f"{REPO}/issues/4/comments", json={"body": longest + "x"})
    assert too_long.status_code == 422
    assert too_long.json()["message"] == "Validation Failed"
    assert too_long.json()["errors"] == [
        {"resource": "IssueComment", "code": "unprocessable", "field": "data", "message": "Body is too long (maximum is 65536 characters)"}
    ]
    assert api.patch(f"{REPO}/issues/comments/{comment.json()['id']}", json={"body": longest + "x"}).status_code == 422
    assert gh.comments(4)[0]["body"] == longest

    issue = api.post(f"{REPO}/issues", json={"title": "t", "body": longest + "x"})
    assert issue.status_code == 422
    assert issue.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    assert api.patch(f"{REPO}/pulls/4", json={"body": longest + "x"}).status_code == 422

    notes = "n" * 125000
    release = api.post(f"{REPO}/releases", json={"tag_name": "v1", "body": notes})
    assert release.status_code == 201
    for response in (
        api.post(f"{REPO}/releases", json={"tag_name": "v2", "body": notes + "n"}),
        api.patch(release.json()["url"], json={"body": notes + "n"}),
    ):
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"resource": "Release", "code": "custom", "field": "body", "message": "body is too long (maximum is 125000 characters)"}
        ]
    assert gh.releases[0]["body"] == notes


# Git data: blobs, trees, commits, refs


def git_blob_sha(content: bytes) -> str:
    """What ``git hash-object`` prints, computed here so the double's own hashing is not the oracle."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def tree_of(api: httpx.Client, commit: str) -> str:
    return api.get(f"{REPO}/git/commits/{commit}").json()["tree"]["sha"]


def commit_on(api: httpx.Client, parent: str, files: dict[str, str | None], message: str = "change") -> str:
    """A commit on top of parent changing files (None deletes), through the API as a client makes one."""
    entries = [
        {"path": path, "mode": "100644", "type": "blob", **({"sha": None} if content is None else {"content": content})}
        for path, content in files.items()
    ]
    tree = api.post(f"{REPO}/git/trees", json={"base_tree": tree_of(api, parent), "tree": entries})
    assert tree.status_code == 201, tree.text
    commit = api.post(f"{REPO}/git/commits", json={"message": message, "tree": tree.json()["sha"], "parents": [parent]})
    assert commit.status_code == 201, commit.text
    return commit.json()["sha"]


def test_a_branch_is_written_through_blobs_trees_commits_and_refs(gh: GitHubDouble, api: httpx.Client) -> None:
    main = gh.refs["refs/heads/main"]
    snapshot = bytes(range(256))  # binary: only a base64 blob carries it
    blob = api.post(f"{REPO}/git/blobs", json={"content": base64.b64encode(snapshot).decode(), "encoding": "base64"})
    assert blob.status_code == 201
    assert blob.json()["sha"] == git_blob_sha(snapshot)
    assert api.get(f"{REPO}/git/blobs/{blob.json()['sha']}").json()["size"] == 256

    entries = [
        {"path": "data/snapshot.bin", "mode": "100644", "type": "blob", "sha": blob.json()["sha"]},
        {"path": "data/manifest.json", "mode": "100644", "type": "blob", "content": '{"rows": 3}\n'},
    ]
    tree = api.post(f"{REPO}/git/trees", json={"base_tree": tree_of(api, main), "tree": entries})
    assert tree.status_code == 201
    assert [(entry["path"], entry["type"]) for entry in tree.json()["tree"]] == [("data", "tree")]
    commit = api.post(f"{REPO}/git/commits", json={"message": "Snapshot", "tree": tree.json()["sha"], "parents": [main]})
    assert commit.status_code == 201
    assert commit.json()["parents"][0]["sha"] == main
    assert commit.json()["author"]["email"] == "41898282+github-actions[bot]@users.noreply.github.com"

    created = api.post(f"{REPO}/git/refs", json={"ref": "refs/heads/mlops/retrain", "sha": commit.json()["sha"]})
    assert created.status_code == 201
    assert api.get(f"{REPO}/git/ref/heads/mlops/retrain").json()["object"]["sha"] == commit.json()["sha"]
    assert gh.files("mlops/retrain") == {"data/snapshot.bin": snapshot, "data/manifest.json": b'{"rows": 3}\n'}
    assert gh.files("main") == {}  # main is untouched

    # Fast-forward only: a commit on top moves the branch, one beside it does not unless forced.
    ahead = commit_on(api, commit.json()["sha"], {"data/manifest.json": '{"rows": 4}\n'})
    assert api.patch(f"{REPO}/git/refs/heads/mlops/retrain", json={"sha": ahead}).json()["object"]["sha"] == ahead
    beside = commit_on(api, main, {"other.txt": "x"})
    refused = api.patch(f"{REPO}/git/refs/heads/mlops/retrain", json={"sha": beside})
    assert (refused.status_code, refused.json()["message"]) == (422, "Update is not a fast forward")
    assert gh.refs["refs/heads/mlops/retrain"] == ahead
    forced = api.patch(f"{REPO}/git/refs/heads/mlops/retrain", json={"sha": beside, "force": True})
    assert (forced.status_code, gh.refs["refs/heads/mlops/retrain"]) == (200, beside)
    missing = api.patch(f"{REPO}/git/refs/heads/nowhere", json={"sha": beside})
    assert (missing.status_code, missing.json()["message"]) == (422, "Reference does not exist")
    again = api.post(f"{REPO}/git/refs", json={"ref": "refs/heads/mlops/retrain", "sha": ahead})
    assert (again.status_code, again.json()["message"]) == (422, "Reference already exists")


def test_trees_merge_onto_their_base_and_delete_only_what_is_there(gh: GitHubDouble, api: httpx.Client) -> None:
    base = commit_on(api, gh.refs["refs/heads/main"], {"a/one.txt": "1", "a/two.txt": "2", "b.txt": "b"})
    changed = commit_on(api, base, {"a/two.txt": None, "a/three.txt": "3"})
    gh.add_ref("refs/heads/work", changed)
    assert gh.files("work") == {"a/one.txt": b"1", "a/three.txt": b"3", "b.txt": b"b"}
    whole_directory = commit_on(api, changed, {"a": None})
    gh.add_ref("refs/heads/flat", whole_directory)
    assert gh.files("flat") == {"b.txt": b"b"}

    base_tree = tree_of(api, changed)

    def tree(*entries: dict, base: str | None = base_tree) -> httpx.Response:
        return api.post(f"{REPO}/git/trees", json={"tree": list(entries), **({"base_tree": base} if base else {})})

    absent = tree({"path": "a/two.txt", "mode": "100644", "type": "blob", "sha": None})
    assert (absent.status_code, absent.json()["message"]) == (422, "GitRPC::BadObjectState")
    both = tree({"path": "x", "mode": "100644", "type": "blob", "content": "x", "sha": git_blob_sha(b"x")})
    assert both.status_code == 422 and both.json()["message"].startswith("Must supply either tree.sha or tree.content")
    for path in ("../escape", "/abs", "a//b", ".git/config"):
        assert tree({"path": path, "mode": "100644", "type": "blob", "content": "x"}).status_code == 422, path
    unknown_blob = tree({"path": "x", "mode": "100644", "type": "blob", "sha": "e" * 40})
    assert unknown_blob.status_code == 422
    assert tree({"path": "x", "mode": "100644", "type": "blob", "content": "x"}, base="f" * 40).json()["message"] == (
        "base_tree is not a valid tree oid"
    )
    # Without a base tree, the new tree holds only what is listed: the same tree git would write.
    alone = tree({"path": "b.txt", "mode": "100644", "type": "blob", "content": "b"}, base=None)
    expected = hashlib.sha1(b"tree 33\0" + b"100644 b.txt\0" + bytes.fromhex(git_blob_sha(b"b"))).hexdigest()
    assert alone.json()["sha"] == expected


def test_commits_are_checked_and_say_who_made_them(gh: GitHubDouble, api: httpx.Client) -> None:
    main = gh.refs["refs/heads/main"]
    tree = tree_of(api, main)
    no_tree = api.post(f"{REPO}/git/commits", json={"message": "m", "tree": "f" * 40, "parents": [main]})
    assert (no_tree.status_code, no_tree.json()["message"]) == (422, "Tree SHA does not exist")
    short_parent = api.post(f"{REPO}/git/commits", json={"message": "m", "tree": tree, "parents": ["main"]})
    assert short_parent.status_code == 422 and "exactly 40 characters" in short_parent.json()["message"]

    person = {"name": "Alice", "email": "alice@example.com", "date": "2024-05-01T10:00:00+02:00"}
    authored = api.post(f"{REPO}/git/commits", json={"message": "m", "tree": tree, "parents": [main], "author": person}).json()
    assert authored["author"] == {"name": "Alice", "email": "alice@example.com", "date": "2024-05-01T08:00:00Z"}
    assert authored["committer"] == authored["author"]  # the committer defaults to the author
    assert api.get(f"{REPO}/git/commits/{authored['sha']}").json() == authored
    assert api.get(f"{REPO}/git/commits/{'0' * 39}1").status_code == 200  # lenient: an unknown sha is an empty root commit
    with GitHubDouble(known_commits_only=True) as strict, client(strict, strict.token) as strict_api:
        unknown = "e" * 40
        assert strict_api.get(f"{REPO}/git/commits/{unknown}").status_code == 404
        orphan = strict_api.post(f"{REPO}/git/commits", json={"message": "m", "tree": tree, "parents": [unknown]})
        assert (orphan.status_code, orphan.json()["message"]) == (422, "Parent SHA does not exist or is not a commit object")
        assert strict.violations == []


def test_the_commit_list_shows_who_pushed_each_commit_on_a_branch(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.actions_can_create_pull_requests = True
    main = gh.refs["refs/heads/main"]
    ours = commit_on(api, main, {"data/snapshot.csv": "a,b\n"}, "Retraining snapshot")
    assert api.post(f"{REPO}/git/refs", json={"ref": "refs/heads/mlops/retrain", "sha": ours}).status_code == 201
    pull = api.post(f"{REPO}/pulls", json={"title": "Retrain", "head": "mlops/retrain", "base": "main"}).json()
    theirs = gh.push_commit("mlops/retrain", {"data/snapshot.csv": b"a,b\n1,2\n"}, "alice", message="Fix a row")

    listed = api.get(f"{REPO}/commits", params={"sha": "mlops/retrain"}).json()
    assert [commit["sha"] for commit in listed] == [theirs, ours, main]  # newest first
    assert [(commit["author"] or {}).get("login") for commit in listed[:2]] == ["alice", "github-actions[bot]"]
    assert listed[0]["commit"]["message"] == "Fix a row"
    assert [commit["sha"] for commit in api.get(f"{REPO}/commits", params={"sha": "mlops/retrain", "author": "alice"}).json()] == [theirs]
    touched = api.get(f"{REPO}/commits", params={"sha": "mlops/retrain", "path": "data/snapshot.csv"}).json()
    assert [commit["sha"] for commit in touched] == [theirs, ours]
    assert api.get(f"{REPO}/commits", params={"sha": "no-such-branch"}).status_code == 404
    # Compare lists exactly the branch's own commits, oldest first, even when they share a second.
    assert [commit["sha"] for commit in api.get(f"{REPO}/compare/main...mlops/retrain").json()["commits"]] == [ours, theirs]
    # The open pull request follows its branch, as after a push; the person's commit is not a fast-forward's base for ours.
    assert api.get(f"{REPO}/pulls/{pull['number']}").json()["head"]["sha"] == theirs
    stale = api.patch(f"{REPO}/git/refs/heads/mlops/retrain", json={"sha": commit_on(api, ours, {"x": "y"})})
    assert stale.status_code == 422
    assert gh.commit(theirs)["author"]["login"] == "alice"


def test_contents_serve_files_base64_and_leave_large_ones_to_the_blob_api(gh: GitHubDouble, api: httpx.Client) -> None:
    history = b'{"runs": []}\n' * 20
    large = b"z" * (1024 * 1024 + 1)
    gh.push_commit("mlops-reports", {"drift/history.json": history, "drift/large.bin": large}, "github-actions[bot]")

    found = api.get(f"{REPO}/contents/drift/history.json", params={"ref": "mlops-reports"})
    assert found.status_code == 200
    body = found.json()
    assert (body["type"], body["encoding"], body["size"], body["sha"]) == ("file", "base64", len(history), git_blob_sha(history))
    assert all(len(line) <= 60 for line in body["content"].splitlines())  # GitHub wraps base64 at 60 characters
    assert base64.b64decode(body["content"]) == history

    big = api.get(f"{REPO}/contents/drift/large.bin", params={"ref": "mlops-reports"}).json()
    assert (big["content"], big["encoding"], big["size"]) == ("", "none", len(large))
    assert base64.b64decode(api.get(f"{REPO}/git/blobs/{big['sha']}").json()["content"]) == large

    listing = api.get(f"{REPO}/contents/drift", params={"ref": "mlops-reports"}).json()
    assert [(entry["name"], entry["type"]) for entry in listing] == [("history.json", "file"), ("large.bin", "file")]
    assert api.get(f"{REPO}/contents/drift/absent.json", params={"ref": "mlops-reports"}).status_code == 404
    no_ref = api.get(f"{REPO}/contents/drift/history.json", params={"ref": "gone"})
    assert (no_ref.status_code, no_ref.json()["message"]) == (404, "No commit found for the ref gone")
    assert api.get(f"{REPO}/contents/drift/history.json").status_code == 404  # not on the default branch


# Pull requests: duplicates, empty ones, closing and reopening


def test_pull_requests_need_commits_ahead_and_remember_who_closed_them(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.actions_can_create_pull_requests = True
    main = gh.refs["refs/heads/main"]
    gh.add_ref("refs/heads/behind", main)
    empty = api.post(f"{REPO}/pulls", json={"title": "t", "head": "behind", "base": "main"})
    assert (empty.status_code, empty.json()["errors"][0]["message"]) == (422, "No commits between main and behind")

    gh.push_commit("mlops/retrain", {"snapshot.csv": b"1"}, "github-actions[bot]")
    pull = api.post(f"{REPO}/pulls", json={"title": "Retrain", "head": "mlops/retrain", "base": "main"}).json()
    with client(gh, gh.token_for(login="alice")) as alice:
        closed = alice.patch(f"{REPO}/pulls/{pull['number']}", json={"state": "closed"}).json()
    assert closed["state"] == "closed" and closed["merged_at"] is None
    assert api.get(f"{REPO}/issues/{pull['number']}").json()["closed_by"]["login"] == "alice"
    by_head = api.get(f"{REPO}/pulls", params={"head": "acme:mlops/retrain", "state": "closed"}).json()
    assert [item["number"] for item in by_head] == [pull["number"]]

    second = api.post(f"{REPO}/pulls", json={"title": "Retrain again", "head": "mlops/retrain", "base": "main"})
    assert second.status_code == 201  # a closed one does not block a new one
    reopened = api.patch(f"{REPO}/pulls/{pull['number']}", json={"state": "open"})
    assert reopened.status_code == 422
    assert reopened.json()["errors"][0]["message"] == "A pull request already exists for acme:mlops/retrain."

    closed_at = "2024-05-01T10:00:00Z"
    shown = gh.close_pull(second.json()["number"], login="bob", at=closed_at)
    assert (shown["state"], shown["closed_at"]) == ("closed", closed_at)
    assert api.patch(f"{REPO}/pulls/{pull['number']}", json={"state": "open"}).json()["state"] == "open"
    assert api.get(f"{REPO}/issues/{pull['number']}").json()["closed_by"] is None


# Labels


def test_labels_are_unique_whatever_their_case_and_adding_one_creates_it(gh: GitHubDouble, api: httpx.Client) -> None:
    assert api.get(f"{REPO}/labels/retraining").status_code == 404
    created = api.post(f"{REPO}/labels", json={"name": "retraining", "color": "1D76DB", "description": "Opened by monitoring"})
    assert created.status_code == 201
    assert (created.json()["color"], created.json()["description"]) == ("1d76db", "Opened by monitoring")
    assert api.get(f"{REPO}/labels/Retraining").json()["id"] == created.json()["id"]
    duplicate = api.post(f"{REPO}/labels", json={"name": "RETRAINING"})
    assert duplicate.json()["errors"] == [{"resource": "Label", "code": "already_exists", "field": "name"}]
    assert api.post(f"{REPO}/labels", json={"name": "x", "color": "blue"}).status_code == 422
    assert api.post(f"{REPO}/labels", json={"name": "x", "description": "d" * 101}).status_code == 422
    assert api.get(f"{REPO}/labels/{quote('area/ui', safe='')}").status_code == 404

    gh.add_pull(number=8, head_sha=HEAD_SHA)
    with client(gh, gh.token_for(permissions={"pull-requests": "write"})) as pulls_writer:
        added = pulls_writer.post(f"{REPO}/issues/8/labels", json={"labels": ["retraining", "drift"]})
        assert added.status_code == 200
        assert [label["name"] for label in added.json()] == ["retraining", "drift"]
        again = pulls_writer.post(f"{REPO}/issues/8/labels", json={"labels": ["Retraining"]})
        assert [label["name"] for label in again.json()] == ["retraining", "drift"]  # already there, once
    assert {label["name"] for label in gh.labels} == {"retraining", "drift"}  # "drift" was created on the way
    assert [label["name"] for label in gh.pulls[0]["labels"]] == ["retraining", "drift"]
    with client(gh, gh.token_for(permissions={"contents": "write"})) as contents_writer:
        assert_not_accessible(contents_writer.post(f"{REPO}/labels", json={"name": "y"}), "issues/labels#create-a-label")


# Workflow dispatch


def test_dispatches_reach_only_known_dispatchable_workflows_with_their_inputs(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_workflow("pr.yml", dispatch_inputs={"pr_number": {"required": False, "type": "string"}})
    gh.add_workflow("release.yml", dispatch_inputs={"reason": {"required": True}, "kind": {"type": "choice", "options": ["a", "b"]}})
    gh.add_workflow("dora.yml", dispatchable=False)
    gh.push_commit("mlops/retrain", {"snapshot.csv": b"1"}, "github-actions[bot]")

    def dispatch(workflow: str, body: dict) -> httpx.Response:
        return api.post(f"{REPO}/actions/workflows/{workflow}/dispatches", json=body)

    plain = dispatch("pr.yml", {"ref": "mlops/retrain", "inputs": {"pr_number": "7"}})
    assert (plain.status_code, plain.content) == (204, b"")
    detailed = dispatch("pr.yml", {"ref": "mlops/retrain", "inputs": {"pr_number": "7"}, "return_run_details": True})
    assert detailed.status_code == 200
    assert detailed.json()["html_url"] == f"https://github.com/acme/churn-model/actions/runs/{detailed.json()['workflow_run_id']}"

    refusals = {
        "missing.yml": (dispatch("missing.yml", {"ref": "main"}), 404, "Not Found"),
        "not dispatchable": (dispatch("dora.yml", {"ref": "main"}), 422, "Workflow does not have 'workflow_dispatch' trigger"),
        "no such ref": (dispatch("pr.yml", {"ref": "gone"}), 422, "No ref found for: gone"),
        "unexpected": (dispatch("pr.yml", {"ref": "main", "inputs": {"pr": "7"}}), 422, 'Unexpected inputs provided: ["pr"]'),
        "required": (dispatch("release.yml", {"ref": "main"}), 422, "Required input 'reason' not provided"),
        "choice": (dispatch("release.yml", {"ref": "main", "inputs": {"reason": "r", "kind": "c"}}), 422, None),
    }
    for case, (response, status, message) in refusals.items():
        assert response.status_code == status, case
        assert message is None or response.json()["message"] == message, case

    [first, second] = gh.dispatches
    retrain_tip = gh.refs["refs/heads/mlops/retrain"]
    assert (first["workflow"], first["ref"], first["sha"], first["inputs"], first["actor"]) == (
        "pr.yml",
        "refs/heads/mlops/retrain",
        retrain_tip,
        {"pr_number": "7"},
        "github-actions[bot]",
    )
    assert first["event"]["inputs"] == {"pr_number": "7"} and first["event"]["workflow"] == ".github/workflows/pr.yml"
    assert second["run_id"] == detailed.json()["workflow_run_id"]


def test_workflows_are_read_from_a_projects_workflow_files(gh: GitHubDouble, api: httpx.Client, tmp_path) -> None:
    (tmp_path / "pr.yml").write_text(
        "name: PR\non:\n  pull_request:\n  workflow_dispatch:\n    inputs:\n"
        "      pr_number:\n        required: false\n        type: string\n"
    )
    (tmp_path / "release.yml").write_text(
        "on:\n  workflow_dispatch:\n    inputs:\n      dry_run:\n        type: boolean\n        default: false\n"
    )
    (tmp_path / "monitor.yml").write_text("on: [schedule]\n")
    gh.add_workflows_from(tmp_path)
    assert api.post(f"{REPO}/actions/workflows/pr.yml/dispatches", json={"ref": "main"}).status_code == 204
    assert api.post(f"{REPO}/actions/workflows/release.yml/dispatches", json={"ref": "main"}).status_code == 204
    assert api.post(f"{REPO}/actions/workflows/monitor.yml/dispatches", json={"ref": "main"}).status_code == 422
    assert [dispatch["inputs"] for dispatch in gh.dispatches] == [{}, {"dry_run": "false"}]  # defaults filled in


def test_git_writes_and_dispatches_need_their_permissions(gh: GitHubDouble) -> None:
    gh.add_workflow("pr.yml")
    main = gh.refs["refs/heads/main"]
    with client(gh, gh.token_for(permissions={"contents": "read", "pull-requests": "write", "actions": "read"})) as reader:
        assert reader.get(f"{REPO}/git/commits/{main}").status_code == 200
        assert reader.get(f"{REPO}/commits").status_code == 200
        assert_not_accessible(reader.post(f"{REPO}/git/blobs", json={"content": "x"}), "git/blobs#create-a-blob")
        assert_not_accessible(reader.post(f"{REPO}/git/trees", json={"tree": []}), "git/trees#create-a-tree")
        assert_not_accessible(reader.post(f"{REPO}/git/commits", json={"message": "m", "tree": "t"}), "git/commits#create-a-commit")
        assert_not_accessible(reader.patch(f"{REPO}/git/refs/heads/main", json={"sha": main}), "git/refs#update-a-reference")
        assert_not_accessible(
            reader.post(f"{REPO}/actions/workflows/pr.yml/dispatches", json={"ref": "main"}),
            "actions/workflows#create-a-workflow-dispatch-event",
        )
    with client(gh, gh.token_for(permissions={"actions": "write"})) as dispatcher:
        assert dispatcher.post(f"{REPO}/actions/workflows/pr.yml/dispatches", json={"ref": "main"}).status_code == 204
        assert_not_accessible(dispatcher.get(f"{REPO}/contents/README.md"), "repos/contents#get-repository-content")
    assert len(gh.dispatches) == 1 and gh.refs["refs/heads/main"] == main


# Repository settings: visibility, owner, plan, Actions' workflow permissions


PULLS_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
WORKFLOW_PERMISSIONS = f"{REPO}/actions/permissions/workflow"


def test_visibility_and_owner_show_in_the_repository_as_github_shows_them() -> None:
    with GitHubDouble() as gh, client(gh, gh.token) as api:  # the defaults: a new personal public repository
        shown = api.get(REPO).json()
        assert (shown["private"], shown["visibility"], shown["owner"]["type"]) == (False, "public", "User")
        assert "organization" not in shown
        assert gh.violations == []
    with GitHubDouble(visibility="private", owner_type="Organization", plan="team") as gh, client(gh, gh.token) as api:
        shown = api.get(REPO).json()
        assert (shown["private"], shown["visibility"], shown["owner"]["type"]) == (True, "private", "Organization")
        assert shown["organization"]["login"] == "acme"
        assert gh.violations == []
    with GitHubDouble(visibility="internal", owner_type="Organization", plan="enterprise_cloud") as gh, client(gh, gh.token) as api:
        shown = api.get(REPO).json()
        assert (shown["private"], shown["visibility"]) == (True, "internal")  # internal: private to outsiders
        assert gh.violations == []


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"visibility": "internal"}, "internal repositories belong to organizations"),
        ({"visibility": "secret"}, "visibility='secret'"),
        ({"owner_type": "Enterprise"}, "owner_type='Enterprise'"),
        ({"plan": "team"}, "organization's plan"),
        ({"plan": "enterprise_cloud"}, "organization's plan"),
        ({"owner_type": "Organization", "plan": "pro"}, "personal account's plan"),
        ({"default_workflow_permissions": "admin"}, "default_workflow_permissions='admin'"),
    ],
)
def test_settings_github_does_not_offer_are_refused(settings: dict, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        GitHubDouble(**settings)


def test_anonymous_calls_are_401_on_a_public_repository_and_404_on_a_private_one() -> None:
    with GitHubDouble() as public:
        assert httpx.get(f"{public.url}{REPO}", timeout=5.0).status_code == 401
    with GitHubDouble(visibility="private") as private:
        hidden = httpx.get(f"{private.url}{REPO}/releases", timeout=5.0)
        assert (hidden.status_code, hidden.json()["message"]) == (404, "Not Found")
        assert private.violations == []


def test_github_token_cannot_open_pull_requests_until_the_repository_allows_it(gh: GitHubDouble, api: httpx.Client) -> None:
    assert gh.actions_can_create_pull_requests is False  # GitHub's default
    for branch in ("feat", "by-person", "by-app", "later"):
        gh.add_ref(f"refs/heads/{branch}", hashlib.sha1(branch.encode()).hexdigest())
    refused = api.post(f"{REPO}/pulls", json={"title": "Retrain", "head": "feat", "base": "main"})
    assert refused.status_code == 403
    assert refused.json() == {
        "message": "GitHub Actions is not permitted to create or approve pull requests.",
        "documentation_url": PULLS_DOCS,
        "status": "403",
    }
    with client(gh, gh.token_for(permissions={"contents": "write", "pull-requests": "write"})) as job:
        assert job.post(f"{REPO}/pulls", json={"title": "Retrain", "head": "feat", "base": "main"}).status_code == 403
    with client(gh, gh.token_for(permissions={"contents": "write"})) as without:  # the permission is checked first
        assert_not_accessible(
            without.post(f"{REPO}/pulls", json={"title": "t", "head": "feat", "base": "main"}), "pulls/pulls#create-a-pull-request"
        )
    assert gh.pulls == []

    # A person's token and another app's installation are not GitHub Actions.
    with client(gh, gh.token_for(login="alice")) as alice, client(gh, gh.token_for(login="my-app[bot]")) as app:
        assert alice.post(f"{REPO}/pulls", json={"title": "By hand", "head": "by-person", "base": "main"}).status_code == 201
        assert app.post(f"{REPO}/pulls", json={"title": "By app", "head": "by-app", "base": "main"}).status_code == 201

    gh.actions_can_create_pull_requests = True  # ticked later: the next request sees it
    assert api.post(f"{REPO}/pulls", json={"title": "Now", "head": "later", "base": "main"}).status_code == 201
    assert [(pull["head"]["ref"], pull["user"]["login"]) for pull in gh.pulls] == [
        ("by-person", "alice"),
        ("by-app", "my-app[bot]"),
        ("later", "github-actions[bot]"),
    ]


def test_workflow_permissions_need_administration_which_no_workflow_job_can_be_given(gh: GitHubDouble, api: httpx.Client) -> None:
    assert_not_accessible(api.get(WORKFLOW_PERMISSIONS), "actions/permissions#get-default-workflow-permissions-for-a-repository")
    with client(gh, gh.token_for(permissions="write-all")) as everything:  # write-all covers GITHUB_TOKEN's permissions only
        assert everything.get(WORKFLOW_PERMISSIONS).status_code == 403
    with pytest.raises(ValueError, match="Unexpected value 'administration'"):
        gh.token_for(permissions={"administration": "read"})  # GitHub refuses such a workflow file

    with client(gh, gh.token_for(login="octocat", permissions="write-all")) as admin:
        shown = admin.get(WORKFLOW_PERMISSIONS)
        assert shown.json() == {"default_workflow_permissions": "write", "can_approve_pull_request_reviews": False}
        assert admin.put(WORKFLOW_PERMISSIONS, json={"can_approve_pull_request_reviews": True}).status_code == 204
    assert gh.actions_can_create_pull_requests is True
    with client(gh, gh.token_for(login="reader", permissions={"administration": "read"})) as reader:
        assert reader.get(WORKFLOW_PERMISSIONS).json()["can_approve_pull_request_reviews"] is True
        assert_not_accessible(
            reader.put(WORKFLOW_PERMISSIONS, json={"can_approve_pull_request_reviews": False}),
            "actions/permissions#set-default-workflow-permissions-for-a-repository",
        )
    gh.add_ref("refs/heads/feat", HEAD_SHA)
    assert api.post(f"{REPO}/pulls", json={"title": "Retrain", "head": "feat", "base": "main"}).status_code == 201

    with client(gh, gh.token_for(login="my-app[bot]", permissions={"administration": "write"})) as app:
        invalid = app.put(WORKFLOW_PERMISSIONS, json={"default_workflow_permissions": "admin"})
        assert invalid.status_code == 422
        assert app.put(WORKFLOW_PERMISSIONS, json={"default_workflow_permissions": "read"}).status_code == 204
    assert gh.default_workflow_permissions == "read"
    # The double refuses "admin"; the checker flags the request, and the 422 the description does not list for it.
    problems = take_violations(gh)
    assert len(problems) == 2
    assert "'admin' is not one of ['read', 'write']" in problems[0] and "status 422 is not documented" in problems[1]


def test_a_restricted_default_gives_a_job_without_a_permissions_block_read_access_to_contents_only() -> None:
    with GitHubDouble(default_workflow_permissions="read") as gh, client(gh, gh.token) as api:
        assert api.get(f"{REPO}/releases").status_code == 200
        assert_not_accessible(api.post(f"{REPO}/releases", json={"tag_name": "v1"}), "releases/releases#create-a-release")
        assert_not_accessible(api.get(f"{REPO}/issues"), "issues/issues#list-repository-issues")
        with client(gh, gh.token_for()) as job:  # any job without a block
            assert job.post(f"{REPO}/releases", json={"tag_name": "v1"}).status_code == 403
        with client(gh, gh.token_for(permissions={"contents": "write"})) as granted:  # a block overrides the default
            assert granted.post(f"{REPO}/releases", json={"tag_name": "v1"}).status_code == 201
        assert gh.violations == []


# Artifact attestations: storing them


def sigstore_bundle(*subjects: tuple[str, bytes], predicate_type: str = "https://slsa.dev/provenance/v1") -> dict:
    """A bundle shaped as actions/attest posts it: an in-toto statement, base64 in a DSSE envelope (unsigned here)."""
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hashlib.sha256(content).hexdigest()}} for name, content in subjects],
        "predicateType": predicate_type,
        "predicate": {"buildDefinition": {}, "runDetails": {}},
    }
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "MIIB"}, "tlogEntries": []},
        "dsseEnvelope": {"payload": payload, "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "MEUC"}]},
    }


def digest_of(content: bytes) -> str:
    return f"sha256:{hashlib.sha256(content).hexdigest()}"


def test_posted_attestations_are_listed_under_each_subject_digest(gh: GitHubDouble, api: httpx.Client) -> None:
    bundle = sigstore_bundle(("model.tar.gz", b"model"), ("report.md", b"report"))
    created = api.post(f"{REPO}/attestations", json={"bundle": bundle})
    assert created.status_code == 201
    first_id = created.json()["id"]
    assert isinstance(first_id, int) and created.json() == {"id": first_id}
    again = api.post(f"{REPO}/attestations", json={"bundle": sigstore_bundle(("model.tar.gz", b"model"))}).json()["id"]
    assert again != first_id

    model = api.get(f"{REPO}/attestations/{digest_of(b'model')}").json()["attestations"]
    assert [item["bundle"] for item in model] == [bundle, sigstore_bundle(("model.tar.gz", b"model"))]
    assert model[0]["repository_id"] == api.get(REPO).json()["id"]
    assert len(api.get(f"{REPO}/attestations/{digest_of(b'report')}").json()["attestations"]) == 1
    assert api.get(f"{REPO}/attestations/{digest_of(b'other')}").status_code == 404

    [first, second] = gh.attestations
    assert first["id"] == first_id and second["id"] == again
    assert first["subjects"] == [
        {"name": "model.tar.gz", "digest": digest_of(b"model")},
        {"name": "report.md", "digest": digest_of(b"report")},
    ]
    assert (first["predicate_type"], first["login"], first["bundle"]) == ("https://slsa.dev/provenance/v1", "github-actions[bot]", bundle)

    with client(gh, gh.token_for(permissions={"attestations": "read", "id-token": "write"})) as reader:
        refused = reader.post(f"{REPO}/attestations", json={"bundle": bundle})
        assert_not_accessible(refused, "repos/attestations#create-an-attestation")
    assert len(gh.attestations) == 2


USER_PRIVATE = "Feature not available for user-owned private repositories. To enable this feature, please make this repository public."
ORG_PRIVATE = (
    "Feature not available for the acme organization. "
    "To enable this feature, please upgrade the billing plan, or make this repository public."
)


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({}, None),  # public, personal, free: attestations on every current plan
        ({"owner_type": "Organization"}, None),
        ({"visibility": "private"}, USER_PRIVATE),
        ({"visibility": "private", "plan": "pro"}, USER_PRIVATE),  # no personal plan has them for private repositories
        ({"visibility": "private", "owner_type": "Organization"}, ORG_PRIVATE),
        ({"visibility": "private", "owner_type": "Organization", "plan": "team"}, ORG_PRIVATE),
        ({"visibility": "private", "owner_type": "Organization", "plan": "enterprise_cloud"}, None),
        ({"visibility": "internal", "owner_type": "Organization", "plan": "enterprise_cloud"}, None),
    ],
)
def test_attestations_need_a_public_repository_or_enterprise_cloud(settings: dict, refusal: str | None) -> None:
    with GitHubDouble(**settings) as gh, client(gh, gh.token) as api:
        answer = api.post(f"{REPO}/attestations", json={"bundle": sigstore_bundle(("model.tar.gz", b"model"))})
        if refusal is None:
            assert answer.status_code == 201
            assert [attestation["subjects"][0]["digest"] for attestation in gh.attestations] == [digest_of(b"model")]
        else:
            assert answer.status_code == 422
            docs = "https://docs.github.com/rest/repos/attestations#create-an-attestation"
            assert answer.json() == {"message": refusal, "documentation_url": docs, "status": "422"}
            # The plan is checked before the bundle is read: a broken one gets the same answer.
            assert api.post(f"{REPO}/attestations", json={"bundle": {"mediaType": "x"}}).json()["message"] == refusal
            assert gh.attestations == []
            assert api.get(f"{REPO}/attestations/{digest_of(b'model')}").status_code == 404
        assert gh.violations == []


def test_a_bundle_without_an_in_toto_statement_is_refused(gh: GitHubDouble, api: httpx.Client) -> None:
    good = sigstore_bundle(("model.tar.gz", b"model"))
    envelope = good["dsseEnvelope"]

    def encoded(statement: dict) -> str:
        return base64.b64encode(json.dumps(statement).encode()).decode()

    broken = [
        {**good, "mediaType": "application/json"},
        {**good, "dsseEnvelope": {**envelope, "payloadType": "text/plain"}},
        {**good, "dsseEnvelope": {**envelope, "payload": "not base64!"}},
        {**good, "dsseEnvelope": {**envelope, "payload": encoded({"_type": "something else", "subject": []})}},
        {**good, "dsseEnvelope": {**envelope, "payload": encoded({"_type": "https://in-toto.io/Statement/v1", "subject": []})}},
        {
            **good,
            "dsseEnvelope": {
                **envelope,
                "payload": encoded({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "m", "digest": {"sha1": "ab" * 20}}]}),
            },
        },
    ]
    for bundle in broken:
        answer = api.post(f"{REPO}/attestations", json={"bundle": bundle})
        assert answer.status_code == 400, bundle
        assert answer.json()["message"].startswith("Invalid bundle: ")
    missing = api.post(f"{REPO}/attestations", json={})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"resource": "Attestation", "code": "missing_field", "field": "bundle"}]
    assert [problem.split(": ", 1)[1] for problem in take_violations(gh)] == ["request body: $: 'bundle' is a required property"]
    assert gh.attestations == []


# Hosts: uploads on their own origin (github.com), one host with /api/v3 and /api/uploads (GitHub Enterprise Server)


def test_uploads_are_served_by_their_own_origin_only_and_need_a_token(gh: GitHubDouble, api: httpx.Client) -> None:
    release = api.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
    on_api = api.post(f"{REPO}/releases/{release['id']}/assets", params={"name": "a.bin"}, content=b"1", headers={"Content-Type": "a/b"})
    assert on_api.status_code == 404
    [problem] = take_violations(gh)
    assert "this operation is served by the uploads host (the release's upload_url), not by this one" in problem
    on_uploads = api.get(f"{gh.uploads_url}{REPO}")  # the uploads host serves uploads, nothing else
    assert on_uploads.status_code == 404
    [problem] = take_violations(gh)
    assert "this operation is served by the API's host, not by this one" in problem

    target = upload_target(release)
    anonymous = httpx.post(target, params={"name": "a.bin"}, content=b"1", headers={"Content-Type": "application/octet-stream"})
    assert (anonymous.status_code, anonymous.json()["message"]) == (401, "Requires authentication")
    wrong = httpx.post(target, params={"name": "a.bin"}, content=b"1", headers={"Content-Type": "a/b", "Authorization": "Bearer ghs_x"})
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Bad credentials")
    assert gh.releases[0]["assets"] == []

    gh.fail_next("POST", r"/assets$", status=502)  # faults reach the uploads host too
    assert upload(api, release, b"1", name="a.bin").status_code == 502
    assert upload(api, release, b"1", name="a.bin").status_code == 201
    assert [(call.host, call.status) for call in gh.calls if call.method == "POST" and call.path.endswith("/assets")] == [
        ("api", 404),
        ("uploads", 401),
        ("uploads", 401),
        ("uploads", 502),
        ("uploads", 201),
    ]
    assert gh.calls[-1].login == "github-actions[bot]"


def test_an_anonymous_upload_to_a_private_repository_is_404() -> None:
    with GitHubDouble(visibility="private") as gh, client(gh, gh.token) as api:
        release = api.post(f"{REPO}/releases", json={"tag_name": "v1"}).json()
        anonymous = httpx.post(upload_target(release), params={"name": "a.bin"}, content=b"1", headers={"Content-Type": "a/b"})
        assert (anonymous.status_code, anonymous.json()["message"]) == (404, "Not Found")
        assert upload(api, release, b"1", name="a.bin").status_code == 201
        assert gh.violations == []


def test_enterprise_server_serves_api_and_uploads_under_its_prefixes_on_one_host_without_attestations() -> None:
    with GitHubDouble(flavour="ghes") as gh, client(gh, gh.token) as api:
        origin = gh.url.removesuffix("/api/v3")
        assert gh.url.endswith("/api/v3") and gh.uploads_url == f"{origin}/api/uploads"
        shown = api.get(f"{gh.url}{REPO}").json()
        assert shown["url"] == f"{gh.url}{REPO}" and shown["html_url"] == f"{origin}/acme/churn-model"
        assert shown["clone_url"] == f"{origin}/acme/churn-model.git"

        release = api.post(f"{gh.url}{REPO}/releases", json={"tag_name": "v1"}).json()
        assert release["upload_url"] == f"{origin}/api/uploads/repos/acme/churn-model/releases/{release['id']}/assets{{?name,label}}"
        assert release["html_url"] == f"{origin}/acme/churn-model/releases/tag/v1"
        asset = upload(api, release, b"model", name="model.bin").json()
        assert asset["url"] == f"{gh.url}{REPO}/releases/assets/{asset['id']}"
        downloaded = api.get(asset["url"], headers={"Accept": "application/octet-stream"}, follow_redirects=True)
        assert downloaded.content == b"model"

        for number in range(3):
            api.post(f"{gh.url}{REPO}/issues", json={"title": f"issue {number}"})
        page = api.get(f"{gh.url}{REPO}/issues", params={"per_page": 1})
        assert page.links["next"]["url"] == f"{gh.url}{REPO}/issues?per_page=1&page=2"
        assert len(api.get(page.links["next"]["url"]).json()) == 1

        gh.push_commit("main", {"confs/model.yaml": b"a: 1\n"})
        content = api.get(f"{gh.url}{REPO}/contents/confs/model.yaml").json()
        assert content["download_url"] == f"{origin}/acme/churn-model/raw/main/confs/model.yaml"

        # No attestations on GHES: 404 before any permission is looked at
        with client(gh, gh.token_for(permissions={})) as bare:
            assert bare.get(f"{gh.url}{REPO}/attestations/sha256:{'ab' * 32}").status_code == 404
        bundle = {"bundle": {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}}
        assert api.post(f"{gh.url}{REPO}/attestations", json=bundle).status_code == 404
        assert gh.attestations == []
        assert gh.violations == []

        assert {call.host for call in gh.calls} == {"api", "storage"}
        assert all(call.path.startswith(("/api/v3/", "/api/uploads/")) for call in gh.calls if call.host == "api")

        # The github.com paths are nothing on GHES, nor is an upload under the API's prefix
        assert api.get(f"{origin}{REPO}").status_code == 404
        assert upload(api, {"upload_url": f"{gh.url}{REPO}/releases/{release['id']}/assets"}, b"x", name="x").status_code == 404
        problems = take_violations(gh)
        assert len(problems) == 2
        assert "not under /api/v3 or /api/uploads" in problems[0] and "served by the uploads host" in problems[1]


def test_the_flavour_is_github_com_or_enterprise_server() -> None:
    with pytest.raises(ValueError, match="flavour='gitlab'"):
        GitHubDouble(flavour="gitlab")
    assert GitHubDouble().flavour == "github.com"


# Who may say what: collaborators, members, author associations, issue events


def permission_of(api: httpx.Client, login: str) -> tuple[int, dict]:
    answer = api.get(f"{REPO}/collaborators/{login}/permission")
    return answer.status_code, answer.json()


def test_author_association_follows_the_authors_standing_in_the_repository(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_collaborator("bob")
    gh.push_commit("main", {"data/fix.csv": b"1\n"}, "carol")  # carol has a commit on the default branch
    gh.push_commit("feature", {"data/other.csv": b"1\n"}, "frank")  # frank only on another branch
    numbers = {login: gh.add_issue(f"by {login}", user=login)["number"] for login in ("acme", "bob", "carol", "frank", "dave")}
    gh.add_comment(numbers["dave"], "me too", login="bob")
    api.post(f"{REPO}/issues/{numbers['dave']}/comments", json={"body": "bot"})
    pull = gh.add_pull(head_ref="bobs", user="bob")

    shown = {issue["user"]["login"]: issue["author_association"] for issue in api.get(f"{REPO}/issues", params={"state": "all"}).json()}
    assert shown == {"acme": "OWNER", "bob": "COLLABORATOR", "carol": "CONTRIBUTOR", "frank": "NONE", "dave": "NONE"}
    comments = api.get(f"{REPO}/issues/{numbers['dave']}/comments").json()
    assert [(c["user"]["login"], c["author_association"]) for c in comments] == [("bob", "COLLABORATOR"), ("github-actions[bot]", "NONE")]
    assert api.get(f"{REPO}/pulls/{pull['number']}").json()["author_association"] == "COLLABORATOR"

    gh.add_collaborator("dave")  # computed when shown: dave's earlier issue now says so too
    assert api.get(f"{REPO}/issues/{numbers['dave']}").json()["author_association"] == "COLLABORATOR"


def test_organization_members_show_as_members_whatever_else_they_are() -> None:
    with GitHubDouble(owner_type="Organization", plan="team") as gh, client(gh, gh.token) as api:
        gh.add_member("erin")
        gh.add_member("olga", role="owner")
        gh.add_member("mia")
        gh.add_collaborator("mia", "maintain")
        gh.add_collaborator("otto", "triage")  # an outside collaborator
        for login in ("erin", "olga", "mia", "otto", "nobody"):
            gh.add_issue(f"by {login}", user=login)
        shown = {issue["user"]["login"]: issue["author_association"] for issue in api.get(f"{REPO}/issues").json()}
        assert shown == {"erin": "MEMBER", "olga": "MEMBER", "mia": "MEMBER", "otto": "COLLABORATOR", "nobody": "NONE"}
        assert gh.violations == []


def test_the_permission_endpoint_maps_roles_to_base_permissions() -> None:
    with GitHubDouble(visibility="private", owner_type="Organization", plan="team") as gh, client(gh, gh.token) as api:
        for role in ("read", "triage", "write", "maintain", "admin"):
            gh.add_collaborator(f"{role}-person", role)
        gh.add_member("erin")
        gh.add_member("olga", role="owner")
        gh.add_user("zed")
        expected = {
            "read-person": ("read", "read"),
            "triage-person": ("read", "triage"),  # triage maps to read
            "write-person": ("write", "write"),
            "maintain-person": ("write", "maintain"),  # maintain maps to write
            "admin-person": ("admin", "admin"),
            "erin": ("read", "read"),  # the organization's base permission
            "olga": ("admin", "admin"),  # an organization owner
            "zed": ("none", ""),  # an account without access to the private repository
        }
        for login, (permission, role_name) in expected.items():
            status, body = permission_of(api, login)
            assert (status, body["permission"], body["role_name"], body["user"]["login"]) == (200, permission, role_name, login)
            assert body["user"]["role_name"] == role_name
        assert permission_of(api, "maintain-person")[1]["user"]["permissions"] == {
            "pull": True,
            "triage": True,
            "push": True,
            "maintain": True,
            "admin": False,
        }
        assert permission_of(api, "never-seen")[0] == 404  # an account the double does not know
        assert permission_of(api, "acme")[0] == 404  # the organization is not a user
        assert gh.violations == []


def test_the_permission_endpoint_on_a_personal_public_repository_and_who_may_ask(gh: GitHubDouble, api: httpx.Client) -> None:
    gh.add_collaborator("bob")
    gh.add_user("zed")
    assert [permission_of(api, login)[1]["permission"] for login in ("acme", "bob", "zed")] == ["admin", "write", "read"]
    assert permission_of(api, "zed")[1]["role_name"] == "read"  # anyone reads a public repository
    with client(gh, gh.token_for(permissions={})) as metadata_only:  # an app's token needs metadata only
        assert permission_of(metadata_only, "bob")[0] == 200
    with client(gh, gh.token_for(login="zed")) as outsider:  # a person needs push access
        status, body = permission_of(outsider, "bob")
        assert (status, body["message"]) == (403, "Must have push access to view collaborator permission.")
    with client(gh, gh.token_for(login="bob")) as collaborator, client(gh, gh.token_for(login="acme")) as owner:
        assert permission_of(collaborator, "zed")[0] == permission_of(owner, "zed")[0] == 200

    with pytest.raises(ValueError, match="one role, write"):
        gh.add_collaborator("carol", "admin")
    with pytest.raises(ValueError, match="only an organization has members"):
        gh.add_member("carol")
    with pytest.raises(ValueError, match="cannot be a collaborator"):
        gh.add_collaborator("acme")
    with pytest.raises(ValueError, match="cannot be a collaborator"):
        gh.add_collaborator("renovate[bot]")
    with pytest.raises(ValueError, match="role='owner'"):
        GitHubDouble(owner_type="Organization").add_collaborator("carol", "owner")


def labelled(events: list[dict]) -> list[tuple[str, str, str]]:
    return [(event["event"], event["label"]["name"], event["actor"]["login"]) for event in events]


def test_issue_events_record_who_labelled_what_and_when(gh: GitHubDouble, api: httpx.Client) -> None:
    opened = api.post(f"{REPO}/issues", json={"title": "Drift", "labels": ["drift", "monitoring"]}).json()
    number = opened["number"]
    gh.label_issue(number, "incident", by="alice", at="2025-07-01T09:00:00Z")
    with client(gh, gh.token_for(login="bob")) as bob:
        assert bob.post(f"{REPO}/issues/{number}/labels", json={"labels": ["Incident", "triaged"]}).status_code == 200
    assert api.patch(f"{REPO}/issues/{number}", json={"labels": ["incident", "triaged"]}).status_code == 200
    gh.unlabel_issue(number, "incident", by="alice")

    events = api.get(f"{REPO}/issues/{number}/events").json()
    assert labelled(events) == [
        ("labeled", "drift", "github-actions[bot]"),
        ("labeled", "monitoring", "github-actions[bot]"),
        ("labeled", "incident", "alice"),
        ("labeled", "triaged", "bob"),  # "Incident" was there already, whatever its case
        ("unlabeled", "drift", "github-actions[bot]"),
        ("unlabeled", "monitoring", "github-actions[bot]"),
        ("unlabeled", "incident", "alice"),
    ]
    assert events[2]["created_at"] == "2025-07-01T09:00:00Z" and events[2]["label"]["color"] == "ededed"
    assert events[0]["actor"]["type"] == "Bot" and events[2]["actor"]["type"] == "User"
    assert len({event["id"] for event in events}) == 7 and all(event["commit_id"] is None for event in events)
    assert gh.issue_events(number) == events
    assert [label["name"] for label in api.get(f"{REPO}/issues/{number}").json()["labels"]] == ["triaged"]

    seeded = gh.add_issue("Outage", labels=["incident"], user="carol", created_at="2025-06-01T00:00:00Z")
    assert [(e["event"], e["label"]["name"], e["actor"]["login"], e["created_at"]) for e in gh.issue_events(seeded["number"])] == [
        ("labeled", "incident", "carol", "2025-06-01T00:00:00Z")
    ]
    assert api.get(f"{REPO}/issues/999/events").status_code == 404
    with pytest.raises(ValueError, match="no label 'drift'"):
        gh.unlabel_issue(number, "drift")
    with pytest.raises(ValueError, match="no issue or pull request #999"):
        gh.label_issue(999, "x")


def test_issue_events_paginate_and_follow_the_issue_or_pull_request_permissions(gh: GitHubDouble, api: httpx.Client) -> None:
    pull = gh.add_pull(head_ref="feat")
    for index in range(35):
        gh.label_issue(pull["number"], f"label-{index}", by="alice")
    first = api.get(f"{REPO}/issues/{pull['number']}/events")
    assert len(first.json()) == 30 and set(first.links) == {"next", "last"}
    rest = api.get(first.links["next"]["url"]).json()
    assert [event["label"]["name"] for event in rest] == [f"label-{index}" for index in range(30, 35)]
    with client(gh, gh.token_for(permissions={"pull-requests": "read"})) as pulls_reader:
        assert pulls_reader.get(f"{REPO}/issues/{pull['number']}/events").status_code == 200
    with client(gh, gh.token_for(permissions={"contents": "read"})) as neither:
        assert_not_accessible(neither.get(f"{REPO}/issues/{pull['number']}/events"), "issues/events#list-issue-events")
