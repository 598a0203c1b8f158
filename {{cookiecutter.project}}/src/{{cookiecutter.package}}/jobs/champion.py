"""``mlops champion``: fetch the production model to compare against.

With the embedded SQLite tracking store every CI run starts empty, so the champion comes
from the latest GitHub Release: its model archive, verified against its sha256 before
anything is unpacked. With a remote tracking server the registry alias is the champion
and nothing needs fetching.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import tarfile
import tempfile
from pathlib import Path

from ..config import Settings
from ..errors import InputError
from ..io.artifacts import to_json, write_all
from ..io.github import GitHub, GitHubContext
from ..jobs import CHAMPION_DIR, CHAMPION_JSON
from ..jobs.release import MODEL_ARCHIVE, RELEASE_RECORD

logger = logging.getLogger(__name__)


def _unpack(archive: bytes, destination: Path) -> None:
    """Unpack into a fresh folder, then swap it in: a failure leaves no half-unpacked model."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=".champion-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(staging, filter="data")  # refuses absolute paths, links out, devices
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run(settings: Settings) -> dict:
    if settings.uses_tracking_server:
        record = {"source": "registry"}
        logger.info("MLflow is a tracking server: the champion is its `champion` alias")
    else:
        with GitHub(GitHubContext.from_env(settings.env)) as github:
            record = _from_latest_release(settings, github)
    write_all({settings.path(str(CHAMPION_JSON)): to_json(record)})
    return record


def _from_latest_release(settings: Settings, github: GitHub) -> dict:
    release = github.latest_release()
    if release is None:
        logger.info("no release yet: the challenger will be judged on absolute gates alone")
        return {"source": "none"}
    tag = release["tag_name"]
    assets = {asset["name"]: asset for asset in github.release_assets(release)}
    for needed in (MODEL_ARCHIVE, f"{MODEL_ARCHIVE}.sha256"):
        if needed not in assets:
            raise InputError(f"release {tag} has no asset {needed}: expected the model archive and its checksum (made by `mlops release`)")
    archive = github.download_asset(assets[MODEL_ARCHIVE])
    expected = github.download_asset(assets[f"{MODEL_ARCHIVE}.sha256"]).decode().split()[0]
    actual = hashlib.sha256(archive).hexdigest()
    if actual != expected:
        raise InputError(
            f"release {tag}: {MODEL_ARCHIVE} has sha256 {actual[:12]}…, its checksum file says {expected[:12]}…; refusing to load it"
        )
    _unpack(archive, settings.path(str(CHAMPION_DIR)))
    fingerprint = json.loads(github.download_asset(assets[RELEASE_RECORD])) if RELEASE_RECORD in assets else {}
    logger.info("champion: %s (sha256 %s verified)", tag, actual[:12])
    return {
        "source": "release",
        "tag": tag,
        "release_url": release["html_url"],
        "sha256": actual,
        "model_path": str(CHAMPION_DIR),
        "run_id": fingerprint.get("run_id", ""),
        "fingerprint": fingerprint.get("fingerprint"),
    }
