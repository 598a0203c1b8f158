"""A stateful double of GitHub's REST API, served on loopback for the template's tests.

The generated project's CLI talks to GitHub (``GITHUB_API_URL``, ``GITHUB_TOKEN``) from GitHub Actions.
Tests cannot reach GitHub, so they point ``GITHUB_API_URL`` at :class:`GitHubDouble` instead::

    with GitHubDouble(owner="acme", repo="churn-model") as gh:
        env = {"GITHUB_API_URL": gh.url, "GITHUB_TOKEN": gh.token, "GITHUB_REPOSITORY": gh.full_name}
        ...  # run the CLI
        assert gh.releases[0]["tag_name"] == "v1.0.0"
        assert gh.violations == []

It answers with GitHub's shapes (every field GitHub's OpenAPI description marks required, realistic ids,
timestamps, URLs), GitHub's errors (401, 404, 422 ``Validation Failed``, 400 ``Problems parsing JSON``),
pagination with ``Link`` headers, rate-limit headers, and injected faults (:meth:`GitHubDouble.fail_next`).
Every call it serves is checked against GitHub's published description (``openapi.py``); what does not
match lands in :attr:`GitHubDouble.violations`, which a test asserts empty.

Where a client could go wrong, it is as strict as GitHub:

- Repository settings, as constructor arguments; the defaults are a new personal public repository on github.com.
  ``visibility`` (``public``, ``private``, or ``internal`` in an Enterprise Cloud organization) and ``owner_type``
  (``User``, ``Organization``) show in ``GET /repos/{owner}/{repo}`` (``private``, ``visibility``, ``owner.type``,
  ``organization``); ``plan`` (``free``, ``pro`` for a person, ``team`` or ``enterprise_cloud`` for an
  organization) decides what the repository may use. ``actions_can_create_pull_requests`` is "Allow GitHub Actions
  to create and approve pull requests", off by default as on github.com: GITHUB_TOKEN (``github-actions[bot]``)
  opening a pull request then gets 403 ``GitHub Actions is not permitted to create or approve pull requests.``; a
  person's token or another app's is not affected. ``GET``/``PUT .../actions/permissions/workflow`` show and change
  it (``can_approve_pull_request_reviews``) with ``default_workflow_permissions``; they need ``administration``,
  which no workflow job's token can hold (:data:`APP_ONLY_PERMISSIONS`), so only a person's or an app's token
  (``token_for(login="octocat", permissions="write-all")``) reaches them. Tests may also set the attributes.
  Anonymous calls get 401 ``Requires authentication`` on a public repository and 404 on a private or internal one
  (GitHub hides what a caller cannot see).
- Artifact attestations: ``POST .../attestations`` (what actions/attest-build-provenance calls, ``attestations:
  write``) stores a Sigstore bundle under the sha256 digests of its in-toto statement's subjects (the DSSE
  envelope's base64 payload), which ``GET .../attestations/{subject_digest}`` then lists; answers 201 ``{"id": N}``
  and records it in :attr:`GitHubDouble.attestations`. As documented ("available for public repositories on all
  current plans; private or internal ones need GitHub Enterprise Cloud"), a private or internal repository
  without ``plan="enterprise_cloud"`` gets 422 with GitHub's own message (user-owned: ``Feature not available for
  user-owned private repositories. ...``; organization-owned: ``Feature not available for the <org>
  organization. ...``), before the bundle is read. :meth:`GitHubDouble.add_attestation` seeds one instead.
- Who may say what (to count only trusted people's incidents): :meth:`GitHubDouble.add_collaborator` (GitHub's
  roles read, triage, write, maintain, admin; write only on a personal repository, which has one collaborator
  role) and :meth:`GitHubDouble.add_member` (the owning organization's members read its repositories, its owners
  administer them). Issues, pull requests and comments carry ``author_association`` as GitHub computes it: OWNER,
  MEMBER, COLLABORATOR, CONTRIBUTOR (a commit on the default branch), else NONE.
  ``GET .../collaborators/{username}/permission`` answers ``permission`` (admin, write, read, none: maintain maps
  to write, triage to read, as documented), ``role_name`` and ``user``; someone with no role reads a public
  repository (``read``) and nothing of a private one (``none``); an account the double does not know (see
  :meth:`GitHubDouble.add_user`) is 404; a person asking needs push access (403 ``Must have push access to view
  collaborator permission.``), an app's token only metadata. ``GET .../issues/{issue_number}/events`` lists
  ``labeled``/``unlabeled`` events (actor, label, time), oldest first and paginated: recorded when labels come
  with a new issue, through ``POST .../labels`` or a ``PATCH`` of the labels, and when a person labels one
  (:meth:`GitHubDouble.label_issue`, :meth:`GitHubDouble.unlabel_issue`); seeded issues' labels count as added
  by their author when opened.
- Identities and permissions. :attr:`GitHubDouble.token` is GITHUB_TOKEN with every permission;
  :meth:`GitHubDouble.token_for` makes a token for any login with the permissions of a workflow job's
  ``permissions:`` block, :meth:`GitHubDouble.fork_token` a fork pull request's read-only one. Every route
  declares what it needs (``@_route(..., needs=...)``); a token without it gets 403 ``Resource not
  accessible by integration``. What a token creates (comments, issues, pull requests, releases, assets,
  deployments, statuses) is recorded as made by its login, a ``[bot]`` login as a Bot.
- Releases: drafts have no tag, are not latest nor found by tag, and are seen only with contents:write;
  publishing (``PATCH draft: false``) creates the tag. With ``immutable_releases`` a published release's
  assets and tag are locked and its tag is never reusable.
- Uploads need a ``Content-Type`` (400 without); asset names are unique per release (422).
- Deployments: ``auto_merge`` merges the default branch into a branch behind it (202, no deployment);
  commit statuses (:meth:`GitHubDouble.add_commit_status`) must be ``success`` for the contexts
  ``required_contexts`` names, every reported one when it is omitted (409).
- Bodies: 65536 characters for issues, pull requests and comments, 125000 for release notes (422).
- Git data (``git/blobs``, ``git/trees``, ``git/commits``, ``git/refs``): a real object store whose shas
  are git's own (``git_objects.py``); trees merge onto ``base_tree`` and delete paths given ``sha: null``
  (422 for a path that is not there); a commit's default author is the token's login at its noreply
  address; a branch moves only by fast-forward unless ``force`` (422 ``Update is not a fast forward``),
  and open pull requests from it follow it. ``contents`` serves files base64 in 60-character lines, and
  files over 1 MB without content (``encoding: none``), as GitHub does; the commit list shows who
  authored each commit (``author.login``).
- Pull requests: one open per head and base (422 ``A pull request already exists for owner:branch.``),
  none without commits ahead of the base (422); reopening needs the head branch; who closed one is
  recorded (``closed_by``).
- Labels: names unique whatever their case (422 ``already_exists``); adding a missing label to an issue or
  pull request creates it.
- Workflow dispatch: only workflow files the double was told of (:meth:`GitHubDouble.add_workflow`,
  :meth:`GitHubDouble.add_workflows_from`; 404 otherwise) with a ``workflow_dispatch`` trigger, on an existing
  branch or tag, with the inputs the workflow declares (422 otherwise; defaults filled in). Each dispatch
  is recorded with the payload to run it under act (:attr:`GitHubDouble.dispatches`); 204, or 200 with the
  run's ids when ``return_run_details`` is set.
- People: :meth:`GitHubDouble.push_commit` is a person pushing to a branch, :meth:`GitHubDouble.close_pull`
  a person closing a pull request at a given time; a person's token (``token_for(login=...)``) does the
  same through the API.

github.com has three hosts (api.github.com, uploads.github.com, objects.githubusercontent.com); the double has a
listener on 127.0.0.1 for each, each its own origin (its own port):

- the API (``gh.url``, what ``GITHUB_API_URL`` is set to), which does not serve uploads (404, and a violation
  saying where they go);
- uploads (``gh.uploads_url``): ``POST /repos/{owner}/{repo}/releases/{release_id}/assets``, the one operation
  the description serves from uploads.github.com, and only that; releases' ``upload_url`` points there
  (``{uploads_url}/repos/{owner}/{repo}/releases/{id}/assets{?name,label}``). It authenticates as the API
  does: without a token, 401 ``Requires authentication`` (404 on a private repository), as GitHub answers
  a write without credentials (its docs list 401 for every operation that needs them; uploads.github.com has
  also been seen answering 404 "Not Found" to an unauthenticated upload, piotrmurach/github#343, which a
  client must treat the same). A client that sends the token only to origins it knows must learn this one
  from ``upload_url`` or be told ``gh.uploads_url``;
- storage (``gh.storage_url``): where asset downloads redirect to and ``browser_download_url`` points, so that,
  as on GitHub, the redirect leaves the API's origin and a client must not carry the token there (a storage
  request with an ``Authorization`` header is a violation).

``flavour="ghes"`` is GitHub Enterprise Server instead: one host serves the API under ``/api/v3`` (``gh.url`` is
``http://127.0.0.1:PORT/api/v3``) and uploads under ``/api/uploads`` (``gh.uploads_url``, the API's origin),
``html_url`` and the like point at the host itself, anything outside the two prefixes is 404 (and a violation),
and artifact attestations do not exist (404: GHES's descriptions have no attestations endpoints). Storage keeps
a listener of its own in both flavours (GHES may serve downloads from its own host or a media subdomain; a client
must cope with either, so the double keeps the stricter case). Every call on every listener is recorded in
``gh.calls`` (``Call.host`` says which; ``Call.path`` is as sent, GHES prefix included) and checked against the
description (the api.github.com one also for GHES: the operations the double serves are the same).

Deliberate simplifications, each where GitHub would need a real git repository or more state than a test
needs: unless ``known_commits_only``, any 40-hex sha names a commit (tests pass shas of projects the double
never saw); ``compare`` and ``auto_merge`` know only the history seeded with :meth:`GitHubDouble.add_commit`
(a branch whose tip is not a seeded commit is never "behind"), and auto-merges never conflict; the rate
limit is one budget shared by all tokens; permissions are checked per route (per issue kind for issues
and comments), never per item of a list (the issue list shows pull requests to an issues-only token); any
identity with the permission may edit any comment; immutable releases lock assets and the tag name, but
the double has no endpoint that deletes a tag anyway, and the wordings of its refusals to rename or move
an immutable release's tag are its own (GitHub's were not found). In the git routes a sha the double never saw
stands for an empty root commit (unless ``known_commits_only``); commits map to GitHub accounts through
noreply addresses only; commit signatures are never verified; workflows are known for the whole repository,
not per ref; there is no ``GET git/trees``; submodule and symlink entries cannot be created in a tree.

Simplifications of the repository settings: anonymous reads of a public repository, which GitHub serves (60 an
hour), answer 401 here (the project's client always sends a token); ``default_workflow_permissions`` defaults to
``write`` so that :attr:`GitHubDouble.token` (a job without a ``permissions:`` block) can write as the tests
expect, while GitHub's default for repositories created since February 2023 is ``read`` (pass it to get that: the
token then reads contents and packages only); a setting changed later applies to tokens issued from then on,
as GitHub's applies to jobs started from then on; a person's token has the permissions ``token_for`` gives it,
whatever the person's role in the repository (only the permission endpoint looks at the caller's role); the
organization-level setting that can force the repository's off is not modelled.

Simplifications of attestations and people: attestation bundles are never verified (no Sigstore offline), only
their statement is read, and a bundle without one gets 400 in the double's words. Issue events are label events
only (no closed, assigned, referenced ...), their ``performed_via_github_app`` always null. FIRST_TIMER and
FIRST_TIME_CONTRIBUTOR associations, teams, custom roles and enterprise members are not modelled, and the
organization's base permission is fixed at read. A private repository's answer for someone without a role
(``none``, ``role_name`` ``""``) follows apps' answers seen in public code: GitHub's docs are silent on it.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import copy
import hashlib
import itertools
import json
import math
import re
import secrets
import socket
import string
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from .git_objects import BLOB_MODES, EMPTY_TREE, TREE_MODE, GitObjects, Signature, TreeEntry, commit_sha, is_valid_path
from .openapi import OpenAPISubset, default_subset

API_VERSION = "2022-11-28"
DOCS = "https://docs.github.com/rest"
WEB = "https://github.com"
FLAVOURS = ("github.com", "ghes")
# GitHub Enterprise Server serves the REST API and asset uploads under these prefixes of its one host.
GHES_API_PREFIX = "/api/v3"
GHES_UPLOADS_PREFIX = "/api/uploads"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# GITHUB_TOKEN in Actions is an installation token of the github-actions app: this bot, 1000 requests an hour.
ACTIONS_BOT = "github-actions[bot]"
ACTIONS_BOT_ID = 41898282
DEFAULT_RATE_LIMIT = 1000
RATE_LIMIT_WINDOW_SECONDS = 3600
# A connection idle this long is closed, so a client that never finishes a request cannot pin a thread.
SOCKET_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0
SHA_PATTERN = re.compile(r"[0-9a-f]{40}")
DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
MAX_STATUS_DESCRIPTION = 140
RATE_LIMIT_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
PRIMARY_RATE_LIMIT_MESSAGE = (
    "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID."
)
SECONDARY_RATE_LIMIT_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."

# GITHUB_TOKEN's permissions, as a workflow's `permissions:` block spells them ("Controlling permissions for
# GITHUB_TOKEN", docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token).
# `metadata` is not among them: every token reads it, none writes it.
PERMISSIONS = (
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
)
# Permissions a GitHub App installation or a fine-grained token can hold but GITHUB_TOKEN never can: a workflow's
# `permissions:` block naming one is not a valid workflow ("Unexpected value 'administration'", reported by many
# users who tried), so no job's token has it. Repository settings (Actions permissions among them) need it.
APP_ONLY_PERMISSIONS = ("administration",)
APP_PERMISSIONS = (*PERMISSIONS, *APP_ONLY_PERMISSIONS)
LEVELS = ("none", "read", "write")
# A pull request from a fork gets a read-only GITHUB_TOKEN: the "Maximum access for pull requests from public
# forked repositories" column of docs.github.com/actions/reference/github_token-reference (read, id-token none).
FORK_PERMISSIONS = {permission: "read" for permission in PERMISSIONS if permission != "id-token"}
# A job without a `permissions:` block when the repository's default is "read" (restricted): the "Default access
# (restricted)" column of the same reference page. GitHub's default for repositories created since February 2023.
RESTRICTED_PERMISSIONS = {"contents": "read", "packages": "read"}
METADATA_READ = "metadata:read"  # a route every token may call (GET /repos/{owner}/{repo})
ISSUE_OR_PULL = "issues-or-pull-requests"  # issues:…, or pull-requests:… when the issue is a pull request
# What GitHub answers an installation token (GITHUB_TOKEN, a GitHub App) lacking a permission: 403 with this
# message and the operation's docs page (e.g. actions/create-github-app-token#258, renovatebot/github-action#595).
ACCESS_DENIED_MESSAGE = "Resource not accessible by integration"
# What GitHub answers GITHUB_TOKEN creating a pull request while "Allow GitHub Actions to create and approve pull
# requests" is off (403; peter-evans/create-pull-request#1175 and #3979, googleapis/release-please-action#767).
ACTIONS_MAY_NOT_CREATE_PULLS_MESSAGE = "GitHub Actions is not permitted to create or approve pull requests."
VISIBILITIES = ("public", "private", "internal")
# A repository's roles, weakest first ("Repository roles for an organization"); the permission endpoint's legacy
# `permission` maps maintain to write and triage to read. Personal repositories have one collaborator role: write.
ROLES = ("read", "triage", "write", "maintain", "admin")
ROLE_PERMISSION = {"read": "read", "triage": "read", "write": "write", "maintain": "write", "admin": "admin"}
ORGANIZATION_ROLES = ("member", "owner")
# What an organization's members get on its repositories without another grant: the default base permission.
ORGANIZATION_BASE_ROLE = "read"
PUSH_ACCESS_MESSAGE = "Must have push access to view collaborator permission."  # 403 to a person (yegor256/rultor#1407)
OWNER_TYPES = ("User", "Organization")
PLANS = ("free", "pro", "team", "enterprise_cloud")
# Body limits, from GitHub's 422 answers: 65536 characters for issues, pull requests and comments
# (danger/danger#424, trstringer/manual-approval#89, easybuilders/easybuild-easyconfigs#24647), 125000 for
# release notes (ncipollo/release-action#493, angular/dev-infra#174).
MAX_ISSUE_BODY = 65536
MAX_RELEASE_BODY = 125000
COMMIT_STATES = ("error", "failure", "pending", "success")
# The contents API inlines files up to 1 MB; larger ones come with an empty content and encoding "none".
MAX_INLINE_CONTENT = 1024 * 1024
MAX_LABEL_DESCRIPTION = 100
# GitHub's noreply commit addresses: <login>@… (older) or <id>+<login>@…; a login may end in [bot].
NOREPLY_EMAIL = re.compile(r"(?:[0-9]+\+)?([A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)@users\.noreply\.github\.com", re.IGNORECASE)
_UNSIGNED = {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


@dataclass(frozen=True)
class Call:
    """One request the double answered. The token is never recorded."""

    method: str
    path: str  # without the query string, as sent (percent-encoded)
    query: dict[str, str]
    json: Any | None  # the request's JSON body, None without one (uploads send bytes)
    status: int
    content_type: str | None  # the request's Content-Type
    response_json: Any | None = None
    login: str | None = None  # who the token acts as; None when it authenticated no one (or on the storage host)
    host: str = "api"  # which origin served it: "api", "uploads" (the API's own host on GHES: "api") or "storage"


@dataclass
class _Fault:
    method: str | None
    path_regex: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    remaining: int
    after_handling: bool


@dataclass
class _Reply:
    status: int
    body: Any = None  # JSON-serialisable; ignored when raw is set
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (asset downloads)


class GitHubApiError(Exception):
    """Raised by a handler: becomes a JSON error reply shaped like GitHub's."""

    def __init__(self, status: int, message: str, *, errors: list[dict[str, Any]] | None = None, documentation_url: str = DOCS) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": documentation_url, "status": str(status)}
        if errors is not None:
            self.body["errors"] = errors


def _not_found() -> GitHubApiError:
    return GitHubApiError(404, "Not Found", documentation_url=DOCS)


def _validation_failed(resource: str, code: str, field_name: str | None = None, message: str | None = None) -> GitHubApiError:
    error: dict[str, Any] = {"resource": resource, "code": code}
    if field_name is not None:
        error["field"] = field_name
    if message is not None:
        error["message"] = message
    return GitHubApiError(422, "Validation Failed", errors=[error])


@dataclass(frozen=True)
class _Identity:
    """Who a token acts as, and what its permissions allow (a workflow job's ``permissions:`` block, normalised)."""

    login: str
    permissions: Mapping[str, str]  # every key of PERMISSIONS (APP_PERMISSIONS but for GITHUB_TOKEN) → none/read/write

    @property
    def is_github_token(self) -> bool:
        """GITHUB_TOKEN: the github-actions app's installation token that every workflow job gets."""
        return self.login == ACTIONS_BOT

    def allows(self, permission: str, level: str) -> bool:
        if permission == "metadata":
            return level == "read"  # every installation token can read metadata, and none can write it
        return LEVELS.index(self.permissions.get(permission, "none")) >= LEVELS.index(level)


