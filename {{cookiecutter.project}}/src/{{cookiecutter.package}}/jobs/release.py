"""``mlops release --prepare`` then ``mlops release``: promote the evaluated model through a tagged GitHub Release.

``--prepare`` runs every check (branch, gates, reviewed metrics, already released?, next
version, tag) without writing to GitHub, packs the archive the release will carry into
``outputs/release/model.tar.gz`` and writes the plan (``outputs/release/plan.json``: version,
commit, the archive's sha256, whether to publish and whether to attest it, and why), with the
step output ``attest=true|false`` for the workflow's attest step. So an attestation is only ever
made for the very bytes about to be published, never for a run that fails a check or a commit
that is already released.

``mlops release`` then publishes exactly the prepared bytes (their sha256 must be the plan's),
all or nothing (``docs/runbook.md``): a draft release carrying every asset, listed back and
compared; the production Deployment (in progress); the registry alias (tracking server only);
publication (GitHub creates the tag) as latest; the deployment's success. A failure before
publication deletes the draft, restores the alias and marks the deployment failed. Idempotent: a
re-run completes its own draft (found by the commit marker) when that draft carries the prepared
archive, replaces it otherwise, and changes nothing once the release is published.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..config import Settings
from ..core.model_card import model_card
from ..core.provenance import AttestationDecision, attestation_decision
from ..core.report import find_reviewed, inert
from ..core.schemas import schema_hash
from ..core.versioning import Fingerprint, model_digest, next_version, semver_or_none
from ..errors import CheckFailed, InputError
from ..io import model_files
from ..io import release_protocol as protocol
from ..io.artifacts import append_step_summary, read_text, remove, set_step_output, to_json, warn, write_all
from ..io.github import DryRun, GitHub, GitHubError, bot_logins
from ..jobs import (
    EVALUATION_MD,
    METRICS_JSON,
    RELEASE_ARCHIVE,
    RELEASE_IMAGE_JSON,
    RELEASE_JSON,
    RELEASE_PLAN,
    RELEASE_SERVING_DIR,
    TRAINING_JSON,
    production_image,
    steps,
)
from ..project import DESCRIPTION, PROJECT_NAME
from .release_model import MODEL_SUBDIR, RECORD_FILE, ChampionRecord

logger = logging.getLogger(__name__)
PREPARE = "release --prepare"


class ReleaseOutcome(BaseModel):
    """``outputs/release/release.json``: what this run released (or found released)."""

    version: str
    sha: str
    release_url: str
    model_sha256: str
    deployment_id: int
    bump: str
    released_by: str
    reason: str
    image: str = ""  # the serving image's name@digest, when one was pushed for this release


class ReleasePlan(BaseModel):
    """``outputs/release/plan.json``: what ``--prepare`` decided, and what ``mlops release`` must publish."""

    sha: str
    version: str
    bump: str
    released_by: str
    reason: str  # why this model may be released: the reviewed pull request, or the given reason
    publish: bool  # False: the commit is released already (``mlops release`` only checks its deployment)
    archive_sha256: str  # of outputs/release/model.tar.gz, the bytes the release carries ("" when not publishing)
    attest: bool
    attest_reason: str
    # The serving image to build from outputs/release/serving/, smoke-test and push (`mlops push-image`): "" when not publishing.
    image: str = ""


@dataclass(frozen=True)
class Build:
    """What this commit built, read from the earlier verbs' outputs."""

    sha: str
    training: dict[str, Any]
    evaluation: dict[str, Any]
    fingerprint: Fingerprint

    @property
    def metrics(self) -> dict[str, float]:
        return self.evaluation["challenger"]["metrics"]


@dataclass(frozen=True)
class Context:
    """What every step of one release run works with."""

    settings: Settings
    github: GitHub
    build: Build
    tracking: Any  # io.tracking, imported late (mlflow costs seconds)


