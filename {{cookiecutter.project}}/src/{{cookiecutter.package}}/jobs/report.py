"""``mlops report``: the markdown for the PR comment and the job summary."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..core.report import pr_report
from ..errors import InputError
from ..io.artifacts import append_step_summary, read_json, write_all
from ..jobs import METRICS_JSON, PR_REPORT_MD, VALIDATION_JSON


def _optional(path: Path, produced_by: str) -> dict | None:
    return read_json(path, produced_by=produced_by) if path.exists() else None


def run(settings: Settings, title: str) -> str:
    validation = _optional(settings.path(str(VALIDATION_JSON)), "validate")
    evaluation = _optional(settings.path(str(METRICS_JSON)), "evaluate")
    if validation is None and evaluation is None:
        raise InputError(
            f"nothing to report: neither {VALIDATION_JSON} nor {METRICS_JSON} exists; run `mlops validate` and `mlops evaluate` first"
        )
    markdown = pr_report(validation, evaluation, title, head_sha=settings.env.pr_head_sha, workflow_run=settings.env.run_url)
    write_all({settings.path(str(PR_REPORT_MD)): markdown})
    append_step_summary(markdown, settings.env.github_step_summary)
    return markdown
