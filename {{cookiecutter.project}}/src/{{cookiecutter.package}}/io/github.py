"""The GitHub REST API: the one adapter every GitHub call goes through.

Base URL from ``GITHUB_API_URL`` (set by Actions, also on GitHub Enterprise), token from
``GITHUB_TOKEN``, repository from ``GITHUB_REPOSITORY``. Retries 5xx and rate limits with
backoff (honouring ``Retry-After`` and ``X-RateLimit-Reset``), follows ``Link`` pagination
(at most ``MAX_PAGES`` pages), uploads release assets to the upload URL the API returns.

The token is never logged, and it is sent only where it belongs: to the API's origin and to
the upload origin the API returned in a release, over https (plain http only to a loopback
host, which is how tests serve a double). Any other host (a ``Link`` or asset URL pointing
elsewhere, the storage host a download redirects to) gets the request without it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Generator, Iterator
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
PER_PAGE = 100
# A list longer than this is not one this project makes; a Link header that never ends is a bug or an attack.
MAX_PAGES = 50
# The login GITHUB_TOKEN acts as (an installation token: ``GET /user`` is not allowed to it).
ACTIONS_BOT = "github-actions[bot]"


def bot_logins(env: Environment) -> frozenset[str]:
    """Whose comments are the pipeline's own: the Actions bot, and an app's bot (``MLOPS_BOT_LOGIN``) when configured."""
    return frozenset({ACTIONS_BOT, env.mlops_bot_login} - {""})


# GitHub's 403 to a token without the permission: "... by integration" (GITHUB_TOKEN, apps), "... by personal access token".
ACCESS_DENIED = "Resource not accessible by"
# Which permission of a workflow job's ``permissions:`` block each family of endpoints needs.
PERMISSION_BY_PATH = (
    (re.compile(r"/issues/(\d+/|)comments"), "pull-requests"),
    (re.compile(r"/pulls(/|$)"), "pull-requests"),
    (re.compile(r"/deployments(/|$)"), "deployments"),
    (re.compile(r"/(releases|git)(/|$)"), "contents"),
    (re.compile(r"/issues(/|$)"), "issues"),
)


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


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: the only hosts that may be called over plain http (tests)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"https": 443, "http": 80}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    try:
        return _origin(httpx.URL(url))
    except httpx.InvalidURL:
        return None


def _secure(url: httpx.URL) -> bool:
    return url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host))


class _TokenAuth(httpx.Auth):
    """Adds the token to requests for the origins it belongs to, and to no other."""

    def __init__(self, token: str, api_url: httpx.URL) -> None:
        self._token = token
        self.origins = {_origin(api_url)}

    def allow(self, url: httpx.URL) -> None:
        if _secure(url):
            self.origins.add(_origin(url))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) in self.origins:  # https (or loopback http) origins only, by construction
            request.headers["Authorization"] = f"Bearer {self._token}"
        else:
            request.headers.pop("Authorization", None)
        yield request  # redirects are followed inside this one step: httpx drops the header when they leave the origin


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
        api_url = httpx.URL(context.api_url)
        if not _secure(api_url):
            raise InputError(
                f"GITHUB_API_URL is {context.api_url!r}: expected an https URL (plain http only to a loopback host, for tests)"
            )
        self.context = context
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self._auth = _TokenAuth(context.token, api_url)
        self.client = httpx.Client(
            base_url=context.api_url,
            auth=self._auth,
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION, "User-Agent": f"{PROJECT}-mlops"},
            timeout=timeout,
            follow_redirects=True,  # httpx drops Authorization when a redirect leaves the origin
            transport=transport,
        )

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    @property
    def repo_path(self) -> str:
        return f"/repos/{self.context.repository}"

    def request(self, method: str, url: str, *, ok: tuple[int, ...] = (200, 201), stream: bool = False, **kwargs: Any) -> httpx.Response:
        """One API call with retries; raises ``GitHubError`` for a status outside ``ok``.

        With ``stream`` the body of a successful answer is left unread: the caller reads and closes it.
        """
        for attempt in range(self.retries + 1):
            try:
                response = self.client.send(self.client.build_request(method, url, **kwargs), stream=True)
                if not (stream and response.status_code in ok):
                    try:
                        response.read()
                    finally:
                        response.close()
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.TooManyRedirects) as error:
                raise GitHubError(f"GitHub {method} {_path(url)}: {type(error).__name__}: {error}") from error
            except httpx.TransportError as error:
                if attempt == self.retries:
                    raise GitHubError(f"GitHub API unreachable at {self.context.api_url}: {type(error).__name__}") from error
                self.sleep(min(self.backoff * 2**attempt, MAX_WAIT_SECONDS))
                continue
            except httpx.HTTPError as error:  # e.g. a body that does not decode: bad data, not a bug of ours
                raise GitHubError(f"GitHub {method} {_path(url)}: {type(error).__name__}: {error}") from error
            if response.status_code in ok:
                return response
            wait = _wait_seconds(response, attempt, self.backoff)
            if wait is None or attempt == self.retries:
                break
            logger.warning("GitHub answered %s to %s %s; retrying in %.1f s", response.status_code, method, _path(url), wait)
            self.sleep(wait)
        raise _failure(method, url, response)

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """``request`` and its JSON body; a body that is not JSON is a ``GitHubError``."""
        return _json(self.request(method, url, **kwargs), method, url)

    def paginate(self, url: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``Link: rel="next"`` for at most ``MAX_PAGES`` pages."""
        next_url: str | None = url
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        for _ in range(MAX_PAGES):
            response = self.request("GET", next_url, params=query)
            items = _json(response, "GET", next_url)
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise GitHubError(f"GitHub GET {_path(next_url)} answered {type(items).__name__}, expected a list of objects")
            yield from items
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            if _origin_of(next_url) != _origin_of(self.context.api_url):
                raise GitHubError(
                    f"GitHub GET {_path(url)}: the next page is on another host ({next_url.split('?')[0]}): refusing to follow it"
                )
            query = None  # the next link carries the query
        raise GitHubError(
            f"GitHub GET {_path(url)} still had a next page after {MAX_PAGES} pages of up to {PER_PAGE} items: stopping there"
        )

    # Releases and tags

    def _release(self, release: Any) -> dict[str, Any]:
        """A release the API returned: its upload origin may now receive the token."""
        release = _object(release, "release", "id", "tag_name")
        upload_url = release.get("upload_url")
        if isinstance(upload_url, str):
            with contextlib.suppress(httpx.InvalidURL):  # upload_asset says what is wrong with it, should anyone use it
                self._auth.allow(httpx.URL(_upload_base(upload_url)))
        return release

    def latest_release(self) -> dict[str, Any] | None:
        response = self.request("GET", f"{self.repo_path}/releases/latest", ok=(200, 404))
        return self._release(_json(response, "GET", "releases/latest")) if response.status_code == 200 else None

    def releases(self) -> Iterator[dict[str, Any]]:
        return (self._release(release) for release in self.paginate(f"{self.repo_path}/releases"))

    def tag_sha(self, tag: str) -> str | None:
        response = self.request("GET", f"{self.repo_path}/git/ref/tags/{tag}", ok=(200, 404))
        if response.status_code == 404:
            return None
        ref = _object(_json(response, "GET", f"git/ref/tags/{tag}"), f"ref tags/{tag}", "object")
        sha = ref["object"].get("sha") if isinstance(ref["object"], dict) else None
        if not isinstance(sha, str):
            raise GitHubError(f"GitHub's ref tags/{tag} has no object sha")
        return sha

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
        return self._release(self.request_json("POST", f"{self.repo_path}/releases", json=payload, ok=(201,)))

    def release_assets(self, release: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            _object(asset, "release asset", "name", "url") for asset in self.paginate(f"{self.repo_path}/releases/{release['id']}/assets")
        ]

    def upload_asset(self, release: dict[str, Any], name: str, content: bytes, content_type: str) -> dict[str, Any]:
        """Upload to the ``upload_url`` the API returned (uploads.github.com on github.com, the API's host on GHE)."""
        upload_url = release.get("upload_url")
        if not isinstance(upload_url, str):
            raise GitHubError(f"release {release.get('tag_name')!r} has no upload_url")
        return _object(
            self.request_json(
                "POST", _upload_base(upload_url), params={"name": name}, content=content, headers={"Content-Type": content_type}, ok=(201,)
            ),
            "uploaded asset",
        )

    def download_asset(self, asset: dict[str, Any], *, max_bytes: int | None = None) -> bytes:
        """The asset's bytes, streamed; more than ``max_bytes`` is an ``InputError`` (nothing more is read)."""
        name = asset.get("name", "?")
        response = self.request("GET", asset["url"], headers={"Accept": "application/octet-stream"}, ok=(200,), stream=True)
        too_big = f"release asset {name!r} is larger than {max_bytes} bytes: refusing it"
        try:
            declared = response.headers.get("content-length", "")
            if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
                raise InputError(too_big)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise InputError(too_big)
                chunks.append(chunk)
            return b"".join(chunks)
        except httpx.HTTPError as error:
            raise GitHubError(f"downloading release asset {name!r} failed: {type(error).__name__}") from error
        finally:
            response.close()

    # Pull requests and comments

    def pulls_for_commit(self, sha: str) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self.repo_path}/commits/{sha}/pulls"))

    def comments(self, issue_number: int) -> Iterator[dict[str, Any]]:
        return self.paginate(f"{self.repo_path}/issues/{issue_number}/comments")

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
            return _object(self.request_json("PATCH", url, json={"body": body}, ok=(200,)), "comment", "html_url"), False
        created = self.request_json("POST", f"{self.repo_path}/issues/{issue_number}/comments", json={"body": body}, ok=(201,))
        return _object(created, "comment", "html_url"), True

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
        response = self.request("POST", f"{self.repo_path}/deployments", json=body, ok=(201, 202, 409))
        if response.status_code == 202:
            raise GitHubError(
                f"GitHub merged the default branch into {sha[:12]} instead of deploying it (202 auto-merge): "
                "deploy a commit sha with auto_merge false, then re-run the release",
                202,
            )
        if response.status_code == 409:
            raise GitHubError(
                f"GitHub refused to deploy {sha[:12]} to {environment}: 409 {_message(response)} "
                "(required status checks have not passed on that commit; wait for them or list the ones to require in required_contexts)",
                409,
            )
        return _object(_json(response, "POST", "deployments"), "deployment", "id")

    def create_deployment_status(self, deployment_id: int, *, state: str, description: str, environment_url: str, log_url: str) -> None:
        body = {"state": state, "description": description[:140], "environment_url": environment_url, "log_url": log_url}
        self.request("POST", f"{self.repo_path}/deployments/{deployment_id}/statuses", json=body, ok=(201,))


