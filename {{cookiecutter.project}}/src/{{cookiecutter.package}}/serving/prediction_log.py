"""The prediction log: a sample of the scored rows as JSONL files, which `mlops drift` reads as production data.

Each line is one row as the client sent it (its declared columns under their own names), plus
``mlops_prediction``, ``mlops_model_version``, ``mlops_request_id`` and ``mlops_logged_at`` (and in
shadow mode ``mlops_shadow_prediction`` and ``mlops_shadow_model_version``). The drift job's schema
keeps the declared columns and drops the rest. When a row lacks the id or timestamp column, the
request id (with the row's position) and the time it was logged stand in, since the contract for
production data expects both.

Rows are buffered and written as whole files (``predictions-<time>-<pid>-<n>.jsonl``), never
appended to: an object store cannot append, and the monitor never reads half a file. Writing runs
in a worker thread, off the event loop.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import PredictionLogConfig, Settings
from ..io import datasets

logger = logging.getLogger(__name__)

PREFIX = "mlops_"


class PredictionLog:
    """Buffers logged rows and writes them out as JSONL files at ``sink``."""

    def __init__(self, settings: Settings, config: PredictionLogConfig) -> None:
        self.config = config
        sink = config.sink
        self.sink = sink.rstrip("/") if datasets.is_uri(sink) else str(settings.path(sink))
        self._lines: list[str] = []
        self._first_at = 0.0
        self._files = 0
        self._lock = threading.Lock()

    def add(self, records: list[dict[str, Any]]) -> list[str] | None:
        """Buffer ``records``; the lines to write now when a flush is due, else None."""
        lines = [json.dumps(record, separators=(",", ":"), default=str) for record in records]
        with self._lock:
            if not self._lines:
                self._first_at = time.monotonic()
            self._lines.extend(lines)
            if len(self._lines) >= self.config.flush_rows or time.monotonic() - self._first_at >= self.config.flush_seconds:
                return self._take()
        return None

    def take(self) -> list[str]:
        """Whatever is buffered (at shutdown)."""
        with self._lock:
            return self._take()

    def _take(self) -> list[str]:
        lines, self._lines = self._lines, []
        return lines

    def write(self, lines: list[str]) -> str | None:
        """One new file holding ``lines``; its location, or None when there was nothing to write."""
        if not lines:
            return None
        with self._lock:
            self._files += 1
            number = self._files
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"predictions-{stamp}-{os.getpid()}-{number:06d}.jsonl"
        content = ("\n".join(lines) + "\n").encode()
        try:
            if datasets.is_uri(self.sink):
                import fsspec

                location = f"{self.sink}/{name}"
                with fsspec.open(location, "wb") as stream:
                    stream.write(content)
            else:
                folder = Path(self.sink)
                folder.mkdir(parents=True, exist_ok=True)
                location = str(folder / name)
                partial = folder / f".{name}.partial"  # not a data file: the monitor's glob skips it
                partial.write_bytes(content)
                partial.replace(location)
        except Exception as error:  # the log must never take the service down: say so and drop the lines
            logger.warning("prediction log: could not write %d row(s) to %s (%s: %s)", len(lines), self.sink, type(error).__name__, error)
            return None
        return location
