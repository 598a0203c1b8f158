"""A release fetched from GitHub and verified before it is used: the one way a verb takes a model from a release.

``mlops champion`` (the newest complete release) and ``mlops rollback --tag`` (a named one) both
go through :func:`fetch`: the archive is checked against the release's own checksum file and
release record, its build provenance against the attestation policy of ``confs/release.yaml``,
then unpacked within bounds and loaded once through the safe loader, so that a model that is not a
skops file of this project's trusted types is refused before anything uses it.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import InputError
from ..io import model_files
from ..io import release_protocol as protocol
from ..io.github import GitHub

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifiedRelease:
    """A release whose archive passed every check, unpacked in ``model_dir``."""

    release: protocol.Release
    sha256: str  # of its model archive
    record: protocol.ReleaseRecord
    provenance: str  # what the check established: checksum only, or the attestation verified
    commit: str | None  # the commit its body's marker names; None for a release made by hand without one
    model_dir: Path


def fetch(settings: Settings, github: GitHub, release: protocol.Release, destination: Path) -> VerifiedRelease:
    """Download, verify and unpack ``release``'s model into ``destination`` (replaced whole, only once it passed)."""
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
    commit = protocol.marked_sha(release.data.get("body"))
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / protocol.MODEL_ARCHIVE
        copy.write_bytes(archive)
        provenance = protocol.verify_provenance(
            github, settings.env, copy, actual, where=where, commit=commit, required=settings.release.attestation == "required"
        )
    protocol.unpack_model(archive, destination, where=where)
    try:
        model_files.load_model(destination)  # refuses anything but a skops file of this project's trusted types
    except InputError as error:
        shutil.rmtree(destination, ignore_errors=True)
        raise InputError(f"{where}: {error}") from error
    logger.info("%s verified: sha256 %s, %s", release.tag, actual[:12], provenance)
    return VerifiedRelease(release=release, sha256=actual, record=record, provenance=provenance, commit=commit, model_dir=destination)


def fetch_tag(settings: Settings, github: GitHub, tag: str, destination: Path) -> VerifiedRelease:
    """The published, complete release tagged ``tag``, verified and unpacked as :func:`fetch` does."""
    return fetch(settings, github, protocol.complete_release(github, tag), destination)
