"""``mlops report``: the markdown for the PR comment and the job summary."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..core.report import pr_report
from ..errors import InputError
from ..io.artifacts import append_step_summary, remove, write_all
from ..jobs import METRICS_JSON, PR_REPORT_MD, VALIDATION_JSON, steps


def _optional(settings: Settings, relative: Path, produced_by: str) -> dict | None:
    """An earlier verb's result when it ran; refused when it was made from other data or config."""
    return steps.read_current(settings, relative, produced_by=produced_by) if settings.path(str(relative)).exists() else None


def run(settings: Settings, title: str) -> str:
    remove(settings.path(str(PR_REPORT_MD)))
    validation = _optional(settings, VALIDATION_JSON, "validate")
    evaluation = _optional(settings, METRICS_JSON, "evaluate")
    if validation is None and evaluation is None:
        raise InputError(
            f"nothing to report: neither {VALIDATION_JSON} nor {METRICS_JSON} exists; run `mlops validate` and `mlops evaluate` first"
        )
    markdown = pr_report(validation, evaluation, title, head_sha=settings.env.pr_head_sha, workflow_run=settings.env.run_url)
    write_all({settings.path(str(PR_REPORT_MD)): markdown})
    append_step_summary(markdown, settings.env.github_step_summary)
    return markdown
