"""The release protocol: what a model release on GitHub is made of, written and read in one place.

A release is a GitHub Release whose tag is a semver (``v1.2.0``) and which carries exactly the
assets in ``ASSETS``: the model folder packed as a reproducible ``model.tar.gz``, its sha256 in
``sha256sum`` format, the evaluation, the report, the model card and ``release.json`` (a
:class:`ReleaseRecord`). Its body's last line is a hidden marker naming the commit it was built
from, by which a re-run finds it; a marker anywhere else (inside a reason or a card value that
someone else wrote) is not the project's and never matches. It is created as a draft and published only once every asset is
uploaded and checked, so a published release is complete unless someone edits it afterwards;
the champion is the newest published, complete release.

Everything read back from GitHub may have been written by anyone who can publish a release, so
reading is bounded (every download, the decompressed archive including its headers, member count)
and every malformed piece is an ``InputError`` naming the release and the asset. The sha256 proves
the archive is the one the release's own checksum file names (no corruption, no partial upload); it
says nothing about who wrote it. Build provenance attestations do: when the repository has any for
the archive's digest (or when ``confs/release.yaml`` requires one), ``gh attestation verify`` must
accept it as made by this repository's release workflow on main, from the commit the release names.
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
# The workflow whose run signs the archive's attestation: gh refuses one signed by any other.
RELEASE_WORKFLOW = ".github/workflows/release.yml"
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
MAX_UNPACKED_BYTES = 2 * 1024**3  # the decompressed archive: headers (pax records, long names), data and padding
MAX_MEMBERS = 10_000
# One member's extended headers (pax records, GNU long names): tarfile reads each into memory whole, so it is
# bounded before it is read. This packer writes none, or a few hundred bytes. (CPython before 3.11.10 and 3.12.6
# also parses pax records in time quadratic in their length, CVE-2024-6232: the small bound caps that too.)
MAX_HEADER_BYTES = 4 * 1024
# What tarfile reads member data in while extracting (its copy buffer): no more than MAX_HEADER_BYTES, so that
# only an extended header is ever read in a larger piece.
_COPY_BUFFER_BYTES = MAX_HEADER_BYTES

_MARKER = re.compile(r"<!-- mlops-release sha=([0-9a-f]{40}) -->")
_CHECKSUM_LINE = re.compile(r"([0-9a-f]{64}) [ *]?(\S+)\n?")


def release_marker(sha: str) -> str:
    """Hidden in a release's body: the commit it was built from."""
    return f"<!-- mlops-release sha={sha} -->"


def release_body(card: str, sha: str, *, image: str = "") -> str:
    """The release notes: the model card, the serving image by digest (when there is one), then the marker as the last line."""
    pull = f"## Container image\n\n```\ndocker pull {image}\n```\n\n" if image else ""
    return f"{card.rstrip()}\n\n{pull}{release_marker(sha)}\n"


def marked_sha(body: str | None) -> str | None:
    """The commit named by the marker on the body's last line (the part this project wrote); None without one."""
    lines = (body or "").rstrip().splitlines()
    found = _MARKER.fullmatch(lines[-1].strip()) if lines else None
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
    image: str = ""  # the serving image, name@sha256:… (releases made before images have none)

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


class _Unbounded(Exception):
    """The decompressed archive went past a bound (raised from inside tarfile's reads, turned into an InputError)."""


