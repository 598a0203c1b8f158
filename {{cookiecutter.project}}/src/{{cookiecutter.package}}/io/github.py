"""The GitHub REST API: the one adapter every GitHub call goes through.

Base URL from ``GITHUB_API_URL`` (set by Actions, also on GitHub Enterprise), token from
``GITHUB_TOKEN``, repository from ``GITHUB_REPOSITORY``. Retries 5xx and rate limits with
backoff (honouring ``Retry-After`` and ``X-RateLimit-Reset``), follows ``Link`` pagination,
uploads release assets to the upload URL the API returns. The token is never logged.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..config import Environment
from ..errors import InputError, MlopsError
from ..project import PROJECT

logger = logging.getLogger(__name__)
API_VERSION = "2022-11-28"
RETRYABLE_STATUS = {500, 502, 503, 504}
MAX_WAIT_SECONDS = 60.0


class GitHubError(MlopsError):
    """GitHub answered with an error we cannot recover from (exit 2: config or permissions)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class GitHubContext:
    api_url: str
    repository: str
    token: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Environment) -> GitHubContext:
        token, repository = env.github_token, env.github_repository
        if not token:
            raise InputError("GITHUB_TOKEN is not set: expected a token with access to the repository (in Actions: secrets.GITHUB_TOKEN)")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise InputError(f"GITHUB_REPOSITORY is {repository!r}: expected owner/name (set by GitHub Actions)")
        return cls(api_url=env.github_api_url, repository=repository, token=token)


def _wait_seconds(response: httpx.Response, attempt: int, backoff: float) -> float | None:
    """How long to wait before retrying this response, or None when it must not be retried."""
    retry_after = response.headers.get("retry-after")
    rate_limited = response.status_code == 429 or (
        response.status_code == 403 and (retry_after is not None or response.headers.get("x-ratelimit-remaining") == "0")
    )
    if response.status_code not in RETRYABLE_STATUS and not rate_limited:
        return None
    if retry_after is not None and retry_after.isdigit():
        return min(float(retry_after), MAX_WAIT_SECONDS)
    reset = response.headers.get("x-ratelimit-reset")
    if rate_limited and reset and reset.isdigit():
        return min(max(float(reset) - time.time(), 0.0) + 1.0, MAX_WAIT_SECONDS)
    return min(backoff * 2**attempt, MAX_WAIT_SECONDS)


