"""``mlops manifest``: pin the configured data by content hash, rows and schema hash."""

from __future__ import annotations

import logging

from ..config import Settings
from ..core.manifest import DataFile, Manifest
from ..core.schemas import schema_hash
from ..io import datasets
from ..io.artifacts import write_all

logger = logging.getLogger(__name__)


def run(settings: Settings) -> Manifest:
    location = settings.data.path
    source = location if "://" in location else settings.path(location)
    rows = len(datasets.read_table(source, settings.data.missing_values))
    entry = DataFile(
        name="reference", path=location, sha256=datasets.sha256_of(source), rows=rows, schema_hash=schema_hash(settings.data.columns)
    )
    manifest = Manifest(files=[entry])
    write_all({settings.path(settings.data.manifest): manifest.model_dump_json(indent=2) + "\n"})
    logger.info("pinned %s: %d rows, sha256 %s", location, rows, entry.sha256[:12])
    return manifest
