"""The GitHub REST API: the one adapter every GitHub call goes through.

Base URL from ``GITHUB_API_URL`` (set by Actions, also on GitHub Enterprise), token from
``GITHUB_TOKEN``, repository from ``GITHUB_REPOSITORY``. Retries 5xx and rate limits with
backoff (honouring ``Retry-After`` and ``X-RateLimit-Reset``), follows ``Link`` pagination
(at most ``MAX_PAGES`` pages), uploads release assets to the upload URL the API returns.

Branches are written through the Git Data API (blobs, trees, commits, refs): the token is all it
takes, no push credentials and no checkout, so it works under act too. A branch only ever moves
forward from the commit the caller last read (``commit_files``); if someone pushed in between, the
write stops with ``BranchMoved`` instead of overwriting their work.

Every name that goes into a URL path (branch, file path, label, workflow file) is checked first, so
that a value read from GitHub or from a user cannot walk the request to another endpoint.

The token is never logged, and it is sent only where it belongs: to the API's origin and to
the upload origin the API returned in a release, over https (plain http only to a loopback
host, which is how tests serve a double). Any other host (a ``Link`` or asset URL pointing
elsewhere, the storage host a download redirects to) gets the request without it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

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
SHA_PATTERN = re.compile(r"[0-9a-f]{40}")
# Text up to this size goes inline in a tree (one request for all files); anything else as a blob of its own.
MAX_INLINE_TREE_CONTENT = 64 * 1024
# What read_file accepts by default: the files this project reads back (histories, manifests) are far smaller.
MAX_FILE_BYTES = 10 * 1024 * 1024
# GitHub's limits: 25 inputs per workflow dispatch, 100 characters of label description.
MAX_DISPATCH_INPUTS = 25
MAX_LABEL_DESCRIPTION = 100
PULL_STATES = ("open", "closed", "all")


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
    (re.compile(r"/actions/"), "actions"),
    (re.compile(r"/(releases|git|contents|commits|compare)(/|$)"), "contents"),
    (re.compile(r"/(issues|labels)(/|$)"), "issues"),
)


class GitHubError(MlopsError):
    """GitHub answered with an error we cannot recover from (exit 2: config or permissions)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BranchMoved(GitHubError):
    """A branch is not where the caller last saw it: someone else wrote to it, and their work stays."""


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

    def paginate(self, url: str, params: dict[str, Any] | None = None, *, max_pages: int = MAX_PAGES) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``Link: rel="next"`` for at most ``max_pages`` pages."""
        next_url: str | None = url
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        for _ in range(max_pages):
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
            f"GitHub GET {_path(url)} still had a next page after {max_pages} pages of up to {PER_PAGE} items: stopping there"
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
        return _ref_sha(_json(response, "GET", f"git/ref/tags/{tag}"), f"tags/{tag}")

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
            _object(issue, "issue", "number", "title", "state", "created_at")
            for issue in self.paginate(f"{self.repo_path}/issues", params)
            if "pull_request" not in issue  # the issues list carries pull requests too
        ]

    def create_issue(self, *, title: str, body: str, labels: Iterable[str] = ()) -> dict[str, Any]:
        payload = {"title": title, "body": body, "labels": list(labels)}
        return _object(self.request_json("POST", f"{self.repo_path}/issues", json=payload, ok=(201,)), "issue", "number", "html_url")

    def update_issue(self, number: int, *, title: str | None = None, body: str | None = None, state: str | None = None) -> dict[str, Any]:
        """Change an issue's title, body or state (``open``/``closed``); what is None stays."""
        if state not in (None, "open", "closed"):
            raise InputError(f"issue state {state!r}: expected open or closed")
        payload = {name: value for name, value in (("title", title), ("body", body), ("state", state)) if value is not None}
        url = f"{self.repo_path}/issues/{int(number)}"
        return _object(self.request_json("PATCH", url, json=payload, ok=(200,)), "issue", "number", "html_url")

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

    # Branches and the Git Data API

    def branch_head(self, branch: str) -> str | None:
        """The commit ``branch`` points at, None when there is no such branch."""
        response = self.request("GET", f"{self.repo_path}/git/ref/heads/{_branch_path(branch)}", ok=(200, 404))
        if response.status_code == 404:
            return None
        return _ref_sha(_json(response, "GET", f"git/ref/heads/{branch}"), f"heads/{branch}")

    def create_branch(self, branch: str, sha: str) -> None:
        """Create ``branch`` at commit ``sha``; ``BranchMoved`` when someone created it first."""
        body = {"ref": f"refs/heads/{_checked_ref(branch)}", "sha": _checked_sha(sha, "commit")}
        response = self.request("POST", f"{self.repo_path}/git/refs", json=body, ok=(201, 422))
        if response.status_code == 422:
            if "already exists" in _message(response):
                raise BranchMoved(f"branch {branch!r} was created by someone else meanwhile: leaving it as it is", 422)
            raise _failure("POST", f"{self.repo_path}/git/refs", response)

    def move_branch(self, branch: str, sha: str, *, force: bool = False) -> None:
        """Point ``branch`` at ``sha``: a fast-forward unless ``force``; ``BranchMoved`` when it would not be one."""
        url = f"{self.repo_path}/git/refs/heads/{_branch_path(branch)}"
        response = self.request("PATCH", url, json={"sha": _checked_sha(sha, "commit"), "force": force}, ok=(200, 422))
        if response.status_code == 422:
            if "fast forward" in _message(response).lower():
                raise BranchMoved(
                    f"branch {branch!r} has commits that {sha[:12]} does not descend from (someone pushed to it): not overwriting them",
                    422,
                )
            raise _failure("PATCH", url, response)

    def git_commit(self, sha: str) -> dict[str, Any]:
        """A commit as git sees it: ``tree.sha``, ``parents[].sha``, ``author``, ``committer``, ``message``."""
        url = f"{self.repo_path}/git/commits/{_checked_sha(sha, 'commit')}"
        commit = _object(self.request_json("GET", url, ok=(200,)), "git commit", "sha", "tree", "parents", "author", "committer", "message")
        if commit["sha"] != sha:
            raise GitHubError(f"GitHub answered commit {str(commit['sha'])[:40]!r} when asked for {sha}")
        _tree_sha(commit)
        _parent_shas(commit)
        return commit

    def create_blob(self, content: bytes) -> str:
        """Store ``content`` as a blob; its sha, checked to be the one git gives this content."""
        body = {"content": base64.b64encode(content).decode("ascii"), "encoding": "base64"}
        blob = _object(self.request_json("POST", f"{self.repo_path}/git/blobs", json=body, ok=(201,)), "blob", "sha")
        expected = git_blob_sha(content)
        if blob["sha"] != expected:
            raise GitHubError(
                f"GitHub stored a blob of {len(content)} bytes as {str(blob['sha'])[:40]!r}, not as git names it ({expected})"
            )
        return expected

    def create_tree(self, entries: Iterable[tuple[str, bytes | None]], *, base_tree: str | None) -> str:
        """A tree: ``base_tree`` (None: empty) with each (path, content) written, or deleted where content is None.

        Small UTF-8 text goes inline; anything else is uploaded as a blob first.
        """
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for path, content in entries:
            _checked_file_path(path)
            if path in seen:
                raise InputError(f"{path!r} is listed twice for one tree")
            seen.add(path)
            item: dict[str, Any] = {"path": path, "mode": "100644", "type": "blob"}
            if content is None:
                if base_tree is None:
                    raise InputError(f"cannot delete {path!r} from a tree without a base tree")
                item["sha"] = None  # GitHub deletes the path from the base tree
            elif (text := _inline_text(content)) is not None:
                item["content"] = text
            else:
                item["sha"] = self.create_blob(content)
            items.append(item)
        body: dict[str, Any] = {"tree": items}
        if base_tree is not None:
            body["base_tree"] = _checked_sha(base_tree, "tree")
        tree = _object(self.request_json("POST", f"{self.repo_path}/git/trees", json=body, ok=(201,)), "tree", "sha")
        return _checked_sha(tree["sha"], "tree GitHub returned", error=GitHubError)

    def create_commit(self, message: str, tree: str, parents: list[str], *, author: Mapping[str, str] | None = None) -> str:
        """A commit of ``tree`` on ``parents``; the author defaults to the token's identity. Returns its sha."""
        body: dict[str, Any] = {
            "message": message,
            "tree": _checked_sha(tree, "tree"),
            "parents": [_checked_sha(parent, "parent commit") for parent in parents],
        }
        if author is not None:
            body["author"] = {"name": author["name"], "email": author["email"]}
        commit = _object(self.request_json("POST", f"{self.repo_path}/git/commits", json=body, ok=(201,)), "git commit", "sha", "tree")
        if _tree_sha(commit) != tree or _parent_shas(commit) != parents:
            raise GitHubError(f"GitHub created commit {str(commit['sha'])[:40]!r} with another tree or other parents than asked")
        return _checked_sha(commit["sha"], "commit GitHub returned", error=GitHubError)

    def commit_files(
        self, branch: str, files: Mapping[str, bytes], message: str, *, base_sha: str | None, author: Mapping[str, str] | None = None
    ) -> str:
        """Commit ``files`` (path → content) to ``branch`` on top of ``base_sha``; returns the branch's new head.

        ``base_sha`` is the commit the caller read the branch at: the branch must still point there (or, when
        it does not exist yet, the new branch starts from that commit; None starts it with a root commit).
        Anything else means someone wrote to the branch meanwhile: ``BranchMoved``, and their commits stay.
        Files not listed keep their content. When the files change nothing, no commit is made.
        """
        if base_sha is not None:
            _checked_sha(base_sha, "base commit")
        for path in files:  # refused before anything is written
            _checked_file_path(path)
        head = self.branch_head(branch)
        if head is not None and head != base_sha:
            expected = base_sha[:12] if base_sha else "nothing (the branch did not exist)"
            raise BranchMoved(
                f"branch {branch!r} is at {head[:12]}, not at {expected}: someone wrote to it since; not overwriting their work"
            )
        base_tree = _tree_sha(self.git_commit(base_sha)) if base_sha is not None else None
        tree = self.create_tree(files.items(), base_tree=base_tree)
        if base_sha is not None and tree == base_tree:
            new_head = base_sha
        else:
            new_head = self.create_commit(message, tree, [base_sha] if base_sha else [], author=author)
        if head is None:
            self.create_branch(branch, new_head)
        elif new_head != head:
            self.move_branch(branch, new_head)
        logger.info("branch %s now at %s (%d file(s) written)", branch, new_head[:12], len(files))
        return new_head

    def read_file(self, path: str, ref: str, *, max_bytes: int = MAX_FILE_BYTES) -> bytes | None:
        """The bytes of ``path`` at ``ref`` (branch, tag or sha); None when the file or the ref does not exist.

        Checked against the blob sha GitHub gives for it; larger than ``max_bytes`` is an ``InputError``.
        Files over 1 MB come without content from the contents API: they are read through the blob API.
        """
        url = f"{self.repo_path}/contents/{_checked_file_path(path)}"
        response = self.request("GET", url, params={"ref": _checked_ref(ref)}, ok=(200, 404))
        if response.status_code == 404:
            return None
        where = f"{path!r} at {ref!r}"
        found = _json(response, "GET", url)
        if isinstance(found, list):
            raise GitHubError(f"{where} is a directory, expected a file")
        found = _object(found, f"file {where}", "type", "sha", "size")
        if found["type"] != "file" or not isinstance(found["size"], int) or isinstance(found["size"], bool):
            raise GitHubError(f"{where} is a {found['type']!r} of size {found['size']!r}, expected a file")
        if found["size"] > max_bytes:
            raise InputError(f"{where} is {found['size']} bytes, more than the {max_bytes} accepted: refusing it")
        sha = _checked_sha(found["sha"], f"blob of {where}", error=GitHubError)
        inline = found.get("content")
        if found.get("encoding") == "base64" and isinstance(inline, str) and (inline or found["size"] == 0):
            content = _base64(inline, where)
        else:  # over 1 MB: "content" is empty and "encoding" is "none"
            blob = _object(
                self.request_json("GET", f"{self.repo_path}/git/blobs/{sha}", ok=(200,)), f"blob of {where}", "content", "encoding"
            )
            if blob["encoding"] != "base64" or not isinstance(blob["content"], str):
                raise GitHubError(f"GitHub sent the blob of {where} as {blob['encoding']!r}, expected base64")
            content = _base64(blob["content"], where)
        if len(content) != found["size"] or git_blob_sha(content) != sha:
            raise GitHubError(f"the content GitHub sent for {where} does not match its size and sha")
        return content

    def branch_commits(self, branch: str, *, since_sha: str | None = None) -> list[dict[str, Any]]:
        """Commits reachable from ``branch``, newest first, stopping before ``since_sha`` (which must be among them).

        The list is in date order: for exactly the commits one branch has over another, see ``commits_between``.
        """
        commits = []
        for commit in self.paginate(f"{self.repo_path}/commits", {"sha": _checked_ref(branch)}):
            commit = _object(commit, "commit", "sha", "commit")
            if since_sha is not None and commit["sha"] == since_sha:
                return commits
            commits.append(commit)
        if since_sha is not None:
            raise GitHubError(f"{since_sha[:12]} is not in the history of branch {branch!r}")
        return commits

    def commits_between(self, base: str, head: str) -> list[dict[str, Any]]:
        """The commits ``head`` has that ``base`` has not (branches or shas), oldest first, as GitHub compares them."""
        url = f"{self.repo_path}/compare/{_branch_path(base)}...{_branch_path(head)}"
        comparison = _object(self.request_json("GET", url, ok=(200,)), "comparison", "commits", "total_commits")
        commits = comparison["commits"]
        if not isinstance(commits, list) or not all(isinstance(commit, dict) and "sha" in commit for commit in commits):
            raise GitHubError(f"GitHub's comparison of {base!r} and {head!r} lists no commits")
        if comparison["total_commits"] != len(commits):
            raise GitHubError(f"{head!r} has {comparison['total_commits']} commits over {base!r}, more than GitHub lists at once")
        return commits

    def comparison(self, base: str, head: str) -> tuple[list[dict[str, Any]], int]:
        """The commits ``head`` has over ``base`` as GitHub lists them (oldest first, at most 250), and how many there are."""
        url = f"{self.repo_path}/compare/{_branch_path(base)}...{_branch_path(head)}"
        comparison = _object(self.request_json("GET", url, ok=(200,)), "comparison", "commits", "total_commits")
        commits = comparison["commits"]
        if not isinstance(commits, list) or not all(isinstance(commit, dict) and "sha" in commit for commit in commits):
            raise GitHubError(f"GitHub's comparison of {base!r} and {head!r} lists no commits")
        return commits, int(comparison["total_commits"])

    def commits(
        self, *, ref: str | None = None, path: str | None = None, since: str | None = None, max_pages: int = MAX_PAGES
    ) -> list[dict[str, Any]]:
        """Commits reachable from ``ref`` (the default branch), newest first; only those changing ``path`` / committed since ``since``."""
        params: dict[str, Any] = {}
        if ref is not None:
            params["sha"] = _checked_ref(ref)
        if path is not None:
            _checked_file_path(path)
            params["path"] = path
        if since is not None:
            params["since"] = since
        return [
            _object(commit, "commit", "sha", "commit") for commit in self.paginate(f"{self.repo_path}/commits", params, max_pages=max_pages)
        ]

    def pull_commits(self, number: int) -> list[dict[str, Any]]:
        """A pull request's own commits, oldest first (GitHub lists at most 250)."""
        return [_object(commit, "commit", "sha", "commit") for commit in self.paginate(f"{self.repo_path}/pulls/{int(number)}/commits")]

    # Pull requests, labels, workflow dispatch

    def pulls(self, *, head_branch: str | None = None, state: str = "open", base: str | None = None) -> list[dict[str, Any]]:
        """Pull requests of this repository, newest first; from ``head_branch`` of this repository only, when given."""
        if state not in PULL_STATES:
            raise InputError(f"pull request state {state!r}: expected one of {', '.join(PULL_STATES)}")
        params: dict[str, Any] = {"state": state}
        if head_branch is not None:
            # GitHub filters on owner:branch; a bare branch name would filter nothing at all.
            params["head"] = f"{self.context.repository.split('/')[0]}:{_checked_ref(head_branch)}"
        if base is not None:
            params["base"] = _checked_ref(base)
        found = [
            _object(pull, "pull request", "number", "state", "head", "base", "html_url")
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
        return (_object(pull, "pull request", "number", "updated_at") for pull in self.paginate(f"{self.repo_path}/pulls", params))

    def create_pull(self, *, title: str, head: str, base: str, body: str, draft: bool = False) -> dict[str, Any]:
        """Open a pull request from branch ``head`` of this repository into ``base``."""
        payload = {"title": title, "head": _checked_ref(head), "base": _checked_ref(base), "body": body, "draft": draft}
        return _object(self.request_json("POST", f"{self.repo_path}/pulls", json=payload, ok=(201,)), "pull request", "number", "html_url")

    def update_pull(self, number: int, *, title: str | None = None, body: str | None = None, state: str | None = None) -> dict[str, Any]:
        """Change a pull request's title, body or state (``open``/``closed``); what is None stays."""
        if state not in (None, "open", "closed"):
            raise InputError(f"pull request state {state!r}: expected open or closed")
        payload = {name: value for name, value in (("title", title), ("body", body), ("state", state)) if value is not None}
        url = f"{self.repo_path}/pulls/{int(number)}"
        return _object(self.request_json("PATCH", url, json=payload, ok=(200,)), "pull request", "number", "html_url")

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
            return _object(_json(found, "GET", url), "label", "name")
        payload = {"name": name, "color": color, "description": description}
        created = self.request("POST", f"{self.repo_path}/labels", json=payload, ok=(201, 422))
        if created.status_code == 201:
            return _object(_json(created, "POST", "labels"), "label", "name")
        again = self.request("GET", url, ok=(200, 404))  # 422: someone created it meanwhile, or it was refused
        if again.status_code == 200:
            return _object(_json(again, "GET", url), "label", "name")
        raise _failure("POST", f"{self.repo_path}/labels", created)

    def add_labels(self, issue_number: int, labels: Iterable[str]) -> list[dict[str, Any]]:
        """Add ``labels`` to an issue or pull request (GitHub creates missing ones); its labels afterwards."""
        url = f"{self.repo_path}/issues/{int(issue_number)}/labels"
        added = self.request_json("POST", url, json={"labels": list(labels)}, ok=(200,))
        if not isinstance(added, list):
            raise GitHubError(f"GitHub POST {_path(url)} answered {type(added).__name__}, expected a list of labels")
        return [_object(label, "label", "name") for label in added]

    def dispatch_workflow(
        self, workflow_file: str, *, ref: str, inputs: Mapping[str, str] | None = None, return_run_details: bool = False
    ) -> dict[str, Any] | None:
        """Run ``.github/workflows/<workflow_file>`` on branch or tag ``ref`` (``workflow_dispatch``).

        Runs started this way are the exception to "events made with GITHUB_TOKEN start no workflow". GitHub
        answers 204, or with ``return_run_details`` (github.com since 2026; not every GitHub Enterprise Server
        takes it) 200 and the run's ``workflow_run_id`` and ``html_url``, which this returns; None otherwise.
        """
        if not re.fullmatch(r"[\w.-]+\.ya?ml", workflow_file):
            raise InputError(f"workflow {workflow_file!r}: expected a file name in .github/workflows such as pr.yml")
        inputs = dict(inputs or {})
        if len(inputs) > MAX_DISPATCH_INPUTS or not all(isinstance(value, str) for value in inputs.values()):
            raise InputError(f"workflow {workflow_file}: expected at most {MAX_DISPATCH_INPUTS} inputs, each a string")
        body: dict[str, Any] = {"ref": _checked_ref(ref), "inputs": inputs}
        if return_run_details:
            body["return_run_details"] = True
        url = f"{self.repo_path}/actions/workflows/{workflow_file}/dispatches"
        response = self.request("POST", url, json=body, ok=(200, 204))
        if response.status_code == 204 or not response.content.strip():
            return None
        return _object(_json(response, "POST", url), "workflow run", "workflow_run_id", "html_url")

    # Deployments

    def deployments(self, *, environment: str, sha: str | None = None) -> list[dict[str, Any]]:
        """Deployments to ``environment`` (of commit ``sha`` when given), newest first."""
        params = {"environment": environment, **({"sha": sha} if sha is not None else {})}
        return [
            _object(deployment, "deployment", "id", "sha", "created_at")
            for deployment in self.paginate(f"{self.repo_path}/deployments", params)
        ]

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


def commit_author(commit: dict[str, Any]) -> str | None:
    """The GitHub login a listed commit is attributed to; None when its email maps to no account.

    Git lets whoever pushes write any author, so this tells a bot's commits from a person's among
    people with push access, not more.
    """
    author = commit.get("author")
    login = author.get("login") if isinstance(author, dict) else None
    return login if isinstance(login, str) else None


def git_blob_sha(content: bytes) -> str:
    """The sha git (and GitHub) give a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def is_branch_name(name: str) -> bool:
    """Whether git accepts ``name`` as a branch (``git check-ref-format --branch``, without its @{-N} forms)."""
    if not name or name == "@" or len(name) > 255 or name.startswith(("-", "/")) or name.endswith(("/", ".")):
        return False
    if any(marker in name for marker in ("..", "//", "@{")) or re.search(r"[\x00-\x20\x7f~^:?*\[\\]", name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


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
    """GitHub's message, with the reasons a 422 lists ("A pull request already exists ..."), on one bounded line."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message) if message else response.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    reasons = [
        str(error.get("message") or " ".join(str(error[key]) for key in ("resource", "field", "code") if error.get(key)))
        for error in (errors if isinstance(errors, list) else [])
        if isinstance(error, dict)
    ]
    if any(reasons):
        text += ": " + "; ".join(reason for reason in reasons if reason)
    return " ".join(text.split())[:500]


