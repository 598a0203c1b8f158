"""DORA metrics of this model's delivery, from events read off GitHub (pure: no I/O).

Definitions follow dora-team/fourkeys (its dashboard queries); where this differs, ``DEFINITIONS``
and ``DEVIATIONS`` say so, and the report prints both.

- deployment: a production deployment that reached ``success`` (GitHub marks a deployment
  ``inactive`` once a newer one succeeds: that stays a deployment); its time is its first success
  status; a rollback is one;
- lead time for changes: median over (deployment, change) pairs of deployment time − change time,
  pairs with a non-positive value ignored (fourkeys: "ignore automated pushes");
- deployment frequency: deployments per week and per day over the window, and fourkeys' bucket
  (Daily when the median week has ≥ 3 days with a deployment, Weekly when most weeks have one,
  Monthly when the median week's month has ≥ 1 week with one, Yearly otherwise);
- change failure rate: failed deployments over deployments (attempts: reached success, failure or
  error). A failure is a deployment whose changes include an incident's root cause, a deployment
  whose latest status is failure or error, or one followed by a rollback; fourkeys counts only the
  first kind, over successful deployments: both are reported;
- failed deployment recovery time: median over incidents closed in the window of closed − the
  earlier of opened and the deployment that shipped the root cause; open incidents are listed,
  not counted;
- data-change lead time (ML): a commit changing the data manifest → the deployment that shipped it;
  model vs code: whether each deployment's release changed the model (its payload says).

Incidents: the incident issue form labels an issue from anyone, so by default (``incident_authors:
triage`` in ``confs/dora.yaml``) an incident counts only when GitHub says its author is the owner, a
member or a collaborator (``author_association``), or when whoever last added the label has at least
triage access (:func:`last_labeller`, :func:`can_triage`); the others are listed, not counted.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from ..errors import InputError
from .report import chart_value, inert, inert_code, link, xychart

REPORT_YEAR = 2023
REPORT = f"Accelerate State of DevOps {REPORT_YEAR}"
ELITE, HIGH, MEDIUM, LOW = "elite", "high", "medium", "low"
NOT_ENOUGH = "not enough data"
HOUR, DAY, WEEK, MONTH = 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0
SUCCESS_STATES = frozenset({"success"})
FAILED_STATES = frozenset({"failure", "error"})
# GitHub sets inactive on a deployment a newer one replaced: it does not undo that it went out.
INACTIVE = "inactive"
HISTORY_SHOWN = 20
IGNORED_SHOWN = 20  # incidents not counted, listed by number in the report

# The report's clusters, made contiguous (each upper bound is the next level's lower one). The
# 2023 report gives ranges that overlap (its low and medium share a frequency and a lead time):
# the bounds here are where one level ends and the next begins.
THRESHOLDS: dict[str, list[tuple[str, str]]] = {
    "deployment_frequency": [
        (ELITE, "≥ 1 a day (on demand)"),
        (HIGH, "≥ 1 a week"),
        (MEDIUM, "≥ 1 a month"),
        (LOW, "fewer"),
    ],
    "lead_time": [(ELITE, "< 1 day"), (HIGH, "< 1 week"), (MEDIUM, "< 1 month"), (LOW, "longer")],
    "change_failure_rate": [(ELITE, "≤ 5%"), (HIGH, "≤ 10%"), (MEDIUM, "≤ 15%"), (LOW, "more")],
    "recovery_time": [(ELITE, "< 1 hour"), (HIGH, "< 1 day"), (MEDIUM, "< 1 week"), (LOW, "longer")],
}

DEFINITIONS = {
    "deployment": "a production deployment that reached `success` (later `inactive` included: GitHub sets it when a newer one "
    "succeeds); its time is its first success status; a rollback counts as one",
    "lead_time": "median over (deployment, change) pairs of deployment time − the change's author time, non-positive values "
    "ignored; a change that came through a pull request is each of that pull request's own commits",
    "deployment_frequency": "deployments over the window, per week and per day; fourkeys' bucket: Daily when the median week has "
    "≥ 3 days with a deployment, Weekly when the median week has one, Monthly when the median week's month has ≥ 1, else Yearly",
    "change_failure_rate": "failed deployments over deployments (attempts that reached success, failure or error); a failure ships an "
    "incident's root cause, ends in failure or error, or is followed by a rollback. fourkeys': only the first kind, over successes",
    "recovery_time": "median over incidents closed in the window of closed − the earlier of opened and the deployment that shipped "
    "the root cause; open incidents listed, not counted",
    "data_change_lead_time": "median of deployment time − author time of each commit that changed the data manifest, paired with the "
    "deployment that shipped it",
}
DEVIATIONS = [
    "The clock of a change is its author time (when the work was written; rebases and squashes keep it), not the push time fourkeys "
    "receives: a squash merge's own commit is replaced by the pull request's commits.",
    "Frequency buckets count days from the window's start, not from the first event fourkeys stored; weeks start on Sunday as "
    "BigQuery's WEEK does.",
    "Change failure rate also counts failed deployment statuses and deployments followed by a rollback (fourkeys' rate is printed "
    "beside it).",
    "Recovery starts at the deployment that shipped the root cause when that is earlier than the incident (fourkeys: the incident).",
    f"Levels: the {REPORT} report's clusters with contiguous bounds (printed beside each metric).",
]


@dataclass(frozen=True)
class Status:
    state: str
    at: datetime


@dataclass(frozen=True)
class Change:
    """A point on the lead-time clock: a commit and when its work was written."""

    sha: str
    at: datetime
    pull: int | None = None


@dataclass(frozen=True)
class Deployment:
    id: int
    sha: str
    created_at: datetime
    statuses: tuple[Status, ...]
    version: str = ""
    model_changed: bool | None = None  # None: the deployment does not say
    rollback: bool = False  # said so by whoever deployed (payload)
    shipped: tuple[str, ...] = ()  # the default branch's commits since the previous deployment
    changes: tuple[Change, ...] = ()  # what the lead time counts (pull requests' own commits in place of their merge)
    url: str = ""

    @property
    def deployed_at(self) -> datetime | None:
        """When it went out: its first success status, None when it never succeeded."""
        times = [status.at for status in self.statuses if status.state in SUCCESS_STATES]
        return min(times) if times else None

    @property
    def failed_at(self) -> datetime | None:
        """When it failed: its latest (non-inactive) status is failure or error and it never succeeded."""
        if self.deployed_at is not None:
            return None
        live = sorted((status for status in self.statuses if status.state != INACTIVE), key=lambda s: s.at)
        return live[-1].at if live and live[-1].state in FAILED_STATES else None


@dataclass(frozen=True)
class Incident:
    number: int
    title: str
    opened_at: datetime
    closed_at: datetime | None
    root_cause: str | None = None
    url: str = ""
    author: str = ""
    ignored: str = ""  # why it is not counted (who declared it); "" when it counts


# GitHub's author_association of an issue whose author may declare an incident (the others need a labeller with triage).
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
# The base roles of GET /repos/{owner}/{repo}/collaborators/{login}/permission's `user.permissions` that include triage.
TRIAGE_OR_MORE = ("triage", "push", "maintain", "admin")


def last_labeller(events: Iterable[Any], label: str) -> str | None:
    """Who last added ``label`` to an issue, from its events as GitHub lists them (oldest first); None when nobody did."""
    found = None
    for event in events:
        if not isinstance(event, dict) or event.get("event") != "labeled":
            continue
        name = event.get("label", {}).get("name") if isinstance(event.get("label"), dict) else None
        actor = event.get("actor", {}).get("login") if isinstance(event.get("actor"), dict) else None
        if isinstance(name, str) and name.lower() == label.lower():
            found = actor if isinstance(actor, str) else None
    return found


def can_triage(permission: Any) -> bool:
    """Whether GitHub's answer about a collaborator's permission gives at least triage access.

    The base role's flags (``user.permissions``) decide: ``role_name`` may be a custom role's name,
    whatever its base, and the legacy ``permission`` maps triage to read. Without the flags, only
    ``admin`` or ``write`` there (which include triage) counts.
    """
    if not isinstance(permission, dict):
        return False
    user = permission.get("user")
    flags = user.get("permissions") if isinstance(user, dict) else None
    if isinstance(flags, dict):
        return any(flags.get(role) is True for role in TRIAGE_OR_MORE)
    return permission.get("permission") in ("admin", "write")


@dataclass(frozen=True)
class Events:
    deployments: tuple[Deployment, ...]
    incidents: tuple[Incident, ...] = ()
    data_changes: tuple[Change, ...] = ()
    until: datetime = field(default_factory=lambda: datetime.now(UTC))
    window: timedelta = timedelta(days=90)


@dataclass
class Metric:
    name: str
    value: float | None
    unit: str
    level: str
    detail: str = ""
    fourkeys: Any = None
    count: int = 0


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time GitHub sent (``Z`` or any offset) as an aware UTC datetime; None for None."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as error:
        raise InputError(f"{str(text)[:40]!r} is not an ISO 8601 time") from error
    if moment.tzinfo is None:
        raise InputError(f"{str(text)[:40]!r} has no UTC offset: times must say which zone they are in")
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise InputError(f"{str(text)[:40]!r} is not a time this report can place (past year 9999 in UTC)") from error


def parse_window(text: str) -> timedelta:
    """``90d``, ``12w`` or ``48h`` as a duration."""
    units = {"h": 1 / 24, "d": 1, "w": 7}
    number, unit = text[:-1].strip(), text[-1:].lower()
    if unit not in units or not number.isdigit() or int(number) == 0:
        raise InputError(f"window {text!r}: expected a positive number of days, weeks or hours such as 90d, 12w or 48h")
    return timedelta(days=int(number) * units[unit])


def root_cause(body: str | None) -> str | None:
    """The sha an incident names as its root cause (7 to 40 hex digits, lower case); None when it names none.

    Either a ``root cause: <sha>`` line, or what the incident issue form renders: a ``### Root cause``
    heading with the sha (or that line) under it.
    """
    lines = [line.strip() for line in (body or "").splitlines()]
    for index, line in enumerate(lines):
        head, colon, rest = line.lstrip("-*#> ").partition(":")
        if head.strip().lower() not in ("root cause", "root-cause"):
            continue
        if colon:
            return _sha_in(rest)
        following = next((text for text in lines[index + 1 :] if text), "")
        found = _sha_in(following.partition(":")[2] if ":" in following else following)
        if found:
            return found
    return None


def _sha_in(text: str) -> str | None:
    words = text.strip().strip("`").split()
    word = words[0].strip("`").lower() if words else ""
    return word if 7 <= len(word) <= 40 and all(ch in "0123456789abcdef" for ch in word) else None


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise InputError(f"{what}: {moment.isoformat()} has no UTC offset")
    return moment.astimezone(UTC)


def _matches(sha: str, prefix: str) -> bool:
    return sha.lower().startswith(prefix.lower())


def level(metric: str, value: float | None) -> str:
    if value is None:
        return NOT_ENOUGH
    if metric == "deployment_frequency":  # per day
        bounds = [(ELITE, value >= 1), (HIGH, value >= 1 / 7), (MEDIUM, value >= 1 / 30)]
    elif metric in ("lead_time", "data_change_lead_time"):
        bounds = [(ELITE, value < DAY), (HIGH, value < WEEK), (MEDIUM, value < MONTH)]
    elif metric == "change_failure_rate":
        bounds = [(ELITE, value <= 0.05), (HIGH, value <= 0.10), (MEDIUM, value <= 0.15)]
    elif metric == "recovery_time":
        bounds = [(ELITE, value < HOUR), (HIGH, value < DAY), (MEDIUM, value < WEEK)]
    else:
        raise ValueError(metric)
    return next((name for name, holds in bounds if holds), LOW)


def fourkeys_time_bucket(seconds: float | None) -> str | None:
    """fourkeys' buckets for lead time and time to restore (its dashboard's CASE on minutes)."""
    if seconds is None:
        return None
    hours = seconds / HOUR
    for bound, name in ((24, "One day"), (168, "One week"), (730, "One month"), (730 * 6, "Six months")):
        if hours < bound:
            return name
    return "One year"


def fourkeys_frequency_bucket(deployed: Iterable[datetime], start: datetime, until: datetime) -> str:
    """fourkeys' Daily / Weekly / Monthly / Yearly over the days of the window (UTC calendar days, Sunday weeks)."""
    days_with = {moment.date() for moment in deployed}
    first, last = start.date(), until.date()
    weeks: dict[date, set[date]] = defaultdict(set)  # week start -> days of the window in it with a deployment
    day = first
    while day <= last:
        week = day - timedelta(days=(day.weekday() + 1) % 7)  # back to Sunday
        weeks.setdefault(week, set())
        if day in days_with:
            weeks[week].add(day)
        day += timedelta(days=1)
    if not weeks:
        return "Yearly"
    days_deployed = [len(days) for days in weeks.values()]
    week_deployed = [1 if days else 0 for days in weeks.values()]
    per_month: dict[tuple[int, int], int] = defaultdict(int)
    for week, deployed_in in zip(weeks, week_deployed, strict=True):
        per_month[(week.year, week.month)] += deployed_in
    monthly = [per_month[(week.year, week.month)] for week in weeks]
    if statistics.median(days_deployed) >= 3:
        return "Daily"
    if statistics.median(week_deployed) >= 1:
        return "Weekly"
    if statistics.median(monthly) >= 1:
        return "Monthly"
    return "Yearly"


