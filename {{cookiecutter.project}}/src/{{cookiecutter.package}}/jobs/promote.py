"""``mlops promote``: make the evaluated challenger the champion in the local registry."""

from __future__ import annotations

import logging

from {{ cookiecutter.package }}.config import Settings
from {{ cookiecutter.package }}.errors import CheckFailed, InputError
from {{ cookiecutter.package }}.io import tracking
from {{ cookiecutter.package }}.io.artifacts import read_json
from {{ cookiecutter.package }}.jobs import METRICS_JSON

logger = logging.getLogger(__name__)


def run(settings: Settings) -> str:
    evaluation = read_json(settings.path(str(METRICS_JSON)), produced_by="evaluate")
    if not evaluation["passed"]:
        raise CheckFailed(f"the challenger failed its gates ({METRICS_JSON}); refusing to promote it")
    version = evaluation["challenger"].get("version")
    if not version:
        raise InputError(f"{METRICS_JSON}: the challenger has no registered model version to promote")
    tracking.set_champion(settings, version)
    logger.info("%s v%s is now the champion", settings.tracking.registered_model, version)
    return version
