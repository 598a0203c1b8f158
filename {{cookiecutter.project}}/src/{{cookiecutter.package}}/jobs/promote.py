"""``mlops promote``: make the evaluated challenger the champion in the local registry."""

from __future__ import annotations

import logging

from ..config import Settings
from ..errors import CheckFailed, InputError
from ..io import tracking
from ..jobs import METRICS_JSON, steps

logger = logging.getLogger(__name__)


def run(settings: Settings) -> str:
    evaluation = steps.read_current(settings, METRICS_JSON, produced_by="evaluate")
    if not evaluation["passed"]:
        raise CheckFailed(f"the challenger failed its gates ({METRICS_JSON}); refusing to promote it")
    version = evaluation["challenger"].get("version")
    if not version:
        raise InputError(f"{METRICS_JSON}: the challenger has no registered model version to promote")
    tracking.set_champion(settings, version)
    logger.info("%s v%s is now the champion", settings.tracking.registered_model, version)
    return version
