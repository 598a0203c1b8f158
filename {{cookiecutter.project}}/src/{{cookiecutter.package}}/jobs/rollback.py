"""``mlops rollback --tag vX.Y.Z``: make an earlier release the champion again, recorded as a production deployment.

The release is found among the published, complete releases and verified exactly as ``mlops
champion`` verifies the champion (``jobs.verified_release``: checksum, release record, attestation
policy, bounded unpacking, the safe loader), so a rollback never puts back a model that the PR check
would refuse to compare against. Then, nothing written before every check passed: a production
Deployment of the release's commit marked as a rollback (its payload says ``rollback: true``, which
``mlops dora`` counts: the deployment it replaced becomes a failed change), the registry's
``champion`` alias (tracking server only), the container registry's tag ``production`` (moved to the image
digest the release's record names, when it names one), the release marked latest on GitHub (which ``mlops
champion`` takes from then on), and the deployment's success. A failure before GitHub marks it latest
puts the alias and the image tag back and marks the deployment failed.

Rolling back to the release that is the champion already changes nothing.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..config import Settings
from ..core.report import inert
from ..errors import InputError
from ..io import release_protocol as protocol
from ..io.artifacts import append_step_summary, remove, to_json, write_all
from ..io.github import DryRun, GitHub, GitHubError
from ..jobs import ROLLBACK_JSON, production_image, verified_release

logger = logging.getLogger(__name__)


class RollbackOutcome(BaseModel):
    """``outputs/rollback/rollback.json``: what a rollback did (or found done)."""

    tag: str
    previous: str  # the champion before: the newest complete release, the one GitHub marked latest
    changed: bool  # False: the tag was the champion already, nothing was written
    sha: str = ""
    release_url: str = ""
    model_sha256: str = ""
    provenance: str = ""
    deployment_id: int | None = None
    registry_version: str = ""  # the version the registry's `champion` alias now names (tracking server only)
    image: str = ""  # the serving image (name@digest) the tag `production` now names; "" for a release made before images
    message: str


def run(settings: Settings, tag: str, dry_run: DryRun | None = None) -> RollbackOutcome:
    if dry_run is None:
        remove(settings.path(str(ROLLBACK_JSON)))
    try:
        outcome = _rollback(settings, tag.strip(), dry_run)
    except Exception as error:
        done = "nothing was sent" if dry_run is not None else "the champion is unchanged"
        append_step_summary(f"### ❌ Rollback failed: {inert(error, 1000)}\n\n{done}.\n", settings.env.github_step_summary)
        raise
    if dry_run is None:
        write_all({settings.path(str(ROLLBACK_JSON)): to_json(outcome.model_dump(mode="json"))})
        append_step_summary(f"### {'↩️' if outcome.changed else '✅'} {outcome.message}\n", settings.env.github_step_summary)
    logger.info("%s", outcome.message)
    return outcome


def _rollback(settings: Settings, tag: str, dry_run: DryRun | None) -> RollbackOutcome:
    with GitHub.connect(settings.env, dry_run) as github:
        target = protocol.complete_release(github, tag)
        current = next(protocol.complete_releases(github))  # there is one: the target is complete
        if current.id == target.id:
            return RollbackOutcome(tag=tag, previous=current.tag, changed=False, message=f"{tag} is the champion already: nothing changed")
        with tempfile.TemporaryDirectory() as scratch:
            verified = verified_release.fetch(settings, github, target, Path(scratch) / "model")
        sha = verified.commit or github.tag_sha(tag)
        if sha is None:
            raise InputError(f"{target.where} names no commit (no marker in its notes, no tag ref): cannot record its deployment")
        registry_version = _registry_version(settings, verified) if dry_run is None else ""
        if verified.record.image:  # checked before anything is written
            production_image.own_image(settings.env, verified.record.image, where=target.where)
        deployment = github.create_deployment(
            sha=sha,
            environment=protocol.ENVIRONMENT,
            description=f"rollback to {tag} from {current.tag}: model {verified.sha256[:12]}",
            # What `mlops dora` reads: a rollback (the deployment it replaces counts as a failed change), and whether the model changed.
            payload={
                "version": tag,
                "model_sha256": verified.sha256,
                "rollback": True,
                "rolled_back_from": current.tag,
                "model_changed": _model_changed(github, current, verified.sha256),
            }
            | ({"image": verified.record.image} if verified.record.image else {}),
        )
        github.create_deployment_status(deployment["id"], state="in_progress", description=f"rolling back to {tag}")
        restore_alias: Callable[[], None] | None = None
        restore_image: Callable[[], None] | None = None
        try:
            restore_alias = _move_alias(settings, registry_version)
            # The image tag `production` goes to the digest the release's own record names (verified above).
            if verified.record.image and dry_run is None:
                restore_image = production_image.move_production(settings.env, verified.record.image, where=target.where)
            github.mark_latest(target.id)
        except BaseException:
            for restore in (restore_image, restore_alias):
                if restore is not None:
                    restore()
            failed = f"the rollback to {tag} failed"
            _finish(settings, github, deployment, target.data, state="failure", description=failed, best_effort=True)
            raise
        _finish(settings, github, deployment, target.data, state="success", description=f"{tag} is the champion again (rollback)")
    return RollbackOutcome(
        tag=tag,
        previous=current.tag,
        changed=True,
        sha=sha,
        release_url=str(target.data.get("html_url") or ""),
        model_sha256=verified.sha256,
        provenance=verified.provenance,
        deployment_id=int(deployment["id"]),
        registry_version=registry_version,
        image=verified.record.image,
        message=f"rolled back to {tag} from {current.tag}: model {verified.sha256[:12]}, {verified.provenance}",
    )


def _model_changed(github: GitHub, current: protocol.Release, digest: str) -> bool | None:
    """Whether the model differs from the current champion's (``mlops dora`` counts model changes); None when it cannot tell."""
    try:
        record = protocol.ReleaseRecord.parse(current.download(github, protocol.RELEASE_RECORD), where=current.where)
    except InputError:
        return None
    return record.model_sha256 != digest