@dataclass
class _Request:
    method: str
    path: str
    params: dict[str, str]  # path parameters, percent-decoded
    query: dict[str, str]
    json: Any
    body: bytes
    headers: Message
    content_type: str | None
    identity: _Identity
    documentation_url: str  # the operation's page on docs.github.com, as GitHub's errors link it

    def require(self, *alternatives: tuple[str, str]) -> None:
        """403 unless the token holds one of the (permission, level) alternatives, with GitHub's message for integrations."""
        if not any(self.identity.allows(permission, level) for permission, level in alternatives):
            raise GitHubApiError(403, ACCESS_DENIED_MESSAGE, documentation_url=self.documentation_url)

    def number(self, name: str) -> int:
        return int(self.params[name])

    def fields(self, resource: str, required: Mapping[str, Any] | None = None, optional: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON body as an object, its fields type-checked the way GitHub reports them (422 Validation Failed)."""
        body = {} if self.json is None else self.json
        if not isinstance(body, dict):
            raise GitHubApiError(422, "Invalid request.\n\nThe request body must be a JSON object.")
        errors = []
        for name, kind in (required or {}).items():
            if body.get(name) in (None, ""):
                errors.append({"resource": resource, "code": "missing_field", "field": name})
            elif not _is_kind(body[name], kind):
                errors.append({"resource": resource, "code": "invalid", "field": name})
        for name, kind in (optional or {}).items():
            if name in body and body[name] is not None and not _is_kind(body[name], kind):
                errors.append({"resource": resource, "code": "invalid", "field": name})
        if errors:
            raise GitHubApiError(422, "Validation Failed", errors=errors)
        return body


def _is_kind(value: Any, kind: Any) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):  # bool is an int in Python, never in JSON
        return bool in kinds
    return isinstance(value, kinds)


@dataclass
class _Asset:
    id: int
    release_id: int
    name: str
    label: str
    content_type: str
    content: bytes
    created_at: str
    updated_at: str
    uploader: str
    download_count: int = 0


@dataclass
class _Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    created_at: str
    updated_at: str
    published_at: str | None
    untagged_slug: str  # drafts live at releases/tag/untagged-<hex> on github.com
    author: str
    immutable: bool = False  # published while the repository had immutable releases on: assets and tag locked
    assets: list[_Asset] = field(default_factory=list)


@dataclass
class _PullPart:
    id: int
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    merge_commit_sha: str | None
    merged_at: str | None
    draft: bool
    maintainer_can_modify: bool


@dataclass
class _Issue:
    """An issue, or a pull request's issue side: GitHub numbers both from one sequence."""

    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: str
    state_reason: str | None
    labels: list[str]
    created_at: str
    updated_at: str
    closed_at: str | None
    pull: _PullPart | None = None
    closed_by: str | None = None


@dataclass
class _Comment:
    id: int
    issue_number: int
    body: str
    user: str
    created_at: str
    updated_at: str


@dataclass
class _DeploymentStatus:
    id: int
    state: str
    description: str
    environment: str
    environment_url: str
    log_url: str
    created_at: str
    creator: str


@dataclass
class _Deployment:
    id: int
    sha: str
    ref: str
    task: str
    payload: Any
    environment: str
    original_environment: str
    description: str | None
    transient_environment: bool
    production_environment: bool
    created_at: str
    updated_at: str
    creator: str
    statuses: list[_DeploymentStatus] = field(default_factory=list)


@dataclass
class _Commit:
    sha: str
    message: str
    author: Signature
    committer: Signature
    parents: list[str]
    tree: str = EMPTY_TREE

    @property
    def date(self) -> str:
        return self.committer.date


@dataclass
class _Label:
    id: int
    name: str
    color: str
    description: str | None


@dataclass
class _IssueEvent:
    """What happened to an issue or pull request, as its events list shows it (labeled and unlabeled here)."""

    id: int
    issue_number: int
    event: str
    actor: str
    created_at: str
    label_name: str
    label_color: str


@dataclass
class _Workflow:
    """A workflow file of the repository, as far as dispatching it goes."""

    id: int
    path: str  # .github/workflows/<file>
    name: str
    dispatchable: bool  # whether `on:` has workflow_dispatch
    inputs: dict[str, dict[str, Any]]  # workflow_dispatch inputs: name → {required, default, type, options}


@dataclass
class _Dispatch:
    run_id: int
    workflow: _Workflow
    ref: str  # fully qualified: refs/heads/<branch> or refs/tags/<tag>
    sha: str
    inputs: dict[str, str]
    actor: str
    created_at: str


_HandlerFunction = Callable[["GitHubDouble", _Request], _Reply]
# Operations GitHub Enterprise Server lacks (404 there): artifact attestations are a github.com feature (GHES's own
# descriptions, e.g. ghes-3.19.json in @octokit/openapi, have no attestations paths).
GITHUB_COM_ONLY = {
    ("GET", "/repos/{owner}/{repo}/attestations/{subject_digest}"),
    ("POST", "/repos/{owner}/{repo}/attestations"),
}
# What a token must hold for an operation: a (permission, level) pair, or one of the markers below.
_Needs = tuple[str, str] | tuple[tuple[str, str], ...] | str
_ROUTES: dict[tuple[str, str], _HandlerFunction] = {}
_NEEDS: dict[tuple[str, str], _Needs] = {}


def _route(method: str, template: str, *, needs: _Needs) -> Callable[[_HandlerFunction], _HandlerFunction]:
    """Register a handler for an OpenAPI operation and the permission it needs (checked before the handler runs).

    Routing uses the subset's own path templates. ``needs`` is a (permission, level) pair checked before
    the handler runs, a tuple of such pairs any one of which will do (GitHub's table lists some endpoints under
    several permissions), :data:`METADATA_READ` (every token may), or :data:`ISSUE_OR_PULL`: the handler checks
    once it knows whether the issue is a pull request.
    """
    if isinstance(needs, tuple):
        for permission, level in needs if isinstance(needs[0], tuple) else (needs,):
            if permission not in APP_PERMISSIONS or level not in ("read", "write"):
                raise ValueError(f"{method} {template}: unknown permission {needs!r}")
    elif needs not in (METADATA_READ, ISSUE_OR_PULL):
        raise ValueError(f"{method} {template}: unknown permission marker {needs!r}")

    def register(handler: _HandlerFunction) -> _HandlerFunction:
        _ROUTES[(method, template)] = handler
        _NEEDS[(method, template)] = needs
        return handler

    return register


class GitHubDouble:
    """GitHub's REST API for one repository, on loopback; a context manager that starts and stops it."""

    def __init__(
        self,
        owner: str = "acme",
        repo: str = "churn-model",
        *,
        default_branch: str = "main",
        token: str | None = None,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        clock: Callable[[], datetime] | None = None,
        immutable_releases: bool = False,
        known_commits_only: bool = False,
        visibility: str = "public",
        owner_type: str = "User",
        plan: str = "free",
        actions_can_create_pull_requests: bool = False,
        default_workflow_permissions: str = "write",
        flavour: str = "github.com",
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour={flavour!r}: expected one of {', '.join(FLAVOURS)}")
        # github.com (API, uploads and storage on three origins) or GitHub Enterprise Server (API under /api/v3 and
        # uploads under /api/uploads of one host; no artifact attestations).
        self.flavour = flavour
        self.owner = owner
        self.repo = repo
        self.default_branch = default_branch
        self.rate_limit = rate_limit
        _check_settings(visibility, owner_type, plan, default_workflow_permissions)
        # The repository as its settings make it (see "Repository settings" in the module docstring).
        self.visibility = visibility
        self.owner_type = owner_type
        self.plan = plan
        # "Allow GitHub Actions to create and approve pull requests" (Settings > Actions > General): off by default.
        # Tests may flip it at any time; GITHUB_TOKEN's next pull request sees the new value.
        self.actions_can_create_pull_requests = actions_can_create_pull_requests
        # "Workflow permissions": what a job without a `permissions:` block gets (tokens issued from then on).
        self.default_workflow_permissions = default_workflow_permissions
        # The repository setting "Enable release immutability": releases published while it is on stay immutable.
        self.immutable_releases = immutable_releases
        # Off, any 40-hex sha names a commit (tests pass real shas of a baked project the double never saw);
        # on, only seeded commits, shas some ref or pull request points at, exist, as on GitHub.
        self.known_commits_only = known_commits_only
        self._tokens: dict[str, _Identity] = {}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._openapi: OpenAPISubset = default_subset()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._faults: list[_Fault] = []
        self._rate_used = 0
        self._rate_reset = int(time.time()) + RATE_LIMIT_WINDOW_SECONDS
        self._request_serial = itertools.count(1)
        # GitHub's ids are large and per resource type; distinct ranges make a mixed-up id fail loudly.
        self._repo_id = 700_000_000 + zlib.crc32(f"{owner}/{repo}".encode()) % 100_000_000
        self._ids = {kind: itertools.count(start) for kind, start in _ID_STARTS.items()}
        self._next_number = 1
        self._created_at = self._now()
        self._refs: dict[str, str] = {}
        self._commits: dict[str, _Commit] = {}
        self._releases: dict[int, _Release] = {}
        self._latest_release_id: int | None = None
        self._issues: dict[int, _Issue] = {}
        self._comments: dict[int, _Comment] = {}
        self._labels: dict[str, _Label] = {}  # by name in lower case: GitHub's label names ignore case
        self._git = GitObjects()
        self._workflows: dict[str, _Workflow] = {}  # by file name
        self._dispatches: list[_Dispatch] = []
        self._deployments: dict[int, _Deployment] = {}
        self._commit_statuses: dict[str, dict[str, str]] = {}  # sha → context → latest state
        self._attestations: dict[str, list[dict[str, Any]]] = {}  # "sha256:<hex>" → attestations of that subject
        self._posted_attestations: list[dict[str, Any]] = []  # what POST .../attestations stored, oldest first
        self._collaborators: dict[str, str] = {}  # login in lower case → role (ROLES)
        self._members: dict[str, str] = {}  # the owning organization's members: login in lower case → member/owner
        self._users: set[str] = set()  # logins known to exist (GitHub accounts), in lower case
        self._issue_events: list[_IssueEvent] = []
        self._tags_of_immutable_releases: set[str] = set()  # never reusable, even once the release is deleted
        # GITHUB_TOKEN as a workflow without a `permissions:` block gets it: all write under the permissive default.
        self.token = self._issue_token(ACTIONS_BOT, self._default_job_permissions(), token)
        initial = hashlib.sha1(f"{owner}/{repo} initial commit".encode()).hexdigest()
        self.add_commit(initial, self._created_at, "Initial commit", branch=default_branch, parents=[])

    # Lifecycle

    def __enter__(self) -> GitHubDouble:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on free loopback ports in daemon threads: API, uploads and storage (GHES: API, storage)."""
        if self._servers:
            raise RuntimeError("GitHubDouble is already running")
        for role in ("api", "uploads", "storage") if self.flavour == "github.com" else ("api", "storage"):
            server = _Server(self, role)
            # A short poll interval: shutdown() waits for the serve loop to notice, and tests wait for shutdown().
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"github-double-{role}")
            thread.daemon = True
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop listening and close open connections; returns within a few seconds whatever clients do."""
        for server in self._servers:
            server.shutdown()
            server.close_connections()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=STOP_TIMEOUT_SECONDS)
        self._servers.clear()
        self._threads.clear()

    @property
    def url(self) -> str:
        """The API's base URL: what ``GITHUB_API_URL`` is set to (``http://127.0.0.1:PORT/api/v3`` on GHES)."""
        return self._base_url("api") + (GHES_API_PREFIX if self.flavour == "ghes" else "")

    @property
    def uploads_url(self) -> str:
        """Where release assets are uploaded: its own origin on github.com (uploads.github.com there), the API's
        host under ``/api/uploads`` on GHES. ``upload_url`` in releases starts with it; a client that may send the
        token only to origins it was told of must be told of this one (or trust the ``upload_url`` the API gave)."""
        if self.flavour == "ghes":
            return self._base_url("api") + GHES_UPLOADS_PREFIX
        return self._base_url("uploads")

    @property
    def api_env(self) -> dict[str, str]:
        """What the project's CLI is told to reach this double: the API, and on the github.com flavour the uploads origin.

        On github.com the client derives uploads.github.com from api.github.com; a loopback double's uploads port
        cannot be derived, so it is named (``MLOPS_GITHUB_UPLOAD_URL``). On GHES nothing is named: the client must
        derive the API's own host, as it does on a real GitHub Enterprise Server.
        """
        env = {"GITHUB_API_URL": self.url}
        if self.flavour == "github.com":
            env["MLOPS_GITHUB_UPLOAD_URL"] = self.uploads_url
        return env

    @property
    def web_url(self) -> str:
        """Where ``html_url`` points: https://github.com, or the GHES host itself."""
        return WEB if self.flavour == "github.com" else self._base_url("api")

    @property
    def storage_url(self) -> str:
        """The storage host's base URL, where asset downloads are served (another origin than the API)."""
        return self._base_url("storage")

    @property
    def full_name(self) -> str:
        """``owner/repo``: what ``GITHUB_REPOSITORY`` is set to."""
        return f"{self.owner}/{self.repo}"

    def _base_url(self, role: str) -> str:
        for server in self._servers:
            if server.role == role:
                host, port = server.server_address[:2]
                return f"http://{host}:{port}"
        raise RuntimeError("GitHubDouble is not running: use it as a context manager or call start()")

    @classmethod
    def routes(cls) -> list[tuple[str, str]]:
        """Every (method, OpenAPI path template) the double implements."""
        return sorted(_ROUTES)

    # Identities and tokens

    def token_for(self, *, login: str = ACTIONS_BOT, permissions: Mapping[str, str] | str | None = None) -> str:
        """A new token acting as ``login`` with ``permissions``, in the shape of a workflow job's ``permissions:`` block.

        ``permissions`` maps GITHUB_TOKEN's permissions (``contents``, ``pull-requests``, ``issues``,
        ``deployments``, ...: :data:`PERMISSIONS`) to ``none``/``read``/``write``. As in a workflow, a key left
        out means ``none`` and ``{}`` leaves only metadata (reading the repository); ``"read-all"`` and
        ``"write-all"`` work as there; unknown keys are ignored (a workflow may name permissions this double
        has no use for). ``None`` means what a job without a block gets, like :attr:`token` (all write unless
        ``default_workflow_permissions="read"``). A login ending in ``[bot]`` is a Bot, any other a User. A call the
        token's permissions do not cover answers 403 ``Resource not accessible by integration``, as GitHub answers
        GITHUB_TOKEN and GitHub Apps.

        The default login is GITHUB_TOKEN's (``github-actions[bot]``), which can never hold ``administration``
        (:data:`APP_ONLY_PERMISSIONS`): naming it raises ValueError, as GitHub rejects such a workflow file. Any
        other login (a person's fine-grained token, another app's installation) may hold it, and ``"read-all"`` or
        ``"write-all"`` include it there. Only GITHUB_TOKEN is subject to ``actions_can_create_pull_requests``.
        """
        if permissions is None and login == ACTIONS_BOT:
            return self._issue_token(login, self._default_job_permissions())
        return self._issue_token(login, _normalise_permissions(permissions, github_token=login == ACTIONS_BOT))

    def _default_job_permissions(self) -> dict[str, str]:
        """A job without a ``permissions:`` block: all write (permissive), or contents and packages read (restricted)."""
        if self.default_workflow_permissions == "write":
            return _normalise_permissions(None)
        return _normalise_permissions(RESTRICTED_PERMISSIONS)

    def fork_token(self, *, login: str = ACTIONS_BOT) -> str:
        """The GITHUB_TOKEN of a workflow run for a pull request from a fork: read-only (:data:`FORK_PERMISSIONS`)."""
        return self.token_for(login=login, permissions=FORK_PERMISSIONS)

    def _issue_token(self, login: str, permissions: dict[str, str], token: str | None = None) -> str:
        if not login or "/" in login:
            raise ValueError(f"{login!r} is not a GitHub login")
        token = token or "ghs_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
        with self._lock:
            if token in self._tokens:
                raise ValueError("token already issued")
            self._tokens[token] = _Identity(login, permissions)
            self._users.add(login.lower())
        return token

    # Seeding and fault injection

    def add_commit(
        self,
        sha: str,
        date: str | datetime,
        message: str,
        *,
        branch: str | None = None,
        parents: list[str] | None = None,
        author: str = "octocat",
        files: Mapping[str, bytes | None] | None = None,
    ) -> None:
        """Seed a commit (for ``compare`` and ref resolution) and make it the tip of ``branch`` (default: the default branch).

        ``parents`` defaults to the branch's current tip, so successive calls make a linear history.
        ``author`` is a login (its noreply address is the commit's email). ``files`` are the commit's changes
        on top of its first parent's files (None deletes a path); without them it changes nothing. The sha is
        the caller's: seeded commits are not hashed (:meth:`push_commit` makes hashed ones).
        """
        _require_sha(sha)
        with self._lock:
            branch = branch or self.default_branch
            if parents is None:
                tip = self._refs.get(f"refs/heads/{branch}")
                parents = [tip] if tip else []
            when = _iso(date) if isinstance(date, datetime) else date
            person = Signature(author, f"{author}@users.noreply.github.com", when)
            tree = self._tree_with(self._first_parent_tree(parents), files or {})
            self._commits[sha] = _Commit(sha=sha, message=message, author=person, committer=person, parents=list(parents), tree=tree)
            self._move_ref(f"refs/heads/{branch}", sha)

    def push_commit(
        self,
        branch: str,
        files: Mapping[str, bytes | None],
        author_login: str = "someone",
        *,
        message: str = "Push from a person",
        at: str | datetime | None = None,
    ) -> str:
        """A person pushes a commit to ``branch`` (created from the default branch when missing); returns its sha.

        ``files`` change the branch tip's files (None deletes a path). The commit is hashed as git would, its
        author and committer are ``author_login`` with their noreply address, and open pull requests from the
        branch follow it, as after a ``git push``.
        """
        with self._lock:
            ref = f"refs/heads/{branch}"
            tip = self._refs.get(ref) or self._refs[f"refs/heads/{self.default_branch}"]
            when = _iso(at) if isinstance(at, datetime) else at or self._now()
            person = Signature(author_login, self._noreply_email(author_login), when)
            tree = self._tree_with(self._first_parent_tree([tip]), files)
            commit = self._store_commit(message, tree, [tip], person, person)
            self._move_ref(ref, commit.sha)
            return commit.sha

    def close_pull(self, number: int, *, login: str = "octocat", at: str | datetime | None = None) -> dict[str, Any]:
        """A person (``login``) closes pull request ``number`` without merging it, at ``at`` (default: now)."""
        with self._lock:
            issue = self._issues.get(number)
            if issue is None or issue.pull is None:
                raise ValueError(f"no pull request #{number}: seed it first (add_pull)")
            when = _iso(at) if isinstance(at, datetime) else at or self._now()
            self._set_state(issue, "closed", None, when, login)
            issue.updated_at = when
            return self._pull_json(issue, full=True)

    def add_workflow(
        self,
        file_name: str,
        *,
        dispatch_inputs: Mapping[str, Mapping[str, Any]] | None = None,
        dispatchable: bool = True,
        name: str | None = None,
    ) -> None:
        """Make ``.github/workflows/<file_name>`` exist, so that it can be dispatched (unless not ``dispatchable``).

        ``dispatch_inputs`` are its ``on.workflow_dispatch.inputs`` (name → ``required``, ``default``, ``type``,
        ``options``), which dispatches are checked against as GitHub checks them.
        """
        if not re.fullmatch(r"[\w.-]+\.ya?ml", file_name):
            raise ValueError(f"{file_name!r}: expected a workflow file name such as pr.yml")
        with self._lock:
            self._workflows[file_name] = _Workflow(
                id=next(self._ids["workflow"]),
                path=f".github/workflows/{file_name}",
                name=name or file_name,
                dispatchable=dispatchable,
                inputs={key: dict(value or {}) for key, value in (dispatch_inputs or {}).items()},
            )

    def add_workflows_from(self, directory: str | Path) -> None:
        """Every workflow file in ``directory`` (a project's ``.github/workflows``), read as GitHub reads its triggers."""
        import yaml  # only this helper needs it

        for path in sorted(Path(directory).glob("*.y*ml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            # YAML 1.1 reads a bare `on` key as the boolean true.
            triggers = document.get("on", document.get(True)) or {}
            if isinstance(triggers, str):
                triggers = {triggers: None}
            elif isinstance(triggers, list):
                triggers = dict.fromkeys(triggers)
            dispatch = triggers.get("workflow_dispatch") if isinstance(triggers, dict) else None
            self.add_workflow(
                path.name,
                dispatch_inputs=(dispatch or {}).get("inputs") or {},
                dispatchable=isinstance(triggers, dict) and "workflow_dispatch" in triggers,
                name=str(document.get("name") or path.name),
            )

    def add_ref(self, ref: str, sha: str) -> None:
        """Seed or move a git ref, e.g. ``add_ref("refs/heads/feat", sha)``."""
        _require_sha(sha)
        if not ref.startswith("refs/"):
            raise ValueError(f"{ref!r}: a fully qualified ref starts with refs/")
        with self._lock:
            self._refs[ref] = sha

    def add_pull(
        self,
        number: int | None = None,
        head_ref: str = "feature",
        head_sha: str | None = None,
        base_ref: str | None = None,
        merge_commit_sha: str | None = None,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str = "open",
        merged_at: str | datetime | None = None,
        draft: bool = False,
        user: str = "octocat",
        created_at: str | datetime | None = None,
    ) -> dict[str, Any]:
        """Seed a pull request (its head branch too) and return it as the API would; ``merged_at`` makes it merged and closed."""
        with self._lock:
            if number is None:
                number = self._next_number
            if number in self._issues:
                raise ValueError(f"issue or pull request #{number} already exists")
            self._next_number = max(self._next_number, number + 1)
            base_ref = base_ref or self.default_branch
            head_sha = head_sha or hashlib.sha1(f"{head_ref}#{number}".encode()).hexdigest()
            _require_sha(head_sha)
            self._refs.setdefault(f"refs/heads/{head_ref}", head_sha)
            created = _iso(created_at) if isinstance(created_at, datetime) else created_at or self._now()
            merged = _iso(merged_at) if isinstance(merged_at, datetime) else merged_at
            closed = state == "closed" or merged is not None
            pull = _PullPart(
                id=next(self._ids["pull"]),
                head_ref=head_ref,
                head_sha=head_sha,
                base_ref=base_ref,
                base_sha=self._refs.get(f"refs/heads/{base_ref}", head_sha),
                merge_commit_sha=merge_commit_sha,
                merged_at=merged,
                draft=draft,
                maintainer_can_modify=False,
            )
            issue = _Issue(
                number=number,
                id=next(self._ids["issue"]),
                title=title or f"Pull request from {head_ref}",
                body=body,
                user=user,
                state="closed" if closed else "open",
                state_reason=None,
                labels=[],
                created_at=created,
                updated_at=merged or created,
                closed_at=(merged or created) if closed else None,
                pull=pull,
            )
            self._issues[number] = issue
            return self._pull_json(issue, full=True)

    def add_deployment(
        self,
        sha: str,
        statuses: list[tuple[str, str | datetime]],
        *,
        environment: str = "production",
        created_at: str | datetime | None = None,
        payload: Any = None,
        description: str | None = None,
        creator: str = ACTIONS_BOT,
    ) -> dict[str, Any]:
        """Seed a deployment of ``sha`` made in the past, with its ``statuses`` as (state, time), oldest first."""
        _require_sha(sha)
        if any(state not in DEPLOYMENT_STATES for state, _ in statuses):
            raise ValueError(f"a deployment status is one of {', '.join(DEPLOYMENT_STATES)}")
        with self._lock:
            created = _iso(created_at) if isinstance(created_at, datetime) else created_at or self._now()
            deployment = _Deployment(
                id=next(self._ids["deployment"]),
                sha=sha,
                ref=sha,
                task="deploy",
                payload=payload if payload is not None else {},
                environment=environment,
                original_environment=environment,
                description=description,
                transient_environment=False,
                production_environment=environment == "production",
                created_at=created,
                updated_at=created,
                creator=creator,
            )
            self._deployments[deployment.id] = deployment
            for state, when in statuses:
                self._add_status(deployment, state, "", "", "", _iso(when) if isinstance(when, datetime) else when, creator)
            return self._deployment_json(deployment)

    def add_issue(
        self,
        title: str,
        body: str | None = None,
        *,
        labels: list[str] | None = None,
        user: str = "octocat",
        created_at: str | datetime | None = None,
        closed_at: str | datetime | None = None,
    ) -> dict[str, Any]:
        """Seed an issue a person opened (and closed, with ``closed_at``) in the past; its labels are created when missing."""
        with self._lock:
            number = self._next_number
            self._next_number += 1
            created = _iso(created_at) if isinstance(created_at, datetime) else created_at or self._now()
            closed = _iso(closed_at) if isinstance(closed_at, datetime) else closed_at
            issue = _Issue(
                number=number,
                id=next(self._ids["issue"]),
                title=title,
                body=body,
                user=user,
                state="closed" if closed else "open",
                state_reason="completed" if closed else None,
                labels=[],
                created_at=created,
                updated_at=closed or created,
                closed_at=closed,
                closed_by=user if closed else None,
            )
            self._issues[number] = issue
            self._set_labels(issue, list(labels or []), user, created)  # labelled by its author as it was opened
            return self._issue_json(issue)

    def add_comment(
        self, issue_number: int, body: str, login: str = "someone", *, created_at: str | datetime | None = None
    ) -> dict[str, Any]:
        """Seed a comment on an issue or pull request, as a person (``login``) wrote it; returns it as the API would."""
        with self._lock:
            issue = self._issues.get(issue_number)
            if issue is None:
                raise ValueError(f"no issue or pull request #{issue_number}: seed it first (add_pull)")
            when = _iso(created_at) if isinstance(created_at, datetime) else created_at or self._now()
            comment = _Comment(
                id=next(self._ids["comment"]), issue_number=issue_number, body=body, user=login, created_at=when, updated_at=when
            )
            self._comments[comment.id] = comment
            return self._comment_json(comment)

    # People: collaborators, organization members, labels a person adds

    def add_user(self, login: str) -> None:
        """Make ``login`` a GitHub account the double knows (it knows every login it has issued a token for or seen
        author something, and collaborators and members); ``collaborators/{username}/permission`` is 404 for others."""
        if not login or "/" in login:
            raise ValueError(f"{login!r} is not a GitHub login")
        with self._lock:
            self._users.add(login.lower())

    def add_collaborator(self, login: str, role: str = "write") -> None:
        """``login`` becomes a collaborator with ``role`` (:data:`ROLES`), invitation accepted.

        A personal repository has one collaborator role, which can push: ``write`` only (GitHub's API takes a
        permission for organizations' repositories only). Their issues and comments show ``COLLABORATOR``.
        """
        if role not in ROLES:
            raise ValueError(f"role={role!r}: expected one of {', '.join(ROLES)}")
        if self.owner_type == "User" and role != "write":
            raise ValueError(f"a personal repository's collaborators have one role, write (not {role!r}): use owner_type='Organization'")
        if login.lower() == self.owner.lower() or login.endswith("[bot]"):
            raise ValueError(f"{login!r} cannot be a collaborator: the owner owns the repository, apps are installed")
        self.add_user(login)
        with self._lock:
            self._collaborators[login.lower()] = role

    def add_member(self, login: str, role: str = "member") -> None:
        """``login`` joins the organization that owns the repository (``member`` or ``owner``).

        Members read its repositories (the default base permission, :data:`ORGANIZATION_BASE_ROLE`), owners
        administer them; both show ``MEMBER`` on issues and comments.
        """
        if self.owner_type != "Organization":
            raise ValueError("only an organization has members: use owner_type='Organization'")
        if role not in ORGANIZATION_ROLES:
            raise ValueError(f"role={role!r}: expected one of {', '.join(ORGANIZATION_ROLES)}")
        self.add_user(login)
        with self._lock:
            self._members[login.lower()] = role

    def label_issue(self, number: int, label: str, *, by: str = "octocat", at: str | datetime | None = None) -> None:
        """A person (``by``) adds ``label`` to issue or pull request ``number`` at ``at`` (default: now), as in the web
        UI: the label is created when missing and a ``labeled`` event records who added it."""
        with self._lock:
            issue = self._issue_for_seeding(number)
            when = _iso(at) if isinstance(at, datetime) else at or self._now()
            self._set_labels(issue, [*issue.labels, label], by, when)
            issue.updated_at = max(issue.updated_at, when)

    def unlabel_issue(self, number: int, label: str, *, by: str = "octocat", at: str | datetime | None = None) -> None:
        """A person (``by``) removes ``label`` from issue or pull request ``number`` (an ``unlabeled`` event)."""
        with self._lock:
            issue = self._issue_for_seeding(number)
            when = _iso(at) if isinstance(at, datetime) else at or self._now()
            if label.lower() not in {name.lower() for name in issue.labels}:
                raise ValueError(f"#{number} has no label {label!r}")
            self._set_labels(issue, [name for name in issue.labels if name.lower() != label.lower()], by, when)
            issue.updated_at = max(issue.updated_at, when)

    def _issue_for_seeding(self, number: int) -> _Issue:
        issue = self._issues.get(number)
        if issue is None:
            raise ValueError(f"no issue or pull request #{number}: seed it first (add_issue, add_pull)")
        return issue

    def add_commit_status(self, sha: str, context: str, state: str = "success") -> None:
        """Seed a commit status (as CI reports them), which deployments check: see ``required_contexts``."""
        _require_sha(sha)
        if state not in COMMIT_STATES:
            raise ValueError(f"{state!r}: a commit status is one of {', '.join(COMMIT_STATES)}")
        with self._lock:
            self._commit_statuses.setdefault(sha, {})[context] = state

    def add_attestation(self, subject_digest: str, predicate_type: str = "https://slsa.dev/provenance/v1") -> None:
        """Seed a build provenance attestation for ``sha256:<hex>`` (as actions/attest-build-provenance stores one).

        The bundle is an opaque placeholder: only ``gh attestation verify`` reads it, and tests stand in for gh.
        """
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", subject_digest):
            raise ValueError(f"{subject_digest!r}: expected sha256:<64 hex digits>")
        with self._lock:
            bundle = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}, "dsseEnvelope": {}}
            self._attestations.setdefault(subject_digest, []).append(
                {
                    "bundle": bundle,
                    "repository_id": self._repo_id,
                    "bundle_url": "",
                    "initiator": "github-actions",
                    "predicate_type": predicate_type,
                }
            )

    @property
    def attestations(self) -> list[dict[str, Any]]:
        """What ``POST /repos/{owner}/{repo}/attestations`` stored, oldest first (seeded ones are not listed): each
        with its ``id``, ``subjects`` (``name``, ``digest`` as ``sha256:<hex>``), ``predicate_type``, the ``bundle``
        as posted, the ``login`` that posted it and ``created_at``."""
        with self._lock:
            return copy.deepcopy(self._posted_attestations)

    def issue_events(self, number: int) -> list[dict[str, Any]]:
        """The events of issue or pull request ``number``, oldest first, as ``GET .../issues/{number}/events`` lists them."""
        with self._lock:
            return [self._issue_event_json(event) for event in self._issue_events if event.issue_number == number]

    def fail_next(
        self,
        method: str | None = None,
        path_regex: str = r".*",
        status: int = 502,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        *,
        body: Any = None,
        after_handling: bool = False,
    ) -> None:
        """Answer the next ``times`` matching API requests with ``status`` instead (``re.search`` on the path).

        Faults come first, before authentication and routing, as when GitHub's front end fails.

        ``headers`` are added to the reply (``{"retry-after": "1"}``, or ``x-ratelimit-remaining: 0`` with
        ``x-ratelimit-reset``) and override the double's own. ``body`` defaults to GitHub's message for the
        status. With ``after_handling`` the request still takes effect and only its reply is lost, as when
        GitHub's front end times out after the work was done: a retry then meets the result.
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    method=method.upper() if method else None,
                    path_regex=re.compile(path_regex),
                    status=status,
                    headers=dict(headers or {}),
                    body=body,
                    remaining=times,
                    after_handling=after_handling,
                )
            )

    # State inspection: plain data, copies (mutating them changes nothing)

    @property
    def refs(self) -> dict[str, str]:
        with self._lock:
            return dict(self._refs)

    @property
    def releases(self) -> list[dict[str, Any]]:
        """Releases, oldest first, as the API shows them; each asset also has its ``content`` bytes."""
        with self._lock:
            shown = []
            for release in self._releases.values():
                rendered = self._release_json(release)
                for asset_json, asset in zip(rendered["assets"], release.assets, strict=True):
                    asset_json["content"] = asset.content
                shown.append(rendered)
            return shown

    def comments(self, issue_number: int) -> list[dict[str, Any]]:
        """Comments on an issue or pull request, oldest first."""
        with self._lock:
            return [self._comment_json(comment) for comment in self._comments.values() if comment.issue_number == issue_number]

    @property
    def deployments(self) -> list[dict[str, Any]]:
        """Deployments, oldest first, each with its ``statuses`` (oldest first)."""
        with self._lock:
            return [
                {**self._deployment_json(deployment), "statuses": [self._status_json(deployment, status) for status in deployment.statuses]}
                for deployment in self._deployments.values()
            ]

    @property
    def pulls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._pull_json(issue, full=True) for issue in self._issues.values() if issue.pull]

    @property
    def issues(self) -> list[dict[str, Any]]:
        """Issues proper (the API's issue list also includes pull requests; this does not)."""
        with self._lock:
            return [self._issue_json(issue) for issue in self._issues.values() if not issue.pull]

    @property
    def labels(self) -> list[dict[str, Any]]:
        """The repository's labels, oldest first."""
        with self._lock:
            return [self._label_json(label.name) for label in self._labels.values()]

    def files(self, ref: str | None = None) -> dict[str, bytes]:
        """The files at a branch, tag or commit sha (default: the default branch), by path."""
        with self._lock:
            sha = self._resolve_commitish(ref or self.default_branch)
            commit = self._git_commit(sha) if sha else None
            if commit is None:
                raise ValueError(f"{ref!r} names no commit the double knows")
            return {path: self._git.blobs[entry.sha] for path, entry in self._git.flatten(commit.tree).items()}

    def branch_head(self, branch: str) -> str | None:
        """The commit ``branch`` points at, or None when it does not exist."""
        with self._lock:
            return self._refs.get(f"refs/heads/{branch}")

    def commit(self, sha: str) -> dict[str, Any]:
        """A commit as ``GET /repos/{owner}/{repo}/commits?sha=`` lists it (its ``author.login`` says who, when GitHub knows)."""
        with self._lock:
            commit = self._git_commit(sha)
            if commit is None:
                raise ValueError(f"{sha!r} names no commit the double knows")
            return self._commit_json(commit)

    @property
    def dispatches(self) -> list[dict[str, Any]]:
        """Workflow dispatches, oldest first: which workflow, ref, commit, inputs and actor, and ``event``, the
        ``workflow_dispatch`` payload to run it with (``act workflow_dispatch -e event.json``)."""
        with self._lock:
            return [
                {
                    "workflow": dispatch.workflow.path.rpartition("/")[2],
                    "path": dispatch.workflow.path,
                    "ref": dispatch.ref,
                    "sha": dispatch.sha,
                    "inputs": dict(dispatch.inputs),
                    "actor": dispatch.actor,
                    "run_id": dispatch.run_id,
                    "created_at": dispatch.created_at,
                    "event": {
                        "inputs": dict(dispatch.inputs),
                        "ref": dispatch.ref,
                        "workflow": dispatch.workflow.path,
                        "repository": {
                            "full_name": self.full_name,
                            "name": self.repo,
                            "owner": {"login": self.owner},
                            "default_branch": self.default_branch,
                        },
                        "sender": {"login": dispatch.actor},
                    },
                }
                for dispatch in self._dispatches
            ]

    # Serving

    def _handle(self, role: str, method: str, target: str, headers: Message, body: bytes) -> _Reply:
        """Answer one HTTP request (called from the server threads); records it and checks it."""
        parts = urlsplit(target)
        path, query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        content_type = headers.get("Content-Type")
        if role == "storage":
            reply = self._serve_storage(method, path, headers)
            self._record(Call(method, path, query, None, reply.status, content_type, host="storage"), [])
            return reply
        found = self._api_path(role, path)
        if found is None:  # GHES: outside /api/v3 and /api/uploads (the web UI's paths, which the double lacks)
            reply = _Reply(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
            reply.headers = {**self._common_headers(headers), **reply.headers}
            problem = (
                f"{method} {path}: not under {GHES_API_PREFIX} or {GHES_UPLOADS_PREFIX}, where GitHub Enterprise Server serves its API"
            )
            self._record(Call(method, path, query, _json_or_none(body), 404, content_type, copy.deepcopy(reply.body), host=role), [problem])
            return reply
        api_path, uploads = found

        problems: list[str] = []
        request_json: Any = None
        login: str | None = None
        fault = self._take_fault(method, path)
        if fault is not None and not fault.after_handling:
            request_json = _json_or_none(body)
            reply = self._fault_reply(fault)
        else:
            reply, request_json, problems, login = self._serve_api(method, api_path, path, query, headers, body, uploads=uploads)
            if fault is not None:
                reply = self._fault_reply(fault)
        reply.headers = {**self._common_headers(headers), **reply.headers}
        if fault is not None:
            reply.headers = _override_headers(reply.headers, fault.headers)
        problems += self._openapi.check(method, api_path, query, request_json, reply.status, reply.body, uploads=uploads)
        call = Call(method, path, query, request_json, reply.status, content_type, copy.deepcopy(reply.body), login, host=role)
        self._record(call, problems)
        return reply

    def _api_path(self, role: str, path: str) -> tuple[str, bool] | None:
        """The path below the host's API root, and whether it reached the uploads host; None outside both on GHES."""
        if self.flavour == "github.com":
            return path, role == "uploads"
        for prefix, uploads in ((GHES_API_PREFIX, False), (GHES_UPLOADS_PREFIX, True)):
            if path.startswith(prefix + "/"):
                return path[len(prefix) :], uploads
        return None

    def _record(self, call: Call, problems: list[str]) -> None:
        with self._lock:
            self.calls.append(call)
            self.violations.extend(problems)

    def _serve_api(
        self, method: str, path: str, sent_path: str, query: dict[str, str], headers: Message, body: bytes, *, uploads: bool
    ) -> tuple[_Reply, Any, list[str], str | None]:
        """``path`` is below the host's API root (what the description's templates match), ``sent_path`` as sent."""
        problems: list[str] = []
        request_json: Any = None
        login: str | None = None
        try:
            identity = self._authenticate(headers)
            login = identity.login
            found = self._openapi.match(method, path, uploads=uploads)
            if found is None:
                raise _not_found()  # GitHub answers 404, not 405, to a known path with another method
            operation, raw_params = found
            params = {name: unquote(value) for name, value in raw_params.items()}
            if "owner" in params and (params["owner"].lower(), params.get("repo", "").lower()) != (self.owner.lower(), self.repo.lower()):
                raise _not_found()
            if not operation.uploads and body.strip():
                try:
                    request_json = json.loads(body)
                except ValueError as error:
                    problems.append(f"{method} {path}: request body is not valid JSON")
                    raise GitHubApiError(400, "Problems parsing JSON", documentation_url=DOCS) from error
            if self.flavour == "ghes" and operation.key in GITHUB_COM_ONLY:
                raise _not_found()  # not an endpoint of GitHub Enterprise Server: no permission to check
            request = _Request(
                method,
                sent_path,
                params,
                query,
                request_json,
                body,
                headers,
                headers.get("Content-Type"),
                identity,
                self._openapi.documentation_url(operation) or DOCS,
            )
            needs = _NEEDS[operation.key]
            if isinstance(needs, tuple):  # ISSUE_OR_PULL routes check in the handler, once they know the issue
                request.require(*(needs if isinstance(needs[0], tuple) else (needs,)))
            with self._lock:
                reply = _ROUTES[operation.key](self, request)
        except GitHubApiError as error:
            reply = _Reply(error.status, error.body)
        return reply, request_json, problems, login

    def _authenticate(self, headers: Message) -> _Identity:
        with self._lock:
            credentials = re.fullmatch(r"(?i)(?:bearer|token)\s+(\S+)\s*", headers.get("Authorization", ""))
            if credentials is None and self.visibility != "public":
                raise _not_found()  # what the caller may not see does not exist for them (GitHub's 404, not 401)
            if credentials is None:
                raise GitHubApiError(401, "Requires authentication", documentation_url=DOCS)
            presented = credentials.group(1).encode()
            # Compare with every token (constant time each): which token matched must not leak through timing.
            matches = [identity for token, identity in self._tokens.items() if secrets.compare_digest(presented, token.encode())]
            if not matches:
                raise GitHubApiError(401, "Bad credentials", documentation_url=DOCS)
            if self._rate_used >= self.rate_limit:
                raise GitHubApiError(403, PRIMARY_RATE_LIMIT_MESSAGE, documentation_url=RATE_LIMIT_DOCS)
            self._rate_used += 1
            return matches[0]

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.method in (None, method) and fault.path_regex.search(path):
                    fault.remaining -= 1
                    return fault
            return None

    def _fault_reply(self, fault: _Fault) -> _Reply:
        if fault.body is not None:
            return _Reply(fault.status, fault.body)
        lowered = {name.lower(): value for name, value in fault.headers.items()}
        if fault.status in (403, 429) and lowered.get("x-ratelimit-remaining") == "0":
            message, docs = PRIMARY_RATE_LIMIT_MESSAGE, RATE_LIMIT_DOCS
        elif fault.status in (403, 429):
            message, docs = SECONDARY_RATE_LIMIT_MESSAGE, f"{RATE_LIMIT_DOCS}#about-secondary-rate-limits"
        else:
            message, docs = HTTPStatus(fault.status).phrase, DOCS
        return _Reply(fault.status, {"message": message, "documentation_url": docs, "status": str(fault.status)})

    def _common_headers(self, request_headers: Message) -> dict[str, str]:
        with self._lock:
            serial = next(self._request_serial)
            used = self._rate_used
        version = request_headers.get("X-GitHub-Api-Version", API_VERSION)
        return {
            "Content-Type": JSON_CONTENT_TYPE,
            "X-GitHub-Api-Version": version,
            "X-GitHub-Api-Version-Selected": version,
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(self.rate_limit - used, 0)),
            "X-RateLimit-Reset": str(self._rate_reset),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Request-Id": f"D0B1:{serial:05X}:{self._repo_id % 0xFFFFF:05X}:{serial * 7919 % 0xFFFFFF:06X}:{self._rate_reset:08X}",
        }

    def _serve_storage(self, method: str, path: str, headers: Message) -> _Reply:
        """Asset bytes, without authentication: the storage host trusts the URL (signed, on GitHub)."""
        if headers.get("Authorization"):
            self._record_problem(f"{method} {path}: a request to the storage host carried an Authorization header (the token left the API)")
        with self._lock:
            asset = self._asset_at_storage_path(path) if method in ("GET", "HEAD") else None
            if asset is None:
                return _Reply(404, raw=b"Not Found", headers={"Content-Type": "text/plain; charset=utf-8"})
            asset.download_count += 1
            return _Reply(
                200,
                raw=asset.content,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Disposition": f"attachment; filename={quote(asset.name)}",
                    "ETag": f'"{hashlib.md5(asset.content).hexdigest()}"',
                },
            )

    def _record_problem(self, problem: str) -> None:
        with self._lock:
            self.violations.append(problem)

    def _asset_at_storage_path(self, path: str) -> _Asset | None:
        signed = re.fullmatch(r"/release-assets/([0-9]+)/[^/]+", path)
        if signed:
            return self._find_asset(int(signed.group(1)))
        browser = re.fullmatch(rf"/{re.escape(self.owner)}/{re.escape(self.repo)}/releases/download/(.+)/([^/]+)", path)
        if browser:
            tag, name = unquote(browser.group(1)), unquote(browser.group(2))
            for release in self._releases.values():
                if (release.draft and release.untagged_slug == tag) or (not release.draft and release.tag_name == tag):
                    return next((asset for asset in release.assets if asset.name == name), None)
        return None

    # Rendering: GitHub's JSON shapes

    def _now(self) -> str:
        return _iso(self._clock())

    def _node_id(self, prefix: str, number: int) -> str:
        return f"{prefix}_kwDO{base64.b64encode(f'{self._repo_id}:{number}'.encode()).decode().rstrip('=')}"

    @property
    def _repo_api(self) -> str:
        return f"{self.url}/repos/{self.owner}/{self.repo}"

    @property
    def _repo_web(self) -> str:
        return f"{self.web_url}/{self.owner}/{self.repo}"

    def _user_id(self, login: str) -> int:
        if login == ACTIONS_BOT:
            return ACTIONS_BOT_ID
        if login.endswith("[bot]"):
            return 150_000_000 + zlib.crc32(login.encode()) % 10_000_000
        if login == self.owner:
            return 100_000_000 + zlib.crc32(login.encode()) % 10_000_000
        return 1_000_000 + zlib.crc32(login.encode()) % 90_000_000

    def _noreply_email(self, login: str) -> str:
        """The address GitHub gives a login's commits: ``<id>+<login>@users.noreply.github.com``."""
        return f"{self._user_id(login)}+{login}@users.noreply.github.com"

    def _user_json(self, login: str) -> dict[str, Any]:
        """A user as GitHub shows one: a ``[bot]`` login is an app's Bot, the owner its ``owner_type``, anyone else a User.

        Ids derive from the login, so the same login has the same id in every call and every test.
        """
        user_id = self._user_id(login)
        if login == ACTIONS_BOT:
            kind, node, html = "Bot", "MDM6Qm90NDE4OTgyODI=", f"{self.web_url}/apps/github-actions"
        elif login.endswith("[bot]"):
            kind, node, html = "Bot", self._node_id("BOT", user_id), f"{self.web_url}/apps/{login.removesuffix('[bot]')}"
        elif login == self.owner and self.owner_type == "Organization":
            kind, node, html = "Organization", self._node_id("O", user_id), f"{self.web_url}/{login}"
        else:
            kind, node, html = "User", self._node_id("U", user_id), f"{self.web_url}/{login}"
        api = f"{self.url}/users/{quote(login)}"
        return {
            "login": login,
            "id": user_id,
            "node_id": node,
            "avatar_url": f"https://avatars.githubusercontent.com/{'in/15368' if kind == 'Bot' else f'u/{user_id}'}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": kind,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _repository_json(self) -> dict[str, Any]:
        """The repository: every field of ``full-repository`` (a superset of ``repository``)."""
        api, web = self._repo_api, self._repo_web
        open_issues = sum(1 for issue in self._issues.values() if issue.state == "open")
        shown = {
            "id": self._repo_id,
            "node_id": self._node_id("R", self._repo_id),
            "name": self.repo,
            "full_name": self.full_name,
            "private": self.visibility != "public",  # internal repositories are private to outsiders: true
            "owner": self._user_json(self.owner),
            "html_url": web,
            "description": None,
            "fork": False,
            "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "comments_url": f"{api}/comments{{/number}}",
            "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "contributors_url": f"{api}/contributors",
            "deployments_url": f"{api}/deployments",
            "downloads_url": f"{api}/downloads",
            "events_url": f"{api}/events",
            "forks_url": f"{api}/forks",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_url": f"git://{urlsplit(web).netloc}/{self.full_name}.git",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "keys_url": f"{api}/keys{{/key_id}}",
            "labels_url": f"{api}/labels{{/name}}",
            "languages_url": f"{api}/languages",
            "merges_url": f"{api}/merges",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "releases_url": f"{api}/releases{{/id}}",
            "ssh_url": f"git@{urlsplit(web).hostname}:{self.full_name}.git",
            "stargazers_url": f"{api}/stargazers",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "tags_url": f"{api}/tags",
            "teams_url": f"{api}/teams",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "clone_url": f"{web}.git",
            "mirror_url": None,
            "hooks_url": f"{api}/hooks",
            "svn_url": web,
            "homepage": None,
            "language": "Python",
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 1024,
            "default_branch": self.default_branch,
            "open_issues_count": open_issues,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": self.visibility,
            "pushed_at": self._created_at,
            "created_at": self._created_at,
            "updated_at": self._created_at,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
            "allow_rebase_merge": True,
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_forking": False,
            "web_commit_signoff_required": False,
            "network_count": 0,
            "subscribers_count": 1,
            "license": None,
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
        }
        if self.owner_type == "Organization":
            shown["organization"] = self._user_json(self.owner)  # present only on organizations' repositories
        return shown

    def _ref_json(self, ref: str) -> dict[str, Any]:
        sha = self._refs[ref]
        return {
            "ref": ref,
            "node_id": self._node_id("REF", zlib.crc32(ref.encode())),
            "url": f"{self._repo_api}/git/{quote(ref)}",
            "object": {"type": "commit", "sha": sha, "url": f"{self._repo_api}/git/commits/{sha}"},
        }

    def _asset_json(self, release: _Release, asset: _Asset) -> dict[str, Any]:
        tag = release.untagged_slug if release.draft else release.tag_name
        return {
            "url": f"{self._repo_api}/releases/assets/{asset.id}",
            "browser_download_url": f"{self.storage_url}/{self.owner}/{self.repo}/releases/download/{quote(tag)}/{quote(asset.name)}",
            "id": asset.id,
            "node_id": self._node_id("RA", asset.id),
            "name": asset.name,
            "label": asset.label,
            "state": "uploaded",
            "content_type": asset.content_type,
            "size": len(asset.content),
            "digest": f"sha256:{hashlib.sha256(asset.content).hexdigest()}",
            "download_count": asset.download_count,
            "created_at": asset.created_at,
            "updated_at": asset.updated_at,
            "uploader": self._user_json(asset.uploader),
        }

    def _release_json(self, release: _Release) -> dict[str, Any]:
        api = f"{self._repo_api}/releases/{release.id}"
        tag_path = release.untagged_slug if release.draft else release.tag_name
        return {
            "url": api,
            "assets_url": f"{api}/assets",
            "upload_url": f"{self.uploads_url}/repos/{self.owner}/{self.repo}/releases/{release.id}/assets{{?name,label}}",
            "html_url": f"{self._repo_web}/releases/tag/{quote(tag_path)}",
            "id": release.id,
            "author": self._user_json(release.author),
            "node_id": self._node_id("RE", release.id),
            "tag_name": release.tag_name,
            "target_commitish": release.target_commitish,
            "name": release.name,
            "draft": release.draft,
            "immutable": release.immutable,
            "prerelease": release.prerelease,
            "created_at": release.created_at,
            "updated_at": release.updated_at,
            "published_at": release.published_at,
            "assets": [self._asset_json(release, asset) for asset in release.assets],
            "tarball_url": f"{self._repo_api}/tarball/{quote(release.tag_name)}",
            "zipball_url": f"{self._repo_api}/zipball/{quote(release.tag_name)}",
            "body": release.body,
        }

    def _label_json(self, name: str) -> dict[str, Any]:
        label = self._label_named(name, create=True)
        assert label is not None
        return {
            "id": label.id,
            "node_id": self._node_id("LA", label.id),
            "url": f"{self._repo_api}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": False,
        }

    def _issue_json(self, issue: _Issue) -> dict[str, Any]:
        api = f"{self._repo_api}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        shown: dict[str, Any] = {
            "url": api,
            "repository_url": self._repo_api,
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self._repo_web}/{kind}/{issue.number}",
            "id": issue.id,
            "node_id": self._node_id("PR" if issue.pull else "I", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self._user_json(issue.user),
            "labels": [self._label_json(name) for name in issue.labels],
            "state": issue.state,
            "state_reason": issue.state_reason,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": sum(1 for comment in self._comments.values() if comment.issue_number == issue.number),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "closed_by": self._user_json(issue.closed_by) if issue.closed_by else None,
            "author_association": self._association(issue.user),
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": self._reactions_json(f"{api}/reactions"),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
        }
        if issue.pull:
            shown["draft"] = issue.pull.draft
            shown["pull_request"] = {
                "url": f"{self._repo_api}/pulls/{issue.number}",
                "html_url": f"{self._repo_web}/pull/{issue.number}",
                "diff_url": f"{self._repo_web}/pull/{issue.number}.diff",
                "patch_url": f"{self._repo_web}/pull/{issue.number}.patch",
                "merged_at": issue.pull.merged_at,
            }
        return shown

    @staticmethod
    def _reactions_json(url: str) -> dict[str, Any]:
        counts = dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"), 0)
        return {"url": url, "total_count": 0, **counts}

    def _pull_json(self, issue: _Issue, *, full: bool) -> dict[str, Any]:
        """``pull-request`` (full) or ``pull-request-simple`` (lists)."""
        pull = issue.pull
        assert pull is not None
        api = f"{self._repo_api}/pulls/{issue.number}"
        html = f"{self._repo_web}/pull/{issue.number}"
        issue_api = f"{self._repo_api}/issues/{issue.number}"
        repository = self._repository_json()

        def branch(ref: str, sha: str) -> dict[str, Any]:
            return {"label": f"{self.owner}:{ref}", "ref": ref, "sha": sha, "user": self._user_json(self.owner), "repo": repository}

        shown: dict[str, Any] = {
            "url": api,
            "id": pull.id,
            "node_id": self._node_id("PR", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_api,
            "number": issue.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": self._user_json(issue.user),
            "body": issue.body,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [self._label_json(name) for name in issue.labels],
            "milestone": None,
            "draft": pull.draft,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self._repo_api}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": f"{self._repo_api}/statuses/{pull.head_sha}",
            "head": branch(pull.head_ref, pull.head_sha),
            "base": branch(pull.base_ref, pull.base_sha),
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{self._repo_api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": f"{self._repo_api}/statuses/{pull.head_sha}"},
            },
            "author_association": self._association(issue.user),
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if full:
            merged = pull.merged_at is not None
            shown.update(
                {
                    "merged": merged,
                    "mergeable": True if issue.state == "open" else None,
                    "rebaseable": True if issue.state == "open" else None,
                    "mergeable_state": "clean" if issue.state == "open" else "unknown",
                    "merged_by": self._user_json(ACTIONS_BOT) if merged else None,
                    "comments": sum(1 for comment in self._comments.values() if comment.issue_number == issue.number),
                    "review_comments": 0,
                    "maintainer_can_modify": pull.maintainer_can_modify,
                    "commits": 1,
                    "additions": 0,
                    "deletions": 0,
                    "changed_files": 0,
                }
            )
        return shown

    def _comment_json(self, comment: _Comment) -> dict[str, Any]:
        issue = self._issues[comment.issue_number]
        kind = "pull" if issue.pull else "issues"
        api = f"{self._repo_api}/issues/comments/{comment.id}"
        return {
            "url": api,
            "html_url": f"{self._repo_web}/{kind}/{comment.issue_number}#issuecomment-{comment.id}",
            "issue_url": f"{self._repo_api}/issues/{comment.issue_number}",
            "id": comment.id,
            "node_id": self._node_id("IC", comment.id),
            "user": self._user_json(comment.user),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "author_association": self._association(comment.user),
            "body": comment.body,
            "reactions": self._reactions_json(f"{api}/reactions"),
            "performed_via_github_app": None,
        }

    def _deployment_json(self, deployment: _Deployment) -> dict[str, Any]:
        api = f"{self._repo_api}/deployments/{deployment.id}"
        return {
            "url": api,
            "id": deployment.id,
            "node_id": self._node_id("DE", deployment.id),
            "task": deployment.task,
            "original_environment": deployment.original_environment,
            "environment": deployment.environment,
            "description": deployment.description,
            "created_at": deployment.created_at,
            "updated_at": deployment.updated_at,
            "statuses_url": f"{api}/statuses",
            "repository_url": self._repo_api,
            "creator": self._user_json(deployment.creator),
            "sha": deployment.sha,
            "ref": deployment.ref,
            "payload": deployment.payload,
            "transient_environment": deployment.transient_environment,
            "production_environment": deployment.production_environment,
            "performed_via_github_app": None,
        }

    def _status_json(self, deployment: _Deployment, status: _DeploymentStatus) -> dict[str, Any]:
        deployment_api = f"{self._repo_api}/deployments/{deployment.id}"
        return {
            "url": f"{deployment_api}/statuses/{status.id}",
            "id": status.id,
            "node_id": self._node_id("DES", status.id),
            "state": status.state,
            "creator": self._user_json(status.creator),
            "description": status.description,
            "environment": status.environment,
            "target_url": status.log_url,  # the deprecated name of log_url, still sent
            "created_at": status.created_at,
            "updated_at": status.created_at,
            "deployment_url": deployment_api,
            "repository_url": self._repo_api,
            "environment_url": status.environment_url,
            "log_url": status.log_url,
            "performed_via_github_app": None,
        }

    def _commit_json(self, commit: _Commit) -> dict[str, Any]:
        """``commit``: as the commits list and compare show one."""
        author_login, committer_login = _login_of_email(commit.author.email), _login_of_email(commit.committer.email)
        return {
            "sha": commit.sha,
            "node_id": self._node_id("C", zlib.crc32(commit.sha.encode())),
            "url": f"{self._repo_api}/commits/{commit.sha}",
            "html_url": f"{self._repo_web}/commit/{commit.sha}",
            "comments_url": f"{self._repo_api}/commits/{commit.sha}/comments",
            "commit": {
                "url": f"{self._repo_api}/git/commits/{commit.sha}",
                "author": _signature_json(commit.author),
                "committer": _signature_json(commit.committer),
                "message": commit.message,
                "tree": {"sha": commit.tree, "url": f"{self._repo_api}/git/trees/{commit.tree}"},
                "comment_count": 0,
                "verification": _UNSIGNED,
            },
            # The GitHub account an email belongs to; null when it maps to none (the double knows noreply addresses only).
            "author": self._user_json(author_login) if author_login else None,
            "committer": self._user_json(committer_login) if committer_login else None,
            "parents": [
                {"sha": parent, "url": f"{self._repo_api}/commits/{parent}", "html_url": f"{self._repo_web}/commit/{parent}"}
                for parent in commit.parents
            ],
        }

    def _git_commit_json(self, commit: _Commit) -> dict[str, Any]:
        """``git-commit``: as the Git Data API shows one."""
        return {
            "sha": commit.sha,
            "node_id": self._node_id("C", zlib.crc32(commit.sha.encode())),
            "url": f"{self._repo_api}/git/commits/{commit.sha}",
            "html_url": f"{self._repo_web}/commit/{commit.sha}",
            "author": _signature_json(commit.author),
            "committer": _signature_json(commit.committer),
            "tree": {"sha": commit.tree, "url": f"{self._repo_api}/git/trees/{commit.tree}"},
            "message": commit.message,
            "parents": [
                {"sha": parent, "url": f"{self._repo_api}/git/commits/{parent}", "html_url": f"{self._repo_web}/commit/{parent}"}
                for parent in commit.parents
            ],
            "verification": _UNSIGNED,
        }

    def _git_tree_json(self, sha: str) -> dict[str, Any]:
        """``git-tree``: the tree's own entries (not recursive)."""
        entries = []
        for name, (mode, entry_sha) in sorted(self._git.trees[sha].items()):
            kind = "tree" if mode == TREE_MODE else "blob"
            entry: dict[str, Any] = {"path": name, "mode": mode, "type": kind, "sha": entry_sha}
            if kind == "blob":
                entry["size"] = len(self._git.blobs[entry_sha])
            entry["url"] = f"{self._repo_api}/git/{kind}s/{entry_sha}"
            entries.append(entry)
        return {"sha": sha, "url": f"{self._repo_api}/git/trees/{sha}", "tree": entries, "truncated": False}

    def _content_json(self, path: str, mode: str, sha: str, ref: str, *, with_content: bool) -> dict[str, Any]:
        """``content-file`` (with its content) or an entry of ``content-directory`` (without)."""
        kind = "dir" if mode == TREE_MODE else "symlink" if mode == "120000" else "file"
        api = f"{self._repo_api}/contents/{quote(path)}?ref={quote(ref, safe='')}"
        git = f"{self._repo_api}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
        html = f"{self._repo_web}/{'tree' if kind == 'dir' else 'blob'}/{quote(ref)}/{quote(path)}"
        content = b"" if kind == "dir" else self._git.blobs[sha]
        shown: dict[str, Any] = {
            "type": kind,
            "size": len(content),
            "name": path.rpartition("/")[2],
            "path": path,
            "sha": sha,
            "url": api,
            "git_url": git,
            "html_url": html,
            "download_url": None if kind == "dir" else self._raw_url(ref, path),
            "_links": {"self": api, "git": git, "html": html},
        }
        if kind == "symlink":
            shown["target"] = content.decode(errors="replace")
        elif with_content:
            if len(content) > MAX_INLINE_CONTENT:
                # 1 to 100 MB: "the content field will be an empty string and the encoding field will be none"
                shown.update(content="", encoding="none")
            else:
                shown.update(content=_base64_lines(content), encoding="base64")
        return shown

    def _raw_url(self, ref: str, path: str) -> str:
        """A file's raw download: raw.githubusercontent.com on github.com, the host's ``/raw/`` path on GHES."""
        if self.flavour == "github.com":
            return f"https://raw.githubusercontent.com/{self.full_name}/{quote(ref)}/{quote(path)}"
        return f"{self._repo_web}/raw/{quote(ref)}/{quote(path)}"

    # Helpers for handlers: git objects and refs

    def _git_commit(self, sha: str) -> _Commit | None:
        """The commit ``sha`` names: a known one or, unless ``known_commits_only``, an empty root commit standing in
        for a sha the double never saw (tests pass shas of projects it does not hold)."""
        commit = self._commits.get(sha)
        if commit is None and SHA_PATTERN.fullmatch(sha) and self._commit_exists(sha):
            nobody = Signature("octocat", "octocat@users.noreply.github.com", self._created_at)
            commit = _Commit(sha=sha, message="", author=nobody, committer=nobody, parents=[], tree=EMPTY_TREE)
        return commit

    def _first_parent_tree(self, parents: list[str]) -> str:
        parent = self._git_commit(parents[0]) if parents else None
        return parent.tree if parent else EMPTY_TREE

    def _tree_with(self, base_tree: str, changes: Mapping[str, bytes | None]) -> str:
        """Seeding: base_tree's files with ``changes`` applied (None deletes), stored; returns the new tree's sha."""
        files = self._git.flatten(base_tree)
        for path, content in changes.items():
            if not is_valid_path(path):
                raise ValueError(f"{path!r} is not a path a git tree can hold")
            if content is None:
                files.pop(path, None)
            else:
                files[path] = TreeEntry("100644", self._git.add_blob(content))
        return self._git.write_tree(files)

    def _store_commit(self, message: str, tree: str, parents: list[str], author: Signature, committer: Signature) -> _Commit:
        commit = _Commit(
            sha=commit_sha(tree, parents, author, committer, message),
            message=message,
            author=author,
            committer=committer,
            parents=list(parents),
            tree=tree,
        )
        self._commits[commit.sha] = commit
        return commit

    def _descends_from(self, sha: str, ancestor: str) -> bool:
        """Whether ``ancestor`` is ``sha`` or one of its ancestors (as far as the double knows the history)."""
        seen: set[str] = set()
        pending = [sha]
        while pending:
            current = pending.pop()
            if current == ancestor:
                return True
            if current not in seen:
                seen.add(current)
                pending += self._commits[current].parents if current in self._commits else []
        return False

    def _move_ref(self, ref: str, sha: str) -> None:
        """Point ``ref`` at ``sha``; open pull requests from that branch follow it, as on GitHub."""
        self._refs[ref] = sha
        if ref.startswith("refs/heads/"):
            branch = ref.removeprefix("refs/heads/")
            for issue in self._issues.values():
                if issue.pull and issue.state == "open" and issue.pull.head_ref == branch:
                    issue.pull.head_sha = sha

    def _set_labels(self, issue: _Issue, names: list[str], actor: str, when: str) -> None:
        """The issue's labels become ``names`` (created when missing, duplicates whatever their case dropped), and each
        one added or removed is a ``labeled``/``unlabeled`` event by ``actor``, as GitHub records them."""
        wanted: dict[str, _Label] = {}
        for name in names:
            label = self._label_named(name, create=True)
            assert label is not None
            wanted.setdefault(label.name.lower(), label)
        before = {name.lower(): name for name in issue.labels}
        for key, name in before.items():
            if key not in wanted:
                self._record_issue_event(issue, "unlabeled", actor, when, self._label_named(name, create=True))
        for key, label in wanted.items():
            if key not in before:
                self._record_issue_event(issue, "labeled", actor, when, label)
        issue.labels = [label.name for label in wanted.values()]

    def _record_issue_event(self, issue: _Issue, event: str, actor: str, when: str, label: _Label | None) -> None:
        assert label is not None
        self._issue_events.append(_IssueEvent(next(self._ids["issue_event"]), issue.number, event, actor, when, label.name, label.color))

    def _association(self, login: str) -> str:
        """``author_association`` as GitHub computes it, strongest first: OWNER (the repository's owner), MEMBER (of
        the owning organization), COLLABORATOR, CONTRIBUTOR (has a commit on the default branch), else NONE.

        FIRST_TIMER and FIRST_TIME_CONTRIBUTOR (someone whose first pull request is open) and MANNEQUIN are not
        modelled: those people show NONE. Computed when shown, as GitHub shows the current association.
        """
        key = login.lower()
        if key == self.owner.lower():
            return "OWNER"
        if key in self._members:
            return "MEMBER"
        if key in self._collaborators:
            return "COLLABORATOR"
        tip = self._refs.get(f"refs/heads/{self.default_branch}")
        if tip and any((_login_of_email(self._commits[sha].author.email) or "").lower() == key for sha in self._ancestors(tip)):
            return "CONTRIBUTOR"
        return "NONE"

    def _role_of(self, login: str) -> str | None:
        """The strongest role ``login`` holds in the repository (:data:`ROLES`), None without one."""
        key = login.lower()
        if key == self.owner.lower():
            return "admin" if self.owner_type == "User" else None
        roles = [self._collaborators.get(key)]
        if key in self._members:
            roles.append("admin" if self._members[key] == "owner" else ORGANIZATION_BASE_ROLE)
        held = [role for role in roles if role is not None]
        return max(held, key=ROLES.index) if held else None

    def _is_known_user(self, login: str) -> bool:
        """Whether ``login`` is a GitHub account as far as the double knows: one it was told of, issued a token for,
        or saw open, comment, label or commit something."""
        key = login.lower()
        if key in self._users or key in self._collaborators or key in self._members:
            return True
        if self.owner_type == "User" and key == self.owner.lower():
            return True
        authors = {issue.user for issue in self._issues.values()} | {comment.user for comment in self._comments.values()}
        authors |= {event.actor for event in self._issue_events}
        authors |= {_login_of_email(commit.author.email) or "" for commit in self._commits.values()}
        return key in {author.lower() for author in authors}

    def _label_named(self, name: str, *, create: bool) -> _Label | None:
        """The label called ``name`` (whatever its case), created with GitHub's default colour when asked to."""
        label = self._labels.get(name.lower())
        if label is None and create:
            label = self._labels[name.lower()] = _Label(id=next(self._ids["label"]), name=name, color="ededed", description=None)
        return label

    # Helpers for handlers

    def _paginate(self, request: _Request, items: list[Any], render: Callable[[Any], Any] | None = None) -> _Reply:
        """One page of items with GitHub's ``Link`` header (prev, next, last, first) when there are several pages.

        ``render`` turns the items of the page alone into JSON (a long list is not rendered whole for each page).
        """
        per_page = min(max(_int_or(request.query.get("per_page"), 30), 1), 100)
        page = max(_int_or(request.query.get("page"), 1), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        links = []

        def link(number: int, rel: str) -> str:  # request.path is as sent: below the origin, prefix included
            return f'<{self._base_url("api")}{request.path}?{urlencode({**request.query, "page": str(number)})}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        headers = {"Link": ", ".join(links)} if links else {}
        shown = items[(page - 1) * per_page : page * per_page]
        return _Reply(200, [render(item) for item in shown] if render else shown, headers)

    def _created(self, body: dict[str, Any]) -> _Reply:
        return _Reply(201, body, {"Location": body["url"]})

    def _resolve_commitish(self, name: str) -> str | None:
        """A branch, tag, full ref or sha → the commit sha, as far as the double knows.

        With ``known_commits_only`` a full sha must name a commit the double knows (:meth:`_commit_exists`).
        """
        for ref in (name, f"refs/heads/{name}", f"refs/tags/{name}"):
            if ref.startswith("refs/") and ref in self._refs:
                return self._refs[ref]
        if SHA_PATTERN.fullmatch(name):
            return name if self._commit_exists(name) else None
        if re.fullmatch(r"[0-9a-f]{7,39}", name):
            matches = [sha for sha in self._commits if sha.startswith(name)]
            return matches[0] if len(matches) == 1 else None
        return None

    def _commit_exists(self, sha: str) -> bool:
        """Whether sha names a commit: any sha unless ``known_commits_only``; then a seeded one or one a ref or pull points at."""
        if not self.known_commits_only:
            return True
        pulled = {sha for issue in self._issues.values() if issue.pull for sha in (issue.pull.head_sha, issue.pull.merge_commit_sha)}
        return sha in self._commits or sha in self._refs.values() or sha in pulled

    def _issue_or_404(self, number: int) -> _Issue:
        issue = self._issues.get(number)
        if issue is None:
            raise _not_found()
        return issue

    @staticmethod
    def _require_issue_access(request: _Request, issue: _Issue, level: str) -> None:
        """Issues need issues:<level>; a pull request's issue side (its comments too) takes pull-requests:<level> as well.

        GitHub's permission table for GitHub Apps lists the issue comment endpoints under both "Issues" and
        "Pull requests" (docs.github.com/rest/authentication/permissions-required-for-github-apps).
        """
        if issue.pull is None:
            request.require(("issues", level))
        else:
            request.require(("issues", level), ("pull-requests", level))

    def _release_or_404(self, release_id: int, request: _Request) -> _Release:
        release = self._releases.get(release_id)
        if release is None or not self._can_see(request, release):
            raise _not_found()
        return release

    @staticmethod
    def _can_see(request: _Request, release: _Release) -> bool:
        """Drafts exist only for those who can push ("Only users with push access will receive listings for draft releases")."""
        return not release.draft or request.identity.allows("contents", "write")

    def _find_asset(self, asset_id: int) -> _Asset | None:
        for release in self._releases.values():
            for asset in release.assets:
                if asset.id == asset_id:
                    return asset
        return None

    def _latest_release(self) -> _Release | None:
        """The release marked latest, else the newest published full release (what github.com shows as Latest)."""
        marked = self._releases.get(self._latest_release_id) if self._latest_release_id is not None else None
        if marked is not None and not marked.draft and not marked.prerelease:
            return marked
        published = [release for release in self._releases.values() if not release.draft and not release.prerelease]
        return max(published, key=lambda release: (release.published_at or "", release.id), default=None)

    def _mark_latest(self, release: _Release, make_latest: str | None) -> None:
        """make_latest "true" marks a published full release latest; "legacy" lets date and version decide.

        Drafts and prereleases are never latest, whatever make_latest says.
        """
        if make_latest == "legacy":
            self._latest_release_id = None
        elif make_latest == "true" and not release.draft and not release.prerelease:
            self._latest_release_id = release.id

    def _publish(self, release: _Release, now: str) -> None:
        """A release goes public: its tag is created if missing, and on an immutable-releases repository it locks."""
        self._create_tag_for(release)
        release.draft, release.published_at = False, now
        if self.immutable_releases:
            release.immutable = True
            self._tags_of_immutable_releases.add(release.tag_name)

    def _create_tag_for(self, release: _Release) -> None:
        """Publishing a release whose tag does not exist creates it from target_commitish, as GitHub does."""
        ref = f"refs/tags/{release.tag_name}"
        if ref in self._refs:
            return
        sha = self._resolve_commitish(release.target_commitish)
        if sha is None:
            raise _validation_failed("Release", "invalid", "target_commitish")
        self._refs[ref] = sha

    def _check_release_fields(self, body: Mapping[str, Any], release: _Release | None) -> None:
        """422s shared by create and update: a tag taken, a tag an immutable release used, notes too long."""
        tag_name = body.get("tag_name")
        if tag_name is not None and any(other.tag_name == tag_name and other is not release for other in self._releases.values()):
            raise _validation_failed("Release", "already_exists", "tag_name")
        if tag_name is not None and tag_name in self._tags_of_immutable_releases and (release is None or release.tag_name != tag_name):
            # Tags of immutable releases are never reused, not even once the release is deleted
            # (github-community-projects/ospo-reusable-workflows#83, microsoft/hve-core#554).
            raise _validation_failed("Release", "custom", "tag_name", "tag_name was used by an immutable release")
        if len(body.get("body") or "") > MAX_RELEASE_BODY:
            raise _validation_failed("Release", "custom", "body", f"body is too long (maximum is {MAX_RELEASE_BODY} characters)")
        if body.get("make_latest", "true") not in ("true", "false", "legacy"):
            raise _validation_failed("Release", "invalid", "make_latest")

    # Endpoints: repository and git refs

    @_route("GET", "/repos/{owner}/{repo}", needs=METADATA_READ)
    def _get_repository(self, request: _Request) -> _Reply:
        return _Reply(200, self._repository_json())

    @_route("POST", "/repos/{owner}/{repo}/git/refs", needs=("contents", "write"))
    def _create_ref(self, request: _Request) -> _Reply:
        body = request.fields("Reference", required={"ref": str, "sha": str})
        ref, sha = body["ref"], body["sha"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise GitHubApiError(422, "Reference update failed", documentation_url=request.documentation_url)
        if not SHA_PATTERN.fullmatch(sha) or not self._commit_exists(sha):
            raise GitHubApiError(422, "Object does not exist", documentation_url=request.documentation_url)
        if ref in self._refs:
            raise GitHubApiError(422, "Reference already exists", documentation_url=request.documentation_url)
        self._move_ref(ref, sha)
        return self._created(self._ref_json(ref))

    @_route("GET", "/repos/{owner}/{repo}/git/ref/{ref}", needs=("contents", "read"))
    def _get_ref(self, request: _Request) -> _Reply:
        ref = f"refs/{request.params['ref']}"
        if ref not in self._refs:
            raise _not_found()
        return _Reply(200, self._ref_json(ref))

    @_route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}", needs=("contents", "read"))
    def _matching_refs(self, request: _Request) -> _Reply:
        prefix = f"refs/{request.params['ref']}"
        return _Reply(200, [self._ref_json(ref) for ref in sorted(self._refs) if ref.startswith(prefix)])

    @_route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", needs=("contents", "write"))
    def _update_ref(self, request: _Request) -> _Reply:
        body = request.fields("Reference", required={"sha": str}, optional={"force": bool})
        ref = f"refs/{request.params['ref']}"  # heads/<branch>: GitHub takes the name without refs/
        if ref not in self._refs:
            raise GitHubApiError(422, "Reference does not exist", documentation_url=request.documentation_url)
        sha = body["sha"]
        if self._git_commit(sha) is None:
            raise GitHubApiError(422, "Object does not exist", documentation_url=request.documentation_url)
        if ref.removeprefix("refs/tags/") in self._tags_of_immutable_releases and ref.startswith("refs/tags/"):
            # An immutable release's tag never moves; the wording is the double's own.
            raise GitHubApiError(422, "Cannot update a tag of an immutable release", documentation_url=request.documentation_url)
        if not body.get("force", False) and not self._descends_from(sha, self._refs[ref]):
            # A fast-forward only: the new commit must descend from the one the ref points at.
            raise GitHubApiError(422, "Update is not a fast forward", documentation_url=request.documentation_url)
        self._move_ref(ref, sha)
        return _Reply(200, self._ref_json(ref))

    # Endpoints: git objects (blobs, trees, commits)

    @_route("POST", "/repos/{owner}/{repo}/git/blobs", needs=("contents", "write"))
    def _create_blob(self, request: _Request) -> _Reply:
        body = request.fields("Blob", optional={"content": str, "encoding": str})
        if "content" not in body:  # "" is a valid (empty) blob, so fields()' required check does not fit
            raise _validation_failed("Blob", "missing_field", "content")
        encoding = body.get("encoding") or "utf-8"
        if encoding == "utf-8":
            content = body["content"].encode()
        elif encoding == "base64":
            try:
                content = base64.b64decode(body["content"], validate=False)
            except ValueError as error:
                raise _validation_failed("Blob", "invalid", "content") from error
        else:
            # The wording is the double's own; GitHub documents utf-8 and base64 only.
            raise _validation_failed("Blob", "invalid", "encoding", f"encoding must be utf-8 or base64, not {encoding}")
        sha = self._git.add_blob(content)
        return _Reply(201, {"sha": sha, "url": f"{self._repo_api}/git/blobs/{sha}"}, {"Location": f"{self._repo_api}/git/blobs/{sha}"})

    @_route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", needs=("contents", "read"))
    def _get_blob(self, request: _Request) -> _Reply:
        sha = request.params["file_sha"]
        content = self._git.blobs.get(sha)
        if content is None:
            raise _not_found()
        blob = {
            "sha": sha,
            "node_id": self._node_id("B", zlib.crc32(sha.encode())),
            "size": len(content),
            "url": f"{self._repo_api}/git/blobs/{sha}",
            "content": _base64_lines(content),
            "encoding": "base64",
        }
        return _Reply(200, blob)

    @_route("POST", "/repos/{owner}/{repo}/git/trees", needs=("contents", "write"))
    def _create_tree(self, request: _Request) -> _Reply:
        body = request.fields("Tree", required={"tree": list}, optional={"base_tree": str})
        base_tree = body.get("base_tree")
        if base_tree is not None and base_tree not in self._git.trees:
            raise GitHubApiError(422, "base_tree is not a valid tree oid", documentation_url=request.documentation_url)
        files = self._git.flatten(base_tree) if base_tree else {}
        for entry in body["tree"]:
            self._apply_tree_entry(request, files, entry)
        return self._created(self._git_tree_json(self._git.write_tree(files)))

    def _apply_tree_entry(self, request: _Request, files: dict[str, TreeEntry], entry: Any) -> None:
        """One entry of a create-tree body applied to the flat view of the tree being built.

        Wordings: "Must supply ..." and "GitRPC::BadObjectState" (deleting a path that does not exist) are
        GitHub's (octokit/octokit.net#2836, mckaywrigley/buildware-ai#29); the others are the double's own.
        """

        def refuse(message: str) -> GitHubApiError:
            return GitHubApiError(422, message, documentation_url=request.documentation_url)

        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise refuse("tree.path is missing")
        path, mode, kind = entry["path"], entry.get("mode"), entry.get("type")
        if not is_valid_path(path):
            raise refuse(f"tree.path contains a malformed path component: {path!r}")
        if ("sha" in entry) == ("content" in entry):
            raise refuse("Must supply either tree.sha or tree.content. Request will be rejected if both are present.")
        under = f"{path}/"
        if "sha" in entry and entry["sha"] is None:  # deletion: a file, or a directory with everything in it
            doomed = [name for name in files if name == path or name.startswith(under)]
            if not doomed:
                raise refuse("GitRPC::BadObjectState")
            for name in doomed:
                del files[name]
            return
        for name in [name for name in files if name.startswith(under)] + [
            prefix for prefix in (path.rsplit("/", depth)[0] for depth in range(1, path.count("/") + 1)) if prefix in files
        ]:
            del files[name]  # a file replaces a directory of the same name, and a directory replaces a file
        if kind == "tree" or mode == TREE_MODE:
            if kind != "tree" or mode != TREE_MODE or entry.get("sha") not in self._git.trees:
                raise refuse(f"tree.sha {entry.get('sha')} is not a valid tree")
            files.update({f"{under}{name}": item for name, item in self._git.flatten(entry["sha"]).items()})
            return
        if kind not in (None, "blob") or mode not in BLOB_MODES:
            raise refuse(f"tree.mode {mode} with tree.type {kind} is not a file the double can store")
        if "content" in entry:
            if not isinstance(entry["content"], str):
                raise refuse("tree.content must be a string")
            files[path] = TreeEntry(mode, self._git.add_blob(entry["content"].encode()))
        elif entry["sha"] in self._git.blobs:
            files[path] = TreeEntry(mode, entry["sha"])
        else:
            raise refuse(f"tree.sha {entry['sha']} is not a valid blob")

    @_route("POST", "/repos/{owner}/{repo}/git/commits", needs=("contents", "write"))
    def _create_git_commit(self, request: _Request) -> _Reply:
        body = request.fields(
            "Commit",
            required={"message": str, "tree": str},
            optional={"parents": list, "author": dict, "committer": dict, "signature": str},
        )

        def refuse(message: str) -> GitHubApiError:
            return GitHubApiError(422, message, documentation_url=request.documentation_url)

        if body["tree"] not in self._git.trees:
            raise refuse("Tree SHA does not exist")  # exercism/website#8228
        parents = body.get("parents") or []
        for parent in parents:
            if not isinstance(parent, str) or not SHA_PATTERN.fullmatch(parent):
                # Simply-Static/simply-static#335
                raise refuse("Each SHA in the 'parents' parameter must be exactly 40 characters and contain only [0-9a-f].")
            if self._git_commit(parent) is None:
                raise refuse("Parent SHA does not exist or is not a commit object")
        login = request.identity.login
        # By default the author is the token's identity at the current time, and the committer is the author.
        author = self._signature(request, body.get("author"), Signature(login, self._noreply_email(login), self._now()))
        committer = self._signature(request, body.get("committer"), author)
        commit = self._store_commit(body["message"], body["tree"], parents, author, committer)
        return self._created(self._git_commit_json(commit))

    def _signature(self, request: _Request, given: dict[str, Any] | None, default: Signature) -> Signature:
        if given is None:
            return default
        if not isinstance(given.get("name"), str) or not isinstance(given.get("email"), str):
            raise _validation_failed("Commit", "missing_field", "author")
        date = given.get("date")
        if date is None:
            return Signature(given["name"], given["email"], default.date)
        try:
            moment = datetime.fromisoformat(str(date).replace("Z", "+00:00"))
        except ValueError as error:
            raise _validation_failed("Commit", "invalid", "date") from error
        return Signature(given["name"], given["email"], _iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC)))

    @_route("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", needs=("contents", "read"))
    def _get_git_commit(self, request: _Request) -> _Reply:
        commit = self._git_commit(request.params["commit_sha"])
        if commit is None:
            raise _not_found()
        return _Reply(200, self._git_commit_json(commit))

    # Endpoints: contents and commits

    @_route("GET", "/repos/{owner}/{repo}/contents/{path}", needs=("contents", "read"))
    def _get_contents(self, request: _Request) -> _Reply:
        ref = request.query.get("ref") or self.default_branch
        sha = self._resolve_commitish(ref)
        commit = self._git_commit(sha) if sha else None
        if commit is None:
            raise GitHubApiError(404, f"No commit found for the ref {ref}", documentation_url=request.documentation_url)
        path = request.params["path"].strip("/")
        directory = self._git.directory(commit.tree, path)
        if directory is not None:
            listing = [
                self._content_json(f"{path}/{name}".lstrip("/"), mode, entry_sha, ref, with_content=False)
                for name, (mode, entry_sha) in sorted(directory.items())
            ]
            return _Reply(200, listing)
        entry = self._git.flatten(commit.tree).get(path)
        if entry is None:
            raise _not_found()
        return _Reply(200, self._content_json(path, entry.mode, entry.sha, ref, with_content=True))

    @_route("GET", "/repos/{owner}/{repo}/commits", needs=("contents", "read"))
    def _list_commits(self, request: _Request) -> _Reply:
        start = request.query.get("sha") or self.default_branch
        sha = self._resolve_commitish(start)
        head = self._git_commit(sha) if sha else None
        if head is None:
            raise _not_found()
        reachable: dict[str, _Commit] = {}
        pending = [head]
        while pending:
            commit = pending.pop()
            if commit.sha in reachable:
                continue
            reachable[commit.sha] = commit
            pending += [parent for parent in map(self._git_commit, commit.parents) if parent is not None]
        author, path = request.query.get("author"), request.query.get("path")
        since, until = request.query.get("since"), request.query.get("until")
        found = [
            commit
            for commit in reachable.values()
            if (author is None or author in (commit.author.email, _login_of_email(commit.author.email)))
            and (since is None or commit.committer.date >= since)
            and (until is None or commit.committer.date <= until)
            and (path is None or self._changes_path(commit, path.strip("/")))
        ]
        found.sort(key=lambda commit: commit.committer.date, reverse=True)  # newest first, as git log lists them
        return self._paginate(request, found, self._commit_json)

    def _changes_path(self, commit: _Commit, path: str) -> bool:
        """Whether the commit changed the file (or anything under the directory) at ``path`` against its first parent."""

        def under(tree: str) -> dict[str, TreeEntry]:
            return {name: entry for name, entry in self._git.flatten(tree).items() if name == path or name.startswith(f"{path}/")}

        return under(commit.tree) != under(self._first_parent_tree(commit.parents))

    # Endpoints: labels

    @_route("GET", "/repos/{owner}/{repo}/labels/{name}", needs=(("issues", "read"), ("pull-requests", "read")))
    def _get_label(self, request: _Request) -> _Reply:
        label = self._label_named(request.params["name"], create=False)
        if label is None:
            raise _not_found()
        return _Reply(200, self._label_json(label.name))

    @_route("POST", "/repos/{owner}/{repo}/labels", needs=(("issues", "write"), ("pull-requests", "write")))
    def _create_label(self, request: _Request) -> _Reply:
        body = request.fields("Label", required={"name": str}, optional={"color": str, "description": str})
        color = str(body.get("color") or "ededed").removeprefix("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise _validation_failed("Label", "invalid", "color")
        if len(body.get("description") or "") > MAX_LABEL_DESCRIPTION:
            raise _validation_failed("Label", "custom", "description", "description is too long (maximum is 100 characters)")
        if self._label_named(body["name"], create=False) is not None:
            raise _validation_failed("Label", "already_exists", "name")
        label = self._label_named(body["name"], create=True)
        assert label is not None
        label.color, label.description = color.lower(), body.get("description")
        return self._created(self._label_json(label.name))

    @_route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", needs=ISSUE_OR_PULL)
    def _add_labels(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("issue_number"))
        self._require_issue_access(request, issue, "write")
        given = request.json.get("labels") if isinstance(request.json, dict) else request.json
        if not isinstance(given, list) or not all(isinstance(label, (str, dict)) for label in given):
            raise _validation_failed("Label", "invalid", "labels")
        now = self._now()
        self._set_labels(issue, [*issue.labels, *_label_names(given)], request.identity.login, now)  # adds, never removes
        issue.updated_at = now
        return _Reply(200, [self._label_json(name) for name in issue.labels])

    # Endpoints: workflow dispatch

    @_route("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", needs=("actions", "write"))
    def _dispatch_workflow(self, request: _Request) -> _Reply:
        body = request.fields("Workflow", required={"ref": str}, optional={"inputs": dict, "return_run_details": bool})
        workflow = self._workflow_named(request.params["workflow_id"])
        if workflow is None:
            raise _not_found()

        def refuse(message: str) -> GitHubApiError:
            return GitHubApiError(422, message, documentation_url=request.documentation_url)

        if not workflow.dispatchable:
            raise refuse("Workflow does not have 'workflow_dispatch' trigger")  # benc-uk/workflow-dispatch#46
        ref = body["ref"]
        candidates = (ref, f"refs/heads/{ref}", f"refs/tags/{ref}")
        full_ref = next((name for name in candidates if name.startswith("refs/") and name in self._refs), None)
        if full_ref is None:
            raise refuse(f"No ref found for: {ref}")  # convictional/trigger-workflow-and-wait#44
        inputs = self._dispatch_inputs(workflow, body.get("inputs") or {}, refuse)
        dispatch = _Dispatch(
            run_id=next(self._ids["workflow_run"]),
            workflow=workflow,
            ref=full_ref,
            sha=self._refs[full_ref],
            inputs=inputs,
            actor=request.identity.login,
            created_at=self._now(),
        )
        self._dispatches.append(dispatch)
        if body.get("return_run_details"):
            run_path = f"actions/runs/{dispatch.run_id}"
            details = {
                "workflow_run_id": dispatch.run_id,
                "run_url": f"{self._repo_api}/{run_path}",
                "html_url": f"{self._repo_web}/{run_path}",
            }
            return _Reply(200, details)
        return _Reply(204)

    def _workflow_named(self, workflow_id: str) -> _Workflow | None:
        """A workflow by file name or by numeric id, as the API takes either."""
        if workflow_id.isdigit():
            return next((workflow for workflow in self._workflows.values() if workflow.id == int(workflow_id)), None)
        return self._workflows.get(workflow_id)

    @staticmethod
    def _dispatch_inputs(workflow: _Workflow, given: dict[str, Any], refuse: Callable[[str], GitHubApiError]) -> dict[str, str]:
        """The inputs the run gets: given ones checked against the workflow's, defaults filled in.

        "Unexpected inputs provided" and "Required input ... not provided" are GitHub's wordings (backstage/backstage
        #20023, #18511); the one for a value outside a choice's options is the double's own.
        """
        unexpected = [name for name in given if name not in workflow.inputs]
        if unexpected:
            raise refuse(f"Unexpected inputs provided: {json.dumps(unexpected)}")
        inputs: dict[str, str] = {}
        for name, spec in workflow.inputs.items():
            if name in given:
                value = given[name]
                if not isinstance(value, str):
                    raise refuse(f"Input {name!r} must be a string")  # the double's wording: GitHub's was not found
            elif spec.get("required") and spec.get("default") is None:
                raise refuse(f"Required input '{name}' not provided")
            elif spec.get("default") is not None:
                value = str(spec["default"]).lower() if isinstance(spec["default"], bool) else str(spec["default"])
            else:
                continue
            if spec.get("type") == "choice" and value not in [str(option) for option in spec.get("options") or []]:
                raise refuse(f"Provided value '{value}' for input '{name}' not in the list of allowed values")
            if spec.get("type") == "boolean" and value not in ("true", "false"):
                raise refuse(f"Provided value '{value}' for input '{name}' is not a boolean")
            inputs[name] = value
        return inputs

    # Endpoints: releases and assets

    @_route("POST", "/repos/{owner}/{repo}/releases", needs=("contents", "write"))
    def _create_release(self, request: _Request) -> _Reply:
        body = request.fields(
            "Release",
            required={"tag_name": str},
            optional={name: kind for name, kind in RELEASE_FIELDS.items() if name != "tag_name"},
        )
        self._check_release_fields(body, None)
        now = self._now()
        release = _Release(
            id=next(self._ids["release"]),
            tag_name=body["tag_name"],
            target_commitish=body.get("target_commitish") or self.default_branch,
            name=body.get("name"),
            body=body.get("body"),
            draft=True,
            prerelease=bool(body.get("prerelease", False)),
            created_at=now,
            updated_at=now,
            published_at=None,
            untagged_slug=f"untagged-{secrets.token_hex(10)}",
            author=request.identity.login,
        )
        if not body.get("draft", False):
            self._publish(release, now)
        self._releases[release.id] = release
        self._mark_latest(release, body.get("make_latest", "true"))
        return self._created(self._release_json(release))

    @_route("GET", "/repos/{owner}/{repo}/releases", needs=("contents", "read"))
    def _list_releases(self, request: _Request) -> _Reply:
        visible = [release for release in self._releases.values() if self._can_see(request, release)]
        newest_first = sorted(visible, key=lambda release: (release.created_at, release.id), reverse=True)
        return self._paginate(request, [self._release_json(release) for release in newest_first])

    @_route("GET", "/repos/{owner}/{repo}/releases/latest", needs=("contents", "read"))
    def _get_latest_release(self, request: _Request) -> _Reply:
        latest = self._latest_release()
        if latest is None:
            raise _not_found()
        return _Reply(200, self._release_json(latest))

    @_route("GET", "/repos/{owner}/{repo}/releases/tags/{tag}", needs=("contents", "read"))
    def _get_release_by_tag(self, request: _Request) -> _Reply:
        # Only published releases have a tag to be found by; drafts are reachable by id.
        for release in self._releases.values():
            if not release.draft and release.tag_name == request.params["tag"]:
                return _Reply(200, self._release_json(release))
        raise _not_found()

    @_route("GET", "/repos/{owner}/{repo}/releases/{release_id}", needs=("contents", "read"))
    def _get_release(self, request: _Request) -> _Reply:
        return _Reply(200, self._release_json(self._release_or_404(request.number("release_id"), request)))

    @_route("PATCH", "/repos/{owner}/{repo}/releases/{release_id}", needs=("contents", "write"))
    def _update_release(self, request: _Request) -> _Reply:
        release = self._release_or_404(request.number("release_id"), request)
        body = request.fields("Release", optional=RELEASE_FIELDS)
        self._check_release_fields(body, release)
        if release.immutable:
            # "Only the assets and tag are locked": title, notes, prerelease and latest stay editable
            # (docs.github.com/code-security/concepts/supply-chain-security/immutable-releases). GitHub's exact
            # wording for these refusals was not found; the double's own is below.
            if body.get("tag_name", release.tag_name) != release.tag_name:
                raise _validation_failed("Release", "custom", "tag_name", "tag_name cannot be changed on an immutable release")
            if body.get("draft") is True:
                raise _validation_failed("Release", "custom", "draft", "an immutable release cannot become a draft again")
        for name in ("tag_name", "target_commitish", "name", "body", "prerelease"):
            if name in body:
                setattr(release, name, body[name])
        now = self._now()
        publishing = release.draft and body.get("draft") is False
        if publishing:
            self._publish(release, now)
        elif body.get("draft") is True and not release.draft:
            release.draft, release.published_at = True, None  # back to draft: the tag stays, as on GitHub
        release.updated_at = now
        self._mark_latest(release, body.get("make_latest", "true" if publishing else None))
        return _Reply(200, self._release_json(release))

    @_route("DELETE", "/repos/{owner}/{repo}/releases/{release_id}", needs=("contents", "write"))
    def _delete_release(self, request: _Request) -> _Reply:
        release = self._release_or_404(request.number("release_id"), request)
        # The tag stays (GitHub deletes releases, not tags); an immutable release's tag stays reserved.
        del self._releases[release.id]
        if self._latest_release_id == release.id:
            self._latest_release_id = None
        return _Reply(204)

    @_route("GET", "/repos/{owner}/{repo}/releases/{release_id}/assets", needs=("contents", "read"))
    def _list_assets(self, request: _Request) -> _Reply:
        release = self._release_or_404(request.number("release_id"), request)
        return self._paginate(request, [self._asset_json(release, asset) for asset in release.assets])

    @_route("POST", "/repos/{owner}/{repo}/releases/{release_id}/assets", needs=("contents", "write"))
    def _upload_asset(self, request: _Request) -> _Reply:
        release = self._release_or_404(request.number("release_id"), request)
        if not request.content_type:
            # "Use the required Content-Type header" (the operation's description); without one the uploads host
            # answers 400 Invalid Content-Type: '' (fastlane/fastlane#9922, octokit/octokit.net#149).
            raise GitHubApiError(400, f"Invalid Content-Type: {request.content_type or ''!r}", documentation_url=request.documentation_url)
        raw_name = request.query.get("name", "")
        if not raw_name:
            raise _validation_failed("ReleaseAsset", "missing_field", "name")
        if release.immutable:
            # softprops/action-gh-release#653, libredb/libredb-studio#154: 422 with this message, no errors list.
            raise GitHubApiError(422, "Cannot upload assets to an immutable release.", documentation_url=DOCS)
        name = _sanitise_asset_name(raw_name)
        if any(asset.name == name for asset in release.assets):
            raise _validation_failed("ReleaseAsset", "already_exists", "name")
        now = self._now()
        asset = _Asset(
            id=next(self._ids["asset"]),
            release_id=release.id,
            name=name,
            label=request.query.get("label", ""),
            content_type=request.content_type,
            content=request.body,
            created_at=now,
            updated_at=now,
            uploader=request.identity.login,
        )
        release.assets.append(asset)
        return self._created(self._asset_json(release, asset))

    @_route("DELETE", "/repos/{owner}/{repo}/releases/assets/{asset_id}", needs=("contents", "write"))
    def _delete_asset(self, request: _Request) -> _Reply:
        asset = self._find_asset(request.number("asset_id"))
        if asset is None or not self._can_see(request, self._releases[asset.release_id]):
            raise _not_found()
        release = self._releases[asset.release_id]
        if release.immutable:
            # uutils/coreutils#13839: Validation Failed, this message, no field.
            raise _validation_failed("ReleaseAsset", "custom", message="Cannot delete asset from an immutable release")
        release.assets.remove(asset)
        return _Reply(204)

    @_route("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id}", needs=("contents", "read"))
    def _get_asset(self, request: _Request) -> _Reply:
        asset = self._find_asset(request.number("asset_id"))
        if asset is None or not self._can_see(request, self._releases[asset.release_id]):
            raise _not_found()
        if "application/octet-stream" in request.headers.get("Accept", ""):
            # GitHub redirects binary downloads to a signed URL on another host.
            location = f"{self.storage_url}/release-assets/{asset.id}/{quote(asset.name)}"
            return _Reply(302, None, {"Location": location})
        return _Reply(200, self._asset_json(self._releases[asset.release_id], asset))

    # Endpoints: issues and comments

    @_route("GET", "/repos/{owner}/{repo}/issues", needs=("issues", "read"))
    def _list_issues(self, request: _Request) -> _Reply:
        state = request.query.get("state", "open")
        wanted_labels = {label.strip() for label in request.query.get("labels", "").split(",") if label.strip()}
        creator = request.query.get("creator")
        since = request.query.get("since")
        found = [
            issue
            for issue in self._issues.values()
            if state in ("all", issue.state)
            and wanted_labels <= set(issue.labels)
            and (creator is None or issue.user == creator)
            and (since is None or issue.updated_at >= since)
        ]
        sort = request.query.get("sort", "created")
        sort_key = {"updated": lambda issue: issue.updated_at, "comments": lambda issue: self._comment_count(issue.number)}.get(
            sort, lambda issue: issue.created_at
        )
        found.sort(key=lambda issue: (sort_key(issue), issue.number), reverse=request.query.get("direction", "desc") == "desc")
        return self._paginate(request, [self._issue_json(issue) for issue in found])

    def _comment_count(self, number: int) -> int:
        return sum(1 for comment in self._comments.values() if comment.issue_number == number)

    @_route("POST", "/repos/{owner}/{repo}/issues", needs=("issues", "write"))
    def _create_issue(self, request: _Request) -> _Reply:
        body = request.fields("Issue", required={"title": (str, int)}, optional={"body": str, "labels": list, "assignees": list})
        _check_body_length(body, "Issue")
        now = self._now()
        issue = _Issue(
            number=self._next_number,
            id=next(self._ids["issue"]),
            title=str(body["title"]),
            body=body.get("body"),
            user=request.identity.login,
            state="open",
            state_reason=None,
            labels=[],
            created_at=now,
            updated_at=now,
            closed_at=None,
        )
        self._next_number += 1
        self._issues[issue.number] = issue
        self._set_labels(issue, _label_names(body.get("labels") or []), request.identity.login, now)
        return self._created(self._issue_json(issue))

    @_route("GET", "/repos/{owner}/{repo}/issues/{issue_number}", needs=ISSUE_OR_PULL)
    def _get_issue(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("issue_number"))
        self._require_issue_access(request, issue, "read")
        return _Reply(200, self._issue_json(issue))

    @_route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", needs=ISSUE_OR_PULL)
    def _update_issue(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("issue_number"))
        self._require_issue_access(request, issue, "write")
        body = request.fields("Issue", optional={"title": (str, int), "body": str, "state": str, "state_reason": str, "labels": list})
        _check_body_length(body, "Issue")
        if body.get("state") not in (None, "open", "closed"):
            raise _validation_failed("Issue", "invalid", "state")
        now = self._now()
        if "title" in body:
            issue.title = str(body["title"])
        if "body" in body:
            issue.body = body["body"]
        if "labels" in body:
            self._set_labels(issue, _label_names(body["labels"] or []), request.identity.login, now)
        self._set_state(issue, body.get("state"), body.get("state_reason"), now, request.identity.login)
        issue.updated_at = now
        return _Reply(200, self._issue_json(issue))

    @staticmethod
    def _set_state(issue: _Issue, state: str | None, reason: str | None, now: str, by: str) -> None:
        if state == "closed" and issue.state == "open":
            issue.state, issue.closed_at, issue.state_reason = "closed", now, reason or ("completed" if not issue.pull else None)
            issue.closed_by = by
        elif state == "open" and issue.state == "closed":
            issue.state, issue.closed_at, issue.state_reason = "open", None, "reopened" if not issue.pull else None
            issue.closed_by = None

    @_route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", needs=ISSUE_OR_PULL)
    def _list_comments(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("issue_number"))
        self._require_issue_access(request, issue, "read")
        number = issue.number
        since = request.query.get("since")
        found = [
            comment
            for comment in self._comments.values()
            if comment.issue_number == number and (since is None or comment.updated_at >= since)
        ]
        return self._paginate(request, [self._comment_json(comment) for comment in found])

    @_route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", needs=ISSUE_OR_PULL)
    def _create_comment(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("issue_number"))
        self._require_issue_access(request, issue, "write")
        body = request.fields("IssueComment", required={"body": str})
        _check_comment_length(body["body"])
        now = self._now()
        comment = _Comment(
            id=next(self._ids["comment"]),
            issue_number=issue.number,
            body=body["body"],
            user=request.identity.login,
            created_at=now,
            updated_at=now,
        )
        self._comments[comment.id] = comment
        issue.updated_at = now
        return self._created(self._comment_json(comment))

    @_route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", needs=ISSUE_OR_PULL)
    def _get_comment(self, request: _Request) -> _Reply:
        comment = self._comments.get(request.number("comment_id"))
        if comment is None:
            raise _not_found()
        self._require_issue_access(request, self._issues[comment.issue_number], "read")
        return _Reply(200, self._comment_json(comment))

    @_route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", needs=ISSUE_OR_PULL)
    def _update_comment(self, request: _Request) -> _Reply:
        comment = self._comments.get(request.number("comment_id"))
        if comment is None:
            raise _not_found()
        self._require_issue_access(request, self._issues[comment.issue_number], "write")
        body = request.fields("IssueComment", required={"body": str})
        _check_comment_length(body["body"])
        comment.body, comment.updated_at = body["body"], self._now()
        return _Reply(200, self._comment_json(comment))

    # Endpoints: pull requests

    @_route("GET", "/repos/{owner}/{repo}/pulls", needs=("pull-requests", "read"))
    def _list_pulls(self, request: _Request) -> _Reply:
        state = request.query.get("state", "open")
        head = request.query.get("head")
        base = request.query.get("base")
        found = []
        for issue in self._issues.values():
            pull = issue.pull
            if pull is None or state not in ("all", issue.state):
                continue
            # GitHub matches head only in the user:ref form; a bare branch name filters nothing (a classic trap).
            if head and ":" in head and head != f"{self.owner}:{pull.head_ref}":
                continue
            if base and base != pull.base_ref:
                continue
            found.append(issue)
        sort = request.query.get("sort", "created")
        direction = request.query.get("direction", "desc" if sort == "created" else "asc")
        found.sort(key=lambda issue: (issue.updated_at if sort in ("updated", "popularity") else issue.created_at, issue.number))
        if direction == "desc":
            found.reverse()
        return self._paginate(request, found, lambda issue: self._pull_json(issue, full=False))

    @_route("POST", "/repos/{owner}/{repo}/pulls", needs=("pull-requests", "write"))
    def _create_pull(self, request: _Request) -> _Reply:
        if request.identity.is_github_token and not self.actions_can_create_pull_requests:
            # The repository setting, checked once the token's permissions pass, before the body is looked at.
            raise GitHubApiError(403, ACTIONS_MAY_NOT_CREATE_PULLS_MESSAGE, documentation_url=request.documentation_url)
        body = request.fields(
            "PullRequest",
            required={"title": str, "head": str, "base": str},
            optional={"body": str, "draft": bool, "maintainer_can_modify": bool},
        )
        _check_body_length(body, "PullRequest")
        head_owner, _, head_ref = body["head"].rpartition(":")
        if head_owner not in ("", self.owner):
            raise _validation_failed("PullRequest", "invalid", "head")
        head_sha = self._refs.get(f"refs/heads/{head_ref}")
        base_sha = self._refs.get(f"refs/heads/{body['base']}")
        if head_sha is None:
            raise _validation_failed("PullRequest", "invalid", "head")
        if base_sha is None:
            raise _validation_failed("PullRequest", "invalid", "base")
        self._check_no_open_pull(head_ref, body["base"])
        if self._descends_from(base_sha, head_sha):  # the head's commits are all in the base already (or it is the base)
            raise _validation_failed("PullRequest", "custom", message=f"No commits between {body['base']} and {head_ref}")
        now = self._now()
        issue = _Issue(
            number=self._next_number,
            id=next(self._ids["issue"]),
            title=body["title"],
            body=body.get("body"),
            user=request.identity.login,
            state="open",
            state_reason=None,
            labels=[],
            created_at=now,
            updated_at=now,
            closed_at=None,
            pull=_PullPart(
                id=next(self._ids["pull"]),
                head_ref=head_ref,
                head_sha=head_sha,
                base_ref=body["base"],
                base_sha=base_sha,
                merge_commit_sha=None,
                merged_at=None,
                draft=bool(body.get("draft", False)),
                maintainer_can_modify=bool(body.get("maintainer_can_modify", False)),
            ),
        )
        self._next_number += 1
        self._issues[issue.number] = issue
        return self._created(self._pull_json(issue, full=True))

    def _check_no_open_pull(self, head_ref: str, base_ref: str) -> None:
        """One open pull request per head and base: 422 as GitHub answers a second one."""
        for issue in self._issues.values():
            if issue.pull and issue.state == "open" and issue.pull.head_ref == head_ref and issue.pull.base_ref == base_ref:
                raise _validation_failed("PullRequest", "custom", message=f"A pull request already exists for {self.owner}:{head_ref}.")

    def _check_reopenable(self, pull: _PullPart) -> None:
        """A closed pull request reopens only while its head branch exists and no other is open for the same branches.

        The wording for a deleted head branch is the double's own.
        """
        if f"refs/heads/{pull.head_ref}" not in self._refs:
            raise _validation_failed("PullRequest", "custom", "state", "state cannot be changed. The head branch was deleted.")
        self._check_no_open_pull(pull.head_ref, pull.base_ref)
        pull.head_sha = self._refs[f"refs/heads/{pull.head_ref}"]

    @_route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", needs=("pull-requests", "read"))
    def _get_pull(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("pull_number"))
        if issue.pull is None:
            raise _not_found()
        return _Reply(200, self._pull_json(issue, full=True))

    @_route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", needs=("pull-requests", "read"))
    def _list_pull_commits(self, request: _Request) -> _Reply:
        """The head's commits the base (as it was when the pull request was opened) lacks: oldest first, at most 250."""
        issue = self._issue_or_404(request.number("pull_number"))
        if issue.pull is None:
            raise _not_found()
        base = set(self._ancestors(issue.pull.base_sha)) if issue.pull.base_sha != issue.pull.head_sha else set()
        own = [self._commits[sha] for sha in self._ancestors(issue.pull.head_sha, stop=base)]
        own.sort(key=lambda commit: commit.date)
        return self._paginate(request, [self._commit_json(commit) for commit in own[:250]])

    @_route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", needs=("pull-requests", "write"))
    def _update_pull(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("pull_number"))
        if issue.pull is None:
            raise _not_found()
        body = request.fields("PullRequest", optional={"title": str, "body": str, "state": str, "base": str, "maintainer_can_modify": bool})
        _check_body_length(body, "PullRequest")
        if body.get("state") not in (None, "open", "closed"):
            raise _validation_failed("PullRequest", "invalid", "state")
        if body.get("state") == "open" and issue.pull.merged_at is not None:
            raise _validation_failed("PullRequest", "custom", "state", "state cannot be changed. The pull request has already been merged.")
        if body.get("state") == "open" and issue.state == "closed":
            self._check_reopenable(issue.pull)
        if "base" in body:
            base_sha = self._refs.get(f"refs/heads/{body['base']}")
            if base_sha is None:
                raise _validation_failed("PullRequest", "invalid", "base")
            issue.pull.base_ref, issue.pull.base_sha = body["base"], base_sha
        if "title" in body:
            issue.title = body["title"]
        if "body" in body:
            issue.body = body["body"]
        if "maintainer_can_modify" in body:
            issue.pull.maintainer_can_modify = body["maintainer_can_modify"]
        now = self._now()
        self._set_state(issue, body.get("state"), None, now, request.identity.login)
        issue.updated_at = now
        return _Reply(200, self._pull_json(issue, full=True))

    @_route("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", needs=("contents", "read"))
    def _pulls_for_commit(self, request: _Request) -> _Reply:
        sha = self._resolve_commitish(request.params["commit_sha"]) or request.params["commit_sha"]
        found = [issue for issue in self._issues.values() if issue.pull and sha in (issue.pull.head_sha, issue.pull.merge_commit_sha)]
        return self._paginate(request, found, lambda issue: self._pull_json(issue, full=False))

    # Endpoints: deployments

    @_route("POST", "/repos/{owner}/{repo}/deployments", needs=("deployments", "write"))
    def _create_deployment(self, request: _Request) -> _Reply:
        body = request.fields(
            "Deployment",
            required={"ref": str},
            optional={
                "task": str,
                "auto_merge": bool,
                "required_contexts": list,
                "payload": (dict, str),
                "environment": str,
                "description": str,
                "transient_environment": bool,
                "production_environment": bool,
            },
        )
        ref = body["ref"]
        sha = self._resolve_commitish(ref)
        if sha is None:
            raise GitHubApiError(422, f"No ref found for: {ref}", documentation_url=request.documentation_url)
        if body.get("auto_merge", True) and self._merge_default_branch_into(ref):
            # "Merged branch response" (the operation's description): GitHub merged instead of deploying; a new
            # request deploys the merge.
            return _Reply(202, {"message": f"Auto-merged {self.default_branch} into {ref} on deployment."})
        self._check_commit_statuses(request, ref, sha, body.get("required_contexts"))
        environment = body.get("environment") or "production"
        now = self._now()
        deployment = _Deployment(
            id=next(self._ids["deployment"]),
            sha=sha,
            ref=body["ref"],
            task=body.get("task") or "deploy",
            payload=body.get("payload", {}),
            environment=environment,
            original_environment=environment,
            description=body.get("description"),
            transient_environment=bool(body.get("transient_environment", False)),
            production_environment=bool(body.get("production_environment", environment == "production")),
            created_at=now,
            updated_at=now,
            creator=request.identity.login,
        )
        self._deployments[deployment.id] = deployment
        return self._created(self._deployment_json(deployment))

    def _merge_default_branch_into(self, ref: str) -> bool:
        """``auto_merge``: a branch behind the default branch gets it merged in (a merge commit on the branch).

        Only a branch can be behind, and only what the double knows counts: both tips must be seeded commits
        (:meth:`add_commit`) for "behind" to be decided; a branch whose tip the double never saw as a commit
        is taken as up to date. Merges never conflict here (GitHub would answer 409 "Conflict merging ...").
        """
        branch = ref.removeprefix("refs/heads/")
        tip, base_tip = self._refs.get(f"refs/heads/{branch}"), self._refs.get(f"refs/heads/{self.default_branch}")
        if branch == self.default_branch or tip is None or base_tip is None:
            return False
        if tip not in self._commits or base_tip not in self._commits or base_tip in self._ancestors(tip):
            return False
        merge_sha = hashlib.sha1(f"merge {base_tip} into {tip}".encode()).hexdigest()
        self.add_commit(
            merge_sha, self._now(), f"Merge branch '{self.default_branch}' into {branch}", branch=branch, parents=[tip, base_tip]
        )
        return True

    def _check_commit_statuses(self, request: _Request, ref: str, sha: str, required_contexts: list[str] | None) -> None:
        """409 unless the commit's statuses allow deploying it.

        Omitted ``required_contexts`` means every context reported for the commit must be ``success`` (none
        reported: nothing to fail); a list names the contexts that must be, reported or not yet (a context
        not reported yet counts as pending). ``[]`` skips the check. Body as GitHub's (drevops/vortex#1903).
        """
        reported = self._commit_statuses.get(sha, {})
        contexts = list(reported) if required_contexts is None else [str(context) for context in required_contexts]
        states = [{"context": context, "state": reported.get(context, "pending")} for context in contexts]
        if all(state["state"] == "success" for state in states):
            return
        raise GitHubApiError(
            409,
            f"Conflict: Commit status checks failed for {ref}.",
            errors=[{"contexts": states, "resource": "Deployment", "field": "required_contexts", "code": "invalid"}],
            documentation_url=request.documentation_url,
        )

    @_route("GET", "/repos/{owner}/{repo}/deployments", needs=("deployments", "read"))
    def _list_deployments(self, request: _Request) -> _Reply:
        filters = {name: request.query[name] for name in ("sha", "ref", "task", "environment") if name in request.query}
        found = [
            deployment
            for deployment in sorted(self._deployments.values(), key=lambda deployment: deployment.id, reverse=True)
            if all(getattr(deployment, name) == value for name, value in filters.items())
        ]
        return self._paginate(request, found, self._deployment_json)

    @_route("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}", needs=("deployments", "read"))
    def _get_deployment(self, request: _Request) -> _Reply:
        deployment = self._deployments.get(request.number("deployment_id"))
        if deployment is None:
            raise _not_found()
        return _Reply(200, self._deployment_json(deployment))

    @_route("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", needs=("deployments", "write"))
    def _create_deployment_status(self, request: _Request) -> _Reply:
        deployment = self._deployments.get(request.number("deployment_id"))
        if deployment is None:
            raise _not_found()
        body = request.fields(
            "DeploymentStatus",
            required={"state": str},
            optional={
                "target_url": str,
                "log_url": str,
                "description": str,
                "environment": str,
                "environment_url": str,
                "auto_inactive": bool,
            },
        )
        if body["state"] not in DEPLOYMENT_STATES:
            raise _validation_failed("DeploymentStatus", "invalid", "state")
        description = body.get("description") or ""
        if len(description) > MAX_STATUS_DESCRIPTION:
            raise _validation_failed("DeploymentStatus", "custom", "description", "description is too long (maximum is 140 characters)")
        if body.get("environment"):
            deployment.environment = body["environment"]
        now = self._now()
        log_url = body.get("log_url") or body.get("target_url") or ""  # target_url is log_url's deprecated name
        status = self._add_status(
            deployment, body["state"], description, body.get("environment_url") or "", log_url, now, request.identity.login
        )
        if status.state == "success" and body.get("auto_inactive", True):
            self._deactivate_previous(deployment, now, request.identity.login)
        return self._created(self._status_json(deployment, status))

    def _add_status(
        self, deployment: _Deployment, state: str, description: str, environment_url: str, log_url: str, now: str, creator: str
    ) -> _DeploymentStatus:
        status = _DeploymentStatus(
            id=next(self._ids["deployment_status"]),
            state=state,
            description=description,
            environment=deployment.environment,
            environment_url=environment_url,
            log_url=log_url,
            created_at=now,
            creator=creator,
        )
        deployment.statuses.append(status)
        deployment.updated_at = now
        return status

    def _deactivate_previous(self, deployment: _Deployment, now: str, creator: str) -> None:
        """``auto_inactive``: earlier non-transient, non-production deployments to the same environment become inactive."""
        if deployment.production_environment:
            return
        for other in self._deployments.values():
            if (
                other.id < deployment.id
                and other.environment == deployment.environment
                and not other.transient_environment
                and not other.production_environment
                and other.statuses
                and other.statuses[-1].state != "inactive"
            ):
                self._add_status(other, "inactive", "", other.statuses[-1].environment_url, other.statuses[-1].log_url, now, creator)

    @_route("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", needs=("deployments", "read"))
    def _list_deployment_statuses(self, request: _Request) -> _Reply:
        deployment = self._deployments.get(request.number("deployment_id"))
        if deployment is None:
            raise _not_found()
        newest_first = [self._status_json(deployment, status) for status in reversed(deployment.statuses)]
        return self._paginate(request, newest_first)

    # Endpoints: compare

    @_route("GET", "/repos/{owner}/{repo}/compare/{basehead}", needs=("contents", "read"))
    def _compare(self, request: _Request) -> _Reply:
        base_name, separator, head_name = request.params["basehead"].partition("...")
        if not separator:
            raise _not_found()
        base_sha = self._resolve_commitish(base_name.rpartition(":")[2])
        head_sha = self._resolve_commitish(head_name.rpartition(":")[2])
        if base_sha not in self._commits or head_sha not in self._commits:
            raise _not_found()
        base_ancestors = set(self._ancestors(base_sha))
        # The head's own commits, nearest first: the walk stops where the base's history begins.
        head_only = self._ancestors(head_sha, stop=base_ancestors)
        boundary = [parent for sha in head_only or [head_sha] for parent in self._commits[sha].parents if parent in base_ancestors]
        if head_sha in base_ancestors:
            boundary = [head_sha]
        shared = base_ancestors if base_sha in boundary else {sha for start in boundary for sha in self._ancestors(start)}
        merge_base = base_sha if base_sha in shared else next((sha for sha in self._ancestors(base_sha) if sha in shared), base_sha)
        # Oldest first, as GitHub lists them; commits of the same second stay parents before children.
        ahead = [self._commits[sha] for sha in reversed(head_only)]
        behind_by = len(base_ancestors - shared)
        ahead.sort(key=lambda commit: commit.date)
        status = "identical" if not ahead and not behind_by else "behind" if not ahead else "ahead" if not behind_by else "diverged"
        basehead = request.params["basehead"]
        comparison = {
            "url": f"{self._repo_api}/compare/{quote(basehead)}",
            "html_url": f"{self._repo_web}/compare/{quote(basehead)}",
            "permalink_url": f"{self._repo_web}/compare/{self.owner}:{base_sha[:7]}...{self.owner}:{head_sha[:7]}",
            "diff_url": f"{self._repo_web}/compare/{quote(basehead)}.diff",
            "patch_url": f"{self._repo_web}/compare/{quote(basehead)}.patch",
            "base_commit": self._commit_json(self._commits[base_sha]),
            "merge_base_commit": self._commit_json(self._commits[merge_base]),
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": behind_by,
            "total_commits": len(ahead),
            "commits": [self._commit_json(commit) for commit in ahead[:250]],  # GitHub lists at most 250
            "files": [],
        }
        return _Reply(200, comparison)

    # Endpoints: attestations

    @_route("GET", "/repos/{owner}/{repo}/attestations/{subject_digest}", needs=("attestations", "read"))
    def _list_attestations(self, request: _Request) -> _Reply:
        # GitHub answers 404 when a subject has no attestation in the repository (gh treats it as "none found").
        found = self._attestations.get(unquote(request.params["subject_digest"]))
        if not found:
            raise _not_found()
        return _Reply(200, {"attestations": copy.deepcopy(found)})

    def _ancestors(self, sha: str, *, stop: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """sha and its seeded ancestors, nearest first (breadth-first), not walking into ``stop``."""
        seen: dict[str, None] = {}
        queue = collections.deque([sha])
        while queue:
            current = queue.popleft()
            if current in seen or current in stop or current not in self._commits:
                continue
            seen[current] = None
            queue += self._commits[current].parents
        return list(seen)

    # Endpoints: attestations (storing them)

    def _refuse_attestations_by_plan(self, request: _Request) -> None:
        """Artifact attestations need a public repository, or Enterprise Cloud for a private or internal one.

        422 with GitHub's messages (user-owned: actions/attest issues and many workflow logs; organization-owned:
        a probe with ``gh api`` quoted in a public report, ``{"message": ..., "status": "422"}``), checked before the
        bundle is looked at, as that report observed.
        """
        if self.visibility == "public" or self.plan == "enterprise_cloud":
            return
        if self.owner_type == "Organization":
            message = (
                f"Feature not available for the {self.owner} organization. "
                "To enable this feature, please upgrade the billing plan, or make this repository public."
            )
        else:
            message = "Feature not available for user-owned private repositories. "
            message += "To enable this feature, please make this repository public."
        raise GitHubApiError(422, message, documentation_url=request.documentation_url)

    @_route("POST", "/repos/{owner}/{repo}/attestations", needs=("attestations", "write"))
    def _create_attestation(self, request: _Request) -> _Reply:
        self._refuse_attestations_by_plan(request)
        body = request.fields("Attestation", required={"bundle": dict})
        subjects, predicate_type = _attestation_statement(body["bundle"], request.documentation_url)
        attestation_id = next(self._ids["attestation"])
        self._posted_attestations.append(
            {
                "id": attestation_id,
                "subjects": subjects,
                "predicate_type": predicate_type,
                "bundle": copy.deepcopy(body["bundle"]),
                "login": request.identity.login,
                "created_at": self._now(),
            }
        )
        for digest in dict.fromkeys(subject["digest"] for subject in subjects):
            self._attestations.setdefault(digest, []).append(
                {
                    "bundle": copy.deepcopy(body["bundle"]),
                    "repository_id": self._repo_id,
                    "bundle_url": "",
                    "initiator": "github-actions" if request.identity.is_github_token else "user",
                    "predicate_type": predicate_type,
                }
            )
        return _Reply(201, {"id": attestation_id})

    # Endpoints: collaborators and issue events (who may say what)

    def _collaborator_json(self, login: str, role: str | None) -> dict[str, Any]:
        shown = self._user_json(login)
        rank = ROLES.index(role) if role else -1
        shown["permissions"] = {
            "pull": rank >= 0,
            "triage": rank >= ROLES.index("triage"),
            "push": rank >= ROLES.index("write"),
            "maintain": rank >= ROLES.index("maintain"),
            "admin": rank >= ROLES.index("admin"),
        }
        shown["role_name"] = role or ""
        return shown

    @_route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", needs=METADATA_READ)
    def _get_collaborator_permission(self, request: _Request) -> _Reply:
        """The user's base permission (admin, write, read, none: maintain counts as write, triage as read) and role.

        An app's token (metadata) may ask; a person must have push access (403 otherwise). Someone with no role
        reads a public repository (``read``, as recorded from github.com) and nothing of a private one (``none``,
        role ``""``, as apps show); a login that is no account the double knows, or the owning organization, is 404.
        """
        caller = request.identity.login
        if not caller.endswith("[bot]") and ROLES.index(self._role_of(caller) or "read") < ROLES.index("write"):
            raise GitHubApiError(403, PUSH_ACCESS_MESSAGE, documentation_url=request.documentation_url)
        username = request.params["username"]
        if not self._is_known_user(username) or (self.owner_type == "Organization" and username.lower() == self.owner.lower()):
            raise _not_found()
        role = self._role_of(username)
        if role is None and self.visibility == "public" and not username.endswith("[bot]"):
            role = "read"  # anyone reads a public repository
        permission = ROLE_PERMISSION[role] if role else "none"
        shown = {"permission": permission, "role_name": role or "", "user": self._collaborator_json(username, role)}
        return _Reply(200, shown)

    def _issue_event_json(self, event: _IssueEvent) -> dict[str, Any]:
        return {
            "id": event.id,
            "node_id": self._node_id("LE" if event.event == "labeled" else "UNLE", event.id),
            "url": f"{self._repo_api}/issues/events/{event.id}",
            "actor": self._user_json(event.actor),
            "event": event.event,
            "commit_id": None,
            "commit_url": None,
            "created_at": event.created_at,
            "performed_via_github_app": None,
            "label": {"name": event.label_name, "color": event.label_color},
        }

    @_route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events", needs=ISSUE_OR_PULL)
    def _list_issue_events(self, request: _Request) -> _Reply:
        issue = self._issue_or_404(request.number("issue_number"))
        self._require_issue_access(request, issue, "read")
        found = [event for event in self._issue_events if event.issue_number == issue.number]  # oldest first
        return self._paginate(request, found, self._issue_event_json)

    # Endpoints: repository settings (Actions > General > Workflow permissions)

    def _workflow_permissions_json(self) -> dict[str, Any]:
        # The one checkbox "Allow GitHub Actions to create and approve pull requests" is this field in the API.
        return {
            "default_workflow_permissions": self.default_workflow_permissions,
            "can_approve_pull_request_reviews": self.actions_can_create_pull_requests,
        }

    @_route("GET", "/repos/{owner}/{repo}/actions/permissions/workflow", needs=("administration", "read"))
    def _get_workflow_permissions(self, request: _Request) -> _Reply:
        return _Reply(200, self._workflow_permissions_json())

    @_route("PUT", "/repos/{owner}/{repo}/actions/permissions/workflow", needs=("administration", "write"))
    def _set_workflow_permissions(self, request: _Request) -> _Reply:
        body = request.fields(
            "WorkflowPermissions", optional={"default_workflow_permissions": str, "can_approve_pull_request_reviews": bool}
        )
        if body.get("default_workflow_permissions", "read") not in ("read", "write"):
            # GitHub's schema check answers 422 "Invalid request." with the reason; this wording is the double's.
            message = f"Invalid request.\n\n{body['default_workflow_permissions']!r} is not one of read, write."
            raise GitHubApiError(422, message, documentation_url=request.documentation_url)
        if "default_workflow_permissions" in body:
            self.default_workflow_permissions = body["default_workflow_permissions"]
        if "can_approve_pull_request_reviews" in body:
            self.actions_can_create_pull_requests = body["can_approve_pull_request_reviews"]
        return _Reply(204)


RELEASE_FIELDS = {
    "tag_name": str,
    "target_commitish": str,
    "name": str,
    "body": str,
    "draft": bool,
    "prerelease": bool,
    "make_latest": str,
}
_ID_STARTS = {
    "release": 180_000_001,
    "asset": 210_000_001,
    "issue": 2_100_000_001,
    "pull": 1_800_000_001,
    "comment": 2_400_000_001,
    "label": 6_000_000_001,
    "workflow": 60_000_001,
    "workflow_run": 9_000_000_001,
    "deployment": 1_500_000_001,
    "deployment_status": 3_200_000_001,
    "attestation": 4_000_001,
    "issue_event": 12_000_000_001,
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_settings(visibility: str, owner_type: str, plan: str, default_workflow_permissions: str) -> None:
    """The combinations GitHub offers: Pro is a personal account's plan, Team and Enterprise Cloud an organization's;
    internal repositories exist only in organizations of an enterprise (Enterprise Cloud on github.com)."""
    for name, value, allowed in (
        ("visibility", visibility, VISIBILITIES),
        ("owner_type", owner_type, OWNER_TYPES),
        ("plan", plan, PLANS),
        ("default_workflow_permissions", default_workflow_permissions, ("read", "write")),
    ):
        if value not in allowed:
            raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    if owner_type == "User" and plan in ("team", "enterprise_cloud"):
        raise ValueError(f"plan={plan!r} is an organization's plan: pass owner_type='Organization'")
    if owner_type == "Organization" and plan == "pro":
        raise ValueError("plan='pro' is a personal account's plan: organizations have free, team or enterprise_cloud")
    if visibility == "internal" and owner_type != "Organization":
        raise ValueError("internal repositories belong to organizations: pass owner_type='Organization'")


def _attestation_statement(bundle: dict[str, Any], documentation_url: str) -> tuple[list[dict[str, str]], str]:
    """The subjects (name, ``sha256:<hex>``) and predicate type of a Sigstore bundle's in-toto statement.

    The statement is the DSSE envelope's base64 ``payload`` (``payloadType`` ``application/vnd.in-toto+json``), as
    actions/attest builds it. The signature and certificates are not checked (the double has no Sigstore); a bundle
    that does not carry such a statement is refused with 400 in the double's own words.
    """

    def refuse(reason: str) -> GitHubApiError:
        return GitHubApiError(400, f"Invalid bundle: {reason}", documentation_url=documentation_url)

    media_type = bundle.get("mediaType")
    if not isinstance(media_type, str) or not media_type.startswith("application/vnd.dev.sigstore.bundle"):
        raise refuse("mediaType is not a Sigstore bundle's")
    envelope = bundle.get("dsseEnvelope")
    if not isinstance(envelope, dict) or envelope.get("payloadType") != "application/vnd.in-toto+json":
        raise refuse("dsseEnvelope must carry an in-toto statement (payloadType application/vnd.in-toto+json)")
    try:
        statement = json.loads(base64.b64decode(str(envelope.get("payload", "")), validate=True))
    except ValueError as error:
        raise refuse("dsseEnvelope.payload is not base64 JSON") from error
    if not isinstance(statement, dict) or not str(statement.get("_type", "")).startswith("https://in-toto.io/Statement/"):
        raise refuse("the payload is not an in-toto statement")
    raw_subjects = statement.get("subject")
    subjects = []
    for subject in raw_subjects if isinstance(raw_subjects, list) else []:
        digest = subject.get("digest", {}).get("sha256") if isinstance(subject, dict) and isinstance(subject.get("digest"), dict) else None
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise refuse("every subject needs a sha256 digest")
        subjects.append({"name": str(subject.get("name", "")), "digest": f"sha256:{digest}"})
    if not subjects:
        raise refuse("the statement has no subject")
    predicate_type = statement.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise refuse("the statement has no predicateType")
    return subjects, predicate_type


def _require_sha(sha: str) -> None:
    if not SHA_PATTERN.fullmatch(sha):
        raise ValueError(f"{sha!r} is not a full 40-character lowercase hex sha")


def _check_body_length(body: Mapping[str, Any], resource: str) -> None:
    """Issue and pull request bodies: 422 past 65536 characters (trstringer/manual-approval#89 for issues)."""
    if len(body.get("body") or "") > MAX_ISSUE_BODY:
        raise _validation_failed(resource, "custom", "body", f"body is too long (maximum is {MAX_ISSUE_BODY} characters)")


def _check_comment_length(text: str) -> None:
    """Comments: 422 past 65536 characters, in the shape GitHub answers today (easybuilders/easybuild-easyconfigs#24647;
    before 2021 it was code custom, field body, as for issues: danger/danger#424)."""
    if len(text) > MAX_ISSUE_BODY:
        raise _validation_failed("IssueComment", "unprocessable", "data", f"Body is too long (maximum is {MAX_ISSUE_BODY} characters)")


def _normalise_permissions(permissions: Mapping[str, str] | str | None, *, github_token: bool = True) -> dict[str, str]:
    """A workflow job's ``permissions:`` value → every permission's level; ``None`` is all of GITHUB_TOKEN's write.

    GITHUB_TOKEN (``github_token``) has :data:`PERMISSIONS` only: a block naming one of :data:`APP_ONLY_PERMISSIONS`
    is refused, as GitHub refuses the workflow file. Other identities (a person's token, an app's) may also hold
    those, and ``"read-all"``/``"write-all"`` give them those too.
    """
    keys = PERMISSIONS if github_token else APP_PERMISSIONS
    if permissions is None:
        return dict.fromkeys(PERMISSIONS, "write")
    if permissions == "write-all":
        return dict.fromkeys(keys, "write")
    if permissions == "read-all":
        return dict.fromkeys(keys, "read")
    if isinstance(permissions, str):
        raise ValueError(f"{permissions!r}: permissions are a mapping, 'read-all' or 'write-all'")
    normalised = dict.fromkeys(keys, "none")
    for permission, level in permissions.items():
        if level not in LEVELS:
            raise ValueError(f"{permission}: {level!r} is not one of {', '.join(LEVELS)}")
        if github_token and permission in APP_ONLY_PERMISSIONS:
            raise ValueError(f"Unexpected value {permission!r}: a workflow's permissions: block cannot grant GITHUB_TOKEN {permission}")
        if permission in normalised:  # others (a newer permission, a typo) a workflow may name: ignored, as documented
            normalised[permission] = level
    return normalised


def _int_or(raw: str | None, default: int) -> int:
    return int(raw) if raw is not None and re.fullmatch(r"-?[0-9]+", raw) else default


def _label_names(labels: Iterable[Any]) -> list[str]:
    """Labels arrive as names or as {"name": ...} objects."""
    return [label["name"] if isinstance(label, dict) else str(label) for label in labels]


def _sanitise_asset_name(name: str) -> str:
    """GitHub renames assets with special characters or leading/trailing periods; the list shows the new name."""
    return re.sub(r"[^A-Za-z0-9._+-]", ".", name).strip(".") or "default"


def _login_of_email(email: str) -> str | None:
    """The login a commit email belongs to, as far as the double can tell: GitHub's noreply addresses only."""
    found = NOREPLY_EMAIL.fullmatch(email)
    return found.group(1) if found else None


def _signature_json(person: Signature) -> dict[str, str]:
    return {"name": person.name, "email": person.email, "date": person.date}


def _base64_lines(content: bytes) -> str:
    """Base64 in lines of 60 characters, each ending with a newline, as GitHub's contents and blob APIs send it."""
    encoded = base64.b64encode(content).decode()
    return "".join(encoded[start : start + 60] + "\n" for start in range(0, len(encoded), 60))


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


def _override_headers(headers: dict[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive: an override replaces the same header whatever its case."""
    lowered = {name.lower() for name in overrides}
    return {**{name: value for name, value in headers.items() if name.lower() not in lowered}, **overrides}


class _Server(ThreadingHTTPServer):
    """One listener; remembers its open connections so that stop() can close them instead of waiting."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, double: GitHubDouble, role: str) -> None:
        self.double = double
        self.role = role
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # the client may have closed it already
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients expect from GitHub
    # Headers and body leave in two writes: without this, Nagle and delayed ACKs add 40 ms to every reply.
    disable_nagle_algorithm = True
    timeout = SOCKET_TIMEOUT_SECONDS
    server: _Server

    def version_string(self) -> str:
        return "github.com"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read gh.calls, not a log on stderr

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        try:
            reply = self.server.double._handle(self.server.role, self.command, self.path, self.headers, body)
        except Exception as error:  # a bug in the double: answer 500 and say so, rather than drop the connection
            self.server.double._record_problem(f"{self.command} {self.path}: the double failed: {error!r}\n{traceback.format_exc()}")
            reply = _Reply(500, {"message": f"GitHubDouble failed: {error!r}"}, {"Content-Type": JSON_CONTENT_TYPE})
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is None:
            payload = b""
        else:
            payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            if not (name.lower() == "content-type" and not payload):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""
