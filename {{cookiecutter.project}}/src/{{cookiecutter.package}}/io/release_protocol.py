"""The release protocol: what a model release on GitHub is made of, written and read in one place.

A release is a GitHub Release whose tag is a semver (``v1.2.0``) and which carries exactly the
assets in ``ASSETS``: the model folder packed as a reproducible ``model.tar.gz``, its sha256 in
``sha256sum`` format, the evaluation, the report, the model card and ``release.json`` (a
:class:`ReleaseRecord`). Its body ends with a hidden marker naming the commit it was built from,
by which a re-run finds it. It is created as a draft and published only once every asset is
uploaded and checked, so a published release is complete unless someone edits it afterwards;
the champion is the newest published, complete release.

Everything read back from GitHub may have been written by anyone who can publish a release, so
reading is bounded (download size, unpacked size, member count) and every malformed piece is an
``InputError`` naming the release and the asset. The sha256 proves the archive is the one the
release's own checksum file names (no corruption, no partial upload); it says nothing about who
wrote it. Build provenance attestations do: when the repository has any for the archive's digest,
``gh attestation verify`` must accept it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import Environment
from ..core.versioning import Fingerprint, semver_or_none
from ..errors import CheckFailed, InputError
from .github import GitHub

logger = logging.getLogger(__name__)

ENVIRONMENT = "production"
MAIN_REF = "refs/heads/main"
MODEL_ARCHIVE = "model.tar.gz"
CHECKSUM = f"{MODEL_ARCHIVE}.sha256"
METRICS = "metrics.json"
REPORT = "report.md"
MODEL_CARD = "model_card.md"
RELEASE_RECORD = "release.json"
ASSETS = (MODEL_ARCHIVE, CHECKSUM, METRICS, REPORT, MODEL_CARD, RELEASE_RECORD)

# Bounds on what is read back from a release (anyone who can publish one can write it).
MAX_ARCHIVE_BYTES = 512 * 1024**2  # the compressed model archive, checked before downloading
MAX_SMALL_ASSET_BYTES = 1024**2  # checksum file and release record
MAX_UNPACKED_BYTES = 2 * 1024**3  # the sum of the archive's member sizes, checked before extracting
MAX_MEMBERS = 10_000

_MARKER = re.compile(r"<!-- mlops-release sha=([0-9a-f]{40}) -->")
_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64}) [ *]?(\S+)\n?")


def release_marker(sha: str) -> str:
    """Hidden in a release's body: the commit it was built from."""
    return f"<!-- mlops-release sha={sha} -->"


def marked_sha(body: str | None) -> str | None:
    found = _MARKER.search(body or "")
    return found.group(1) if found else None


# The checksum file: one `sha256sum` line.


def checksum_text(digest: str) -> str:
    return f"{digest}  {MODEL_ARCHIVE}\n"


def parse_checksum(content: bytes, *, where: str) -> str:
    """The digest in a checksum file; ``where`` names the release for the error."""
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    found = _CHECKSUM_LINE.fullmatch(text)
    if found is None or found.group(2) != MODEL_ARCHIVE:
        shown = content[:80].decode("ascii", "replace") or "empty"
        raise InputError(f"{where}: {CHECKSUM} is not one `<sha256>  {MODEL_ARCHIVE}` line ({shown!r}); refusing the release")
    return found.group(1)


# The release record (release.json).


