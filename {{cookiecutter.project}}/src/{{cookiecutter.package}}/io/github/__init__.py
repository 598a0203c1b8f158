"""The GitHub REST API: the one adapter every GitHub call goes through.

:class:`GitHub` is the shared request layer (``client``: where the token goes, retries, rate
limits, pagination, every answer checked) with one family of endpoints per module on top:
``releases`` (releases, assets, tags), ``git_data`` (branches, git objects, contents, commits),
``issues`` (issues, their events, pull requests, comments, labels), ``collaborators`` (a person's
permission), ``deployments``, ``actions`` (workflow dispatch) and ``repository`` (its visibility, and
whether GitHub is Enterprise Server). Callers import from here only.
"""

from __future__ import annotations

from ...config import Environment
from .actions import MAX_DISPATCH_INPUTS, Actions
from .client import (
    ACTIONS_BOT,
    MAX_PAGES,
    BranchMoved,
    Client,
    GitHubContext,
    GitHubError,
    bot_logins,
    comment_author,
    commit_author,
    connect_context,
    is_branch_name,
    is_loopback,
    required_permission,
)
from .collaborators import Collaborators
from .deployments import Deployments
from .dry_run import DryRun
from .git_data import MAX_FILE_BYTES, GitData, git_blob_sha
from .issues import ACTIONS_MAY_NOT_OPEN_PULLS, IssuesAndPulls, PullRequestsNotAllowed
from .releases import Releases
from .repository import Repository, RepositoryFacts

__all__ = [
    "ACTIONS_BOT",
    "ACTIONS_MAY_NOT_OPEN_PULLS",
    "MAX_DISPATCH_INPUTS",
    "MAX_FILE_BYTES",
    "MAX_PAGES",
    "BranchMoved",
    "Client",
    "DryRun",
    "GitHub",
    "GitHubContext",
    "GitHubError",
    "PullRequestsNotAllowed",
    "RepositoryFacts",
    "bot_logins",
    "comment_author",
    "commit_author",
    "git_blob_sha",
    "is_branch_name",
    "is_loopback",
    "required_permission",
]


class GitHub(Releases, GitData, IssuesAndPulls, Collaborators, Deployments, Actions, Repository):
    """A small client for the endpoints this project uses: ``with GitHub(GitHubContext.from_env(env)) as github: ...``."""

    def __enter__(self) -> GitHub:
        return self

    @classmethod
    def connect(cls, env: Environment, dry_run: DryRun | None = None) -> GitHub:
        """The client for this run; with ``dry_run`` every write is recorded there and none is sent (see ``dry_run``)."""
        return cls(connect_context(env, dry_run=dry_run), dry_run=dry_run)
