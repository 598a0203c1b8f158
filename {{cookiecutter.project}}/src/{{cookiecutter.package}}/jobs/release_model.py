"""A model folder (the champion's layout) and ``--release TAG``: a named release, verified, unpacked into one.

A model folder is ``champion.json`` (a :class:`ChampionRecord`: where the model came from) beside ``model/`` (the
MLflow model folder). `mlops champion` writes ``outputs/champion/``; ``--release TAG`` (`mlops predict`, `mlops serve`)
writes ``outputs/releases/<tag>/`` through :func:`fetch_release`, verified exactly as the champion is
(``jobs.verified_release``: checksum, release record, attestation policy, bounded unpack, one safe load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..config import Settings
from ..io import release_protocol as protocol
from ..io.artifacts import to_json, write_all
from ..io.github import GitHub, GitHubContext
from . import OUTPUTS, verified_release

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
    commit: str = ""  # the commit the release was built from (its marker), shown by the service's /metadata
    fingerprint: dict[str, str] | None = None
    # For `mlops drift`: when it was published (staleness) and the holdout metrics it shipped with (decay).
    published_at: str = ""
    metrics: dict[str, float] = {}

    @classmethod
    def of_release(cls, verified: verified_release.VerifiedRelease, *, model_path: str) -> ChampionRecord:
        release, record = verified.release, verified.record
        return cls(
            source="release",
            tag=release.tag,
            release_url=release.data["html_url"],
            sha256=verified.sha256,
            provenance=verified.provenance,
            model_path=model_path,
            run_id=record.run_id,
            commit=verified.commit or "",
            fingerprint=record.fingerprint.as_dict() if record.fingerprint else None,
            published_at=str(release.data.get("published_at") or ""),
            metrics=record.metrics,
        )

    def payload(self) -> dict:
        return self.model_dump(mode="json", exclude_defaults=True) | {"source": self.source}


def fetch_release(settings: Settings, tag: str, folder: Path | None = None) -> Path:
    """The published, complete release ``tag``, verified as `mlops champion` verifies the newest, as a model folder.

    ``folder`` defaults to ``outputs/releases/<tag>/``; its ``model/`` and ``champion.json`` are replaced (every fetch
    verifies again). A tag that is not a published, complete release is an input error, and nothing is written.
    """
    with GitHub(GitHubContext.from_env(settings.env)) as github:
        release = protocol.complete_release(github, tag)
        target = settings.path(str(folder if folder is not None else RELEASES_DIR / release.tag))
        verified = verified_release.fetch(settings, github, release, target / MODEL_SUBDIR)
    record = ChampionRecord.of_release(verified, model_path=_shown(settings, target / MODEL_SUBDIR))
    write_all({target / RECORD_FILE: to_json(record.payload())})
    return target


def _shown(settings: Settings, path: Path) -> str:
    """``path`` relative to the project root when it is under it (as `mlops champion` records it), else absolute."""
    try:
        return str(path.resolve().relative_to(settings.root.resolve()))
    except ValueError:
        return str(path.resolve())