class ReleaseRecord(BaseModel):
    """What a release is: published as ``release.json``, read back for the champion and the next version."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: str
    run_id: str
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    fingerprint: Fingerprint | None = None
    metrics: dict[str, float]
    released_by: str = ""
    reason: str = ""

    def to_bytes(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json"), indent=2, allow_nan=True) + "\n").encode()

    @classmethod
    def parse(cls, content: bytes, *, where: str) -> ReleaseRecord:
        try:
            return cls.model_validate(json.loads(content))
        except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
            detail = str(error).splitlines()[0]
            raise InputError(f"{where}: {RELEASE_RECORD} is not a valid release record ({detail})") from error


# The model archive.


def pack_model(folder: Path) -> bytes:
    """The model folder as a reproducible .tar.gz: sorted entries, no times, owners or modes beyond r/x."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in sorted(folder.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(folder).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o755 if path.is_dir() else 0o644
            if path.is_file():
                with path.open("rb") as stream:
                    tar.addfile(info, stream)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def unpack_model(archive: bytes, destination: Path, *, where: str) -> None:
    """Unpack into a fresh folder, then swap it in; refuses links, devices and anything past the bounds.

    Members are counted and their sizes summed from the headers before anything is extracted,
    so a tar bomb is refused having written nothing.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=".champion-"))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
                members = _checked_members(tar, where)
                tar.extractall(staging, members=members, filter="data")  # no absolute paths, no escaping the folder
        except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as error:
            raise InputError(f"{where}: {MODEL_ARCHIVE} is not a safe, readable .tar.gz ({type(error).__name__}: {error})") from error
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _checked_members(tar: tarfile.TarFile, where: str) -> list[tarfile.TarInfo]:
    members: list[tarfile.TarInfo] = []
    total = 0
    for member in tar:  # headers are read one at a time: a bomb is stopped at its first oversized one
        if len(members) >= MAX_MEMBERS:
            raise InputError(f"{where}: {MODEL_ARCHIVE} has more than {MAX_MEMBERS} members; refusing to unpack it")
        if not (member.isfile() or member.isdir()):
            raise InputError(f"{where}: {MODEL_ARCHIVE} member {member.name!r} is not a file or folder; refusing to unpack it")
        total += member.size
        if total > MAX_UNPACKED_BYTES:
            raise InputError(f"{where}: {MODEL_ARCHIVE} unpacks to more than {MAX_UNPACKED_BYTES} bytes; refusing to unpack it")
        members.append(member)
    return members


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# Releases on GitHub, as the protocol sees them.


@dataclass(frozen=True)
class Release:
    """A GitHub release (the API's JSON) and the assets it carries."""

    data: dict[str, Any]
    assets: dict[str, dict[str, Any]]

    @property
    def id(self) -> int:
        return self.data["id"]

    @property
    def tag(self) -> str:
        return self.data["tag_name"]

    @property
    def where(self) -> str:
        return f"release {self.tag}"

    @property
    def draft(self) -> bool:
        return bool(self.data.get("draft"))

    @property
    def immutable(self) -> bool:
        return bool(self.data.get("immutable"))

    @property
    def missing(self) -> list[str]:
        return [name for name in ASSETS if name not in self.assets]

    def download(self, github: GitHub, name: str, *, limit: int = MAX_SMALL_ASSET_BYTES) -> bytes:
        """An asset's bytes, refused when it is (or turns out) larger than ``limit``."""
        asset = self.assets.get(name)
        if asset is None:
            raise InputError(f"{self.where} has no asset {name}")
        if int(asset.get("size") or 0) > limit:
            raise InputError(f"{self.where}: {name} is {asset['size']} bytes, more than the {limit} this project reads")
        content = github.download_asset(asset)
        if len(content) > limit:
            raise InputError(f"{self.where}: {name} downloaded {len(content)} bytes, more than the {limit} this project reads")
        return content


def with_assets(github: GitHub, data: dict[str, Any]) -> Release:
    return Release(data, {asset["name"]: asset for asset in github.release_assets(data)})


def published_releases(github: GitHub) -> list[dict[str, Any]]:
    """Published full releases with a semver tag: the one GitHub marks latest first, then by version, newest first.

    Drafts, prereleases and tags that are not semver are left out (the latter logged).
    """
    latest = github.latest_release()
    candidates: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for data in github.releases():
        if data.get("draft") or data.get("prerelease"):
            continue
        version = semver_or_none(data["tag_name"])
        if version is None:
            logger.info("ignoring release %r: its tag is not a semantic version (vMAJOR.MINOR.PATCH)", data["tag_name"])
            continue
        candidates.append((version, data))
    candidates.sort(key=lambda item: item[0], reverse=True)
    ordered = [data for _, data in candidates]
    if latest is not None and any(data["id"] == latest["id"] for data in ordered):
        ordered.sort(key=lambda data: data["id"] != latest["id"])  # stable: latest first, the rest by version
    return ordered


def complete_releases(github: GitHub) -> Iterator[Release]:
    """Published semver releases that carry every asset, in champion order; incomplete ones are logged and skipped."""
    for data in published_releases(github):
        release = with_assets(github, data)
        if release.missing:
            logger.warning("skipping %s: it lacks %s (never taken as the champion)", release.where, ", ".join(release.missing))
            continue
        yield release


def release_for_commit(github: GitHub, sha: str) -> Release | None:
    """The release (draft or published) whose body carries this commit's marker."""
    marker = release_marker(sha)
    for data in github.releases():
        if marker in (data.get("body") or ""):
            return with_assets(github, data)
    return None


# Provenance.


def verify_provenance(github: GitHub, env: Environment, archive: Path, digest: str, *, where: str) -> str:
    """Check the archive's build provenance: returns what was established, raises when it cannot be trusted.

    With attestations for the digest in this repository, ``gh attestation verify`` must succeed
    (gh missing or failing refuses: fail closed). Without any, the checksum is all there is.
    """
    found = github.attestations(digest)
    if not found:
        logger.info("%s: no attestation for sha256 %s; trusting its checksum alone (integrity, not authorship)", where, digest[:12])
        return "checksum only (no attestation)"
    gh = shutil.which("gh", path=env.path or None)
    if gh is None:
        raise CheckFailed(f"{where}: {MODEL_ARCHIVE} has {len(found)} attestation(s) but gh is not on PATH to verify them; refusing it")
    result = subprocess.run(
        [gh, "attestation", "verify", str(archive), "--repo", github.context.repository],
        env={"PATH": env.path, "HOME": env.home, "GH_TOKEN": github.context.token, "GH_HOST": _gh_host(env)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CheckFailed(f"{where}: `gh attestation verify` rejected {MODEL_ARCHIVE} ({reason}); refusing it")
    logger.info("%s: build provenance verified by gh (%d attestation(s))", where, len(found))
    return "attestation verified"


def _gh_host(env: Environment) -> str:
    return env.github_server_url.removeprefix("https://").removeprefix("http://").rstrip("/")
