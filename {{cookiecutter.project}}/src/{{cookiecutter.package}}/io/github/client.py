"""The request layer every GitHub call goes through: where the token goes, retries, pagination, answers checked.

Base URL from ``GITHUB_API_URL`` (set by Actions, also on GitHub Enterprise), token from
``GITHUB_TOKEN``, repository from ``GITHUB_REPOSITORY``. Retries 5xx and rate limits with
backoff (honouring ``Retry-After`` and ``X-RateLimit-Reset``), follows ``Link`` pagination
(at most ``MAX_PAGES`` pages).

The token is never logged, and it is sent only where it belongs: to the API's origin and to
GitHub's upload origin for that API (``upload_origin_for``: uploads.github.com beside
api.github.com, the API's own host on GitHub Enterprise Server, or ``MLOPS_GITHUB_UPLOAD_URL``),
over https (plain http only to a loopback host, which is how tests serve a double). Never to an
origin an answer names: an ``upload_url`` elsewhere is refused, and any other host (a ``Link`` or
asset URL pointing elsewhere, the storage host a download redirects to) gets the request without it.

Every name that goes into a URL path (branch, file path, label, workflow file) is checked first
(``checked_ref``, ``checked_file_path``, ``checked_sha``), so that a value read from GitHub or from
a user cannot walk the request to another endpoint.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from ...config import Environment
from ...errors import InputError, MlopsError
from ...project import PROJECT

if TYPE_CHECKING:  # the dry run's transport imports git_data, which imports this module
    from .dry_run import DryRun

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
    # Where release assets upload (the one other origin the token goes to); "" derives it from api_url.
    upload_url: str = ""

    @property
    def upload_origin(self) -> str:
        """GitHub's upload origin for this API: given, or derived (:func:`upload_origin_for`)."""
        return self.upload_url.rstrip("/") or upload_origin_for(self.api_url)

    @classmethod
    def from_env(cls, env: Environment) -> GitHubContext:
        token, repository = env.github_token, env.github_repository
        if not token:
            raise InputError("GITHUB_TOKEN is not set: expected a token with access to the repository (in Actions: secrets.GITHUB_TOKEN)")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise InputError(f"GITHUB_REPOSITORY is {repository!r}: expected owner/name (set by GitHub Actions)")
        return cls(api_url=env.github_api_url, repository=repository, token=token, upload_url=env.mlops_github_upload_url)


def connect_context(env: Environment, *, dry_run: DryRun | None = None) -> GitHubContext:
    """The run's context; a dry run without ``GITHUB_REPOSITORY`` gets a stand-in one (its reads are answered offline)."""
    if dry_run is not None and dry_run.offline:
        return GitHubContext(api_url=env.github_api_url, repository=f"dry-run/{PROJECT}", token="", upload_url=env.mlops_github_upload_url)
    return GitHubContext.from_env(env)


def upload_origin_for(api_url: str) -> str:
    """Where GitHub takes release asset uploads for the API at ``api_url``.

    github.com: ``https://api.github.com`` → ``https://uploads.github.com``; GitHub Enterprise Cloud with data
    residency: ``https://api.<name>.ghe.com`` → ``https://uploads.<name>.ghe.com``; GitHub Enterprise Server
    (``https://<host>/api/v3``): the API's own host (``/api/uploads``). Anything else: set
    ``MLOPS_GITHUB_UPLOAD_URL`` (a proxy, or the tests' double, which serves uploads on a port of their own).
    """
    url = httpx.URL(api_url)
    host = url.host.lower()
    if host == "api.github.com" or (host.startswith("api.") and host.endswith(".ghe.com")):
        return str(url.copy_with(host="uploads." + host.removeprefix("api."), path="/", query=None)).rstrip("/")
    return str(url.copy_with(path="/", query=None)).rstrip("/")


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


def origin_of(url: str) -> tuple[str, str, int | None] | None:
    try:
        return _origin(httpx.URL(url))
    except httpx.InvalidURL:
        return None


def _secure(url: httpx.URL) -> bool:
    return url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host))


class _TokenAuth(httpx.Auth):
    """Adds the token to requests for the origins it belongs to, and to no other."""

    def __init__(self, token: str, *urls: httpx.URL) -> None:
        self._token = token
        self.origins = frozenset(_origin(url) for url in urls)

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