def _registry_version(settings: Settings, verified: verified_release.VerifiedRelease) -> str:
    """The registry version to move the alias to (tracking server only), found before anything is written."""
    if not settings.uses_tracking_server:
        return ""
    from ..io import tracking  # mlflow costs seconds: only with a server

    version = tracking.version_of_run(settings, verified.record.run_id)
    if version is None:
        raise InputError(
            f"{verified.release.where}: its run {verified.record.run_id[:40]!r} has no version of {settings.tracking.registered_model} "
            "on the tracking server; the registry and the release would disagree, so nothing was changed"
        )
    return version


def _move_alias(settings: Settings, version: str) -> Callable[[], None] | None:
    """The registry's `champion` alias to ``version``; returns how to put it back."""
    if not version:
        return None
    from ..io import tracking

    before = tracking.champion(settings)
    tracking.set_champion(settings, version)
    logger.info("moved the `champion` alias to version %s", version)

    def restore() -> None:
        if before is not None and before.version:
            tracking.set_champion(settings, before.version)
        else:
            tracking.delete_champion(settings)

    return restore


def _finish(
    settings: Settings,
    github: GitHub,
    deployment: dict[str, Any],
    release: dict[str, Any],
    *,
    state: str,
    description: str,
    best_effort: bool = False,
) -> None:
    try:
        github.create_deployment_status(
            deployment["id"],
            state=state,
            description=description,
            environment_url=str(release.get("html_url") or ""),
            log_url=settings.env.run_url or str(release.get("html_url") or ""),
        )
    except GitHubError as error:
        if not best_effort:
            raise
        logger.warning("could not mark deployment %s as %s: %s", deployment["id"], state, error)
