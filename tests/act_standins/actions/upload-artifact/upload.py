"""upload-artifact stand-in: copy what a v4 upload would take into $ACT_ARTIFACTS_DIR/<name>/.

Mirrors actions/upload-artifact@v4 (src/shared/search.ts with @actions/glob): one pattern a
line, ``#`` comments, ``!`` exclusions, ``**`` across folders, a matched folder brings all its
files, names starting with a dot are skipped (and not entered) unless include-hidden-files.
Files keep their path relative to the least common ancestor of the search paths (the literal
part of each pattern before its first wildcard); a single plain file lands at the top.
Standard library only: it runs on whatever interpreter ACT_STANDINS_PYTHON names.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

WILDCARD = re.compile(r"[*?\[]")
FORBIDDEN_IN_NAME = set('":<>|*?\r\n\\/')
NO_FILES_CHOICES = ("warn", "error", "ignore")


def fail(message: str) -> NoReturn:
    print(f"::error::{message}", flush=True)
    sys.exit(1)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A minimatch-like regex: ``**`` spans folders, ``*`` and ``?`` stay inside one name."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def search_path(pattern: str) -> Path:
    """The literal folders of a pattern, before its first wildcard (as @actions/glob)."""
    parts: list[str] = []
    for part in Path(pattern).parts:
        if WILDCARD.search(part):
            break
        parts.append(part)
    return Path(*parts)


def walk(root: Path, include_hidden: bool) -> Iterator[Path]:
    """root and everything below it, skipping hidden names and broken links."""
    if (not include_hidden and root.name.startswith(".")) or not root.exists():
        return
    yield root
    if root.is_dir():
        for child in sorted(root.iterdir()):
            yield from walk(child, include_hidden)


def absolute(pattern: str, workspace: Path) -> str:
    return os.path.normpath(os.path.join(workspace, os.path.expanduser(pattern)))


def find_files(lines: list[str], workspace: Path, include_hidden: bool) -> tuple[list[Path], Path | None]:
    includes = [absolute(line, workspace) for line in lines if not line.startswith("!")]
    excludes = [pattern_regex(absolute(line[1:].strip(), workspace)) for line in lines if line.startswith("!")]
    found: set[Path] = set()
    for pattern in includes:
        regex = pattern_regex(pattern)
        for item in walk(search_path(pattern), include_hidden):
            if regex.match(str(item)):
                found.update(path for path in walk(item, include_hidden) if path.is_file())
    files = sorted(path for path in found if not any(rx.match(str(p)) for rx in excludes for p in (path, *path.parents)))
    roots = sorted({search_path(pattern) for pattern in includes})
    # Only search paths that are not inside another one count (@actions/glob getSearchPaths).
    roots = [root for root in roots if not any(other != root and other in root.parents for other in roots)]
    if not files:
        return [], None
    if len(roots) > 1:
        return files, Path(os.path.commonpath(roots))
    if len(files) == 1 and files[0] == roots[0]:
        return files, files[0].parent
    return files, roots[0]


def main() -> None:
    name = os.environ["INPUT_NAME"].strip() or "artifact"
    lines = [line.strip() for line in os.environ["INPUT_PATH"].splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if_none = os.environ.get("INPUT_IF_NO_FILES_FOUND", "warn").strip() or "warn"
    overwrite = os.environ.get("INPUT_OVERWRITE", "false").strip() == "true"
    include_hidden = os.environ.get("INPUT_INCLUDE_HIDDEN_FILES", "false").strip() == "true"
    store = os.environ.get("ACT_ARTIFACTS_DIR", "")
    if not store:
        fail("upload-artifact stand-in: ACT_ARTIFACTS_DIR is not set (run_act passes it)")
    if if_none not in NO_FILES_CHOICES:
        fail(f"Unrecognized if-no-files-found input. Provided: {if_none}. Available options: {', '.join(NO_FILES_CHOICES)}")
    if bad := sorted(FORBIDDEN_IN_NAME.intersection(name)):
        fail(f"The artifact name is not valid: {name}. Contains the following character(s): {' '.join(map(repr, bad))}")
    if not lines:
        fail("Input required and not supplied: path")

    files, root = find_files(lines, Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd()), include_hidden)
    if root is None:
        message = f"No files were found with the provided path: {chr(10).join(lines)}. No artifacts will be uploaded."
        if if_none == "error":
            fail(message)
        print(f"::warning::{message}" if if_none == "warn" else message)
        return

    destination = Path(store) / name
    if overwrite and destination.exists():
        shutil.rmtree(destination)
    try:
        destination.mkdir(parents=True)
    except FileExistsError:
        fail(f"Failed to CreateArtifact: an artifact with this name already exists on the workflow run: {name}")
    digest = hashlib.sha256()
    for path in files:
        relative = path.relative_to(root)
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination / relative)
        digest.update(f"{relative.as_posix()}\0".encode() + path.read_bytes())
    artifact_id = len([entry for entry in Path(store).iterdir() if entry.is_dir()])
    print(f"upload-artifact stand-in: {len(files)} file(s) from {root} stored as {destination}")
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
        output.write(f"artifact-id={artifact_id}\nartifact-url={destination.as_uri()}\nartifact-digest={digest.hexdigest()}\n")


if __name__ == "__main__":
    main()