@dataclass
class Window:
    start: datetime
    until: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start < moment <= self.until


def compute(events: Events) -> dict[str, Any]:
    """The metrics of the window ending at ``events.until``, and of the window before it, as plain data."""
    until = _aware(events.until, "until")
    current = _metrics(events, Window(until - events.window, until))
    previous = _metrics(events, Window(until - 2 * events.window, until - events.window))
    return {
        "until": until.isoformat(timespec="seconds"),
        "window_days": events.window.total_seconds() / DAY,
        "start": (until - events.window).isoformat(timespec="seconds"),
        "report_year": REPORT_YEAR,
        "metrics": current["metrics"],
        "details": current["details"],
        "previous": {name: metric["value"] for name, metric in previous["metrics"].items()},
        "previous_levels": {name: metric["level"] for name, metric in previous["metrics"].items()},
        "definitions": DEFINITIONS,
        "deviations": DEVIATIONS,
        "thresholds": THRESHOLDS,
    }


def _metrics(events: Events, window: Window) -> dict[str, Any]:
    everything = sorted(events.deployments, key=lambda d: (d.deployed_at or d.failed_at or _aware(d.created_at, "deployment"), d.id))
    succeeded = [d for d in everything if d.deployed_at is not None]
    rollbacks = _rollbacks(succeeded)
    deployed = [d for d in succeeded if window.holds(d.deployed_at)]
    failed_status = [d for d in everything if window.holds(d.failed_at)]
    counted = [incident for incident in events.incidents if not incident.ignored]
    causes = [incident.root_cause for incident in counted if incident.root_cause]
    shipping = {d.id: _shipped_causes(d, causes) for d in succeeded}
    rolled_back = {previous.id for previous, after in pairwise(succeeded) if after.id in rollbacks}

    metrics: dict[str, Metric] = {}
    # Lead time
    pairs = [
        (d.deployed_at - change.at).total_seconds()  # type: ignore[operator]
        for d in deployed
        for change in d.changes
    ]
    positive = [seconds for seconds in pairs if seconds > 0]
    lead = statistics.median(positive) if positive else None
    metrics["lead_time"] = Metric(
        "lead time for changes",
        lead,
        "seconds",
        level("lead_time", lead),
        detail=f"{len(positive)} (deployment, change) pairs"
        + (f", {len(pairs) - len(positive)} non-positive ignored" if pairs != positive else "")
        if positive
        else "no change shipped by a deployment in the window",
        fourkeys=fourkeys_time_bucket(lead),
        count=len(positive),
    )
    # Frequency
    days = (window.until - window.start).total_seconds() / DAY
    per_day = len(deployed) / days
    metrics["deployment_frequency"] = Metric(
        "deployment frequency",
        per_day if deployed else None,
        "per day",
        level("deployment_frequency", per_day if deployed else None),
        detail=f"{len(deployed)} deployment{'' if len(deployed) == 1 else 's'}: {per_day * 7:.2f} a week, {per_day:.2f} a day"
        if deployed
        else "no deployment in the window",
        fourkeys=fourkeys_frequency_bucket([d.deployed_at for d in deployed], window.start, window.until),  # type: ignore[misc]
        count=len(deployed),
    )
    # Change failure rate
    by_cause = [d for d in deployed if shipping[d.id]]
    by_rollback = [d for d in deployed if d.id in rolled_back]
    failures = {d.id for d in [*by_cause, *by_rollback, *failed_status]}
    attempts = len(deployed) + len(failed_status)
    rate = len(failures) / attempts if attempts else None
    metrics["change_failure_rate"] = Metric(
        "change failure rate",
        rate,
        "ratio",
        level("change_failure_rate", rate),
        detail=f"{len(failures)} of {attempts} deployments: {len(by_cause)} shipped an incident's root cause, "
        f"{len(failed_status)} failed, {len(by_rollback)} rolled back"
        if attempts
        else "no deployment in the window",
        fourkeys=len(by_cause) / len(deployed) if deployed else None,
        count=attempts,
    )
    # Recovery
    recoveries, open_incidents, never_deployed = [], [], []
    deployed_at_of = {d.id: d.deployed_at for d in succeeded}
    for incident in sorted(counted, key=lambda i: i.number):
        opened = _aware(incident.opened_at, f"incident #{incident.number}")
        closed = _aware(incident.closed_at, f"incident #{incident.number}") if incident.closed_at else None
        if opened > window.until:
            continue
        if closed is None or closed > window.until:
            open_incidents.append(incident.number)
            continue
        if not window.holds(closed):
            continue
        start = opened
        if incident.root_cause:
            shippers = [d for d in succeeded if incident.root_cause in shipping[d.id]]
            if shippers:
                start = min(start, deployed_at_of[shippers[0].id])  # type: ignore[type-var]
            else:
                never_deployed.append(incident.number)
        recoveries.append((closed - start).total_seconds())
    recovery = statistics.median(recoveries) if recoveries else None
    metrics["recovery_time"] = Metric(
        "failed deployment recovery time",
        recovery,
        "seconds",
        level("recovery_time", recovery),
        detail=f"{len(recoveries)} incidents closed in the window" if recoveries else "no incident closed in the window",
        fourkeys=fourkeys_time_bucket(recovery),
        count=len(recoveries),
    )
    # Data changes (ML)
    data_pairs = []
    for change in events.data_changes:
        shipper = next((d for d in succeeded if any(_matches(sha, change.sha) for sha in d.shipped)), None)
        if shipper is not None and window.holds(shipper.deployed_at):
            seconds = (shipper.deployed_at - _aware(change.at, "data change")).total_seconds()  # type: ignore[operator]
            if seconds > 0:
                data_pairs.append(seconds)
    data_lead = statistics.median(data_pairs) if data_pairs else None
    metrics["data_change_lead_time"] = Metric(
        "data-change lead time",
        data_lead,
        "seconds",
        level("data_change_lead_time", data_lead),
        detail=f"{len(data_pairs)} data manifest changes deployed" if data_pairs else "no data manifest change deployed in the window",
        count=len(data_pairs),
    )
    model = sum(1 for d in deployed if d.model_changed is True)
    code = sum(1 for d in deployed if d.model_changed is False)
    unknown = len(deployed) - model - code
    details = {
        "deployments": [_deployment_row(d, d.id in failures, d.id in rollbacks) for d in deployed],
        "failed_deployments": [_deployment_row(d, True, False) for d in failed_status],
        "open_incidents": open_incidents,
        "ignored_incidents": [
            {"number": incident.number, "title": incident.title, "author": incident.author, "why": incident.ignored}
            for incident in sorted(events.incidents, key=lambda i: i.number)
            if incident.ignored and _touches(incident, window)
        ],
        "root_cause_never_deployed": never_deployed,
        "model_changed": model,
        "code_only": code,
        "model_unknown": unknown,
    }
    return {"metrics": {name: asdict(metric) for name, metric in metrics.items()}, "details": details}