class GitHub:
    """A small client for the endpoints this project uses."""

    def __init__(
        self,
        context: GitHubContext,
        *,
        retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.context = context
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.client = httpx.Client(
            base_url=context.api_url,
            headers={
                "Authorization": f"Bearer {context.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"{PROJECT}-mlops",
            },
            timeout=timeout,
            follow_redirects=True,  # httpx drops Authorization when a redirect leaves the host
            transport=transport,
        )

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    @property
    def repo_path(self) -> str:
        return f"/repos/{self.context.repository}"

    def request(self, method: str, url: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> httpx.Response:
        """One API call with retries; raises ``GitHubError`` for a status outside ``ok``."""
        for attempt in range(self.retries + 1):
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as error:
                if attempt == self.retries:
                    raise GitHubError(f"GitHub API unreachable at {self.context.api_url}: {type(error).__name__}") from error
                self.sleep(min(self.backoff * 2**attempt, MAX_WAIT_SECONDS))
                continue
            if response.status_code in ok:
                return response
            wait = _wait_seconds(response, attempt, self.backoff)
            if wait is None or attempt == self.retries:
                break
            logger.warning("GitHub answered %s to %s %s; retrying in %.1f s", response.status_code, method, _path(url), wait)
            self.sleep(wait)
        raise GitHubError(f"GitHub {method} {_path(url)} failed: {response.status_code} {_message(response)}", response.status_code)

    def paginate(self, url: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``Link: rel="next"``."""
        next_url: str | None = url
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        while next_url:
            response = self.request("GET", next_url, params=query)
            yield from response.json()
            next_url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query

    # Releases and tags

    def latest_release(self) -> dict[str, Any] | None:
        response = self.request("GET", f"{self.repo_path}/releases/latest", ok=(200, 404))
        return response.json() if response.status_code == 200 else None

    def releases(self) -> Iterator[dict[str, Any]]:
        return self.paginate(f"{self.repo_path}/releases")

    def tag_sha(self, tag: str) -> str | None:
        response = self.request("GET", f"{self.repo_path}/git/ref/tags/{tag}", ok=(200, 404))
        return response.json()["object"]["sha"] if response.status_code == 200 else None

    def create_tag(self, tag: str, sha: str) -> None:
        self.request("POST", f"{self.repo_path}/git/refs", json={"ref": f"refs/tags/{tag}", "sha": sha}, ok=(201,))

    def create_release(self, tag: str, *, name: str, body: str, sha: str) -> dict[str, Any]:
        payload = {
            "tag_name": tag,
            "target_commitish": sha,
            "name": name,
            "body": body,
            "draft": False,
            "prerelease": False,
            "make_latest": "true",
        }
        return self.request("POST", f"{self.repo_path}/releases", json=payload, ok=(201,)).json()

    def release_assets(self, release: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self.repo_path}/releases/{release['id']}/assets"))

    def upload_asset(self, release: dict[str, Any], name: str, content: bytes, content_type: str) -> dict[str, Any]:
        """Upload to the ``upload_url`` the API returned (uploads.github.com on github.com)."""
        upload_url = re.sub(r"\{[^}]*\}$", "", release["upload_url"])
        response = self.request(
            "POST", upload_url, params={"name": name}, content=content, headers={"Content-Type": content_type}, ok=(201,)
        )
        return response.json()

    def download_asset(self, asset: dict[str, Any]) -> bytes:
        return self.request("GET", asset["url"], headers={"Accept": "application/octet-stream"}, ok=(200,)).content

    # Pull requests and comments

    def pulls_for_commit(self, sha: str) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self.repo_path}/commits/{sha}/pulls"))

    def comments(self, issue_number: int) -> Iterator[dict[str, Any]]:
        return self.paginate(f"{self.repo_path}/issues/{issue_number}/comments")

    def upsert_comment(self, issue_number: int, marker: str, body: str) -> tuple[dict[str, Any], bool]:
        """Update the comment that carries ``marker``, or create it: one comment per PR, ever."""
        existing = next((comment for comment in self.comments(issue_number) if marker in (comment.get("body") or "")), None)
        if existing is not None:
            updated = self.request("PATCH", f"{self.repo_path}/issues/comments/{existing['id']}", json={"body": body}, ok=(200,))
            return updated.json(), False
        created = self.request("POST", f"{self.repo_path}/issues/{issue_number}/comments", json={"body": body}, ok=(201,))
        return created.json(), True

    # Deployments

    def deployments(self, *, sha: str, environment: str) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self.repo_path}/deployments", {"sha": sha, "environment": environment}))

    def deployment_statuses(self, deployment_id: int) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self.repo_path}/deployments/{deployment_id}/statuses"))

    def create_deployment(self, *, sha: str, environment: str, description: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = {
            "ref": sha,
            "environment": environment,
            "description": description,
            "auto_merge": False,
            "required_contexts": [],  # the release job itself is the check that passed
            "payload": payload,
            "production_environment": environment == "production",
        }
        return self.request("POST", f"{self.repo_path}/deployments", json=body, ok=(201,)).json()

    def create_deployment_status(self, deployment_id: int, *, state: str, description: str, environment_url: str, log_url: str) -> None:
        body = {"state": state, "description": description[:140], "environment_url": environment_url, "log_url": log_url}
        self.request("POST", f"{self.repo_path}/deployments/{deployment_id}/statuses", json=body, ok=(201,))


def _path(url: str) -> str:
    return httpx.URL(url).path


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", "")) or response.reason_phrase
    except ValueError:
        return response.reason_phrase