@dataclass(frozen=True)
class Plan:
    """The release to make: decided entirely before anything is written to GitHub."""

    version: str
    bump: str
    released_by: str
    reason: str
    card: str
    image: str = ""  # the pushed serving image's name@digest, named by the notes, the record and the Deployment


def fingerprint(settings: Settings, training: dict[str, Any]) -> Fingerprint:
    return Fingerprint(
        schema_hash=schema_hash(settings.data.columns),
        data_digest=training["data_digest"],
        model_digest=model_digest(settings.model.model_dump(), settings.data.features.model_dump(), settings.data.target),
    )


# ``mlops release --prepare``: every check, the archive and the plan; nothing written to GitHub.


def prepare(settings: Settings, *, allow_unreviewed: bool = False, reason: str = "") -> ReleasePlan:
    remove(*(settings.path(str(path)) for path in (RELEASE_PLAN, RELEASE_ARCHIVE, RELEASE_JSON, RELEASE_IMAGE_JSON)))
    shutil.rmtree(settings.path(str(RELEASE_SERVING_DIR)), ignore_errors=True)
    try:
        plan, archive = _prepare(settings, allow_unreviewed=allow_unreviewed, reason=reason.strip())
    except Exception as error:
        failed = f"### ❌ Release failed: {inert(error, 1000)}\n\nNothing was attested or published.\n"
        append_step_summary(failed, settings.env.github_step_summary)
        raise
    outputs: dict[Path, str | bytes] = {settings.path(str(RELEASE_PLAN)): to_json(steps.stamped(plan.model_dump(mode="json"), settings))}
    if archive is not None:
        outputs[settings.path(str(RELEASE_ARCHIVE))] = archive
        _serving_folder(settings, plan, archive)
    write_all(outputs)
    set_step_output("attest", "true" if plan.attest else "false", settings.env)
    set_step_output("image", plan.image, settings.env)
    logger.info("prepared %s; attest: %s (%s)", plan.version, "yes" if plan.attest else "no", plan.attest_reason)
    return plan


def dry_run(settings: Settings, recorder: DryRun, *, allow_unreviewed: bool = False, reason: str = "") -> ReleaseOutcome | ReleasePlan:
    """Prepare and publish in one go with a recording client: what a release would send to GitHub, none of it sent.

    Nothing is written under outputs/release/ and no registry alias moves; off Actions (no GITHUB_REF) the
    commit is released as if from main. The plan, when this commit is already released.
    """
    plan, archive = _prepare(settings, allow_unreviewed=allow_unreviewed, reason=reason.strip(), dry_run=recorder)
    if archive is None:
        return plan
    outcome = _release(settings, prepared=(plan, archive), dry_run=recorder)
    logger.info("dry run: would have released %s (%s)", outcome.version, outcome.bump)
    return outcome


def _prepare(settings: Settings, *, allow_unreviewed: bool, reason: str, dry_run: DryRun | None = None) -> tuple[ReleasePlan, bytes | None]:
    from ..io import tracking  # mlflow import costs seconds: only here

    _check_ref(settings, dry_run)
    if allow_unreviewed and not reason:
        raise InputError("--allow-unreviewed needs --reason: say why this model may be released without a reviewed PR comment")
    build = _read_build(settings, tracking.git_sha(settings))
    with GitHub.connect(settings.env, dry_run) as github:
        existing = protocol.release_for_commit(github, build.sha)
        if existing is not None and not existing.draft and not existing.missing:
            logger.info("commit %s is already released as %s: nothing to publish or attest", build.sha[:12], existing.tag)
            return _released_plan(build, existing), None
        why = _review(settings, github, build, allow_unreviewed=allow_unreviewed, reason=reason)
        plan = _plan(settings, github, build, why, existing)
        context = Context(settings=settings, github=github, build=build, tracking=tracking)
        carried = None
        if existing is not None and not existing.draft:  # published without every asset: it keeps the archive it has
            _check_completable(existing, build)
            carried = _reusable_archive(github, existing)
        if carried is not None:
            decision = AttestationDecision(False, f"{existing.tag} was published with this archive earlier: not attested again")
            archive = carried
        else:
            archive = _pack(context)
            decision = _attestation(settings, github)
    record = ReleasePlan(
        sha=build.sha,
        version=plan.version,
        bump=plan.bump,
        released_by=plan.released_by,
        reason=plan.reason,
        publish=True,
        archive_sha256=protocol.sha256(archive),
        attest=decision.attest,
        attest_reason=decision.reason,
        image=production_image.image_name(settings.env, plan.version) if settings.release.image else "",
    )
    return record, archive


