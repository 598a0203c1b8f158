"""Writing job outputs so that a failure never leaves half of them behind."""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..config import Environment
from ..errors import InputError

logger = logging.getLogger(__name__)


def write_all(outputs: dict[Path, str | bytes]) -> None:
    """Write every file (text or bytes) to a temporary sibling first, then move them all into place."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in outputs.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            if isinstance(text, bytes):
                with os.fdopen(handle, "wb") as stream:
                    stream.write(text)
            else:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(text)
            staged.append((Path(temporary), target))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)


def remove(*paths: Path) -> None:
    """Delete files an earlier run left, so that no stale output outlives a failed check."""
    for path in paths:
        path.unlink(missing_ok=True)


def to_json(payload: Any) -> str:
    return json.dumps(payload, indent=2, sort_keys=False, allow_nan=True) + "\n"


def read_json(path: Path, *, produced_by: str, max_bytes: int | None = None) -> dict[str, Any]:
    """Read an artifact an earlier verb wrote (a JSON object); say which verb to run when it is missing.

    ``max_bytes``: refuse a larger file unread (an artifact another job handed over is external input).
    """
    text = read_text(path, produced_by=produced_by, max_bytes=max_bytes)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON (line {error.lineno}); run `mlops {produced_by}` again") from error
    except RecursionError as error:  # arrays nested thousands deep: not something a verb writes
        raise InputError(f"{path}: JSON nested too deeply; run `mlops {produced_by}` again") from error
    if not isinstance(record, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(record).__name__}; run `mlops {produced_by}` again")
    return record


def read_text(path: Path, *, produced_by: str, max_bytes: int | None = None) -> str:
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise InputError(f"{path}: {path.stat().st_size} bytes, more than the {max_bytes} accepted; run `mlops {produced_by}` again")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise InputError(f"{path}: not found; run `mlops {produced_by}` first") from error
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text; run `mlops {produced_by}` again") from error


def append_step_summary(markdown: str, summary: str) -> None:
    """Add to the GitHub Actions job summary (``$GITHUB_STEP_SUMMARY``) when there is one; a no-op elsewhere."""
    if summary:
        with open(summary, "a", encoding="utf-8") as stream:
            stream.write(markdown)


def warn(message: str, env: Environment) -> None:
    """A warning in the log and, in GitHub Actions, a ``::warning::`` annotation on the run's page."""
    logger.warning("%s", message)
    if env.github_actions:
        escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        sys.stdout.write(f"::warning::{escaped}\n")
        sys.stdout.flush()


def set_step_output(name: str, value: str, env: Environment) -> None:
    """A GitHub Actions step output (``$GITHUB_OUTPUT``) when there is one; a no-op elsewhere.

    One line per value: a newline in ``value`` could otherwise write a second output.
    """
    if env.github_output:
        with open(env.github_output, "a", encoding="utf-8") as stream:
            stream.write(f"{name}={' '.join(value.split())}\n")
