"""``mlops release``: promote the evaluated model through a tagged GitHub Release.

Creates, for the commit being built: the next semver tag, a Release marked latest with the
model archive, its sha256, metrics, report, model card and release record, a Deployment to
``production`` with its status, and (with a tracking server) moves the ``champion`` alias.
Idempotent: a re-run for the same commit finds its release and only completes what is missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from typing import Any

from ..config import Settings
from ..core.model_card import model_card
from ..core.report import reviewed_metrics
from ..core.schemas import schema_hash
from ..core.versioning import Fingerprint, model_digest, next_version
from ..errors import CheckFailed, InputError
from ..io.artifacts import append_step_summary, read_json, read_text, to_json, write_all
from ..io.github import GitHub, GitHubContext
from ..jobs import EVALUATION_MD, METRICS_JSON, RELEASE_JSON, TRAINING_JSON
from ..project import DESCRIPTION, PROJECT_NAME

logger = logging.getLogger(__name__)
ENVIRONMENT = "production"
MODEL_ARCHIVE = "model.tar.gz"
RELEASE_RECORD = "release.json"


def release_marker(sha: str) -> str:
    return f"<!-- mlops-release sha={sha} -->"


def fingerprint(settings: Settings, training: dict[str, Any]) -> Fingerprint:
    return Fingerprint(
        schema_hash=schema_hash(settings.data.columns),
        data_digest=training["data_digest"],
        model_digest=model_digest(settings.model.model_dump(), settings.data.features.model_dump(), settings.data.target),
    )


def run(settings: Settings) -> dict[str, Any]:
    from ..io import tracking  # mlflow import costs seconds: only here

    training = read_json(settings.path(str(TRAINING_JSON)), produced_by="train")
    evaluation = read_json(settings.path(str(METRICS_JSON)), produced_by="evaluate")
    if evaluation["challenger"]["run_id"] != training["model"]["run_id"]:
        raise InputError(f"{METRICS_JSON} evaluates another run than {TRAINING_JSON}; run `mlops evaluate` again")
    if not evaluation["passed"]:
        raise CheckFailed(f"the model built from this commit failed its gates ({METRICS_JSON}); nothing was released")
    sha = tracking.git_sha(settings)
    current = fingerprint(settings, training)
    with GitHub(GitHubContext.from_env(settings.env)) as github:
        release = _release_for_commit(github, sha)
        if release is None:
            release, bump_reason, reviewed_in = _create_release(settings, github, sha, training, evaluation, current)
        else:
            bump_reason, reviewed_in = "already released", None
            logger.info("commit %s is already released as %s: completing what is missing", sha[:12], release["tag_name"])
        version = release["tag_name"]
        archive_sha = _upload_missing_assets(settings, github, release, training, evaluation, current, tracking)
        deployment = _ensure_deployment(
            github, release, sha, archive_sha, settings.env.run_url, lambda: _move_alias(settings, training, tracking)
        )
    record = {
        "version": version,
        "sha": sha,
        "release_url": release["html_url"],
        "model_sha256": archive_sha,
        "deployment_id": deployment["id"],
        "bump": bump_reason,
        "reviewed_in": reviewed_in,
    }
    summary = (
        f"### Released {version}\n\n{bump_reason}; model sha256 `{archive_sha[:16]}`; "
        f"deployment {deployment['id']} to {ENVIRONMENT}: {release['html_url']}\n"
    )
    write_all({settings.path(str(RELEASE_JSON)): to_json(record)})
    append_step_summary(summary, settings.env.github_step_summary)
    logger.info("released %s (%s)", version, bump_reason)
    return record


def _release_for_commit(github: GitHub, sha: str) -> dict[str, Any] | None:
    marker = release_marker(sha)
    return next((release for release in github.releases() if marker in (release.get("body") or "")), None)


def _reviewed_metrics(github: GitHub, sha: str) -> tuple[str | None, dict[str, Any] | None]:
    """The metrics shown in the PR comment that was reviewed before this commit was merged."""
    for pull in github.pulls_for_commit(sha):
        for comment in github.comments(pull["number"]):
            reviewed = reviewed_metrics(comment.get("body") or "")
            if reviewed is not None:
                return pull["html_url"], reviewed
    return None, None


def _same(left: float, right: float) -> bool:
    return (math.isnan(left) and math.isnan(right)) or math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)


def _create_release(settings, github, sha, training, evaluation, current) -> tuple[dict[str, Any], str, str | None]:
    reviewed_in, reviewed = _reviewed_metrics(github, sha)
    if reviewed is not None:
        rebuilt = evaluation["challenger"]["metrics"]
        differing = [
            f"{name} {rebuilt[name]:.6f} vs reviewed {value:.6f}"
            for name, value in reviewed["metrics"].items()
            if name in rebuilt and not _same(rebuilt[name], value)
        ]
        if differing:
            raise CheckFailed(f"the model rebuilt from {sha[:12]} differs from the one reviewed in {reviewed_in}: {'; '.join(differing)}")
    else:
        logger.warning("no reviewed metrics found for %s (no PR comment): releasing without that check", sha[:12])
    previous = github.latest_release()
    previous_fingerprint = _previous_fingerprint(github, previous) if previous else None
    version, reason = next_version(previous["tag_name"] if previous else None, previous_fingerprint, current)
    tagged = github.tag_sha(version)
    if tagged is None:
        github.create_tag(version, sha)
    elif tagged != sha:
        raise CheckFailed(f"tag {version} already exists on {tagged[:12]}, not on {sha[:12]}: delete it or release by hand")
    card = model_card(
        project=PROJECT_NAME,
        description=DESCRIPTION,
        version=version,
        bump_reason=reason,
        training=training,
        evaluation=evaluation,
        sha=sha,
        reviewed_in=reviewed_in,
    )
    release = github.create_release(version, name=f"{version}", body=f"{card}\n{release_marker(sha)}\n", sha=sha)
    logger.info("created %s (%s)", version, reason)
    return release, reason, reviewed_in


def _previous_fingerprint(github: GitHub, release: dict[str, Any]) -> Fingerprint | None:
    asset = next((asset for asset in github.release_assets(release) if asset["name"] == RELEASE_RECORD), None)
    if asset is None:
        return None
    recorded = json.loads(github.download_asset(asset))
    return Fingerprint.from_dict(recorded["fingerprint"]) if recorded.get("fingerprint") else None


def _upload_missing_assets(settings, github, release, training, evaluation, current, tracking) -> str:
    """Upload every asset the release lacks; return the sha256 of the model archive it carries."""
    present = {asset["name"]: asset for asset in github.release_assets(release)}
    # A re-run rebuilds a byte-different archive (MLflow stamps times and ids): keep the
    # published one when it exists, so that archive and checksum always belong together.
    archive = (
        github.download_asset(present[MODEL_ARCHIVE])
        if MODEL_ARCHIVE in present
        else tracking.package_model(settings, training["model"]["model_uri"])
    )
    archive_sha = hashlib.sha256(archive).hexdigest()
    record = {
        "version": release["tag_name"],
        "run_id": training["model"]["run_id"],
        "model_sha256": archive_sha,
        "fingerprint": current.as_dict(),
        "metrics": evaluation["challenger"]["metrics"],
    }
    assets = {
        MODEL_ARCHIVE: (lambda: archive, "application/gzip"),
        f"{MODEL_ARCHIVE}.sha256": (lambda: f"{archive_sha}  {MODEL_ARCHIVE}\n".encode(), "text/plain"),
        "metrics.json": (lambda: to_json(evaluation).encode(), "application/json"),
        "report.md": (lambda: read_text(settings.path(str(EVALUATION_MD)), produced_by="evaluate").encode(), "text/markdown"),
        "model_card.md": (lambda: (release.get("body") or "").encode(), "text/markdown"),
        RELEASE_RECORD: (lambda: to_json(record).encode(), "application/json"),
    }
    for name, (content, content_type) in assets.items():
        if name not in present:
            github.upload_asset(release, name, content(), content_type)
    return archive_sha


def _ensure_deployment(github: GitHub, release: dict[str, Any], sha: str, archive_sha: str, run_url: str, activate) -> dict[str, Any]:
    """One successful deployment per released commit; a failure is recorded as such."""
    for deployment in github.deployments(sha=sha, environment=ENVIRONMENT):
        statuses = github.deployment_statuses(deployment["id"])
        if statuses and statuses[0]["state"] == "success":  # newest first, as GitHub lists them
            return deployment
    deployment = github.create_deployment(
        sha=sha,
        environment=ENVIRONMENT,
        description=f"{release['tag_name']}: model {archive_sha[:12]}",
        payload={"version": release["tag_name"], "model_sha256": archive_sha},
    )
    log_url = run_url or release["html_url"]
    try:
        activate()
    except BaseException:
        github.create_deployment_status(
            deployment["id"],
            state="failure",
            description="activating the model failed",
            environment_url=release["html_url"],
            log_url=log_url,
        )
        raise
    github.create_deployment_status(
        deployment["id"],
        state="success",
        description=f"{release['tag_name']} is the champion",
        environment_url=release["html_url"],
        log_url=log_url,
    )
    return deployment


def _move_alias(settings: Settings, training: dict[str, Any], tracking) -> None:
    """With a tracking server the registry alias follows the release; locally there is nothing to move."""
    if settings.uses_tracking_server and training["model"].get("version"):
        tracking.set_champion(settings, training["model"]["version"])
        logger.info("moved the `champion` alias to version %s", training["model"]["version"])
