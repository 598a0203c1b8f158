"""Markdown a reviewer reads: the PR comment, the job summary, the evaluation report.

The PR comment is also a record the release reads back (:func:`find_reviewed`): it starts
with ``COMMENT_MARKER`` and ends with one hidden metrics block. Every text the project did not
write (paths, column names, data values, category names, gate settings, titles, dispatch reasons,
incident titles) goes through :func:`inert` (or :func:`inert_code`) wherever it is shown, here
and in the model card, the monitoring and DORA reports and the retraining PR: no value can write
a marker, a block, HTML, a table cell, a link, an image, a mention or an issue reference of its
own. Only comments the bot wrote are read back, and only their last line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import CheckFailed
from ..project import PROJECT
from .metric_catalog import HIGHER_IS_BETTER

# Hidden marker by which the PR comment is found and updated instead of duplicated.
COMMENT_MARKER = f"<!-- mlops-report:{PROJECT} -->"
# Hidden in the comment: the reviewed metrics, which the release checks the merged build against.
METRICS_BLOCK = "<!-- mlops-metrics:"
# One whole line; GitHub hands back bodies edited on the web with CRLF line ends.
_BLOCK = re.compile(rf"^{re.escape(METRICS_BLOCK)} (.*) -->\r?$", re.MULTILINE)
REVIEWED_KEYS = ("run_id", "head_sha", "workflow_run", "metrics")
# GitHub refuses issue and pull request comments longer than this (422).
MAX_COMMENT_CHARS = 65536
TRUNCATED = "*… report truncated, see the job summary.*"
MAX_CELL_CHARS = 200
MAX_EXAMPLE_CHARS = 60
# Characters a value must not bring into markdown: HTML (comments, tags, <autolinks>), table cells, code
# spans, links and images ([text](url), ![alt](url), [ref]: url), math ($…$).
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "&#124;",
        "`": "&#96;",
        "\\": "&#92;",
        "[": "&#91;",
        "]": "&#93;",
        "$": "&#36;",
    }
)
# Inside <code>, also what markdown would format, so that the value reads as it is.
_CODE_ESCAPES = str.maketrans({"*": "&#42;", "_": "&#95;", "~": "&#126;"})
# What GitHub makes live in text itself, after markdown: @mentions (which notify), #123, GH-123 and
# owner/repo#123 references (which link and leave a backlink), and URLs it autolinks (scheme://, www.,
# mailto:/xmpp: through an @). An invisible ZERO WIDTH SPACE after the @, the #, the dash, the colon or
# the www breaks each, as Dependabot writes `@&#8203;user` in the notes it copies.
ZERO_WIDTH_SPACE = "\u200b"
_LIVE = re.compile(r"@(?=\w)|#(?=\w)|(?<![\w-])gh-(?=\d)|:(?=//)|(?<![\w.])www(?=\.)", re.IGNORECASE)
# Characters that are not text: controls (escape sequences), and bidirectional controls that make text read otherwise than it is.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A link the project builds to a page of its own run: https, and no character that could end the link early.
_OWN_URL = re.compile(r"https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/+=&?#-]*)?|http://(127\.0\.0\.1|localhost)(:\d+)?(/[\w.~%/+=&?#-]*)?")


@dataclass(frozen=True)
class Reviewed:
    """What a pull request's reviewers saw: the run, the head commit it was built from, its metrics."""

    run_id: str
    head_sha: str
    workflow_run: str
    metrics: dict[str, float]
    comment_url: str


