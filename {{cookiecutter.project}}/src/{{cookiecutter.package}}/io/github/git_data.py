"""Branches and the Git Data API (blobs, trees, commits, refs), file contents and commit lists.

Branches are written through the Git Data API: the token is all it takes, no push credentials and no
checkout, so it works under act too. A branch only ever moves forward from the commit the caller last
read (``commit_files``); if someone pushed in between, the write stops with ``BranchMoved`` instead of
overwriting their work.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import InputError
from .client import (
    MAX_PAGES,
    BranchMoved,
    Client,
    GitHubError,
    as_object,
    branch_path,
    checked,
    checked_file_path,
    checked_ref,
    checked_sha,
    failure,
    json_body,
    message_of,
    ref_sha,
)

logger = logging.getLogger(__name__)
# Text up to this size goes inline in a tree (one request for all files); anything else as a blob of its own.
MAX_INLINE_TREE_CONTENT = 64 * 1024
# What read_file accepts by default: the files this project reads back (histories, manifests) are far smaller.
MAX_FILE_BYTES = 10 * 1024 * 1024


class GitData(Client):
    """Branches, git objects, contents and commits."""

    def branch_head(self, branch: str) -> str | None:
        """The commit ``branch`` points at, None when there is no such branch."""
        response = self.request("GET", f"{self.repo_path}/git/ref/heads/{branch_path(branch)}", ok=(200, 404))
        if response.status_code == 404:
            return None
        return ref_sha(json_body(response, "GET", f"git/ref/heads/{branch}"), f"heads/{branch}")

    def create_branch(self, branch: str, sha: str) -> None:
        """Create ``branch`` at commit ``sha``; ``BranchMoved`` when someone created it first."""
        body = {"ref": f"refs/heads/{checked_ref(branch)}", "sha": checked_sha(sha, "commit")}
        response = self.request("POST", f"{self.repo_path}/git/refs", json=body, ok=(201, 422))
        if response.status_code == 422:
            if "already exists" in message_of(response):
                raise BranchMoved(f"branch {branch!r} was created by someone else meanwhile: leaving it as it is", 422)
            raise failure("POST", f"{self.repo_path}/git/refs", response)

    def move_branch(self, branch: str, sha: str, *, force: bool = False) -> None:
        """Point ``branch`` at ``sha``: a fast-forward unless ``force``; ``BranchMoved`` when it would not be one."""
        url = f"{self.repo_path}/git/refs/heads/{branch_path(branch)}"
        response = self.request("PATCH", url, json={"sha": checked_sha(sha, "commit"), "force": force}, ok=(200, 422))
        if response.status_code == 422:
            if "fast forward" in message_of(response).lower():
                raise BranchMoved(
                    f"branch {branch!r} has commits that {sha[:12]} does not descend from (someone pushed to it): not overwriting them",
                    422,
                )
            raise failure("PATCH", url, response)

    def git_commit(self, sha: str) -> dict[str, Any]:
        """A commit as git sees it: ``tree.sha``, ``parents[].sha``, ``author``, ``committer``, ``message``."""
        url = f"{self.repo_path}/git/commits/{checked_sha(sha, 'commit')}"
        commit = as_object(
            self.request_json("GET", url, ok=(200,)), "git commit", "sha", "tree", "parents", "author", "committer", "message"
        )
        if commit["sha"] != sha:
            raise GitHubError(f"GitHub answered commit {str(commit['sha'])[:40]!r} when asked for {sha}")
        _tree_sha(commit)
        _parent_shas(commit)
        return commit

    def create_blob(self, content: bytes) -> str:
        """Store ``content`` as a blob; its sha, checked to be the one git gives this content."""
        body = {"content": base64.b64encode(content).decode("ascii"), "encoding": "base64"}
        blob = as_object(self.request_json("POST", f"{self.repo_path}/git/blobs", json=body, ok=(201,)), "blob", "sha")
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
            checked_file_path(path)
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
            body["base_tree"] = checked_sha(base_tree, "tree")
        tree = as_object(self.request_json("POST", f"{self.repo_path}/git/trees", json=body, ok=(201,)), "tree", "sha")
        return checked_sha(tree["sha"], "tree GitHub returned", error=GitHubError)

    def create_commit(self, message: str, tree: str, parents: list[str], *, author: Mapping[str, str] | None = None) -> str:
        """A commit of ``tree`` on ``parents``; the author defaults to the token's identity. Returns its sha."""
        body: dict[str, Any] = {
            "message": message,
            "tree": checked_sha(tree, "tree"),
            "parents": [checked_sha(parent, "parent commit") for parent in parents],
        }
        if author is not None:
            body["author"] = {"name": author["name"], "email": author["email"]}
        commit = as_object(self.request_json("POST", f"{self.repo_path}/git/commits", json=body, ok=(201,)), "git commit", "sha", "tree")
        if _tree_sha(commit) != tree or _parent_shas(commit) != parents:
            raise GitHubError(f"GitHub created commit {str(commit['sha'])[:40]!r} with another tree or other parents than asked")
        return checked_sha(commit["sha"], "commit GitHub returned", error=GitHubError)

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
            checked_sha(base_sha, "base commit")
        for path in files:  # refused before anything is written
            checked_file_path(path)
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
        url = f"{self.repo_path}/contents/{checked_file_path(path)}"
        response = self.request("GET", url, params={"ref": checked_ref(ref)}, ok=(200, 404))
        if response.status_code == 404:
            return None
        where = f"{path!r} at {ref!r}"
        found = json_body(response, "GET", url)
        if isinstance(found, list):
            raise GitHubError(f"{where} is a directory, expected a file")
        found = as_object(found, f"file {where}", "type", "sha", "size")
        if found["type"] != "file" or not isinstance(found["size"], int) or isinstance(found["size"], bool):
            raise GitHubError(f"{where} is a {found['type']!r} of size {found['size']!r}, expected a file")
        if found["size"] > max_bytes:
            raise InputError(f"{where} is {found['size']} bytes, more than the {max_bytes} accepted: refusing it")
        sha = checked_sha(found["sha"], f"blob of {where}", error=GitHubError)
        inline = found.get("content")
        if found.get("encoding") == "base64" and isinstance(inline, str) and (inline or found["size"] == 0):
            content = _base64(inline, where)
        else:  # over 1 MB: "content" is empty and "encoding" is "none"
            blob = as_object(
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
        for commit in self.paginate(f"{self.repo_path}/commits", {"sha": checked_ref(branch)}):
            commit = checked(commit, "commit", sha="str", commit="object")
            if since_sha is not None and commit["sha"] == since_sha:
                return commits
            commits.append(commit)
        if since_sha is not None:
            raise GitHubError(f"{since_sha[:12]} is not in the history of branch {branch!r}")
        return commits

    def commits_between(self, base: str, head: str) -> list[dict[str, Any]]:
        """The commits ``head`` has that ``base`` has not (branches or shas), oldest first, as GitHub compares them."""
        url = f"{self.repo_path}/compare/{branch_path(base)}...{branch_path(head)}"
        commits, total = self._compared(url)
        if total != len(commits):
            raise GitHubError(f"{head!r} has {total} commits over {base!r}, more than GitHub lists at once")
        return commits

    def comparison(self, base: str, head: str) -> tuple[list[dict[str, Any]], int]:
        """The commits ``head`` has over ``base`` as GitHub lists them (oldest first, at most 250), and how many there are."""
        url = f"{self.repo_path}/compare/{branch_path(base)}...{branch_path(head)}"
        return self._compared(url)

    def _compared(self, url: str) -> tuple[list[dict[str, Any]], int]:
        comparison = checked(self.request_json("GET", url, ok=(200,)), "comparison", commits="list", total_commits="int")
        commits = [checked(commit, "compared commit", sha="str", commit="object?") for commit in comparison["commits"]]
        return commits, comparison["total_commits"]

    def commits(
        self, *, ref: str | None = None, path: str | None = None, since: str | None = None, max_pages: int = MAX_PAGES
    ) -> list[dict[str, Any]]:
        """Commits reachable from ``ref`` (the default branch), newest first; only those changing ``path`` / committed since ``since``."""
        params: dict[str, Any] = {}
        if ref is not None:
            params["sha"] = checked_ref(ref)
        if path is not None:
            checked_file_path(path)
            params["path"] = path
        if since is not None:
            params["since"] = since
        return [
            checked(commit, "commit", sha="str", commit="object", parents="list?")
            for commit in self.paginate(f"{self.repo_path}/commits", params, max_pages=max_pages)
        ]

    def pull_commits(self, number: int) -> list[dict[str, Any]]:
        """A pull request's own commits, oldest first (GitHub lists at most 250)."""
        return [
            checked(commit, "commit", sha="str", commit="object")
            for commit in self.paginate(f"{self.repo_path}/pulls/{int(number)}/commits")
        ]


def git_blob_sha(content: bytes) -> str:
    """The sha git (and GitHub) give a file with this content."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _tree_sha(commit: dict[str, Any]) -> str:
    tree = commit.get("tree")
    return checked_sha(
        tree.get("sha") if isinstance(tree, dict) else None, f"tree of commit {str(commit.get('sha'))[:40]}", error=GitHubError
    )


def _parent_shas(commit: dict[str, Any]) -> list[str]:
    parents = commit.get("parents")
    if not isinstance(parents, list) or not all(isinstance(parent, dict) for parent in parents):
        raise GitHubError(f"GitHub returned commit {str(commit.get('sha'))[:40]} without a list of parents")
    return [checked_sha(parent.get("sha"), "parent commit", error=GitHubError) for parent in parents]


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
