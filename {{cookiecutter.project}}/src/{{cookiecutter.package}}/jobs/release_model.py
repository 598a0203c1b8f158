"""A release's model, verified and unpacked: what `mlops champion` takes the newest release through, and what
``--release TAG`` (`mlops predict`, `mlops serve`, `mlops rollback`) takes a named one through.

A model folder is the champion's layout: ``champion.json`` (a :class:`ChampionRecord`) beside ``model/`` (the MLflow
model folder). Verification is the champion's, step for step: the archive's sha256 against the release's checksum
file and its release record, its build provenance (``release_protocol.verify_provenance``), a bounded unpack, and one
load through the safe loader, so a model that is not a skops file of trusted types is refused before anyone uses it.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..config import Settings
from ..errors import InputError
from ..io import model_files
from ..io import release_protocol as protocol
from ..io.artifacts import to_json, write_all
from ..io.github import GitHub, GitHubContext
from . import OUTPUTS

logger = logging.getLogger(__name__)

MODEL_SUBDIR = "model"
RECORD_FILE = "champion.json"
RELEASES_DIR = OUTPUTS / "releases"  # <tag>/: a release fetched by --release TAG


class ChampionRecord(BaseModel):
    """Where a model folder's model came from (its ``champion.json``), read by `mlops evaluate`, `drift`, `predict`."""

    source: Literal["registry", "release", "local", "none"]
    tag: str = ""
    release_url: str = ""
    sha256: str = ""
    provenance: str = ""
    model_path: str = ""
    run_id: str = ""
    fingerprint: dict[str, str] | None = None
    # For `mlops drift`: when it was published (staleness) and the holdout metrics it shipped with (decay).
    published_at: str = ""
    metrics: dict[str, float] = {}

    def payload(self) -> dict:
        return self.model_dump(mode="json", exclude_defaults=True) | {"source": self.source}


def unpack_verified(settings: Settings, github: GitHub, release: protocol.Release, destination: Path, *, model_path: str) -> ChampionRecord:
    """Verify ``release``'s archive (checksum, record, provenance), unpack it into ``destination``, load it once.

    ``model_path`` is what the record names as the folder (relative to the project root where it is under it).
    Nothing is left in ``destination`` when any check refuses the archive.
    """
    where = release.where
    archive = release.download(github, protocol.MODEL_ARCHIVE, limit=protocol.MAX_ARCHIVE_BYTES)
    expected = protocol.parse_checksum(release.download(github, protocol.CHECKSUM), where=where)
    actual = protocol.sha256(archive)
    if actual != expected:
        raise InputError(
            f"{where}: {protocol.MODEL_ARCHIVE} has sha256 {actual[:12]}…, its checksum file says {expected[:12]}…; refusing to load it"
        )
    record = protocol.ReleaseRecord.parse(release.download(github, protocol.RELEASE_RECORD), where=where)
    if record.model_sha256 != actual:
        raise InputError(f"{where}: {protocol.RELEASE_RECORD} names another model archive ({record.model_sha256[:12]}…); refusing it")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / protocol.MODEL_ARCHIVE
        copy.write_bytes(archive)
        provenance = protocol.verify_provenance(
            github,
            settings.env,
            copy,
            actual,
            where=where,
            commit=protocol.marked_sha(release.data.get("body")),
            required=settings.release.attestation == "required",
        )
    protocol.unpack_model(archive, destination, where=where)
    try:
        model_files.load_model(destination)  # refuses anything but a skops file of this project's trusted types
    except InputError as error:
        shutil.rmtree(destination, ignore_errors=True)
        raise InputError(f"{where}: {error}") from error
    logger.info("%s: sha256 %s, %s", release.tag, actual[:12], provenance)
    return ChampionRecord(
        source="release",
        tag=release.tag,
        release_url=release.data["html_url"],
        sha256=actual,
        provenance=provenance,
        model_path=model_path,
        run_id=record.run_id,
        fingerprint=record.fingerprint.as_dict() if record.fingerprint else None,
        published_at=str(release.data.get("published_at") or ""),
        metrics=record.metrics,
    )


def fetch_release(settings: Settings, tag: str, folder: Path | None = None) -> Path:
    """The published release ``tag``, verified as `mlops champion` verifies the newest, unpacked into a model folder.

    ``folder`` defaults to ``outputs/releases/<tag>/``; it gets ``model/`` and ``champion.json``, replacing what an
    earlier fetch left (every fetch verifies again). A tag that is not a published, complete release is an input error.
    """
    with GitHub(GitHubContext.from_env(settings.env)) as github:
        release = protocol.release_by_tag(github, tag)
        target = settings.path(str(folder)) if folder is not None else settings.path(str(RELEASES_DIR / release.tag))
        model_dir = target / MODEL_SUBDIR
        record = unpack_verified(settings, github, release, model_dir, model_path=_shown(settings, model_dir))
    write_all({target / RECORD_FILE: to_json(record.payload())})
    return target


def _shown(settings: Settings, path: Path) -> str:
    """``path`` relative to the project root when it is under it (as `mlops champion` records it), else absolute."""
    try:
        return str(path.resolve().relative_to(settings.root.resolve()))
    except ValueError:
        return str(path.resolve())