def _ref_sha(ref: Any, name: str) -> str:
    """The sha a git ref (``heads/<branch>``, ``tags/<tag>``) points at."""
    ref = _object(ref, f"ref {name}", "object")
    sha = ref["object"].get("sha") if isinstance(ref["object"], dict) else None
    if not isinstance(sha, str):
        raise GitHubError(f"GitHub's ref {name} has no object sha")
    return _checked_sha(sha, f"ref {name}", error=GitHubError)


def _checked_sha(sha: Any, what: str, *, error: type[MlopsError] = InputError) -> str:
    """A full lowercase hex sha: the only kind that goes into a URL or a git object here."""
    if not isinstance(sha, str) or not SHA_PATTERN.fullmatch(sha):
        raise error(f"{what}: {str(sha)[:60]!r} is not a 40-character hex sha")
    return sha


def _checked_ref(name: str) -> str:
    """A branch, tag or sha name that git accepts, as it is (for a JSON body or a query string)."""
    if not is_branch_name(name):
        raise InputError(f"{name[:100]!r} is not a valid branch or tag name (see git check-ref-format)")
    return name


def _branch_path(branch: str) -> str:
    """A branch, tag or sha name that git accepts, quoted for a URL path (its slashes stay)."""
    return quote(_checked_ref(branch), safe="/")


