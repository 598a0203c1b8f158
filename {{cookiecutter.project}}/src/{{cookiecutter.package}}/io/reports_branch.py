"""The reports branch: history and latest reports of the scheduled jobs, never on the base branch.

Written through the Git Data API (blob, tree, commit, ref), so the job needs no push
credentials and no checkout of the branch; its own line of history, unrelated to the code's
(the first commit has no parent). Anything read back may have been written by someone with
push access to the branch: the history is parsed line by line, and what does not parse is skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from .github import BranchMoved, GitHub

logger = logging.getLogger(__name__)
MAX_HISTORY_BYTES = 4 << 20


def read_history(github: GitHub, branch: str, path: str) -> list[dict[str, Any]]:
    """The JSON-lines history at ``path`` on ``branch``; empty when the branch or file does not exist yet."""
    if github.branch_head(branch) is None:
        return []
    content = github.read_file(path, ref=branch, max_bytes=MAX_HISTORY_BYTES)
    if content is None:
        return []
    entries = []
    for line in content.decode("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def publish(github: GitHub, branch: str, files: Mapping[str, bytes], message: str, *, attempts: int = 2) -> str:
    """Commit ``files`` on top of ``branch`` (started with a root commit when absent); the branch's new head.

    A concurrent run that moved the branch first makes the write fail: read it again and retry.
    """
    for attempt in range(attempts):
        try:
            return github.commit_files(branch, files, message, base_sha=github.branch_head(branch))
        except BranchMoved:
            if attempt == attempts - 1:
                raise
            logger.info("%s moved while writing to it; writing again on top of it", branch)
    raise AssertionError("unreachable")