def _touches(incident: Incident, window: Window) -> bool:
    """Opened by the window's end and not closed before it began: an incident the window would count."""
    opened = _aware(incident.opened_at, f"incident #{incident.number}")
    closed = _aware(incident.closed_at, f"incident #{incident.number}") if incident.closed_at else None
    return opened <= window.until and (closed is None or closed > window.start)


def _shipped_causes(deployment: Deployment, causes: list[str]) -> set[str]:
    shas = [*deployment.shipped, *(change.sha for change in deployment.changes)]
    return {cause for cause in causes if any(_matches(sha, cause) for sha in shas)}


def _rollbacks(succeeded: list[Deployment]) -> set[int]:
    """Deployments that went back: said so, or shipped a commit an earlier deployment (not the one just before) shipped."""
    found, seen = set(), set()
    for before, deployment in zip([None, *succeeded], succeeded, strict=False):
        if deployment.rollback or (deployment.sha in seen and (before is None or before.sha != deployment.sha)):
            found.add(deployment.id)
        seen.add(deployment.sha)
    return found


def _deployment_row(deployment: Deployment, failed: bool, rollback: bool) -> dict[str, Any]:
    moment = deployment.deployed_at or deployment.failed_at
    return {
        "id": deployment.id,
        "sha": deployment.sha,
        "version": deployment.version,
        "at": moment.isoformat(timespec="seconds") if moment else None,
        "failed": failed,
        "rollback": rollback,
        "model_changed": deployment.model_changed,
        "changes": len(deployment.changes),
    }