def _checked_file_path(path: str) -> str:
    """A path inside the repository, quoted for a URL: relative, no empty, ".", ".." or ".git" component."""
    parts = path.split("/")
    if not path or any(part in ("", ".", "..") or part.lower() == ".git" for part in parts) or re.search(r"[\x00-\x1f\x7f\\]", path):
        raise InputError(f"{path[:100]!r} is not a file path inside the repository")
    return quote(path, safe="/")


def _tree_sha(commit: dict[str, Any]) -> str:
    tree = commit.get("tree")
    return _checked_sha(
        tree.get("sha") if isinstance(tree, dict) else None, f"tree of commit {str(commit.get('sha'))[:40]}", error=GitHubError
    )


def _parent_shas(commit: dict[str, Any]) -> list[str]:
    parents = commit.get("parents")
    if not isinstance(parents, list) or not all(isinstance(parent, dict) for parent in parents):
        raise GitHubError(f"GitHub returned commit {str(commit.get('sha'))[:40]} without a list of parents")
    return [_checked_sha(parent.get("sha"), "parent commit", error=GitHubError) for parent in parents]


def _head_of(pull: dict[str, Any]) -> tuple[str, str] | None:
    """(repository full name in lower case, branch) of a pull request's head; None when GitHub did not say."""
    head = pull.get("head")
    repo = head.get("repo") if isinstance(head, dict) else None
    full_name = repo.get("full_name") if isinstance(repo, dict) else None
    ref = head.get("ref") if isinstance(head, dict) else None
    return (full_name.lower(), ref) if isinstance(full_name, str) and isinstance(ref, str) else None


def _inline_text(content: bytes) -> str | None:
    """``content`` as text to put inline in a tree, or None when it must go as a blob (binary or large)."""
    if len(content) > MAX_INLINE_TREE_CONTENT:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _base64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise GitHubError(f"GitHub sent {where} in base64 that does not decode") from error
