"""``mlops dora``: the DORA metrics of this model's delivery, from the repository's own GitHub history.

Reads, through the GitHub client and its pagination: the deployments to the configured environment
and their statuses; the commits each successful deployment shipped first (from one list of the
default branch's commits); for a commit that merged a pull request, the pull request's own commits
(so that a squash merge does not hide when the work started); the issues labelled as incidents; the
commits that changed the data manifest. ``core.dora`` turns them into the metrics. Writes
``outputs/dora/dora.{json,md}``, the job summary, the history on the reports branch (for the trend
chart) and one tracking issue, updated in place by every run.

Calls: one paginated list per kind of object, one statuses list per deployment in reach (REST has no
bulk form), one commits list per merged pull request shipped; never one call per commit. An incident
opened by someone GitHub does not call the owner, a member or a collaborator costs its events list and,
once per person who labelled one, a permission look-up (``incident_authors: triage``). GITHUB_TOKEN
may make 1,000 calls an hour in a repository: a 90-day window of a busy year takes about 800.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..core import dora
from ..errors import InputError
from ..io.artifacts import append_step_summary, remove, set_step_output, to_json, write_all
from ..jobs import DORA_JSON, DORA_MD
from . import steps

if TYPE_CHECKING:
    from ..io.github import DryRun

logger = logging.getLogger(__name__)
HISTORY_FILE = "dora/history.jsonl"
LATEST_FILE = "dora/latest.md"
HISTORY_KEPT = 520  # ten years of weekly runs
# The default branch's commits over two windows and a margin: 20,000 commits at most (then a one-line error).
MAX_COMMIT_PAGES = 200
# The tracking issue's body starts with this: how the next run finds it again (with its author).
MARKER = "<!-- mlops-dora-tracking-issue -->"
ISSUE_TITLE = "DORA metrics of this model's delivery"
CLOCK = "author time of each commit (a squash-merged pull request: its own commits)"


def parse_until(text: str | None, now: datetime) -> datetime:
    """``--until YYYY-MM-DD``: the end of that day in UTC (the day is included); now when absent."""
    if not text:
        return now.astimezone(UTC)
    try:
        day = date.fromisoformat(text)
    except ValueError as error:
        raise InputError(f"--until {text!r}: expected a date such as 2026-06-30 (UTC)") from error
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def run(
    settings: Settings,
    *,
    window: str = "90d",
    until: str | None = None,
    history: bool = True,
    now: datetime | None = None,
    dry_run: DryRun | None = None,
) -> dict[str, Any]:
    """Measure, report and update the tracking issue; with ``history``, also append the run to the reports branch.

    Without it (the workflow's measuring job, whose token only reads contents), ``publish_history`` does that
    afterwards from the outputs, in a job of its own that may write contents and reads nothing else.
    """
    from ..io import reports_branch
    from ..io.github import GitHub, bot_logins

    outputs = [settings.path(str(DORA_JSON)), settings.path(str(DORA_MD))]
    remove(*outputs)
    span = dora.parse_window(window)
    end = parse_until(until, now or datetime.now(UTC))
    conf, env = settings.dora, settings.env
    with GitHub.connect(env, dry_run) as github:
        events, notes = collect(github, settings, end, span)
        report = dora.compute(events)
        report.update(environment=conf.environment, clock=CLOCK, notes=notes, run_url=env.run_url)
        entry = dora.history_entry(report, env.run_url)
        # A second run for the same end replaces the first in the history rather than adding a point.
        earlier = reports_branch.read_history(github, conf.reports_branch, HISTORY_FILE)
        markdown = dora.markdown(
            report, [item for item in earlier if item.get("until") != entry["until"]], run_url=env.run_url, environment=conf.environment
        )
        if notes:
            markdown += "\n" + "\n".join(f"> {note}" for note in notes) + "\n"
        github.ensure_label(conf.tracking_label, color="5319e7", description="The weekly DORA metrics report (mlops dora)")
        issue, created = github.upsert_issue(
            MARKER, title=ISSUE_TITLE, body=f"{MARKER}\n{markdown}", label=conf.tracking_label, bot_logins=bot_logins(env)
        )
        report["tracking_issue"] = {"number": issue["number"], "url": issue["html_url"], "created": created}
        if history:
            report["history_commit"] = _publish(github, settings, report, markdown, earlier)
    write_all({outputs[0]: to_json(steps.stamped(report, settings)), outputs[1]: markdown})
    append_step_summary(markdown, env.github_step_summary)
    set_step_output("tracking_issue", str(issue["html_url"]), env)
    logger.info("DORA report %s tracking issue #%s", "opened" if created else "updated", issue["number"])
    return report


def publish_history(settings: Settings) -> str:
    """Append the run in ``outputs/dora/dora.json`` to the history on the reports branch; the new head."""
    from ..io import reports_branch
    from ..io.github import GitHub, GitHubContext

    # Another job's artifact (the one that read issues anyone can write): bounded, from this config, typed, before any call.
    report, markdown = steps.handed_over(settings, DORA_JSON, DORA_MD, produced_by="dora")
    _history_line(report)
    with GitHub(GitHubContext.from_env(settings.env)) as github:
        earlier = reports_branch.read_history(github, settings.dora.reports_branch, HISTORY_FILE)
        return _publish(github, settings, report, markdown, earlier)


def _history_line(report: dict[str, Any]) -> dict[str, Any]:
    try:
        return dora.checked_history_entry(report, str(report.get("run_url") or ""))
    except InputError as error:
        raise InputError(f"{DORA_JSON}: {error}; not a report `mlops dora` writes") from error


def _publish(github: Any, settings: Settings, report: dict[str, Any], markdown: str, earlier: list[dict[str, Any]]) -> str:
    from ..io import reports_branch

    entry = _history_line(report)
    kept = [*(item for item in earlier if item.get("until") != entry["until"]), entry][-HISTORY_KEPT:]
    lines = "".join(json.dumps(item, sort_keys=True) + "\n" for item in kept)
    return reports_branch.publish(
        github,
        settings.dora.reports_branch,
        {HISTORY_FILE: lines.encode(), LATEST_FILE: markdown.encode(), "dora/latest.json": to_json(report).encode()},
        f"dora: {report['window_days']:.0f} days up to {report['until'][:10]}",
    )


def collect(github: Any, settings: Settings, until: datetime, span: timedelta) -> tuple[dora.Events, list[str]]:
    """The events of the window ending at ``until`` and of the one before it (for the change), read from GitHub."""
    conf = settings.dora
    horizon = until - 2 * span
    notes: list[str] = []
    deployments: list[dora.Deployment] = []
    for listed in github.deployments(environment=conf.environment):  # newest first
        created = dora.parse_time(listed["created_at"])
        if created is None or created > until:
            continue
        statuses = tuple(
            dora.Status(str(status.get("state")), dora.parse_time(status["created_at"]))  # type: ignore[arg-type]
            for status in github.deployment_statuses(int(listed["id"]))
            if status.get("created_at")
        )
        deployment = _deployment(listed, statuses)
        deployments.append(deployment)
        if created <= horizon and deployment.deployed_at is not None:
            break  # the last success before both windows: the base the first compare starts from
    succeeded = sorted((d for d in deployments if d.deployed_at is not None), key=lambda d: (d.deployed_at, d.id))
    shipped = _shipped(github, succeeded, horizon, span, notes)
    merged = _merged_pulls(github, horizon - span) if any(shipped.values()) else {}
    pull_commits: dict[int, list[dict[str, Any]]] = {}
    complete = []
    for deployment in deployments:
        commits = shipped.get(deployment.id)
        if commits is None:
            complete.append(deployment)
            continue
        changes: dict[str, dora.Change] = {}
        for commit in commits:
            number = merged.get(commit["sha"])
            if number is None:
                changes.setdefault(commit["sha"], _change(commit))
                continue
            if number not in pull_commits:
                pull_commits[number] = github.pull_commits(number)
            for own in pull_commits[number] or [commit]:
                changes.setdefault(own["sha"], _change(own, number))
        complete.append(
            dora.Deployment(
                **{**_fields(deployment), "shipped": tuple(commit["sha"] for commit in commits), "changes": tuple(changes.values())}
            )
        )
    incidents = _incidents(github, settings, horizon)
    data_changes = tuple(_change(commit) for commit in github.commits(path=settings.data.manifest, since=_iso(horizon - span)))
    events = dora.Events(deployments=tuple(complete), incidents=incidents, data_changes=data_changes, until=until, window=span)
    return events, notes


def _incidents(github: Any, settings: Settings, horizon: datetime) -> tuple[dora.Incident, ...]:
    """The issues labelled as incidents; with ``incident_authors: triage``, those nobody with triage access declared are marked ignored.

    Calls beyond the issues list, only for an incident whose author GitHub does not call the owner, a member or a
    collaborator: its events (who added the label), and that person's permission once per run.
    """
    conf = settings.dora
    can_triage: dict[str, bool] = {}
    found = []
    for issue in github.issues(labels=[conf.incident_label], state="all", since=_iso(horizon)):
        number = int(issue["number"])
        user = issue.get("user")
        author = str(user.get("login") or "") if isinstance(user, dict) else ""
        association = str(issue.get("author_association") or "NONE")
        ignored = ""
        if conf.incident_authors == "triage" and association not in dora.TRUSTED_ASSOCIATIONS:
            labeller = dora.last_labeller(github.issue_events(number), conf.incident_label)
            if labeller is not None and labeller not in can_triage:
                can_triage[labeller] = dora.can_triage(github.collaborator_permission(labeller))
            if labeller is None or not can_triage[labeller]:
                ignored = f"author {association.lower()}, label added by {labeller or 'nobody'} without triage access"
        found.append(
            dora.Incident(
                number=number,
                title=str(issue.get("title") or ""),
                opened_at=dora.parse_time(issue["created_at"]),  # type: ignore[arg-type]
                closed_at=dora.parse_time(issue.get("closed_at")),
                root_cause=dora.root_cause(issue.get("body")),
                url=str(issue.get("html_url") or ""),
                author=author,
                ignored=ignored,
            )
        )
    return tuple(found)


def _shipped(
    github: Any, succeeded: list[dora.Deployment], horizon: datetime, span: timedelta, notes: list[str]
) -> dict[int, list[dict[str, Any]]]:
    """The commits each deployment after ``horizon`` shipped first: those none of the earlier deployments contained.

    One paginated list of the default branch's commits since before the horizon gives the graph; each
    deployment's new commits are a walk from its sha that stops at what was deployed before (a rollback
    ships nothing). A deployed commit outside that list (another branch) falls back to one compare.
    """
    listed = github.commits(since=_iso(horizon - span), max_pages=MAX_COMMIT_PAGES)
    by_sha = {commit["sha"]: commit for commit in listed}
    deployed: set[str] = set()
    shipped: dict[int, list[dict[str, Any]]] = {}
    for before, deployment in zip([None, *succeeded], succeeded, strict=False):
        if deployment.sha in by_sha:
            new = _walk(by_sha, deployment.sha, deployed)
        elif before is None:  # the first deployment, of a commit older than the list: that commit is its change
            new = [] if deployment.sha in deployed else [_as_listed(github.git_commit(deployment.sha))]
        elif before.sha == deployment.sha:
            new = []
        else:
            commits, total = github.comparison(before.sha, deployment.sha)
            if total > len(commits):
                notes.append(f"deployment {deployment.id} shipped {total} commits; GitHub lists {len(commits)}: the lead time counts those")
            new = [commit for commit in commits if commit["sha"] not in deployed]
        deployed.update(commit["sha"] for commit in new)
        if deployment.deployed_at > horizon:  # type: ignore[operator]
            shipped[deployment.id] = new  # oldest first does not matter: changes are a set
    return shipped


def _as_listed(commit: dict[str, Any]) -> dict[str, Any]:
    """A Git Data API commit in the shape the commits list gives (what ``_change`` reads)."""
    return {"sha": commit["sha"], "commit": {"author": commit.get("author"), "committer": commit.get("committer")}, "parents": []}


def _walk(by_sha: dict[str, dict[str, Any]], start: str, stop: set[str]) -> list[dict[str, Any]]:
    """``start`` and its ancestors among ``by_sha``, not walking into ``stop``."""
    found, pending, seen = [], [start], set()
    while pending:
        sha = pending.pop()
        if sha in seen or sha in stop or sha not in by_sha:
            continue
        seen.add(sha)
        found.append(by_sha[sha])
        pending += [parent["sha"] for parent in by_sha[sha].get("parents") or [] if isinstance(parent, dict) and "sha" in parent]
    return found


def _merged_pulls(github: Any, since: datetime) -> dict[str, int]:
    """merge commit sha → number of the pull requests merged since ``since`` (read newest update first, stopping there)."""
    merged = {}
    for pull in github.pulls_by_update(state="closed"):
        updated = dora.parse_time(pull["updated_at"])
        if updated is not None and updated < since:
            break
        if pull.get("merged_at") and isinstance(pull.get("merge_commit_sha"), str):
            merged[pull["merge_commit_sha"]] = int(pull["number"])
    return merged


def _deployment(listed: dict[str, Any], statuses: tuple[dora.Status, ...]) -> dora.Deployment:
    payload = listed.get("payload") if isinstance(listed.get("payload"), dict) else {}
    changed = payload.get("model_changed")
    return dora.Deployment(
        id=int(listed["id"]),
        sha=str(listed["sha"]),
        created_at=dora.parse_time(listed["created_at"]),  # type: ignore[arg-type]
        statuses=statuses,
        version=str(payload.get("version") or ""),
        model_changed=changed if isinstance(changed, bool) else None,
        rollback=payload.get("rollback") is True or str(listed.get("description") or "").lower().startswith("rollback"),
        shipped=(str(listed["sha"]),),
        url=str(listed.get("url") or ""),
    )


def _fields(deployment: dora.Deployment) -> dict[str, Any]:
    return {name: getattr(deployment, name) for name in dora.Deployment.__dataclass_fields__}


def _change(commit: dict[str, Any], pull: int | None = None) -> dora.Change:
    """A commit on the lead-time clock: its author time (the committer's when GitHub gives no author)."""
    detail = commit.get("commit") if isinstance(commit.get("commit"), dict) else {}
    person = detail.get("author") if isinstance(detail.get("author"), dict) else detail.get("committer") or {}
    moment = dora.parse_time(person.get("date")) if isinstance(person, dict) else None
    if moment is None:
        raise InputError(f"GitHub listed commit {str(commit.get('sha'))[:12]} without an author or committer date")
    return dora.Change(sha=str(commit["sha"]), at=moment, pull=pull)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