def comment_author(comment: dict[str, Any]) -> str | None:
    """The login that wrote a comment, None when GitHub did not say."""
    user = comment.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else None


def required_permission(method: str, url: str) -> str | None:
    """The ``permissions:`` entry a workflow job needs for this call, e.g. ``contents: write``; None when unknown."""
    path = _path(url)
    for pattern, permission in PERMISSION_BY_PATH:
        if pattern.search(path):
            return f"{permission}: {'read' if method.upper() in ('GET', 'HEAD') else 'write'}"
    return None


def _failure(method: str, url: str, response: httpx.Response) -> GitHubError:
    message = _message(response)
    if response.status_code == 403 and message.startswith(ACCESS_DENIED):
        permission = required_permission(method, url)
        needs = (
            f"the token lacks `{permission}` (grant it in the job's permissions: block)" if permission else "the token lacks a permission"
        )
        return GitHubError(f"GitHub refused {method} {_path(url)}: {needs}: 403 {message}", 403)
    return GitHubError(f"GitHub {method} {_path(url)} failed: {response.status_code} {message}", response.status_code)


def _upload_base(upload_url: str) -> str:
    return re.sub(r"\{[^}]*\}$", "", upload_url)


def _path(url: str) -> str:
    try:
        return httpx.URL(url).path
    except httpx.InvalidURL:
        return "(invalid URL)"


def _json(response: httpx.Response, method: str, url: str) -> Any:
    try:
        return response.json()
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        type_ = response.headers.get("content-type", "no content type")
        raise GitHubError(f"GitHub {method} {_path(url)} answered {response.status_code} with a body that is not JSON ({type_})") from error


def _object(value: Any, what: str, *keys: str) -> dict[str, Any]:
    """A JSON object GitHub returned, with the keys this client relies on."""
    if not isinstance(value, dict):
        raise GitHubError(f"GitHub returned a {what} that is {type(value).__name__}, expected an object")
    missing = [key for key in keys if key not in value]
    if missing:
        raise GitHubError(f"GitHub returned a {what} without {', '.join(missing)}")
    return value


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    return str(message) if message else response.reason_phrase
