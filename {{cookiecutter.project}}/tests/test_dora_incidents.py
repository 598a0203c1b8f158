"""Which incidents `mlops dora` counts, and what it asks GitHub to find out (over an in-process HTTP transport).

The incident issue form labels an issue from anyone. By default an incident counts when GitHub calls
its author the owner, a member or a collaborator, or when whoever last added the label has at least
triage access; only the issues that need it cost more calls (their events, and once per labeller,
a permission look-up).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from {{ cookiecutter.package }}.config import DoraConfig
from {{ cookiecutter.package }}.io.github import GitHub, GitHubContext
from {{ cookiecutter.package }}.jobs import dora as job

from tests.conftest import PROJECT_SETTINGS

UNTIL = datetime(2026, 6, 1, tzinfo=UTC)
PERMISSIONS = {
    "triager": {"triage": True, "pull": True},
    "reader": {"pull": True},
}


def issue(number: int, login: str, association: str) -> dict:
    return {
        "number": number,
        "title": f"incident {number}",
        "state": "closed",
        "created_at": "2026-05-10T00:00:00Z",
        "closed_at": "2026-05-10T02:00:00Z",
        "user": {"login": login},
        "author_association": association,
        "body": "",
    }


ISSUES = [
    issue(1, "maintainer", "MEMBER"),  # counts on GitHub's word alone
    issue(2, "eve", "NONE"),  # labelled by the form, as eve: not counted
    issue(3, "visitor", "CONTRIBUTOR"),  # relabelled by a triager: counts
    issue(4, "visitor", "NONE"),  # the same triager again: no second permission look-up
    issue(5, "mallory", "NONE"),  # relabelled by a reader: not counted
]
LABELLERS = {2: "eve", 3: "triager", 4: "triager", 5: "reader"}


def serve(seen: list[httpx.Request]):
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path.removeprefix("/repos/acme/model")
        if path == "/issues":
            return httpx.Response(200, json=ISSUES)
        if path.startswith("/issues/") and path.endswith("/events"):
            number = int(path.split("/")[2])
            events = [{"event": "labeled", "label": {"name": "incident"}, "actor": {"login": login}} for login in ("x", LABELLERS[number])]
            return httpx.Response(200, json=events)
        if path.startswith("/collaborators/"):
            login = path.split("/")[2]
            if login not in PERMISSIONS:
                return httpx.Response(404, json={"message": "Not Found"})
            flags = {"admin": False, "maintain": False, "push": False, "triage": False, "pull": False} | PERMISSIONS[login]
            return httpx.Response(200, json={"permission": "read", "role_name": "read", "user": {"login": login, "permissions": flags}})
        return httpx.Response(200, json=[])  # deployments, commits, pull requests: none

    return handler


def collect(incident_authors: str) -> tuple[dict[int, str], list[str]]:
    seen: list[httpx.Request] = []
    settings = PROJECT_SETTINGS.model_copy(update={"dora": DoraConfig(incident_authors=incident_authors)})
    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token="ghs_" + "x" * 36)
    with GitHub(context, transport=httpx.MockTransport(serve(seen))) as github:
        events, _ = job.collect(github, settings, UNTIL, timedelta(days=30))
    calls = [request.url.path.removeprefix("/repos/acme/model") for request in seen]
    return {incident.number: incident.ignored for incident in events.incidents}, calls


def test_only_incidents_declared_by_someone_with_triage_access_count():
    ignored, calls = collect("triage")
    assert {number for number, why in ignored.items() if not why} == {1, 3, 4}
    assert ignored[2] == "author none, label added by eve without triage access"
    assert ignored[5] == "author none, label added by reader without triage access"
    # Events only for the issues GitHub does not vouch for; each labeller's permission once
    assert [call for call in calls if call.endswith("/events")] == [f"/issues/{n}/events" for n in (2, 3, 4, 5)]
    assert sorted(call for call in calls if call.startswith("/collaborators/")) == [
        "/collaborators/eve/permission",
        "/collaborators/reader/permission",
        "/collaborators/triager/permission",
    ]


def test_with_anyone_every_labelled_issue_counts_and_nothing_more_is_asked():
    ignored, calls = collect("anyone")
    assert set(ignored) == {1, 2, 3, 4, 5} and not any(ignored.values())
    assert not any(call.endswith("/events") or call.startswith("/collaborators/") for call in calls)
