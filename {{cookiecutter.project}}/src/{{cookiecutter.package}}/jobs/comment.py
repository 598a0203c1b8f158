"""``mlops comment``: post the report as the pull request's one sticky comment."""

from __future__ import annotations

import logging

from ..config import Settings
from ..core.report import COMMENT_MARKER
from ..errors import InputError
from ..io.artifacts import read_text
from ..io.github import GitHub, GitHubContext, GitHubError
from ..jobs import PR_REPORT_MD

logger = logging.getLogger(__name__)


def run(settings: Settings, pr_number: int | None) -> str | None:
    number = pr_number or _number_from_env(settings.env.pr_number)
    body = read_text(settings.path(str(PR_REPORT_MD)), produced_by="report")
    with GitHub(GitHubContext.from_env(settings.env)) as github:
        try:
            comment, created = github.upsert_comment(number, COMMENT_MARKER, body)
        except GitHubError as error:
            # Pull requests from forks get a read-only token: the job summary still has the report.
            if error.status == 403 and settings.env.pr_from_fork:
                logger.warning("cannot comment on PR #%d from a fork (read-only token); the report is in the job summary", number)
                return None
            raise
    logger.info("%s the report comment on PR #%d: %s", "created" if created else "updated", number, comment["html_url"])
    return comment["html_url"]


def _number_from_env(value: str) -> int:
    if not value.isdigit():
        raise InputError(f"no pull request number: pass --pr N or set PR_NUMBER (found {value!r})")
    return int(value)
