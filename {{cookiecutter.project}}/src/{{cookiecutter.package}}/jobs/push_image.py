"""``mlops push-image IMAGE``: push the release's smoke-tested image and record the digest the registry stored.

IMAGE must be the one ``mlops release --prepare`` named in the plan (``<registry>/<owner>/<repository>:vX.Y.Z``), so
that the image pushed is the prepared release's. Logs in with IMAGE_REGISTRY_USERNAME / IMAGE_REGISTRY_PASSWORD (the
workflow passes github.actor and its token, which `packages: write` lets push to GHCR) in a Docker configuration
folder of its own, removed after the push. Writes ``outputs/release/image.json`` and the step outputs ``name`` and
``digest`` (the attestation's subject).
"""

from __future__ import annotations

import logging

from ..config import Settings
from ..errors import InputError
from ..io.artifacts import set_step_output, to_json, write_all
from ..io.containers import Docker
from ..io.registry import ImageRef
from . import RELEASE_IMAGE_JSON, RELEASE_PLAN, steps
from .production_image import PushedImage, credentials

logger = logging.getLogger(__name__)


def run(settings: Settings, image: str) -> PushedImage:
    plan = steps.read_current(settings, RELEASE_PLAN, produced_by="release --prepare")
    if not plan.get("image") or image != plan["image"]:
        named = plan.get("image") or "none (nothing to publish, or no GITHUB_REPOSITORY)"
        raise InputError(f"{image[:200]!r} is not the image {RELEASE_PLAN} names for this release ({named})")
    reference = ImageRef.parse(image)
    digest = Docker(settings.env).push(reference, credentials(settings.env))
    pushed = PushedImage(name=reference.name, tag=reference.tag, digest=digest)
    write_all({settings.path(str(RELEASE_IMAGE_JSON)): to_json(steps.stamped(pushed.model_dump(mode="json"), settings))})
    set_step_output("name", pushed.name, settings.env)
    set_step_output("digest", pushed.digest, settings.env)
    logger.info("pushed %s", pushed.reference)
    return pushed
