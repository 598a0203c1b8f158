"""``mlops validate``: schema checks on the pinned data and the manifest hash check."""

from __future__ import annotations

import logging

from ..config import Settings
from ..core.report import validation_section
from ..errors import CheckFailed
from ..io.artifacts import remove, to_json, write_all
from ..jobs import VALIDATION_JSON, VALIDATION_MD
from . import steps

logger = logging.getLogger(__name__)


def run(settings: Settings) -> dict:
    """Write the validation report (md + json); raise ``CheckFailed`` when the data fails.

    When the data passes, also leave what was verified for `mlops train` and `mlops evaluate`
    (``steps.verified_outputs``); when it fails, remove what an earlier pass left.
    """
    remove(settings.path(str(VALIDATION_JSON)), settings.path(str(VALIDATION_MD)))
    check = steps.check_data(settings)
    result = {
        "dataset": settings.data.path,
        "rows": check.rows,
        "columns": check.columns,
        "passed": check.passed,
        "manifest": {"path": settings.data.manifest, "problems": check.manifest_problems},
        "failures": [vars(failure) for failure in check.failures],
    }
    steps.forget_verified(settings)
    write_all(
        {
            settings.path(str(VALIDATION_JSON)): to_json(steps.stamped(result, settings)),
            settings.path(str(VALIDATION_MD)): validation_section(result) + "\n",
            **steps.verified_outputs(settings, check),
        }
    )
    if not check.passed:
        raise CheckFailed(f"data failed validation: {'; '.join(check.reasons())} (report: {VALIDATION_MD})")
    logger.info("data passed validation: %d rows, %d columns", check.rows, check.columns)
    return result