def _serving_folder(settings: Settings, plan: ReleasePlan, archive: bytes) -> None:
    """The prepared archive unpacked as a model folder (the champion's layout), loaded once through the safe loader.

    The serving image is built from it (``MODEL_DIR``), and ``mlops smoke-test`` compares the image with it: the image
    serves the very bytes the release publishes.
    """
    folder = settings.path(str(RELEASE_SERVING_DIR))
    where = f"the archive prepared for {plan.version}"
    protocol.unpack_model(archive, folder / MODEL_SUBDIR, where=where)
    model_files.load_model(folder / MODEL_SUBDIR)
    build = _read_build(settings, plan.sha)
    record = ChampionRecord(
        source="release",
        tag=plan.version,
        sha256=plan.archive_sha256,
        provenance=f"built by this release run from {plan.sha[:12]}",
        model_path=str(RELEASE_SERVING_DIR / MODEL_SUBDIR),
        run_id=build.training["model"]["run_id"],
        commit=plan.sha,
        fingerprint=build.fingerprint.as_dict(),
        metrics=build.metrics,
    )
    write_all({folder / RECORD_FILE: to_json(record.payload())})


def _released_plan(build: Build, release: protocol.Release) -> ReleasePlan:
    return ReleasePlan(
        sha=build.sha,
        version=release.tag,
        bump="already released",
        released_by="",
        reason="",
        publish=False,
        archive_sha256="",
        attest=False,
        attest_reason=f"{build.sha[:12]} is already released as {release.tag}: nothing new to attest",
    )


def _attestation(settings: Settings, github: GitHub) -> AttestationDecision:
    """The policy applied to what GitHub says about this repository (asked only when the policy is not off)."""
    policy = settings.release
    if policy.attestation == "off":
        return attestation_decision("off", visibility="", enterprise_server=False, private_attestations=False)
    facts = github.repository_facts()
    return attestation_decision(
        policy.attestation,
        visibility=facts.visibility,
        enterprise_server=facts.enterprise_server,
        private_attestations=policy.private_attestations,
    )


# ``mlops release``: publish the prepared archive.


def run(settings: Settings) -> ReleaseOutcome:
    try:
        outcome = _release(settings)
    except Exception as error:
        append_step_summary(f"### ❌ Release failed: {inert(error, 1000)}\n\nNothing was published.\n", settings.env.github_step_summary)
        raise
    summary = (
        f"### ✅ Released {outcome.version}\n\n{outcome.bump}; model sha256 `{outcome.model_sha256[:16]}`; "
        f"deployment {outcome.deployment_id} to {protocol.ENVIRONMENT}; released by {inert(outcome.released_by or 'unknown')}: "
        f"{inert(outcome.reason, 1000)}. {outcome.release_url}\n"
        + (f"\nImage: `{outcome.image}` (tagged `{production_image.PRODUCTION_TAG}`)\n" if outcome.image else "")
    )
    write_all({settings.path(str(RELEASE_JSON)): to_json(outcome.model_dump(mode="json"))})
    append_step_summary(summary, settings.env.github_step_summary)
    logger.info("released %s (%s)", outcome.version, outcome.bump)
    return outcome