class _BoundedStream(io.RawIOBase):
    """The decompressed tar stream: no seek past ``MAX_UNPACKED_BYTES``, no read larger than ``MAX_HEADER_BYTES``.

    Listing the members reads each one's headers (pax records and long names included) and seeks
    over its data to the next header; a seek forward decompresses what it skips. So the position of
    every seek is the size of everything before it, headers, data and padding alike: bounding it
    bounds what the archive expands to (not only the sizes its headers declare), before the bytes
    are decompressed. Extraction only goes back over what the listing already passed.
    """

    def __init__(self, stream: gzip.GzipFile) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._stream.tell()

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > MAX_HEADER_BYTES:  # tarfile reads data in copy-buffer pieces: only a header is larger
            raise _Unbounded(f"has a member whose headers are larger than {MAX_HEADER_BYTES} bytes")
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._stream.tell() + offset}.get(whence)
        if target is None:  # tarfile never seeks from the end; the end of a gzip stream is only known by decompressing it all
            raise io.UnsupportedOperation("seek from the end")
        if target > MAX_UNPACKED_BYTES:
            raise _Unbounded(f"unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        return self._stream.seek(target)


def unpack_model(archive: bytes, destination: Path, *, where: str) -> None:
    """Unpack into a fresh folder, then swap it in; refuses links, devices, sparse files and anything past the bounds.

    Members are listed and checked before anything is extracted, through a stream that refuses
    to decompress past the bounds, so a tar bomb (large declared sizes, or large pax headers) is
    refused having written nothing.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=".champion-"))
    try:
        try:
            with (
                gzip.GzipFile(fileobj=io.BytesIO(archive), mode="rb") as zipped,
                tarfile.open(fileobj=_BoundedStream(zipped), mode="r:", copybufsize=_COPY_BUFFER_BYTES) as tar,
            ):
                members = _checked_members(tar, where)
                tar.extractall(staging, members=members, filter="data")  # no absolute paths, no escaping the folder
        except _Unbounded as error:
            raise InputError(f"{where}: {MODEL_ARCHIVE} {error}; refusing to unpack it") from None
        except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as error:
            raise InputError(f"{where}: {MODEL_ARCHIVE} is not a safe, readable .tar.gz ({type(error).__name__}: {error})") from error
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# Regular files and folders only: no links, devices, fifos, contiguous files or sparse files (whose few
# stored bytes expand to the size their map declares).
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE)


def _checked_members(tar: tarfile.TarFile, where: str) -> list[tarfile.TarInfo]:
    """Every member, checked: its kind and their count (their bytes, headers included, are bounded by the stream)."""
    members: list[tarfile.TarInfo] = []
    for member in tar:  # headers are read one at a time: a bomb is stopped at its first oversized one
        if len(members) >= MAX_MEMBERS:
            raise InputError(f"{where}: {MODEL_ARCHIVE} has more than {MAX_MEMBERS} members; refusing to unpack it")
        regular = member.type in _REGULAR and member.sparse is None
        if not (regular or member.isdir()):
            raise InputError(f"{where}: {MODEL_ARCHIVE} member {member.name!r} is not a file or folder; refusing to unpack it")
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
        try:
            return github.download_asset(asset, max_bytes=limit)
        except InputError as error:
            raise InputError(f"{self.where}: {error}") from error


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


def complete_release(github: GitHub, tag: str) -> Release:
    """The published full release tagged ``tag`` carrying every asset: one a champion may be taken from.

    Raises ``InputError`` for a tag that is not semver, has no such release (drafts and prereleases are not
    ones), or whose release lacks an asset.
    """
    if semver_or_none(tag) is None or not tag.startswith("v"):
        raise InputError(f"{tag[:60]!r} is not a release tag: expected vMAJOR.MINOR.PATCH, as `mlops release` tags them")
    data = next((data for data in published_releases(github) if data["tag_name"] == tag), None)
    if data is None:
        raise InputError(f"no published release is tagged {tag} in {github.context.repository} (drafts and prereleases are not releases)")
    release = with_assets(github, data)
    if release.missing:
        raise InputError(f"{release.where} lacks {', '.join(release.missing)}: an incomplete release is never a champion")
    return release


def release_for_commit(github: GitHub, sha: str) -> Release | None:
    """The release (draft or published) whose body ends with this commit's marker."""
    for data in github.releases():
        if marked_sha(data.get("body")) == sha:
            return with_assets(github, data)
    return None


# Provenance.


def verify_provenance(
    github: GitHub, env: Environment, archive: Path, digest: str, *, where: str, commit: str | None, required: bool
) -> str:
    """Check the archive's build provenance: returns what was established, raises ``CheckFailed`` when it cannot be trusted.

    With attestations for the digest in this repository, ``gh attestation verify`` must accept one
    as signed by this repository's release workflow, run on main, from ``commit`` (the commit the
    release names) when known; gh missing or refusing refuses the archive (fail closed). Without
    any, the checksum is all there is, unless an attestation is ``required``.
    """
    found = github.attestations(digest)
    if not found:
        if required:
            raise CheckFailed(
                f"{where}: {MODEL_ARCHIVE} has no build provenance attestation, and confs/release.yaml requires one "
                "(attestation: required); refusing it as the champion"
            )
        logger.info("%s: no attestation for sha256 %s; trusting its checksum alone (integrity, not authorship)", where, digest[:12])
        return "checksum only (no attestation)"
    gh = shutil.which("gh", path=env.path or None)
    if gh is None:
        raise CheckFailed(f"{where}: {MODEL_ARCHIVE} has {len(found)} attestation(s) but gh is not on PATH to verify them; refusing it")
    result = subprocess.run(
        [gh, *gh_verify_arguments(archive, github.context.repository, host=_gh_host(env), commit=commit)],
        env={"PATH": env.path, "HOME": env.home, "GH_TOKEN": github.context.token, "GH_HOST": _gh_host(env)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CheckFailed(f"{where}: `gh attestation verify` rejected {MODEL_ARCHIVE} ({reason[:300]}); refusing it")
    built_from = f"commit {commit[:12]}" if commit else "a commit the release does not name"
    logger.info("%s: build provenance verified by gh: %s on main, from %s", where, RELEASE_WORKFLOW, built_from)
    return f"attestation verified ({RELEASE_WORKFLOW} on main, {built_from})"


def gh_verify_arguments(archive: Path, repository: str, *, host: str, commit: str | None) -> list[str]:
    """``gh attestation verify`` pinned to what the runbook promises: this repository's release workflow, on main.

    ``--signer-workflow`` names the workflow file whose run signed it (any other workflow of the
    repository, say one a pull request could change, is refused); ``--source-ref`` the branch it ran
    on; ``--source-digest`` the commit it was built from, when the release names one. Self-hosted
    runners are not refused (``--deny-self-hosted-runners``): the ``runs_on`` option may put the
    release job on one, which the team runs and trusts.
    """
    arguments = [
        "attestation",
        "verify",
        str(archive),
        "--repo",
        repository,
        "--signer-workflow",
        f"{host}/{repository}/{RELEASE_WORKFLOW}",
        "--source-ref",
        MAIN_REF,
    ]
    return arguments + (["--source-digest", commit] if commit else [])


def _gh_host(env: Environment) -> str:
    return env.github_server_url.removeprefix("https://").removeprefix("http://").rstrip("/")
