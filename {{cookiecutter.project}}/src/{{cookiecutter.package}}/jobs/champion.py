"""``mlops champion``: fetch the production model to compare against.

With the embedded SQLite tracking store every CI run starts empty, so the champion comes from
GitHub Releases (``io.release_protocol``): the newest published, complete release, fetched through
``jobs.verified_release`` as every verb that takes a model from a release does (its archive checked
against its sha256 and its attestations, when it has any or when ``confs/release.yaml`` requires one,
before anything is unpacked; unpacked within bounds; loaded once through the safe loader, so that a
model that is not a skops file of trusted types is refused here). With a remote tracking server the
registry alias is the champion and nothing needs fetching. On a laptop (no ``GITHUB_REPOSITORY``) the
local registry's ``champion`` alias, which `mlops promote` moves, is copied out the same way: loaded
once through the safe loader, with its training profile.
"""

from __future__ import annotations

import logging
import shutil

from ..config import Settings
from ..io import release_protocol as protocol
from ..io.artifacts import to_json, write_all
from ..io.github import GitHub, GitHubContext
from ..jobs import CHAMPION_DIR, CHAMPION_JSON, PROFILE_FILE, verified_release
from .release_model import ChampionRecord

logger = logging.getLogger(__name__)


def run(settings: Settings) -> dict:
    if settings.uses_tracking_server:
        record = ChampionRecord(source="registry")
        logger.info("MLflow is a tracking server: the champion is its `champion` alias")
    elif not settings.env.github_repository:  # not in Actions, no repository named: a laptop
        record = _from_local_registry(settings)
    else:
        with GitHub(GitHubContext.from_env(settings.env)) as github:
            record = _from_releases(settings, github)
    payload = record.payload()
    write_all({settings.path(str(CHAMPION_JSON)): to_json(payload)})
    return payload


def _from_local_registry(settings: Settings) -> ChampionRecord:
    from ..io import local_registry

    where = f"{settings.tracking_uri} ({settings.tracking.registered_model}@{local_registry.CHAMPION_ALIAS})"
    found = None
    if not local_registry.alias_is_absent(settings.tracking_uri, settings.tracking.registered_model, local_registry.CHAMPION_ALIAS):
        from ..io import tracking  # MLflow costs seconds: only when there is an alias to copy

        found = tracking.fetch_champion(settings, settings.path(str(CHAMPION_DIR)), PROFILE_FILE)
    if found is None:
        shutil.rmtree(settings.path(str(CHAMPION_DIR)), ignore_errors=True)
        line = f"no GitHub repository (GITHUB_REPOSITORY unset) and no champion alias in {where}: run `mlops promote` first"
        logger.info("%s", line)
        return ChampionRecord(source="none")
    logger.info(
        "no GitHub repository (GITHUB_REPOSITORY unset): champion is the local registry's %s v%s, copied to %s",
        settings.tracking.registered_model,
        found.version,
        CHAMPION_DIR,
    )
    return ChampionRecord(
        source="local",
        tag=f"{settings.tracking.registered_model} v{found.version}",
        sha256=found.sha256,
        provenance="local registry",
        model_path=str(CHAMPION_DIR),
        run_id=found.run_id,
        published_at=found.registered_at,
        metrics=found.metrics,
    )


def _from_releases(settings: Settings, github: GitHub) -> ChampionRecord:
    release = next(protocol.complete_releases(github), None)
    if release is None:
        logger.info("no complete release yet: the challenger will be judged on absolute gates alone")
        return ChampionRecord(source="none")
    verified = verified_release.fetch(settings, github, release, settings.path(str(CHAMPION_DIR)))
    logger.info("champion: %s (sha256 %s, %s)", release.tag, verified.sha256[:12], verified.provenance)
    return ChampionRecord.of_release(verified, model_path=str(CHAMPION_DIR))
