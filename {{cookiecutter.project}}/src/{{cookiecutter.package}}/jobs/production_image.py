"""The serving image of a release: its name, the record of its push, and the registry tag ``production``.

A release's image is ``<IMAGE_REGISTRY>/<owner>/<repository>:vX.Y.Z`` (lower-cased, as registries require;
ghcr.io unless the repository variable IMAGE_REGISTRY names another). ``mlops push-image`` pushes it and records
the digest the registry stored in ``outputs/release/image.json``; ``mlops release`` names that digest in the
release notes, its record and the Deployment, and points ``production`` at it; ``mlops rollback`` points
``production`` at the digest the rolled-back release's record names. Shared by those verbs, so none imports another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, ValidationError

from ..config import Environment, Settings
from ..errors import InputError
from ..io.registry import Credentials, ImageRef, Registry
from . import RELEASE_IMAGE_JSON, steps

logger = logging.getLogger(__name__)
PRODUCTION_TAG = "production"


class PushedImage(BaseModel):
    """``outputs/release/image.json``: the image ``mlops push-image`` pushed for this release."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # host/owner/repository: the subject name of its provenance attestation
    tag: str  # the release's version
    digest: str  # sha256:… of the manifest the registry stored

    @property
    def reference(self) -> str:
        """``name@digest``: what the release names, pullable as it is."""
        return f"{self.name}@{self.digest}"


def image_name(env: Environment, version: str) -> str:
    """The release's image: ``<registry>/<owner>/<repository>:<version>``, lower-cased; "" outside a repository."""
    if not env.github_repository:
        return ""
    return f"{env.image_registry.strip().rstrip('/')}/{env.github_repository}".lower() + f":{version}"


def credentials(env: Environment) -> Credentials | None:
    if not env.image_registry_password:
        return None
    return Credentials(env.image_registry_username or env.github_actor or "token", env.image_registry_password)


def read_pushed(settings: Settings, version: str) -> PushedImage | None:
    """The image pushed for ``version``; None when none was (an image of another version is an error: push it again)."""
    path = settings.path(str(RELEASE_IMAGE_JSON))
    if not path.is_file():
        return None
    try:
        record = steps.read_current(settings, RELEASE_IMAGE_JSON, produced_by="push-image")
        pushed = PushedImage.model_validate({key: value for key, value in record.items() if key != "inputs"})
    except ValidationError as error:
        raise InputError(
            f"{RELEASE_IMAGE_JSON} is not an image record ({str(error).splitlines()[0]}); run `mlops push-image` again"
        ) from error
    if pushed.tag != version:
        raise InputError(f"{RELEASE_IMAGE_JSON} records the image of {pushed.tag}, this release is {version}: run `mlops push-image` again")
    own_image(settings.env, pushed.reference, where=str(RELEASE_IMAGE_JSON))
    return pushed


def own_image(env: Environment, reference: str, *, where: str) -> ImageRef:
    """``reference`` (``name@digest``) checked to be this repository's image: the registry credentials go to no other.

    A release record is written by whoever can publish a release, so what it names is checked before anything is written.
    """
    image = ImageRef.parse(reference)
    expected = image_name(env, "").rstrip(":")
    if not image.digest or image.name != expected:
        raise InputError(
            f"{where}: its image {reference[:200]!r} is not this repository's image by digest "
            f"({expected or 'no GITHUB_REPOSITORY'}@sha256:…); refusing to tag it {PRODUCTION_TAG}"
        )
    return image


def move_production(env: Environment, reference: str, *, where: str) -> Callable[[], None] | None:
    """Point ``production`` at ``reference`` (``name@digest``); returns how to put it back, None when nothing moved."""
    image = own_image(env, reference, where=where)
    with Registry(image.host, credentials(env)) as registry:
        before = registry.digest_of(image.repository, PRODUCTION_TAG)
        if not registry.tag(image.repository, image.digest, PRODUCTION_TAG):
            logger.info("%s:%s names %s already", image.name, PRODUCTION_TAG, image.digest[:19])
            return None
    logger.info("moved %s:%s to %s (from %s)", image.name, PRODUCTION_TAG, image.digest[:19], (before or "none")[:19])

    def restore() -> None:
        if before is None:  # the distribution API deletes manifests, not tags: a first `production` stays
            logger.warning("%s:%s was new and stays on %s (a registry cannot untag)", image.name, PRODUCTION_TAG, image.digest[:19])
            return
        with Registry(image.host, credentials(env)) as registry:
            registry.tag(image.repository, before, PRODUCTION_TAG)
        logger.info("put %s:%s back on %s", image.name, PRODUCTION_TAG, before[:19])

    return restore
