"""The model card published with every release (and the release notes)."""

from __future__ import annotations

import math
from typing import Any


def _value(value: Any) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.4f}"
    return str(value)


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
        f"# {project} {version}",
        "",
        description,
        "",
        "## Model details",
        "",
        f"- Version: **{version}** ({bump_reason})",
        f"- Task: {evaluation['task'].replace('_', ' ')}; estimator: `{training['estimator']}`",
        f"- Trained: {training['trained_at']} from commit `{sha[:12]}`; MLflow run `{challenger['run_id']}`",
        f"- Data snapshot digest: `{training['data_digest'][:16]}`",
        f"- Released by: {released_by}; {why}",
        f"- Replaces: {champion['version'] if champion else 'nothing (first model in production)'}",
        "",
        "## Parameters",
        "",
        "| parameter | value |",
        "|---|---|",
        *[f"| {name} | {_value(value)} |" for name, value in sorted(training["params"].items())],
        "",
        f"## Holdout metrics ({evaluation['holdout_rows']} most recent rows)",
        "",
        "| metric | this model | previous champion |",
        "|---|---:|---:|",
        *[
            f"| {name} | {_value(value)} | {_value(champion['metrics'].get(name, math.nan)) if champion else '—'} |"
            for name, value in challenger["metrics"].items()
        ],
        "",
        "## Gates",
        "",
        *[f"- {'✅' if gate['passed'] else '❌'} {gate['name']}: {gate['detail']}" for gate in evaluation["gates"]],
    ]
    fairness = evaluation.get("fairness")
    if fairness:
        lines += ["", f"## Fairness by `{fairness['attribute']}`", ""]
        for metric, groups in fairness["groups"].items():
            per_group = ", ".join(f"{group} {_value(value)}" for group, value in groups.items())
            lines.append(f"- {metric}: {per_group} (gap {_value(fairness['gaps'].get(metric, math.nan))})")
    lines += [
        "",
        "## Intended use and limits",
        "",
        "Scores the rows described by the schema in `confs/data.yaml`. The sensitive attribute is",
        "never a feature; its gaps above are gated. Re-check the card when the data's population changes.",
    ]
    return "\n".join(lines) + "\n"
