"""Issues, pull requests, their comments and labels (the issues list leaves pull requests out here)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from ...errors import InputError
from .client import (
    ACTIONS_BOT,
    PULL_STATES,
    Client,
    GitHubError,
    api_path,
    as_object,
    checked,
    checked_ref,
    checked_sha,
    comment_author,
    failure,
    json_body,
)

# GitHub's limit: 100 characters of label description.
MAX_LABEL_DESCRIPTION = 100
# GitHub's 403 to GITHUB_TOKEN when "Allow GitHub Actions to create and approve pull requests" is off (the
# default for a personal repository; an organisation's own setting must allow it before a repository's can).
ACTIONS_MAY_NOT_OPEN_PULLS = "GitHub Actions is not permitted to create or approve pull requests"


class PullRequestsNotAllowed(GitHubError):
    """GitHub does not let this token (the Actions bot's) open pull requests in this repository."""


class IssuesAndPulls(Client):
    """Issues, pull requests, comments and labels."""

    def pulls_for_commit(self, sha: str) -> list[dict[str, Any]]:
        """The pull requests a commit belongs to (its head's sha and the pull request's number and URL checked)."""
        pulls = [
            checked(pull, "pull request", number="int", html_url="str", head="object")
            for pull in self.paginate(f"{self.repo_path}/commits/{checked_sha(sha, 'commit')}/pulls")
        ]
        for pull in pulls:
            checked(pull["head"], "pull request head", sha="str")
        return pulls

    def comments(self, issue_number: int) -> Iterator[dict[str, Any]]:
        """An issue's or pull request's comments, oldest first."""
        return (
            checked(comment, "comment", id="int", body="str?", user="object?")
            for comment in self.paginate(f"{self.repo_path}/issues/{int(issue_number)}/comments")
        )

    def upsert_comment(
        self, issue_number: int, marker: str, body: str, *, bot_logins: frozenset[str] = frozenset({ACTIONS_BOT})
    ) -> tuple[dict[str, Any], bool]:
        """Update our comment that starts with ``marker``, or create it: one comment per PR, ever.

        Ours: written by one of ``bot_logins``, the identity the token acts as (``github-actions[bot]``
        for GITHUB_TOKEN; an app's ``<slug>[bot]``). A comment anyone else wrote is never taken over,
        whatever it contains. With several of ours, the newest is the one updated (and the one read back).
        """
        ours = [
            comment
            for comment in self.comments(issue_number)
            if comment_author(comment) in bot_logins and str(comment.get("body") or "").startswith(marker)
        ]
        if ours:
            url = f"{self.repo_path}/issues/comments/{ours[-1]['id']}"
            return as_object(self.request_json("PATCH", url, json={"body": body}, ok=(200,)), "comment", "html_url"), False
        created = self.request_json("POST", f"{self.repo_path}/issues/{issue_number}/comments", json={"body": body}, ok=(201,))
        return as_object(created, "comment", "html_url"), True

    # Issues (pull requests left out)

    def issues(self, *, labels: Iterable[str] = (), state: str = "open", since: str | None = None) -> list[dict[str, Any]]:
        """Issues with all of ``labels``, newest first; ``since``: updated at or after that ISO time. Pull requests are not issues here."""
        if state not in PULL_STATES:
            raise InputError(f"issue state {state!r}: expected one of {', '.join(PULL_STATES)}")
        params: dict[str, Any] = {"state": state}
        if labels:
            params["labels"] = ",".join(labels)
        if since:
            params["since"] = since
        return [
            checked(
                issue,
                "issue",
                number="int",
                title="str",
                state="str",
                created_at="time",
                closed_at="time?",
                body="str?",
                user="object?",
                author_association="str?",
            )
            for issue in self.paginate(f"{self.repo_path}/issues", params)
            if "pull_request" not in issue  # the issues list carries pull requests too
        ]

    def issue_events(self, number: int) -> list[dict[str, Any]]:
        """An issue's events, oldest first (``labeled`` ones name the label and the actor who added it)."""
        return list(self.paginate(f"{self.repo_path}/issues/{int(number)}/events"))

    def create_issue(self, *, title: str, body: str, labels: Iterable[str] = ()) -> dict[str, Any]:
        payload = {"title": title, "body": body, "labels": list(labels)}
        return as_object(self.request_json("POST", f"{self.repo_path}/issues", json=payload, ok=(201,)), "issue", "number", "html_url")

    def update_issue(self, number: int, *, title: str | None = None, body: str | None = None, state: str | None = None) -> dict[str, Any]:
        """Change an issue's title, body or state (``open``/``closed``); what is None stays."""
        if state not in (None, "open", "closed"):
            raise InputError(f"issue state {state!r}: expected open or closed")
        payload = {name: value for name, value in (("title", title), ("body", body), ("state", state)) if value is not None}
        url = f"{self.repo_path}/issues/{int(number)}"
        return as_object(self.request_json("PATCH", url, json=payload, ok=(200,)), "issue", "number", "html_url")

    def upsert_issue(
        self, marker: str, *, title: str, body: str, label: str, bot_logins: frozenset[str] = frozenset({ACTIONS_BOT})
    ) -> tuple[dict[str, Any], bool]:
        """Update our issue labelled ``label`` whose body starts with ``marker`` (reopened if closed), or open it: one issue, ever.

        Ours as in ``upsert_comment``: written by one of ``bot_logins``. An issue anyone else opened with the
        marker is never taken over. With several of ours, the oldest is the one kept.
        """
        ours = [
            issue
            for issue in self.issues(labels=[label], state="all")
            if comment_author(issue) in bot_logins and str(issue.get("body") or "").startswith(marker)
        ]
        if ours:
            oldest = min(ours, key=lambda issue: int(issue["number"]))
            return self.update_issue(int(oldest["number"]), title=title, body=body, state="open"), False
        return self.create_issue(title=title, body=body, labels=[label]), True

    def pulls(self, *, head_branch: str | None = None, state: str = "open", base: str | None = None) -> list[dict[str, Any]]:
        """Pull requests of this repository, newest first; from ``head_branch`` of this repository only, when given."""
        if state not in PULL_STATES:
            raise InputError(f"pull request state {state!r}: expected one of {', '.join(PULL_STATES)}")
        params: dict[str, Any] = {"state": state}
        if head_branch is not None:
            # GitHub filters on owner:branch; a bare branch name would filter nothing at all.
            params["head"] = f"{self.context.repository.split('/')[0]}:{checked_ref(head_branch)}"
        if base is not None:
            params["base"] = checked_ref(base)
        found = [
            checked(
                pull,
                "pull request",
                number="int",
                state="str",
                head="object",
                base="object",
                html_url="str",
                user="object?",
                body="str?",
                closed_at="time?",
                merged_at="time?",
            )
            for pull in self.paginate(f"{self.repo_path}/pulls", params)
        ]
        if head_branch is None:
            return found
        # Never rely on the server to have filtered: a pull request from a fork's branch of the same name is not ours.
        return [pull for pull in found if _head_of(pull) == (self.context.repository.lower(), head_branch)]

    def pulls_by_update(self, *, state: str = "closed") -> Iterator[dict[str, Any]]:
        """Pull requests, most recently updated first, page by page: the caller stops reading when it has gone back far enough."""
        if state not in PULL_STATES:
            raise InputError(f"pull request state {state!r}: expected one of {', '.join(PULL_STATES)}")
        params = {"state": state, "sort": "updated", "direction": "desc"}
        return (
            checked(pull, "pull request", number="int", updated_at="time", merged_at="time?", merge_commit_sha="str?")
            for pull in self.paginate(f"{self.repo_path}/pulls", params)
        )

    def create_pull(self, *, title: str, head: str, base: str, body: str, draft: bool = False) -> dict[str, Any]:
        """Open a pull request from branch ``head`` of this repository into ``base``.

        ``PullRequestsNotAllowed`` when the repository's Actions settings do not let the token's bot open one.
        """
        payload = {"title": title, "head": checked_ref(head), "base": checked_ref(base), "body": body, "draft": draft}
        try:
            created = self.request_json("POST", f"{self.repo_path}/pulls", json=payload, ok=(201,))
        except GitHubError as error:
            if error.status == 403 and ACTIONS_MAY_NOT_OPEN_PULLS.lower() in str(error).lower():
                raise PullRequestsNotAllowed(str(error), 403) from error
            raise
        return as_object(created, "pull request", "number", "html_url")

    def update_pull(self, number: int, *, title: str | None = None, body: str | None = None, state: str | None = None) -> dict[str, Any]:
        """Change a pull request's title, body or state (``open``/``closed``); what is None stays."""
        if state not in (None, "open", "closed"):
            raise InputError(f"pull request state {state!r}: expected open or closed")
        payload = {name: value for name, value in (("title", title), ("body", body), ("state", state)) if value is not None}
        url = f"{self.repo_path}/pulls/{int(number)}"
        return as_object(self.request_json("PATCH", url, json=payload, ok=(200,)), "pull request", "number", "html_url")

    def ensure_label(self, name: str, *, color: str, description: str) -> dict[str, Any]:
        """The label called ``name``, created with ``color`` (6 hex digits) and ``description`` when missing."""
        if not name.strip() or not re.fullmatch(r"[0-9a-fA-F]{6}", color) or len(description) > MAX_LABEL_DESCRIPTION:
            raise InputError(
                f"label {name!r}: expected a name, a colour of 6 hex digits (got {color!r}) and a description "
                f"of at most {MAX_LABEL_DESCRIPTION} characters"
            )
        url = f"{self.repo_path}/labels/{quote(name, safe='')}"
        found = self.request("GET", url, ok=(200, 404))
        if found.status_code == 200:
            return as_object(json_body(found, "GET", url), "label", "name")
        payload = {"name": name, "color": color, "description": description}
        created = self.request("POST", f"{self.repo_path}/labels", json=payload, ok=(201, 422))
        if created.status_code == 201:
            return as_object(json_body(created, "POST", "labels"), "label", "name")
        again = self.request("GET", url, ok=(200, 404))  # 422: someone created it meanwhile, or it was refused
        if again.status_code == 200:
            return as_object(json_body(again, "GET", url), "label", "name")
        raise failure("POST", f"{self.repo_path}/labels", created)

    def add_labels(self, issue_number: int, labels: Iterable[str]) -> list[dict[str, Any]]:
        """Add ``labels`` to an issue or pull request (GitHub creates missing ones); its labels afterwards."""
        url = f"{self.repo_path}/issues/{int(issue_number)}/labels"
        added = self.request_json("POST", url, json={"labels": list(labels)}, ok=(200,))
        if not isinstance(added, list):
            raise GitHubError(f"GitHub POST {api_path(url)} answered {type(added).__name__}, expected a list of labels")
        return [as_object(label, "label", "name") for label in added]


def _head_of(pull: dict[str, Any]) -> tuple[str, str] | None:
    """(repository full name in lower case, branch) of a pull request's head; None when GitHub did not say."""
    head = pull.get("head")
    repo = head.get("repo") if isinstance(head, dict) else None
    full_name = repo.get("full_name") if isinstance(repo, dict) else None
    ref = head.get("ref") if isinstance(head, dict) else None
    return (full_name.lower(), ref) if isinstance(full_name, str) and isinstance(ref, str) else None
