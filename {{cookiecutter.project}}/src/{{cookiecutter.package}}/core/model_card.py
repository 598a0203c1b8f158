"""The model card published with every release (and the release notes).

Everything from outside the project's own text (the dispatch reason, who released it, parameter
values, group names of the sensitive attribute, gate details) is shown through ``core.report.inert``:
the card is the release's body, and nothing in it may mention, link, embed or hide a marker.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .report import inert, inert_code

# How the release job says the model was reviewed: the pull request's URL from GitHub's own answer, which
# GitHub links. Only a plain URL passes as it is (nothing in it can end the link or start markup).
_REVIEWED_IN = re.compile(r"reviewed in https://[A-Za-z0-9.-]+(:\d+)?/[A-Za-z0-9._~%/-]*")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.4f}"
    return inert(value)


def _why(why: str) -> str:
    """The pull request the metrics were reviewed in, linked; any other reason (a person's words) inert."""
    return why if _REVIEWED_IN.fullmatch(why) else inert(why, 500)


def model_card(
    *,
    project: str,
    description: str,
    version: str,
    bump_reason: str,
    training: dict[str, Any],
    evaluation: dict[str, Any],
    sha: str,
    released_by: str,
    why: str,
) -> str:
    """Markdown: what the model is, how it was made, how well and how fairly it performs."""
    challenger = evaluation["challenger"]
    champion = evaluation.get("champion")
    lines = [
        f"# {inert(project)} {inert(version)}",
        "",
        description,
        "",
        "## Model details",
        "",
        f"- Version: **{inert(version)}** ({inert(bump_reason)})",
        f"- Task: {inert(evaluation['task'].replace('_', ' '))}; estimator: {inert_code(training['estimator'])}",
        f"- Trained: {inert(training['trained_at'])} from commit {inert_code(sha[:12])}; MLflow run {inert_code(challenger['run_id'])}",
        f"- Data snapshot digest: {inert_code(training['data_digest'][:16])}",
        f"- Released by: {inert(released_by)}; {_why(why)}",
        f"- Replaces: {inert(champion['version']) if champion else 'nothing (first model in production)'}",
        "",
        "## Parameters",
        "",
        "| parameter | value |",
        "|---|---|",
        *[f"| {inert(name)} | {_value(value)} |" for name, value in sorted(training["params"].items())],
        "",
        f"## Holdout metrics ({inert(evaluation['holdout_rows'])} most recent rows)",
        "",
        "| metric | this model | previous champion |",
        "|---|---:|---:|",
        *[
            f"| {inert(name)} | {_value(value)} | {_value(champion['metrics'].get(name, math.nan)) if champion else '—'} |"
            for name, value in challenger["metrics"].items()
        ],
        "",
        "## Gates",
        "",
        *[f"- {'✅' if gate['passed'] else '❌'} {inert(gate['name'])}: {inert(gate['detail'], 300)}" for gate in evaluation["gates"]],
    ]
    fairness = evaluation.get("fairness")
    if fairness:
        lines += ["", f"## Fairness by {inert_code(fairness['attribute'])}", ""]
        for metric, groups in fairness["groups"].items():
            per_group = ", ".join(f"{inert_code(group, 60)} {_value(value)}" for group, value in groups.items())
            lines.append(f"- {inert(metric)}: {per_group} (gap {_value(fairness['gaps'].get(metric, math.nan))})")
    lines += [
        "",
        "## Intended use and limits",
        "",
        "Scores the rows described by the schema in `confs/data.yaml`. The sensitive attribute is",
        "never a feature; its gaps above are gated. Re-check the card when the data's population changes.",
    ]
    return "\n".join(lines) + "\n"