# Report


def duration(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "—"
    for unit, size in (("days", DAY), ("hours", HOUR)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds / 60:.0f} minutes"


def shown(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    if name == "deployment_frequency":
        return f"{value * 7:.2f} a week ({value:.2f} a day)"
    if name == "change_failure_rate":
        return format(value, ".0%")
    return duration(value)


def change(name: str, value: float | None, before: float | None) -> str:
    if value is None or before is None:
        return "—"
    if name == "change_failure_rate":
        return f"{(value - before) * 100:+.0f} points"
    if before == 0:
        return "—"
    return format((value - before) / before, "+.0%")


def history_entry(report: dict[str, Any], run_url: str = "") -> dict[str, Any]:
    return {
        "until": report["until"],
        "window_days": report["window_days"],
        "run_url": run_url,
        **{name: metric["value"] for name, metric in report["metrics"].items()},
    }


# The metrics a report carries (and its history line), in the report's order.
METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "recovery_time", "data_change_lead_time")
# Bounds on a history line: a window of at most ten years, values no metric of a real repository reaches.
MAX_WINDOW_DAYS = 3660
MAX_METRIC_VALUE = 1e9
MAX_RUN_URL = 500


def checked_history_entry(report: dict[str, Any], run_url: str = "") -> dict[str, Any]:
    """``history_entry`` of a report as `mlops dora` writes it; ``InputError`` naming the field otherwise.

    The job that appends it may write contents and takes the report from another job's artifact: it is checked, not trusted.
    """

    def number(where: str, value: Any, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= high:
            raise InputError(f"{where}: expected a number from 0 to {high:g}, found {str(value)[:40]!r}")
        return value

    if not isinstance(report.get("until"), str) or len(report["until"]) > 40:
        raise InputError(f"until: expected an ISO 8601 time, found {str(report.get('until'))[:40]!r}")
    parse_time(report["until"])
    if number("window_days", report.get("window_days"), MAX_WINDOW_DAYS) == 0:
        raise InputError("window_days: expected a window longer than 0 days")
    metrics = report.get("metrics")
    if not isinstance(metrics, dict) or set(metrics) - set(METRICS):
        raise InputError(f"metrics: expected an object with some of {', '.join(METRICS)}")
    for name, metric in metrics.items():
        value = metric.get("value") if isinstance(metric, dict) else "not an object"
        if value is not None:
            number(f"metrics.{name}.value", value, MAX_METRIC_VALUE)
    if not isinstance(run_url, str) or len(run_url) > MAX_RUN_URL:
        raise InputError(f"run_url: expected a URL of at most {MAX_RUN_URL} characters")
    return history_entry(report, run_url)


def trend_chart(history: list[dict[str, Any]]) -> str:
    """Deployments a week and median lead time (hours) over the last runs, as Mermaid line charts GitHub draws itself."""
    runs = history[-HISTORY_SHOWN:]
    if len(runs) < 2:
        return ""
    labels = [str(entry.get("until", ""))[:10] for entry in runs]

    def series(key: str, scale: float) -> list[str]:
        return [format((chart_value(entry.get(key)) or 0.0) * scale, ".2f") for entry in runs]

    return (
        xychart("Deployments a week per run", labels, '"deployments a week"', "line", series("deployment_frequency", 7))
        + "\n"
        + xychart("Median lead time (hours) per run", labels, '"hours"', "line", series("lead_time", 1 / HOUR))
    )


def markdown(report: dict[str, Any], history: list[dict[str, Any]], *, run_url: str = "", environment: str = "production") -> str:
    """The job summary, the tracking issue's body and ``dora/latest.md``."""
    metrics, details = report["metrics"], report["details"]
    lines = [
        "## DORA metrics",
        "",
        f"{inert_code(environment)} deployments, {report['window_days']:.0f} days up to {inert(report['until'])} (UTC). "
        f"Levels from the {REPORT} report (thresholds beside each).",
        "",
        "| metric | value | level | thresholds | previous window | change | fourkeys |",
        "|---|---:|---|---|---:|---:|---|",
    ]
    for name in ("deployment_frequency", "lead_time", "change_failure_rate", "recovery_time"):
        metric = metrics[name]
        thresholds = "; ".join(f"{level_name} {bound}" for level_name, bound in THRESHOLDS[name])
        fourkeys = metric["fourkeys"]
        fourkeys_text = format(fourkeys, ".0%") if isinstance(fourkeys, float) else inert(fourkeys or "—")
        before = report["previous"].get(name)
        lines.append(
            f"| {inert(metric['name'])} | {shown(name, metric['value'])} | {inert(metric['level'])} | {inert(thresholds)} "
            f"| {shown(name, before)} | {change(name, metric['value'], before)} | {fourkeys_text} |"
        )
    lines.append("")
    for name in ("deployment_frequency", "lead_time", "change_failure_rate", "recovery_time"):
        metric = metrics[name]
        prefix = f"{NOT_ENOUGH}: " if metric["value"] is None else ""
        lines.append(f"- **{inert(metric['name'])}**: {prefix}{inert(metric['detail'], 300)}")
    lines += ["", "### ML: data and model", ""]
    data = metrics["data_change_lead_time"]
    data_text = shown("data_change_lead_time", data["value"]) if data["value"] is not None else f"{NOT_ENOUGH}"
    lines.append(f"- **data-change lead time** (data manifest commit → deployment): {data_text} ({inert(data['detail'])})")
    lines.append(
        f"- deployments that changed the model: {details['model_changed']}; code only: {details['code_only']}"
        + (f"; not recorded: {details['model_unknown']}" if details["model_unknown"] else "")
    )
    lines.append("")
    if details["open_incidents"]:
        lines.append("Open incidents (not counted in recovery time): " + ", ".join(f"#{int(n)}" for n in details["open_incidents"]))
        lines.append("")
    if details["root_cause_never_deployed"]:
        numbers = ", ".join(f"#{int(n)}" for n in details["root_cause_never_deployed"])
        lines += [f"Root cause never deployed to production (recovery counted from the incident): {numbers}", ""]
    ignored = details.get("ignored_incidents") or []
    if ignored:
        lines += [
            f"Incidents not counted ({len(ignored)}): declared by someone without triage access (confs/dora.yaml: incident_authors). "
            "To count one, a person with triage access removes the incident label and adds it again.",
            "",
        ]
        lines += [
            f"- #{int(incident['number'])} {inert(incident['title'], 120)} "
            f"(opened by {inert(incident['author'], 40)}: {inert(incident['why'])})"
            for incident in ignored[:IGNORED_SHOWN]
        ]
        if len(ignored) > IGNORED_SHOWN:
            lines.append(f"- … and {len(ignored) - IGNORED_SHOWN} more")
        lines.append("")
    trend = trend_chart([*history, history_entry(report)])
    if trend:
        lines += ["### Trend", "", trend]
    lines += ["<details><summary>Definitions and deviations from fourkeys</summary>", ""]
    lines += [f"- **{inert(key)}**: {inert(text, 400)}" for key, text in report["definitions"].items()]
    lines += ["", "Deviations:", ""]
    lines += [f"- {inert(text, 400)}" for text in report["deviations"]]
    lines += ["", "</details>", ""]
    if run_url:
        lines.append(link("DORA run", run_url))
    return "\n".join(lines) + "\n"
