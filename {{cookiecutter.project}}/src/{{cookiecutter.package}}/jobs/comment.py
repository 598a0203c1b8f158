"""``mlops comment``: post the report as the pull request's one sticky comment."""

from __future__ import annotations

import logging
import sys

from ..config import Settings
from ..core.report import COMMENT_MARKER, fit_comment
from ..errors import InputError
from ..io.artifacts import read_text
from ..io.github import DryRun, GitHub, GitHubError, bot_logins
from ..jobs import PR_REPORT_MD

logger = logging.getLogger(__name__)
# The identities whose comments are ours. GITHUB_TOKEN acts as github-actions[bot]; a workflow that
# comments with an app's token adds that app's "<slug>[bot]" login here (and the release reads the same set).


def run(settings: Settings, pr_number: int | None, dry_run: DryRun | None = None) -> str | None:
    number = pr_number or _number_from_env(settings.env.pr_number)
    body = read_text(settings.path(str(PR_REPORT_MD)), produced_by="report")
    if not body.startswith(COMMENT_MARKER):
        raise InputError(f"{PR_REPORT_MD} does not start with the report marker: render it with `mlops report`")
    with GitHub.connect(settings.env, dry_run) as github:
        try:
            comment, created = github.upsert_comment(number, COMMENT_MARKER, fit_comment(body), bot_logins=bot_logins(settings.env))
        except GitHubError as error:
            # Pull requests from forks get a read-only token: the job summary still has the report.
            if error.status == 403 and settings.env.pr_from_fork:
                _annotate(
                    "warning",
                    f"cannot comment on PR #{number} from a fork (its token is read-only): the report is in the job summary",
                )
                return None
            raise
    logger.info("%s the report comment on PR #%d: %s", "created" if created else "updated", number, comment["html_url"])
    return comment["html_url"]


def _annotate(level: str, message: str) -> None:
    """A GitHub Actions workflow command (``::warning::…``): an annotation on the run, read from stdout."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    sys.stdout.write(f"::{level} title=PR comment::{escaped}\n")
    sys.stdout.flush()


def _number_from_env(value: str) -> int:
    if not value.isdigit():
        raise InputError(f"no pull request number: pass --pr N or set PR_NUMBER (found {value!r})")
    return int(value)
