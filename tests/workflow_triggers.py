"""Which of a project's workflows a push or a pull request starts, by GitHub's documented filter rules.

GitHub's "Workflow syntax for GitHub Actions" (on.<push|pull_request>.<branches|paths>, and its
"Filter pattern cheat sheet"):

- a pattern matches the whole path (or branch name), from the repository's root;
- ``*`` matches any characters but ``/``; ``**`` any characters including ``/`` (``**/`` also
  nothing, so ``**/README.md`` matches ``README.md``); ``?`` and ``+`` make the preceding
  character optional or repeatable; ``[...]`` one character of a set or an a-z, A-Z, 0-9 range;
  ``\\`` escapes the next character;
- ``!`` at the start of a pattern excludes what earlier patterns included; a later positive
  pattern includes it again: for each path the last matching pattern decides;
- the workflow runs when at least one changed path is included (``paths``), or when at least
  one changed path is not ignored (``paths-ignore``); without a path filter, any change runs it;
- ``branches`` filters a push by the pushed branch and a pull request by its base branch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import yaml


@cache
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """One filter pattern (without its ``!``) as an anchored regular expression."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char in "?+" and i > 0:
            out.append(char)  # applies to the preceding character, as GitHub documents it
            i += 1
        elif char == "[":
            end = pattern.index("]", i + 1)  # an unclosed bracket is a bad pattern: ValueError
            members = pattern[i + 1 : end]
            if not members or not re.fullmatch(r"(?:[A-Za-z0-9](?:-[A-Za-z0-9])?)+", members):
                raise ValueError(f"pattern {pattern!r}: brackets hold characters and a-z, A-Z or 0-9 ranges only")
            out.append(f"[{members}]")
            i = end + 1
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out))


def included(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``patterns`` (in order, ``!`` excluding) include ``path``: the last pattern that matches it decides."""
    verdict = False
    for pattern in patterns:
        negative = pattern.startswith("!")
        if pattern_regex(pattern.removeprefix("!")).fullmatch(path):
            verdict = not negative
    return verdict


def paths_fire(changed: Iterable[str], *, paths: Sequence[str] | None = None, paths_ignore: Sequence[str] | None = None) -> bool:
    """Whether a change of ``changed`` passes an event's ``paths`` or ``paths-ignore`` filter."""
    changed = list(changed)
    if paths is not None:
        if not any(not pattern.startswith("!") for pattern in paths):
            raise ValueError("a paths filter of negative patterns only matches nothing: GitHub requires a positive one")
        return any(included(path, paths) for path in changed)
    if paths_ignore is not None:
        return any(not included(path, paths_ignore) for path in changed)
    return True


def triggers(workflow: Path) -> dict[str, dict]:
    """A workflow's ``on:`` as event → its filters (``{}`` for an event without any)."""
    document = yaml.safe_load(workflow.read_text())
    on = document.get("on", document.get(True))  # YAML 1.1 reads the key `on` as true
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {event: {} for event in on}
    return {event: filters or {} for event, filters in on.items()}


def fires(workflow: Path, event: str, branch: str, changed: Iterable[str]) -> bool:
    """Whether ``event`` (push: to ``branch``; pull_request: into ``branch``) changing ``changed`` starts ``workflow``."""
    filters = triggers(workflow).get(event)
    if filters is None:
        return False
    if "branches" in filters and not included(branch, filters["branches"]):
        return False
    if "branches-ignore" in filters and included(branch, filters["branches-ignore"]):
        return False
    return paths_fire(changed, paths=filters.get("paths"), paths_ignore=filters.get("paths-ignore"))