def _release(settings: Settings, *, prepared: tuple[ReleasePlan, bytes] | None = None, dry_run: DryRun | None = None) -> ReleaseOutcome:
    from ..io import tracking  # mlflow import costs seconds: only here

    _check_ref(settings, dry_run)
    plan_made, archive_made = prepared or (None, None)
    prepared = plan_made or _read_plan(settings)
    build = _read_build(settings, tracking.git_sha(settings))
    if prepared.sha != build.sha:
        raise InputError(f"{RELEASE_PLAN} was prepared for {prepared.sha[:12]}, this is {build.sha[:12]}: run `mlops {PREPARE}` again")
    with GitHub.connect(settings.env, dry_run) as github:
        existing = protocol.release_for_commit(github, build.sha)
        if existing is not None and not existing.draft and not existing.missing:
            logger.info("commit %s is already released as %s: nothing to do", build.sha[:12], existing.tag)
            return _already_released(settings, github, existing, build)
        if not prepared.publish:
            raise CheckFailed(
                f"{RELEASE_PLAN} says {build.sha[:12]} is released as {prepared.version}, but no complete published release of it "
                f"exists now: run `mlops {PREPARE}` again"
            )
        archive = archive_made or _prepared_archive(settings, prepared)
        context = Context(settings=settings, github=github, build=build, tracking=tracking)
        plan = _plan(settings, github, build, prepared.reason, existing, released_by=prepared.released_by)
        pushed = production_image.read_pushed(settings, plan.version) if dry_run is None else None
        plan = dataclasses.replace(plan, image=pushed.reference if pushed else "")
        if plan.version != prepared.version:
            raise CheckFailed(
                f"this release is now {plan.version}, {RELEASE_PLAN} prepared {prepared.version} (another release since?): "
                f"run `mlops {PREPARE}` again"
            )
        if existing is not None and not existing.draft:  # published without every asset (an older run, or edited)
            return _complete_published(context, existing, plan, archive)
        return _publish_new(context, existing, plan, archive)


def _check_ref(settings: Settings, dry_run: DryRun | None = None) -> None:
    if dry_run is not None and not settings.env.github_ref:
        return  # a dry run on a laptop: as if from main
    if settings.env.github_ref != protocol.MAIN_REF:
        raise CheckFailed(
            f"releases are made from {protocol.MAIN_REF} only; this run is on {settings.env.github_ref or 'no ref (GITHUB_REF is unset)'}"
        )


def _read_plan(settings: Settings) -> ReleasePlan:
    record = steps.read_current(settings, RELEASE_PLAN, produced_by=PREPARE)
    try:
        return ReleasePlan.model_validate(record)
    except ValidationError as error:
        detail = str(error).splitlines()[0]
        raise InputError(f"{RELEASE_PLAN} is not a release plan ({detail}); run `mlops {PREPARE}` again") from error


def _prepared_archive(settings: Settings, prepared: ReleasePlan) -> bytes:
    """The archive ``--prepare`` packed (and the workflow may have attested): refused unless its sha256 is the plan's."""
    path = settings.path(str(RELEASE_ARCHIVE))
    try:
        archive = path.read_bytes()
    except FileNotFoundError as error:
        raise InputError(f"{RELEASE_ARCHIVE}: not found; run `mlops {PREPARE}` first") from error
    digest = protocol.sha256(archive)
    if digest != prepared.archive_sha256:
        raise CheckFailed(
            f"{RELEASE_ARCHIVE} has sha256 {digest[:12]}…, {RELEASE_PLAN} prepared {prepared.archive_sha256[:12]}…: "
            "it changed since it was prepared (and perhaps attested); refusing to publish it"
        )
    return archive


def _read_build(settings: Settings, sha: str) -> Build:
    training = steps.read_current(settings, TRAINING_JSON, produced_by="train")
    evaluation = steps.read_current(settings, METRICS_JSON, produced_by="evaluate")
    if evaluation["challenger"]["run_id"] != training["model"]["run_id"]:
        raise InputError(f"{METRICS_JSON} evaluates another run than {TRAINING_JSON}; run `mlops evaluate` again")
    if not evaluation["passed"]:
        raise CheckFailed(f"the model built from this commit failed its gates ({METRICS_JSON}); nothing was released")
    return Build(sha=sha, training=training, evaluation=evaluation, fingerprint=fingerprint(settings, training))


