"""Markdown a reviewer reads: the PR comment, the job summary, the evaluation report."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..project import PROJECT
from .metric_catalog import HIGHER_IS_BETTER

# Hidden marker by which the PR comment is found and updated instead of duplicated.
COMMENT_MARKER = f"<!-- mlops-report:{PROJECT} -->"
# Hidden in the comment: the reviewed metrics, which the release checks the merged build against.
METRICS_BLOCK = "<!-- mlops-metrics:"


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.4f}"


def _verdict(passed: bool) -> str:
    return "✅ pass" if passed else "❌ fail"


def reviewed_metrics(markdown: str) -> dict[str, Any] | None:
    """The reviewed metrics hidden in a report this module rendered, or None when there are none."""
    if COMMENT_MARKER not in markdown:
        return None
    found = re.search(rf"{re.escape(METRICS_BLOCK)} (.*?) -->", markdown)
    return json.loads(found.group(1)) if found else None


def version_label(version: str) -> str:
    """Registry versions are numbers (``3`` → ``v3``); release tags already read ``v1.2.0``."""
    return version if str(version).startswith("v") else f"v{version}"


def validation_section(validation: dict[str, Any]) -> str:
    lines = [f"### Data checks — {_verdict(validation['passed'])}", ""]
    lines.append(f"`{validation['dataset']}`: {validation['rows']} rows × {validation['columns']} columns.")
    manifest = validation["manifest"]
    if manifest["problems"]:
        lines.append("")
        lines.extend(f"- ❌ manifest: {problem}" for problem in manifest["problems"])
    else:
        lines.append(f"Manifest `{manifest['path']}` matches (sha256, rows, schema).")
    if validation["failures"]:
        lines += ["", "| column | check | rows | examples |", "|---|---|---:|---|"]
        for failure in validation["failures"]:
            examples = ", ".join(f"`{example}`" for example in failure["examples"])
            lines.append(f"| `{failure['column']}` | {failure['check']} | {failure['rows'] or '—'} | {examples} |")
    return "\n".join(lines)


def _delta(task: str, metric: str, challenger: float, champion: float | None) -> str:
    if champion is None or math.isnan(champion) or math.isnan(challenger):
        return "—"
    delta = challenger - champion
    if delta == 0:
        return "="
    better = delta > 0 if HIGHER_IS_BETTER[task][metric] else delta < 0
    return f"{'▲' if delta > 0 else '▼'} {delta:+.4f} {'🟢' if better else '🔴'}"


def evaluation_section(evaluation: dict[str, Any]) -> str:
    task = evaluation["task"]
    challenger = evaluation["challenger"]
    champion = evaluation.get("champion")
    title = f"### Model — {_verdict(evaluation['passed'])}"
    against = f"champion **{version_label(champion['version'])}**" if champion else "no champion yet (first model: absolute gates only)"
    lines = [
        title,
        "",
        f"Challenger run `{challenger['run_id'][:12]}` vs {against}, on a holdout of {evaluation['holdout_rows']} rows.",
        "",
    ]
    lines += ["| metric | challenger | champion | Δ |", "|---|---:|---:|---:|"]
    for metric, value in challenger["metrics"].items():
        reference = champion["metrics"].get(metric) if champion else None
        lines.append(f"| {metric} | {_number(value)} | {_number(reference)} | {_delta(task, metric, value, reference)} |")
    lines += ["", "#### Gates", "", "| gate | metric | verdict | detail |", "|---|---|---|---|"]
    for gate in evaluation["gates"]:
        lines.append(f"| {gate['name']} | {gate['metric']} | {_verdict(gate['passed'])} | {gate['detail']} |")
    fairness = evaluation.get("fairness")
    if fairness:
        groups = sorted({group for values in fairness["groups"].values() for group in values})
        lines += ["", f"#### Fairness by `{fairness['attribute']}`", ""]
        lines += ["| metric | " + " | ".join(groups) + " | gap |", "|---|" + "---:|" * (len(groups) + 1)]
        for metric, values in fairness["groups"].items():
            cells = " | ".join(_number(values.get(group)) for group in groups)
            lines.append(f"| {metric} | {cells} | {_number(fairness['gaps'][metric])} |")
    return "\n".join(lines)


def pr_report(validation: dict[str, Any] | None, evaluation: dict[str, Any] | None, title: str) -> str:
    """The whole report: marker, headline verdict, then each section that has results."""
    verdicts = [part["passed"] for part in (validation, evaluation) if part is not None]
    overall = all(verdicts) and bool(verdicts)
    failed_gates = [f"{gate['name']}:{gate['metric']}" for gate in (evaluation or {}).get("gates", []) if not gate["passed"]]
    headline = "all checks and gates passed" if overall else "changes requested by the pipeline"
    if failed_gates:
        headline += f" (failed gates: {', '.join(failed_gates)})"
    parts = [COMMENT_MARKER, f"## {title} — {_verdict(overall)}", "", headline]
    if validation is not None:
        parts += ["", validation_section(validation)]
    if evaluation is not None:
        parts += ["", evaluation_section(evaluation)]
    if validation is None and evaluation is None:
        parts += ["", "No results yet: run `mlops validate`, `mlops train` and `mlops evaluate` first."]
    if evaluation is not None:
        reviewed = {"run_id": evaluation["challenger"]["run_id"], "metrics": evaluation["challenger"]["metrics"]}
        parts += ["", f"{METRICS_BLOCK} {json.dumps(reviewed, allow_nan=True)} -->"]
    return "\n".join(parts) + "\n"
