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

from .github import GitHub, GitHubError

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
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def publish(github: GitHub, branch: str, files: Mapping[str, bytes], message: str, *, attempts: int = 2) -> str:
    """Commit ``files`` on top of ``branch`` (created without a parent when absent); the new commit's sha.

    A concurrent run that moved the branch first makes the fast-forward fail: read it again and retry.
    """
    for attempt in range(attempts):
        head = github.branch_head(branch)
        base_tree = github.git_commit(head)["tree"]["sha"] if head else None
        tree = github.create_tree(dict(files), base_tree=base_tree)
        commit = github.create_commit(message, tree, [head] if head else [])
        try:
            if head:
                github.move_branch(branch, commit)
            else:
                github.create_branch(branch, commit)
            return commit
        except GitHubError as error:
            if error.status != 422 or attempt == attempts - 1:
                raise
            logger.info("%s moved while writing to it; writing again on top of it", branch)
    raise AssertionError("unreachable")