# Checks: nothing below writes to GitHub.


def _review(settings: Settings, github: GitHub, build: Build, *, allow_unreviewed: bool, reason: str) -> str:
    """Why this model may be released: the PR whose bot comment showed these metrics, or the given reason."""
    for pull in github.pulls_for_commit(build.sha):
        reviewed = find_reviewed(list(github.comments(pull["number"])), bot_logins=bot_logins(settings.env))
        if reviewed is None:
            continue
        head = pull["head"]["sha"]
        if reviewed.head_sha != head:
            raise CheckFailed(
                f"the report comment on {pull['html_url']} was made for {reviewed.head_sha[:12] or 'an unknown commit'}, "
                f"not the PR's head {head[:12]}: it is stale; re-run the PR workflow on the head before merging"
            )
        differing = [
            f"{name} {build.metrics.get(name, math.nan):.6f} vs reviewed {value:.6f}"
            for name, value in reviewed.metrics.items()
            if not _same(build.metrics.get(name, math.nan), value)
        ]
        if differing:
            raise CheckFailed(
                f"the model rebuilt from {build.sha[:12]} differs from the one reviewed in {pull['html_url']}: {'; '.join(differing)}"
            )
        return f"reviewed in {pull['html_url']}"
    if not allow_unreviewed:
        raise CheckFailed(
            f"no reviewed metrics for {build.sha[:12]}: no pull request with the pipeline's report comment (a direct push, "
            "or a fork PR the bot could not comment on); refusing to release. To release anyway, dispatch the release "
            "workflow with allow_unreviewed and a reason (`mlops release --allow-unreviewed --reason ...`)"
        )
    warn(f"releasing {build.sha[:12]} without reviewed metrics: {reason}", settings.env)
    return f"released without review: {reason}"


def _same(left: float, right: float) -> bool:
    return (math.isnan(left) and math.isnan(right)) or math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)


def _plan(
    settings: Settings, github: GitHub, build: Build, why: str, existing: protocol.Release | None, *, released_by: str | None = None
) -> Plan:
    """The version and model card; ``released_by`` as prepared (default: who started this run)."""
    if existing is not None and not existing.draft:
        version, bump = existing.tag, "completing an incomplete release"
    else:
        releases = protocol.published_releases(github)
        previous = next(iter(releases), None)  # the latest: what production runs, which the bump compares with
        previous_fingerprint = None
        if previous is not None:
            release = protocol.with_assets(github, previous)
            if protocol.RELEASE_RECORD in release.assets:
                record = protocol.ReleaseRecord.parse(release.download(github, protocol.RELEASE_RECORD), where=release.where)
                previous_fingerprint = record.fingerprint
        # The number goes on from the highest version: after `mlops rollback` the latest is an older one.
        highest = max(releases, key=lambda data: semver_or_none(data["tag_name"]) or (0, 0, 0), default=None)
        version, bump = next_version(highest["tag_name"] if highest else None, previous_fingerprint, build.fingerprint)
        tagged = github.tag_sha(version)
        if tagged is not None and tagged != build.sha:
            raise CheckFailed(f"tag {version} already exists on {tagged[:12]}, not on {build.sha[:12]}: delete it or release by hand")
    released_by = released_by or settings.env.github_actor or "unknown"
    card = model_card(
        project=PROJECT_NAME,
        description=DESCRIPTION,
        version=version,
        bump_reason=bump,
        training=build.training,
        evaluation=build.evaluation,
        sha=build.sha,
        released_by=released_by,
        why=why,
    )
    return Plan(version=version, bump=bump, released_by=released_by, reason=why, card=card)


# Writing: a draft with every asset, then deployment, alias, publication.