class Client:
    """The shared request layer; :class:`GitHub` adds one family of endpoints per module on top of it."""

    def __init__(
        self,
        context: GitHubContext,
        *,
        retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        dry_run: DryRun | None = None,
    ) -> None:
        api_url = httpx.URL(context.api_url)
        if not _secure(api_url):
            raise InputError(
                f"GITHUB_API_URL is {context.api_url!r}: expected an https URL (plain http only to a loopback host, for tests)"
            )
        try:
            upload_origin = httpx.URL(context.upload_origin)
        except httpx.InvalidURL as error:
            raise InputError(f"MLOPS_GITHUB_UPLOAD_URL is {context.upload_url!r}: expected an https URL ({error})") from error
        if not _secure(upload_origin):
            raise InputError(
                f"MLOPS_GITHUB_UPLOAD_URL is {context.upload_url!r}: expected an https URL (plain http only to a loopback host, for tests)"
            )
        self.context = context
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.upload_origin = _origin(upload_origin)
        self._auth = _TokenAuth(context.token, api_url, upload_origin)
        self.dry_run = dry_run
        if dry_run is not None:
            # Under the request layer, so that no endpoint can send a write: it is recorded and answered there instead.
            dry_run.reads, dry_run.upload_origin = transport or httpx.HTTPTransport(), context.upload_origin
            transport = dry_run
        self.client = httpx.Client(
            base_url=context.api_url,
            auth=self._auth,
            headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION, "User-Agent": f"{PROJECT}-mlops"},
            timeout=timeout,
            follow_redirects=True,  # httpx drops Authorization when a redirect leaves the origin
            transport=transport,
        )

    def __enter__(self) -> Client:
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
                raise GitHubError(f"GitHub {method} {api_path(url)}: {type(error).__name__}: {error}") from error
            except httpx.TransportError as error:
                if attempt == self.retries:
                    raise GitHubError(f"GitHub API unreachable at {self.context.api_url}: {type(error).__name__}") from error
                self.sleep(min(self.backoff * 2**attempt, MAX_WAIT_SECONDS))
                continue
            except httpx.HTTPError as error:  # e.g. a body that does not decode: bad data, not a bug of ours
                raise GitHubError(f"GitHub {method} {api_path(url)}: {type(error).__name__}: {error}") from error
            if response.status_code in ok:
                return response
            wait = _wait_seconds(response, attempt, self.backoff)
            if wait is None or attempt == self.retries:
                break
            logger.warning("GitHub answered %s to %s %s; retrying in %.1f s", response.status_code, method, api_path(url), wait)
            self.sleep(wait)
        raise failure(method, url, response)

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """``request`` and its JSON body; a body that is not JSON is a ``GitHubError``."""
        return json_body(self.request(method, url, **kwargs), method, url)

    def paginate(self, url: str, params: dict[str, Any] | None = None, *, max_pages: int = MAX_PAGES) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``Link: rel="next"`` for at most ``max_pages`` pages."""
        next_url: str | None = url
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        for _ in range(max_pages):
            response = self.request("GET", next_url, params=query)
            items = json_body(response, "GET", next_url)
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise GitHubError(f"GitHub GET {api_path(next_url)} answered {type(items).__name__}, expected a list of objects")
            yield from items
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return
            if origin_of(next_url) != origin_of(self.context.api_url):
                raise GitHubError(
                    f"GitHub GET {api_path(url)}: the next page is on another host ({next_url.split('?')[0]}): refusing to follow it"
                )
            query = None  # the next link carries the query
        raise GitHubError(
            f"GitHub GET {api_path(url)} still had a next page after {max_pages} pages of up to {PER_PAGE} items: stopping there"
        )


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


def is_branch_name(name: str) -> bool:
    """Whether git accepts ``name`` as a branch (``git check-ref-format --branch``, without its @{-N} forms)."""
    if not name or name == "@" or len(name) > 255 or name.startswith(("-", "/")) or name.endswith(("/", ".")):
        return False
    if any(marker in name for marker in ("..", "//", "@{")) or re.search(r"[\x00-\x20\x7f~^:?*\[\\]", name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def required_permission(method: str, url: str) -> str | None:
    """The ``permissions:`` entry a workflow job needs for this call, e.g. ``contents: write``; None when unknown."""
    path = api_path(url)
    for pattern, permission in PERMISSION_BY_PATH:
        if pattern.search(path):
            return f"{permission}: {'read' if method.upper() in ('GET', 'HEAD') else 'write'}"
    return None


def failure(method: str, url: str, response: httpx.Response) -> GitHubError:
    message = message_of(response)
    if response.status_code == 403 and message.startswith(ACCESS_DENIED):
        permission = required_permission(method, url)
        needs = (
            f"the token lacks `{permission}` (grant it in the job's permissions: block)" if permission else "the token lacks a permission"
        )
        return GitHubError(f"GitHub refused {method} {api_path(url)}: {needs}: 403 {message}", 403)
    return GitHubError(f"GitHub {method} {api_path(url)} failed: {response.status_code} {message}", response.status_code)


def api_path(url: str) -> str:
    try:
        return httpx.URL(url).path
    except httpx.InvalidURL:
        return "(invalid URL)"


def json_body(response: httpx.Response, method: str, url: str) -> Any:
    try:
        return response.json()
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        type_ = response.headers.get("content-type", "no content type")
        raise GitHubError(
            f"GitHub {method} {api_path(url)} answered {response.status_code} with a body that is not JSON ({type_})"
        ) from error


def as_object(value: Any, what: str, *keys: str) -> dict[str, Any]:
    """A JSON object GitHub returned, with the keys this client relies on."""
    if not isinstance(value, dict):
        raise GitHubError(f"GitHub returned a {what} that is {type(value).__name__}, expected an object")
    missing = [key for key in keys if key not in value]
    if missing:
        raise GitHubError(f"GitHub returned a {what} without {', '.join(missing)}")
    return value


# What a field of a GitHub answer must hold for the code that reads it ("?": may also be null or absent).
_KINDS: dict[str, Callable[[Any], bool]] = {
    "int": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "str": lambda value: isinstance(value, str),
    "bool": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "list": lambda value: isinstance(value, list),
    "time": lambda value: isinstance(value, str) and _is_time(value),
}


def _is_time(text: str) -> bool:
    """An ISO 8601 time with a UTC offset, as GitHub writes them (``2026-01-01T00:00:00Z``)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.tzinfo is not None and moment.astimezone(UTC) is not None
    except (ValueError, OverflowError):  # not a time, or one past year 9999 in UTC
        return False