def inert(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """Text the project did not write, as markdown on GitHub shows it: it reads as it is and does nothing.

    One line (it may stand in a table cell), at most ``limit`` characters, no control characters; no
    HTML (so no hidden marker or comment), no cell separator, code span, link, image or math; no live
    @mention, issue reference or autolinked URL.
    """
    text = _NOT_TEXT.sub("", " ".join(str(value).split()))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _LIVE.sub(lambda found: found.group(0) + ZERO_WIDTH_SPACE, text).translate(_ESCAPES)


def inert_code(value: Any, limit: int = MAX_CELL_CHARS) -> str:
    """A value shown as code (a path, a column, a data value), made inert as :func:`inert`."""
    return f"<code>{inert(value, limit).translate(_CODE_ESCAPES)}</code>"


def link(label: str, url: str) -> str:
    """A link the project writes to a page it names (its own run): a plain https URL, else the label alone."""
    return f"[{inert(label)}]({url})" if _OWN_URL.fullmatch(url) else inert(label)


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return inert(value)
    return f"{value:.4f}"


def _count(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{int(value)}"


def _verdict(passed: bool) -> str:
    return "✅ pass" if passed else "❌ fail"


def metrics_block(*, run_id: str, head_sha: str, workflow_run: str, metrics: dict[str, float]) -> str:
    """The hidden line that records what was reviewed; ``<`` and ``>`` in it are JSON escapes, so it cannot end early."""
    payload = json.dumps({"run_id": run_id, "head_sha": head_sha, "workflow_run": workflow_run, "metrics": metrics}, allow_nan=True)
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"{METRICS_BLOCK} {payload} -->"


def find_reviewed(comments: list[dict], *, bot_logins: frozenset[str]) -> Reviewed | None:
    """The metrics reviewed on a pull request: the block on the last line of the last bot comment that starts with the marker.

    ``comments`` as the API lists them (oldest first). Only comments whose ``user.login`` is in
    ``bot_logins`` count: pass ``frozenset({"github-actions[bot]"})`` (``io.github.ACTIONS_BOT``)
    plus the ``<slug>[bot]`` login of an app token when the workflows use one. None when no such
    comment exists or the newest has no block (nothing was evaluated). A block that does not
    parse is a ``CheckFailed``: what was reviewed cannot be told, so nothing may be released on it.
    """
    ours = [
        comment
        for comment in comments
        if isinstance(comment, dict)
        and isinstance(comment.get("user"), dict)
        and comment["user"].get("login") in bot_logins
        and isinstance(comment.get("body"), str)
        and comment["body"].startswith(COMMENT_MARKER)
    ]
    if not ours:
        return None
    comment = ours[-1]
    url = str(comment.get("html_url") or comment.get("url") or f"comment {comment.get('id')}")
    # The block is the comment's last line (fit_comment keeps it there): a block-like line above it is not the record.
    last = comment["body"].rstrip().rsplit("\n", 1)[-1]
    blocks = _BLOCK.findall(last)
    if not blocks:
        return None

    def malformed(why: str) -> CheckFailed:
        return CheckFailed(f"the reviewed-metrics block in {url} is malformed ({why}): re-run the pull request's workflow")

    try:
        record = json.loads(blocks[-1])
    except ValueError as error:
        raise malformed(f"not JSON: {error.msg}") from None
    if not isinstance(record, dict):
        raise malformed(f"a JSON {type(record).__name__}, not an object")
    missing = [key for key in REVIEWED_KEYS if key not in record]
    if missing:
        raise malformed(f"missing {', '.join(missing)}")
    for key in ("run_id", "head_sha", "workflow_run"):
        if not isinstance(record[key], str):
            raise malformed(f"{key} is not a string")
    if not record["run_id"]:
        raise malformed("run_id is empty")
    metrics = record["metrics"]
    if not isinstance(metrics, dict):
        raise malformed("metrics is not an object")
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise malformed(f"metric {inert(name, 40)!r} is not a number")
    return Reviewed(
        run_id=record["run_id"],
        head_sha=record["head_sha"],
        workflow_run=record["workflow_run"],
        metrics={name: float(value) for name, value in metrics.items()},
        comment_url=url,
    )


def github_length(text: str) -> int:
    """Length as GitHub may count it: UTF-16 code units, never fewer than Python's characters."""
    return len(text.encode("utf-16-le")) // 2


def fit_comment(markdown: str, limit: int = MAX_COMMENT_CHARS) -> str:
    """The report cut to GitHub's comment limit, keeping the marker first and the metrics block last.

    Whole lines are dropped from the end of the body, and a line says the report was truncated.
    """
    if github_length(markdown) <= limit:
        return markdown
    lines = markdown.rstrip("\n").split("\n")
    tail = [line for line in lines[1:] if _BLOCK.fullmatch(line)][-1:]
    body = [line for line in lines[1:] if not _BLOCK.fullmatch(line)]
    head = lines[0]
    fixed = github_length("\n".join([head, "", TRUNCATED, "", *tail])) + 2
    kept, used = [], fixed
    for line in body:
        used += github_length(line) + 1
        if used > limit:
            break
        kept.append(line)
    return "\n".join([head, *kept, "", TRUNCATED, "", *tail]) + "\n"


def version_label(version: str) -> str:
    """Registry versions are numbers (``3`` → ``v3``); release tags already read ``v1.2.0``."""
    return version if str(version).startswith("v") else f"v{version}"


def validation_section(validation: dict[str, Any]) -> str:
    lines = [f"### Data checks — {_verdict(validation['passed'])}", ""]
    lines.append(f"{inert_code(validation['dataset'])}: {inert(validation['rows'])} rows × {inert(validation['columns'])} columns.")
    manifest = validation["manifest"]
    if manifest["problems"]:
        lines.append("")
        lines.extend(f"- ❌ manifest: {inert(problem)}" for problem in manifest["problems"])
    else:
        lines.append(f"Manifest {inert_code(manifest['path'])} matches (sha256, rows, schema).")
    if validation["failures"]:
        lines += ["", "| column | check | rows | examples |", "|---|---|---:|---|"]
        for failure in validation["failures"]:
            examples = ", ".join(inert_code(example, MAX_EXAMPLE_CHARS) for example in failure["examples"])
            rows = inert(failure["rows"]) if failure["rows"] else "—"
            lines.append(f"| {inert_code(failure['column'])} | {inert(failure['check'])} | {rows} | {examples} |")
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
    against = (
        f"champion **{inert(version_label(champion['version']))}**" if champion else "no champion yet (first model: absolute gates only)"
    )
    lines = [
        title,
        "",
        f"Challenger run {inert_code(str(challenger['run_id'])[:12])} vs {against}, "
        f"on a holdout of {inert(evaluation['holdout_rows'])} rows.",
    ]
    if evaluation.get("split"):
        lines.append(f"Holdout: {inert(evaluation['split'], 300)}.")
    baseline = evaluation.get("baseline") or {}
    lines += ["", "| metric | challenger | champion | Δ | baseline |", "|---|---:|---:|---:|---:|"]
    for metric, value in challenger["metrics"].items():
        reference = champion["metrics"].get(metric) if champion else None
        row = f"| {inert(metric)} | {_number(value)} | {_number(reference)} | {_delta(task, metric, value, reference)} |"
        lines.append(f"{row} {_number(baseline.get(metric))} |")
    if baseline:
        trivial = "the training split's positive rate for every row" if task == "binary_classification" else "the training mean"
        lines += ["", f"Baseline: a trivial model predicting {trivial}."]
    lines += ["", "#### Gates", "", "| gate | metric | verdict | detail |", "|---|---|---|---|"]
    for gate in evaluation["gates"]:
        lines.append(f"| {inert(gate['name'])} | {inert(gate['metric'])} | {_verdict(gate['passed'])} | {inert(gate['detail'])} |")
    fairness = evaluation.get("fairness")
    if fairness:
        groups = sorted({str(group) for values in fairness["groups"].values() for group in values})
        lines += ["", f"#### Fairness by {inert_code(fairness['attribute'])}", ""]
        lines += ["| metric | " + " | ".join(inert_code(group, MAX_EXAMPLE_CHARS) for group in groups) + " | gap |"]
        lines += ["|---|" + "---:|" * (len(groups) + 1)]
        for metric, values in fairness["groups"].items():
            by_group = {str(key): value for key, value in values.items()}
            cells = " | ".join(_count(by_group.get(group)) if metric == "rows" else _number(by_group.get(group)) for group in groups)
            lines.append(f"| {inert(metric)} | {cells} | {_number(fairness['gaps'].get(metric))} |")
        lines += [
            "",
            "Base rates differ between groups when the outcome itself does; recall and false-positive-rate gaps stay meaningful then.",
        ]
    return "\n".join(lines)


def pr_report(
    validation: dict[str, Any] | None,
    evaluation: dict[str, Any] | None,
    title: str,
    *,
    head_sha: str = "",
    workflow_run: str = "",
) -> str:
    """The whole report: marker, headline verdict, each section that has results, and the metrics block.

    ``head_sha``: the pull request's head commit the results were built from; ``workflow_run``:
    the URL of the Actions run that built them. Both go into the block the release reads back.
    """
    verdicts = [part["passed"] for part in (validation, evaluation) if part is not None]
    overall = all(verdicts) and bool(verdicts)
    failed_gates = [f"{gate['name']}:{gate['metric']}" for gate in (evaluation or {}).get("gates", []) if not gate["passed"]]
    headline = "all checks and gates passed" if overall else "changes requested by the pipeline"
    if failed_gates:
        headline += f" (failed gates: {inert(', '.join(failed_gates))})"
    parts = [COMMENT_MARKER, f"## {inert(title)} — {_verdict(overall)}", "", headline]
    if validation is not None:
        parts += ["", validation_section(validation)]
    if evaluation is not None:
        parts += ["", evaluation_section(evaluation)]
    if validation is None and evaluation is None:
        parts += ["", "No results yet: run `mlops validate`, `mlops train` and `mlops evaluate` first."]
    if evaluation is not None:
        challenger = evaluation["challenger"]
        block = metrics_block(run_id=challenger["run_id"], head_sha=head_sha, workflow_run=workflow_run, metrics=challenger["metrics"])
        parts += ["", block]
    return "\n".join(parts) + "\n"


def mermaid_label(value: object) -> str:
    """A label inside a Mermaid chart: a double quote ends a Mermaid string, and a backtick or angle bracket could leave the block."""
    return "".join(ch for ch in str(value) if ch.isalnum() or ch in " ._-:/")[:40] or "?"


def chart_value(value: Any, *, low: float = 0.0, high: float = 1e12) -> float | None:
    """A number read back from a history (a line anyone with push access to the reports branch may have written),
    fit for a chart: a real number from ``low`` to ``high``; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if low <= number <= high else None  # NaN fails both comparisons


def xychart(title: str, labels: list[str], y_axis: str, kind: str, values: list[str], *, more: Sequence[tuple[str, list[str]]] = ()) -> str:
    """A Mermaid ``xychart-beta`` block (GitHub draws it: no image host); ``y_axis`` as Mermaid reads it; ``more`` series drawn over it."""
    x_axis = ", ".join(f'"{mermaid_label(label)}"' for label in labels)
    series = "".join(f"    {other_kind} [{', '.join(other)}]\n" for other_kind, other in [(kind, values), *more])
    return f'```mermaid\nxychart-beta\n    title "{title}"\n    x-axis [{x_axis}]\n    y-axis {y_axis}\n{series}```\n'