def _assets(settings: Settings, build: Build, plan: Plan, archive: bytes) -> dict[str, tuple[bytes, str]]:
    digest = protocol.sha256(archive)
    record = protocol.ReleaseRecord(
        version=plan.version,
        run_id=build.training["model"]["run_id"],
        model_sha256=digest,
        fingerprint=build.fingerprint,
        metrics=build.metrics,
        released_by=plan.released_by,
        reason=plan.reason,
        image=plan.image,
    )
    return {
        protocol.MODEL_ARCHIVE: (archive, "application/gzip"),
        protocol.CHECKSUM: (protocol.checksum_text(digest).encode(), "text/plain"),
        protocol.METRICS: (to_json(build.evaluation).encode(), "application/json"),
        protocol.REPORT: (read_text(settings.path(str(EVALUATION_MD)), produced_by="evaluate").encode(), "text/markdown"),
        protocol.MODEL_CARD: (plan.card.encode(), "text/markdown"),
        protocol.RELEASE_RECORD: (record.to_bytes(), "application/json"),
    }


def _pack(context: Context) -> bytes:
    """The model folder packed: the local folder training recorded when there is one, else fetched from MLflow."""
    settings, build = context.settings, context.build
    local_dir = build.training["model"].get("local_dir")
    if local_dir and settings.path(local_dir).is_dir():
        return protocol.pack_model(settings.path(local_dir))
    with tempfile.TemporaryDirectory() as scratch:
        return protocol.pack_model(context.tracking.download_model(settings, build.training["model"]["model_uri"], Path(scratch)))


def _reusable_archive(github: GitHub, release: protocol.Release) -> bytes | None:
    """The archive a release already carries, when it is consistent with its checksum and record; None when it has none.

    Raises ``CheckFailed`` when what it carries does not fit together (it cannot be completed).
    """
    present = release.assets
    if protocol.MODEL_ARCHIVE not in present:
        if protocol.CHECKSUM in present or protocol.RELEASE_RECORD in present:
            raise CheckFailed(f"{release.where} has a checksum or record but no {protocol.MODEL_ARCHIVE}")
        return None
    archive = release.download(github, protocol.MODEL_ARCHIVE, limit=protocol.MAX_ARCHIVE_BYTES)
    digest = protocol.sha256(archive)
    if protocol.CHECKSUM in present and protocol.parse_checksum(release.download(github, protocol.CHECKSUM), where=release.where) != digest:
        raise CheckFailed(f"{release.where}: its {protocol.MODEL_ARCHIVE} does not match its checksum")
    if protocol.RELEASE_RECORD in present:
        record = protocol.ReleaseRecord.parse(release.download(github, protocol.RELEASE_RECORD), where=release.where)
        if record.model_sha256 != digest:
            raise CheckFailed(f"{release.where}: its {protocol.RELEASE_RECORD} names another archive")
    return archive


def _upload_missing(github: GitHub, release: protocol.Release, assets: dict[str, tuple[bytes, str]]) -> protocol.Release:
    """Upload what the release lacks, list its assets back and compare names, sizes and digests."""
    for name in release.missing:
        content, content_type = assets[name]
        github.upload_asset(release.data, name, content, content_type)
    listed = protocol.with_assets(github, release.data)
    for name, (content, _) in assets.items():
        asset = listed.assets.get(name)
        if asset is None:
            raise CheckFailed(f"{release.where}: {name} is missing after upload")
        if name in release.assets:  # kept from an earlier run: its own content, checked by _reusable_archive
            continue
        digest = asset.get("digest")
        if asset.get("size") != len(content) or (digest and digest != f"sha256:{protocol.sha256(content)}"):
            raise CheckFailed(f"{release.where}: {name} on GitHub differs from what was uploaded (size or digest)")
    return listed


def _create_draft(github: GitHub, build: Build, plan: Plan) -> protocol.Release:
    data = github.create_draft_release(
        plan.version, name=plan.version, body=protocol.release_body(plan.card, build.sha, image=plan.image), sha=build.sha
    )
    logger.info("drafted %s (%s)", plan.version, plan.bump)
    return protocol.Release(data, {})


