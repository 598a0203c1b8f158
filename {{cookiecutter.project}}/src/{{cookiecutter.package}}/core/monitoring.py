"""What the scheduled monitor concludes, and the markdown a reader of its report sees.

Pure: the drift result (``core.drift``), the champion's metrics on labelled production rows
and its age in, a verdict ("retraining due: yes/no, because …") and markdown out. Charts are
Mermaid, which GitHub renders itself: no image host.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .metric_catalog import HIGHER_IS_BETTER
from .metrics import score
from .report import _count, _number, chart_value, inert, inert_code, link, xychart

HISTORY_SHOWN = 20  # runs in the trend chart
TOP_FEATURES = 10  # columns in the "most drifted" chart
CHART_SCORE_CAP = 10.0  # scores above it (a p-value of 0 scores infinity) are drawn at it, their label saying so
# Each test as a reader knows it, and the comparison that makes it drift (see core.drift.METHODS).
TESTS = {
    "ks": ("K-S", "p ≤"),
    "chisquare": ("chi-square", "p <"),
    "z": ("z-test", "p <"),
    "wasserstein": ("Wasserstein (normed)", "distance ≥"),
    "jensenshannon": ("Jensen-Shannon", "distance ≥"),
    "psi": ("PSI", "distance ≥"),
}
P_VALUE_METHODS = frozenset({"ks", "chisquare", "z"})  # drifted below the threshold; the others above it
# Bounds of a history entry: beyond them it was not written by `mlops drift`.
MAX_NAME = 1000  # a champion's tag, a column's name
MAX_COLUMNS = 10_000
MAX_ROWS = 10**12
MAX_VERDICT = 4000


@dataclass(frozen=True)
class Decay:
    """A metric of the champion on labelled production rows against the value it was released with.

    ``low``/``high``: the 95 % bootstrap interval of ``current``. Decayed only when even the
    favourable end of it is worse than the release by more than the tolerance, so that the
    sampling noise of a small batch is not read as decay.
    """

    metric: str
    released: float
    current: float
    low: float
    high: float
    tolerance: float
    decayed: bool


BOOTSTRAP_ROUNDS = 200


def bootstrap_intervals(
    task: str,
    y_true: np.ndarray,
    prediction: np.ndarray,
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
    metrics: Collection[str] | None = None,
) -> dict[str, tuple[float, float]]:
    """The 2.5 and 97.5 percentiles of each metric (or of ``metrics`` only) over ``rounds`` resamples of the rows (seeded)."""
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        rows = rng.integers(0, len(y_true), len(y_true))
        for metric, value in score(task, y_true[rows], prediction[rows], only=metrics).items():
            if math.isfinite(value):
                samples.setdefault(metric, []).append(value)
    return {metric: (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))) for metric, values in samples.items()}


def decay(
    task: str,
    released: dict[str, float],
    current: dict[str, float],
    tolerances: dict[str, float],
    intervals: dict[str, tuple[float, float]] | None = None,
) -> list[Decay]:
    """Each gated metric (``max_regression``) the release recorded, decayed when worse by more than its tolerance."""
    found = []
    for metric, tolerance in tolerances.items():
        if metric not in released or metric not in current or not math.isfinite(current[metric]):
            continue
        low, high = (intervals or {}).get(metric, (current[metric], current[metric]))
        higher = HIGHER_IS_BETTER[task][metric]
        # The favourable end of the interval: the best the current value could plausibly be.
        best = high if higher else low
        worse_by = (released[metric] - best) if higher else (best - released[metric])
        found.append(Decay(metric, released[metric], current[metric], low, high, tolerance, decayed=worse_by > tolerance))
    return found


def dataset_drift(columns: list[dict[str, Any]], drift_share: float) -> tuple[list[str], float, bool]:
    """The data columns that drifted, their share of the data columns, and whether the data set drifts:
    when at least ``drift_share`` of them drift (confs/monitor.yaml ``drift.share``, evidently's rule)."""
    drifted = [str(column["column"]) for column in columns if column["drifted"]]
    share = len(drifted) / len(columns) if columns else 0.0
    return drifted, share, bool(columns) and share >= drift_share


@dataclass
class Verdict:
    due: bool
    reasons: list[str] = field(default_factory=list)  # why retraining is due
    notes: list[str] = field(default_factory=list)  # findings that do not make it due (switched off in the conf)

    @property
    def line(self) -> str:
        if self.due:
            return "retraining due: yes, because " + "; ".join(self.reasons)
        return "retraining due: no" + (f" ({'; '.join(self.notes)})" if self.notes else "")


def verdict(
    *,
    dataset_drift: bool,
    drifted: list[str],
    share: float,
    prediction_drifted: bool,
    decayed: list[Decay],
    age_days: float | None,
    max_age_days: int | None,
    when: dict[str, bool],
) -> Verdict:
    """Retraining is due when a finding the conf counts (``retrain_when``) is present."""
    result = Verdict(due=False)

    def found(switch: str, reason: str) -> None:
        (result.reasons if when.get(switch, True) else result.notes).append(reason)

    if dataset_drift:
        found("dataset_drift", f"{len(drifted)} of the monitored columns drifted ({percent(share)})")
    if prediction_drifted:
        found("prediction_drift", "the champion's predictions drifted")
    if decayed:
        found("decay", "the champion decayed on labelled production rows (" + ", ".join(d.metric for d in decayed) + ")")
    if max_age_days is not None and age_days is not None and age_days > max_age_days:
        result.reasons.append(f"the champion is {age_days:.0f} days old (max {max_age_days})")
    result.due = bool(result.reasons)
    return result


class HistoryEntry(BaseModel):
    """One run in ``drift/history.jsonl``, typed and bounded.

    The job that appends it may write contents and takes it from the drift job's artifact, which was
    made while parsing production data: what it writes is checked here, not trusted.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    checked_at: str = Field(max_length=40)
    champion: str | None = Field(default=None, max_length=MAX_NAME)
    rows: int | None = Field(default=None, ge=0, le=MAX_ROWS)
    share: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    dataset_drift: bool | None = None
    drifted: list[Annotated[str, Field(max_length=MAX_NAME)]] | None = Field(default=None, max_length=MAX_COLUMNS)
    due: bool
    run_url: str | None = Field(default=None, max_length=500)

    @field_validator("checked_at")
    @classmethod
    def _a_time(cls, value: str) -> str:
        datetime.fromisoformat(value)  # ValueError: pydantic names the field
        return value


def history_entry(summary: dict[str, Any]) -> dict[str, Any]:
    """The line a run appends to the history on the reports branch: small, and nothing the data wrote but column names."""
    return {key: summary.get(key) for key in HistoryEntry.model_fields}


def checked_history_entry(summary: dict[str, Any]) -> dict[str, Any]:
    """``history_entry``, validated as a :class:`HistoryEntry`: ``ValueError`` (pydantic's) naming the field otherwise."""
    given = {key: value for key, value in history_entry(summary).items() if value is not None}
    return HistoryEntry.model_validate(given).model_dump()


def trend_chart(history: list[dict[str, Any]]) -> str:
    """The share of drifted columns over the last runs, as a Mermaid line chart."""
    runs = [(entry, share) for entry in history for share in [chart_value(entry.get("share"), high=1.0)] if share is not None]
    runs = runs[-HISTORY_SHOWN:]
    if len(runs) < 2:
        return ""
    return xychart(
        "Drifted columns (%) per run",
        [str(entry.get("checked_at", ""))[:10] for entry, _ in runs],
        '"drifted %" 0 --> 100',
        "line",
        [f"{100 * share:.0f}" for _, share in runs],
    )


def drift_score(column: dict[str, Any]) -> float | None:
    """How far a column is past its threshold, on one scale whatever its test: 1 at the threshold, more is further.

    A distance scores distance ÷ threshold; a p-value log p ÷ log threshold (at 0.05, p = 0.0025 scores 2),
    so that both grow with the evidence of drift; a p-value of 0 scores infinity. None when no test ran.
    """
    statistic, threshold = column.get("statistic"), column.get("threshold")
    if column.get("method") not in TESTS or chart_value(statistic) is None or not chart_value(threshold):
        return None
    if column["method"] in P_VALUE_METHODS:
        if threshold >= 1:
            return None  # no scale: every p-value is below such a threshold
        return math.inf if statistic == 0 else max(math.log(statistic) / math.log(threshold), 0.0)
    return statistic / threshold


def top_drift_chart(columns: list[dict[str, Any]]) -> str:
    """The most drifted columns' scores as bars from 0, the threshold (1) as a line; scores past the cap drawn at it."""
    scored = [(column, score) for column in columns if column.get("drifted") for score in [drift_score(column)] if score is not None]
    ranked = sorted(scored, key=lambda item: item[1], reverse=True)[:TOP_FEATURES]
    if not ranked:
        return ""
    cap = CHART_SCORE_CAP
    drawn = [min(score, cap) for _, score in ranked]
    return xychart(
        "Most drifted columns: drift score (1 = its threshold)",
        [f"{column['column']}" + (f" over {cap:.0f}" if score > cap else "") for column, score in ranked],
        f'"score" 0 --> {max(2, math.ceil(max(drawn)))}',
        "bar",
        [f"{value:.2f}" for value in drawn],
        more=[("line", ["1"] * len(ranked))],
    )


def _statistic(column: dict[str, Any]) -> str:
    """The raw statistic, named for what it is: "p = 0.0003" or "distance 0.36"."""
    statistic = column.get("statistic")
    if column.get("method") not in TESTS or chart_value(statistic) is None:
        return "—"
    if column["method"] in P_VALUE_METHODS:
        return "p ≈ 0" if statistic == 0 else f"p = {statistic:.2g}" if statistic < 0.001 else f"p = {statistic:.4f}"
    return f"distance {statistic:.4f}"


def _drifts_when(column: dict[str, Any]) -> str:
    test, threshold = TESTS.get(column.get("method", "")), chart_value(column.get("threshold"))
    return f"{test[1]} {threshold:g}" if test and threshold is not None else "—"


def _score(column: dict[str, Any]) -> str:
    score = drift_score(column)
    return "—" if score is None else "∞" if math.isinf(score) else f"{score:.2f}×"


def drift_markdown(summary: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """The job summary and the report on the reports branch."""
    lines = [f"## Monitoring: {'🔁 retraining due' if summary['due'] else '✅ no retraining due'}", ""]
    if summary.get("nothing_to_check"):
        return "\n".join([*lines, inert(summary["nothing_to_check"]), ""])
    lines.append(inert(summary["verdict"], limit=1000))
    lines.append("")
    champion = summary.get("champion") or "none"
    lines.append(
        f"Champion {inert_code(champion)}"
        + (f", released {summary['champion_age_days']:.0f} days ago" if summary.get("champion_age_days") is not None else "")
        + f". Production rows checked: {summary.get('rows', 0)} from {len(summary.get('files', []))} file(s)"
        + (f", window {inert(summary['window'])}" if summary.get("window") else "")
        + "."
    )
    lines.append("")
    columns = summary.get("columns", [])
    if columns:
        data_columns = [column for column in columns if column.get("column") != "prediction"]
        predictions = "drifted" if summary.get("prediction_drifted") else "stable"
        lines += [
            f"### Drift: {len(summary.get('drifted', []))} of {len(data_columns)} data columns "
            f"({percent(summary.get('share', 0))}; dataset drift at ≥ {percent(summary.get('drift_share', 0.5))}); "
            f"the champion's predictions {predictions}",
            "",
            "Score: how far a column is past its own threshold, on one scale whatever the test (1× is the threshold): "
            "a distance ÷ its threshold, or log p ÷ log threshold for a p-value (at 0.05, p = 0.0025 scores 2×).",
            "",
            "| column | test | statistic | drifts when | score | drifted | nulls (ref → now) | new categories |",
            "|---|---|---:|---:|---:|:---:|---:|---|",
        ]
        for column in sorted(columns, key=lambda c: (not c.get("drifted"), str(c.get("column")))):
            new = ", ".join(inert_code(value, 40) for value in column.get("new_categories", [])[:5])
            test = TESTS[column["method"]][0] if column.get("method") in TESTS else inert(column.get("method", ""))
            lines.append(
                f"| {inert_code(column['column'])} | {test} | {_statistic(column)} "
                f"| {_drifts_when(column)} | {_score(column)} | {'⚠️' if column.get('drifted') else '—'} "
                f"| {percent(column.get('reference_null_rate', 0), 1)} → {percent(column.get('current_null_rate', 0), 1)} | {new} |"
            )
        lines.append("")
        if len(data_columns) < len(columns):
            lines += [
                "The champion's predictions were profiled on its holdout; they are judged with the test a column "
                "of the training data's size gets, as the features are.",
                "",
            ]
        html = summary.get("html_report")
        if isinstance(html, dict) and chart_value(html.get("columns")) is not None:
            compared = int(html["columns"])
            same = f"the same {compared}" if compared == len(data_columns) else f"{compared} of these {len(data_columns)}"
            lines += [
                f"evidently's interactive report ({inert_code(html.get('path', ''))}) compares {same} data columns "
                f"on samples of {_count(html.get('sample_rows'))} rows: {_count(html.get('drifted'))} drifted there.",
                "",
            ]
    chart = top_drift_chart(columns)
    if chart:
        lines += [chart]
    decays = summary.get("decay", [])
    if decays:
        lines += [
            f"### Performance on {summary.get('labelled_rows', 0)} labelled production rows",
            "",
            "| metric | at release | now (95% interval) | tolerance | decayed |",
            "|---|---:|---:|---:|:---:|",
        ]
        lines += [
            f"| {inert(d['metric'])} | {_number(d['released'])} | {_number(d['current'])} ({_number(d['low'])}–{_number(d['high'])}) "
            f"| {_number(d['tolerance'])} "
            f"| {'⚠️' if d['decayed'] else '—'} |"
            for d in decays
        ]
        lines.append("")
    elif summary.get("labelled_rows") == 0:
        lines += ["No labelled production rows yet: performance decay not measured.", ""]
    violations = summary.get("violations", [])
    if violations:
        lines += [f"### Schema violations ({summary.get('rows_refused', 0)} rows left out)", ""]
        lines += [f"- {inert(violation, 300)}" for violation in violations[:20]]
        lines.append("")
    trend = trend_chart([*history, history_entry(summary)])
    if trend:
        lines += ["### Trend", "", trend]
    if summary.get("run_url"):
        lines.append(link("Monitoring run", str(summary["run_url"])))
    return "\n".join(lines) + "\n"


def percent(value: float, digits: int = 0) -> str:
    return format(value, f".{digits}%")


def as_dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]