def checked(value: Any, what: str, **fields: str) -> dict[str, Any]:
    """A JSON object GitHub returned, whose ``fields`` hold what this client's callers rely on.

    ``fields`` maps a key to ``int`` (not a boolean), ``str``, ``bool``, ``object``, ``list`` or ``time``
    (ISO 8601 with an offset), with ``?`` when it may be null or absent: e.g. ``checked(issue, "issue",
    number="int", created_at="time", closed_at="time?")``. Anything else is a one-line ``GitHubError``.
    """
    found = as_object(value, what, *(key for key, kind in fields.items() if not kind.endswith("?")))
    for key, kind in fields.items():
        if kind.endswith("?") and found.get(key) is None:
            continue
        if not _KINDS[kind.rstrip("?")](found[key]):
            shown = "null" if found[key] is None else f"{type(found[key]).__name__} {str(found[key])[:40]!r}"
            raise GitHubError(f"GitHub returned a {what} whose {key} is {shown}, expected {kind.rstrip('?')}")
    return found


def message_of(response: httpx.Response) -> str:
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


def ref_sha(ref: Any, name: str) -> str:
    """The sha a git ref (``heads/<branch>``, ``tags/<tag>``) points at."""
    ref = as_object(ref, f"ref {name}", "object")
    sha = ref["object"].get("sha") if isinstance(ref["object"], dict) else None
    if not isinstance(sha, str):
        raise GitHubError(f"GitHub's ref {name} has no object sha")
    return checked_sha(sha, f"ref {name}", error=GitHubError)


def checked_sha(sha: Any, what: str, *, error: type[MlopsError] = InputError) -> str:
    """A full lowercase hex sha: the only kind that goes into a URL or a git object here."""
    if not isinstance(sha, str) or not SHA_PATTERN.fullmatch(sha):
        raise error(f"{what}: {str(sha)[:60]!r} is not a 40-character hex sha")
    return sha


def checked_ref(name: str) -> str:
    """A branch, tag or sha name that git accepts, as it is (for a JSON body or a query string)."""
    if not is_branch_name(name):
        raise InputError(f"{name[:100]!r} is not a valid branch or tag name (see git check-ref-format)")
    return name


def branch_path(branch: str) -> str:
    """A branch, tag or sha name that git accepts, quoted for a URL path (its slashes stay)."""
    return quote(checked_ref(branch), safe="/")


def checked_file_path(path: str) -> str:
    """A path inside the repository, quoted for a URL: relative, no empty, ".", ".." or ".git" component."""
    parts = path.split("/")
    if not path or any(part in ("", ".", "..") or part.lower() == ".git" for part in parts) or re.search(r"[\x00-\x1f\x7f\\]", path):
        raise InputError(f"{path[:100]!r} is not a file path inside the repository")
    return quote(path, safe="/")