def _delete_draft(github: GitHub, release: protocol.Release) -> None:
    try:
        github.delete_release(release.id)
        logger.info("deleted the draft %s: nothing was published", release.tag)
    except GitHubError as error:  # a draft is never taken as the champion; a re-run replaces or completes it
        logger.warning("could not delete the draft %s (%s): a re-run completes or replaces it", release.tag, error)


def _draft_with_assets(context: Context, existing: protocol.Release | None, plan: Plan, archive: bytes) -> protocol.Release:
    """This commit's draft carrying every asset and the prepared archive: an earlier run's draft completed, or replaced, or a new one.

    An earlier draft is completed only when it carries the prepared archive (or none yet): the
    release then publishes the bytes that were prepared, and attested, in this run.
    """
    settings, github, build = context.settings, context.github, context.build
    assets = _assets(settings, build, plan, archive)
    if existing is not None:
        try:
            if existing.tag != plan.version:
                raise CheckFailed(f"it is tagged {existing.tag}, this release is {plan.version}")
            carried = _reusable_archive(github, existing)
            if carried is not None and carried != archive:
                raise CheckFailed(f"it carries another {protocol.MODEL_ARCHIVE} than the one prepared ({protocol.sha256(carried)[:12]}…)")
            logger.info("completing the draft %s an earlier run left", existing.tag)
            return _upload_missing(github, existing, assets)
        except CheckFailed as error:
            logger.warning("replacing the draft %s an earlier run left: %s", existing.tag, error)
            _delete_draft(github, existing)
    draft = _create_draft(github, build, plan)
    try:
        return _upload_missing(github, draft, assets)
    except BaseException:
        _delete_draft(github, draft)
        raise


def _publish_new(context: Context, existing: protocol.Release | None, plan: Plan, archive: bytes) -> ReleaseOutcome:
    settings, github, build = context.settings, context.github, context.build
    draft = _draft_with_assets(context, existing, plan, archive)
    digest = protocol.sha256(archive)
    deployment: dict[str, Any] | None = None
    restore_alias: Callable[[], None] | None = None
    restore_image: Callable[[], None] | None = None
    published = False
    try:
        deployment = _start_deployment(github, build.sha, plan.version, digest, bump=plan.bump, image=plan.image)
        restore_alias = _move_alias(context) if github.dry_run is None else None
        # The image tag `production` follows the release, like the alias: put back if publication fails.
        restore_image = production_image.move_production(settings.env, plan.image, where=plan.version) if plan.image else None
        data = github.publish_release(draft.id)
        published = True
        _finish_deployment(settings, github, deployment, data, state="success", description=f"{plan.version} is the champion")
    except BaseException:
        if not published:
            _delete_draft(github, draft)
            for restore in (restore_image, restore_alias):
                if restore is not None:
                    restore()
        if deployment is not None:
            _finish_deployment(
                settings, github, deployment, draft.data, state="failure", description="the release failed", best_effort=True
            )
        raise
    logger.info("published %s", plan.version)
    return _outcome(build, plan, data, digest, deployment["id"])


def _check_completable(existing: protocol.Release, build: Build) -> None:
    if existing.immutable:
        raise CheckFailed(
            f"{existing.where} of {build.sha[:12]} is published, immutable and lacks {', '.join(existing.missing)}: it is never "
            "taken as the champion and cannot be completed; release a new commit"
        )


def _complete_published(context: Context, existing: protocol.Release, plan: Plan, archive: bytes) -> ReleaseOutcome:
    """A published release of this commit lacks assets: complete it where GitHub allows (not on immutable releases).

    It keeps the archive it was published with; ``--prepare`` took that one as the prepared archive.
    """
    settings, github, build = context.settings, context.github, context.build
    _check_completable(existing, build)
    carried = _reusable_archive(github, existing)
    if carried is not None and carried != archive:
        raise CheckFailed(f"{existing.where} carries another {protocol.MODEL_ARCHIVE} than the one prepared: run `mlops {PREPARE}` again")
    _upload_missing(github, existing, _assets(settings, build, plan, archive))
    logger.info("completed %s: uploaded %s", existing.tag, ", ".join(existing.missing))
    return _already_released(settings, github, protocol.with_assets(github, existing.data), build, plan=plan)


