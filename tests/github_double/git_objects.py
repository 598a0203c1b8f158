"""Git's object model for the double: blobs, trees and commits named by git's own hashes.

GitHub's Git Data API (``git/blobs``, ``git/trees``, ``git/commits``) hands out the shas git would compute
for the same objects, so the double computes them the same way: ``sha1(b"<type> <size>\\0" + body)``.
A client that checks a blob's sha against its content, or compares tree shas to see whether anything
changed, therefore behaves against the double as against GitHub.

Trees are stored as git stores them, one object per directory; :meth:`GitObjects.flatten` and
:meth:`GitObjects.write_tree` convert between that and the flat ``path → entry`` view the API's
``base_tree`` merges work on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

# The tree with no entries: git's well-known constant, the tree of a commit that has no files.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
BLOB_MODES = ("100644", "100755", "120000")
TREE_MODE = "040000"
# A path component git (and GitHub) refuse: empty, ".", "..", ".git", or holding a NUL or a backslash.
_BAD_COMPONENT = re.compile(r"(|\.|\.\.|\.git)|.*[\x00\\].*", re.IGNORECASE)


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a flattened tree: a blob (file) at a path."""

    mode: str  # one of BLOB_MODES
    sha: str


@dataclass(frozen=True)
class Signature:
    """A commit's author or committer, as git records it."""

    name: str
    email: str
    date: str  # ISO 8601, UTC ("...Z")


def object_sha(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}".encode() + b"\0" + body).hexdigest()


def blob_sha(content: bytes) -> str:
    """What ``git hash-object`` prints for a file with this content."""
    return object_sha("blob", content)


def commit_sha(tree: str, parents: list[str], author: Signature, committer: Signature, message: str) -> str:
    """The sha git gives a commit with these fields (no signature)."""
    lines = [f"tree {tree}", *(f"parent {parent}" for parent in parents)]
    lines += [f"author {_signature_line(author)}", f"committer {_signature_line(committer)}"]
    return object_sha("commit", ("\n".join(lines) + "\n\n" + message).encode())


def _signature_line(person: Signature) -> str:
    seconds = int(datetime.fromisoformat(person.date.replace("Z", "+00:00")).timestamp())
    return f"{person.name} <{person.email}> {seconds} +0000"


def is_valid_path(path: str) -> bool:
    """A path a tree may hold: relative, no empty, ``.``, ``..`` or ``.git`` component."""
    return bool(path) and not any(_BAD_COMPONENT.fullmatch(part) for part in path.split("/"))


class GitObjects:
    """Blobs and trees by sha. Not thread-safe: the double calls it under its own lock."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        # tree sha → name → (mode, sha); a subtree's mode is TREE_MODE
        self.trees: dict[str, dict[str, tuple[str, str]]] = {EMPTY_TREE: {}}

    def add_blob(self, content: bytes) -> str:
        sha = blob_sha(content)
        self.blobs[sha] = content
        return sha

    def flatten(self, tree: str, prefix: str = "") -> dict[str, TreeEntry]:
        """Every file under ``tree``, by its full path."""
        files: dict[str, TreeEntry] = {}
        for name, (mode, sha) in self.trees[tree].items():
            if mode == TREE_MODE:
                files.update(self.flatten(sha, f"{prefix}{name}/"))
            else:
                files[f"{prefix}{name}"] = TreeEntry(mode, sha)
        return files

    def write_tree(self, files: Mapping[str, TreeEntry]) -> str:
        """Store the trees holding ``files`` (one per directory) and return the root's sha."""
        entries: dict[str, tuple[str, str]] = {}
        directories: dict[str, dict[str, TreeEntry]] = {}
        for path, entry in files.items():
            head, slash, rest = path.partition("/")
            if slash:
                directories.setdefault(head, {})[rest] = entry
            else:
                entries[head] = (entry.mode, entry.sha)
        for name, content in directories.items():
            entries[name] = (TREE_MODE, self.write_tree(content))
        body = b"".join(
            f"{mode.lstrip('0')} {name}".encode() + b"\0" + bytes.fromhex(sha)
            # git sorts a directory's entries by name, a subtree's name as if it ended in "/"
            for name, (mode, sha) in sorted(entries.items(), key=lambda item: item[0] + ("/" if item[1][0] == TREE_MODE else ""))
        )
        sha = object_sha("tree", body)
        self.trees[sha] = entries
        return sha

    def directory(self, tree: str, path: str) -> dict[str, tuple[str, str]] | None:
        """The entries of the directory at ``path`` ("" for the root), None when there is none."""
        current = self.trees[tree]
        for part in filter(None, path.split("/")):
            mode, sha = current.get(part, ("", ""))
            if mode != TREE_MODE:
                return None
            current = self.trees[sha]
        return current