def _already_released(
    settings: Settings, github: GitHub, release: protocol.Release, build: Build, *, plan: Plan | None = None
) -> ReleaseOutcome:
    record = protocol.ReleaseRecord.parse(release.download(github, protocol.RELEASE_RECORD), where=release.where)
    deployment = _successful_deployment(github, build.sha)
    if deployment is None:  # published, but the run stopped before the deployment succeeded
        deployment = _start_deployment(github, build.sha, release.tag, record.model_sha256, image=record.image)
        _finish_deployment(settings, github, deployment, release.data, state="success", description=f"{release.tag} is the champion")
    return ReleaseOutcome(
        version=release.tag,
        sha=build.sha,
        release_url=release.data["html_url"],
        model_sha256=record.model_sha256,
        deployment_id=deployment["id"],
        bump=plan.bump if plan else "already released",
        released_by=record.released_by,
        reason=record.reason,
        image=record.image,
    )


def _outcome(build: Build, plan: Plan, release: dict[str, Any], digest: str, deployment_id: int) -> ReleaseOutcome:
    return ReleaseOutcome(
        version=plan.version,
        sha=build.sha,
        release_url=release["html_url"],
        model_sha256=digest,
        deployment_id=deployment_id,
        bump=plan.bump,
        released_by=plan.released_by,
        reason=plan.reason,
        image=plan.image,
    )


# The production deployment: one record per release, ours.


def _successful_deployment(github: GitHub, sha: str) -> dict[str, Any] | None:
    for deployment in github.deployments(sha=sha, environment=protocol.ENVIRONMENT):
        statuses = github.deployment_statuses(deployment["id"])
        if statuses and statuses[0]["state"] == "success":  # newest first, as GitHub lists them
            return deployment
    return None


def model_changed(bump: str) -> bool | None:
    """Whether a release with this bump reason changed the model (``mlops dora`` counts them); None when it does not say."""
    kind = bump.split(":")[0].strip()
    return {"first release": True, "major": True, "minor": True, "patch": False}.get(kind)


def _start_deployment(github: GitHub, sha: str, version: str, digest: str, *, bump: str = "", image: str = "") -> dict[str, Any]:
    existing = _successful_deployment(github, sha)
    if existing is not None:
        return existing
    changed = model_changed(bump)
    deployment = github.create_deployment(
        sha=sha,
        environment=protocol.ENVIRONMENT,
        description=f"{version}: model {digest[:12]}" + ("" if changed is None else " (model changed)" if changed else " (code only)"),
        # What `mlops dora` reads: the version, and whether this release changed the model or only the code.
        payload={"version": version, "model_sha256": digest, "bump": bump, "model_changed": changed} | ({"image": image} if image else {}),
    )
    github.create_deployment_status(deployment["id"], state="in_progress", description=f"releasing {version}")
    return deployment


def _finish_deployment(
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
            environment_url=release["html_url"],
            log_url=settings.env.run_url or release["html_url"],
        )
    except GitHubError as error:
        if not best_effort:
            raise
        logger.warning("could not mark deployment %s as %s: %s", deployment["id"], state, error)


def _move_alias(context: Context) -> Callable[[], None] | None:
    """With a tracking server the registry alias follows the release; returns how to put it back."""
    settings, build, tracking = context.settings, context.build, context.tracking
    version = build.training["model"].get("version")
    if not (settings.uses_tracking_server and version):
        return None
    before = tracking.champion(settings)
    tracking.set_champion(settings, version)
    logger.info("moved the `champion` alias to version %s", version)

    def restore() -> None:
        if before is not None and before.version:
            tracking.set_champion(settings, before.version)
        else:
            tracking.delete_champion(settings)
        logger.info("put the `champion` alias back (%s)", before.version if before else "none")

    return restore
