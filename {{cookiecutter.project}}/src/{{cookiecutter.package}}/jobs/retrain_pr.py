"""``mlops retrain-pr``: when `mlops drift` found retraining due, open or update the one retraining PR.

The pull request carries the new training snapshot (``core.snapshot``: the data plus the
labelled production rows) and its manifest, committed to one fixed branch through the Git
Data API, and its body is the evidence. Then ``pr.yml`` is dispatched on the branch, because
a pull request opened with ``GITHUB_TOKEN`` starts no ``pull_request`` run.

Safe to run again and again: the same snapshot makes no new commit; a commit on the branch
that this job did not write (a person's) is never overwritten, it gets a comment instead; a
retraining PR a person closed is not reopened within the cooldown.

Its own commits are recognised by the bot that wrote them and the trailer ``Mlops-Retrain:
<project>`` in their message; a branch that is just one such commit on top of the base (what a
run leaves when GitHub refused to open the pull request: "Allow GitHub Actions to create and
approve pull requests" is off by default) is started again by the next run. Whether that
setting is on cannot be read beforehand: the GITHUB_TOKEN it governs may not read it, and a
token that may read it (an app's, a person's) is not governed by it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ..config import Settings
from ..core import monitoring
from ..core.manifest import DataFile, Manifest
from ..core.report import MAX_COMMENT_CHARS, fit_comment, inert, inert_code
from ..core.schemas import schema_hash
from ..core.snapshot import next_snapshot, to_csv_bytes
from ..errors import InputError
from ..io import datasets
from ..io.artifacts import remove, to_json, write_all
from ..io.github import DryRun, GitHub, GitHubError, PullRequestsNotAllowed, bot_logins, commit_author
from ..jobs import DRIFT_JSON, RETRAIN_JSON
from ..project import PROJECT
from . import steps

logger = logging.getLogger(__name__)
PR_MARKER = f"<!-- mlops-retrain:{PROJECT} -->"
# The last commit this job wrote on the branch: any other head means someone else pushed.
_HEAD = re.compile(r"^<!-- mlops-retrain-head: ([0-9a-f]{40}) -->\r?$", re.MULTILINE)
# The trailer every snapshot commit of this job carries (with the bot as its author): how a later run knows it.
TRAILER = f"Mlops-Retrain: {PROJECT}"
PR_WORKFLOW = "pr.yml"
LABEL_COLOR = "fbca04"


def run(settings: Settings, *, now: datetime | None = None, dry_run: DryRun | None = None) -> dict[str, Any]:
    remove(settings.path(str(RETRAIN_JSON)))
    outcome = _decide(settings, now or datetime.now(UTC), dry_run)
    if dry_run is not None:
        # The numbers and links of a dry run are made up: say so on the line a reader sees, and in the file.
        outcome = {**outcome, "dry_run": True, "message": f"dry run, nothing sent; had it been sent: {outcome['message']}"}
    write_all({settings.path(str(RETRAIN_JSON)): to_json(outcome)})
    logger.info("%s", outcome["message"])
    return outcome


def _decide(settings: Settings, now: datetime, dry_run: DryRun | None) -> dict[str, Any]:
    summary = steps.read_current(settings, DRIFT_JSON, produced_by="drift")
    if not summary.get("due"):
        return _done(settings, "nothing", f"retraining not due: no pull request ({summary.get('verdict', '')})")
    if "://" in settings.data.path:
        raise InputError(
            f"confs/data.yaml: path {settings.data.path} is not in the repository; retrain-pr commits the snapshot beside the code"
        )
    files = [file if "://" in file else str(settings.path(file)) for file in summary.get("sources") or []]
    if [datasets.sha256_of(file) for file in files] != summary.get("production_sha256"):
        raise InputError(f"the production data in {settings.monitor.current} changed since `mlops drift`; run it again")
    production, _, _, _ = steps.production_frame(settings, files)
    data = settings.data
    snapshot = next_snapshot(
        datasets.read_table(settings.path(data.path), data.missing_values),
        production,
        target=data.target,
        id_column=data.id_column,
        timestamp_column=data.timestamp_column,
        policy=settings.monitor.retraining.snapshot,
        window_days=settings.monitor.retraining.window_days,
    )
    if not snapshot.changed:
        return _done(
            settings, "nothing", f"retraining due, but no labelled production rows to add ({snapshot.unlabelled} without a label yet)"
        )
    content = to_csv_bytes(snapshot.frame)
    manifest = Manifest(
        files=[
            DataFile(
                name="reference",
                path=data.path,
                sha256=hashlib.sha256(content).hexdigest(),
                rows=len(snapshot.frame),
                schema_hash=schema_hash(data.columns),
            )
        ]
    )
    changes = {data.path: content, data.manifest: (manifest.model_dump_json(indent=2) + "\n").encode()}
    stats = (
        f"{snapshot.added} new labelled production rows, {snapshot.replaced} updated, {snapshot.aged_out} aged out, "
        f"{snapshot.unlabelled} still unlabelled: {len(snapshot.frame)} rows in all"
    )
    with GitHub.connect(settings.env, dry_run) as github:
        return _open_or_update(settings, github, summary, changes, stats, now)


def _open_or_update(
    settings: Settings, github: GitHub, summary: dict[str, Any], changes: dict[str, bytes], stats: str, now: datetime
) -> dict[str, Any]:
    config = settings.monitor.retraining
    logins = bot_logins(settings.env)
    listed = github.pulls(head_branch=config.branch, state="open")
    open_pulls = [pull for pull in listed if _ours(pull, logins)]
    if listed and not open_pulls:
        theirs = listed[0]
        raise InputError(
            f"pull request #{theirs['number']} from {config.branch} was opened by {_author(theirs)}, not by this job: "
            "it is left as it is; merge or close it, or set retraining.branch in confs/monitor.yaml"
        )
    digest = hashlib.sha256(changes[settings.data.path]).hexdigest()
    if open_pulls:
        pull = open_pulls[0]
        number = int(pull["number"])
        head = github.branch_head(config.branch)
        written = _written_head(pull)
        if head != written:
            github.upsert_comment(
                number,
                PR_MARKER,
                f"{PR_MARKER}\nRetraining is due again, but {inert_code(config.branch)} has commits this job did not write "
                f"(head {inert(str(head)[:12])}): they are not overwritten. New evidence:\n\n{stats}.\n\n{inert(summary['verdict'], 1000)}",
                bot_logins=logins,
            )
            return _done(settings, "commented", f"#{number}: the branch has someone else's commits; commented instead", number=number)
        on_branch = github.read_file(settings.data.path, ref=config.branch)
        if on_branch is not None and hashlib.sha256(on_branch).hexdigest() == digest:
            github.update_pull(number, body=_body(settings, summary, stats, head))
            return _done(settings, "unchanged", f"#{number}: the same snapshot is already on {config.branch}; no new commit", number=number)
        commit = github.commit_files(config.branch, changes, _message(summary), base_sha=head)
        github.update_pull(number, body=_body(settings, summary, stats, commit))
        _dispatch(github, config.branch, number)
        return _done(settings, "updated", f"#{number}: updated with a new snapshot ({stats})", number=number, commit=commit)
    closed = _recently_closed(github, config.branch, now, config.cooldown_days, logins)
    if closed is not None:
        until = (_closed_at(closed) + timedelta(days=config.cooldown_days)).date()
        return _done(
            settings,
            "cooldown",
            f"#{closed['number']} was closed on {_closed_at(closed).date()}: not reopening before {until}",
            number=int(closed["number"]),
        )
    base = github.branch_head(config.base)
    if base is None:
        raise InputError(f"confs/monitor.yaml: retraining.base: branch {config.base!r} does not exist")
    existing = github.branch_head(config.branch)
    if existing is None:
        commit = github.commit_files(config.branch, changes, _message(summary), base_sha=base)
    elif existing in _heads_we_wrote(github, config.branch, logins) or _own_orphan(github, config.base, existing, logins):
        # Left from an earlier retraining PR (merged, or closed past the cooldown), or by a run whose PR GitHub
        # refused: start it again from the base.
        tree = github.create_tree(changes.items(), base_tree=github.git_commit(base)["tree"]["sha"])
        commit = github.create_commit(_message(summary), tree, [base])
        github.move_branch(config.branch, commit, force=True)
    else:
        raise InputError(
            f"branch {config.branch} exists with commits this job did not write (head {existing[:12]}); "
            "merge or delete it, or set retraining.branch in confs/monitor.yaml"
        )
    try:
        pull = github.create_pull(
            title=f"Retrain: {summary.get('verdict', 'retraining due').removeprefix('retraining due: yes, because ')}"[:120],
            head=config.branch,
            base=config.base,
            body=_body(settings, summary, stats, commit),
        )
    except PullRequestsNotAllowed as error:
        # The snapshot commit stays: it is recognisably ours, so the next run starts the branch again from it.
        raise GitHubError(
            "GitHub does not let this workflow's token open pull requests in this repository: turn on Settings → Actions → "
            "General → Workflow permissions → “Allow GitHub Actions to create and approve pull requests” (in an organisation, "
            "its own Actions settings must allow it first), or give the retrain-pr step a GitHub App token (README: "
            f"“On a schedule”); the snapshot waits on {config.branch} ({commit[:12]}) and the next run opens the pull request",
            403,
        ) from error
    number = int(pull["number"])
    github.ensure_label(config.label, color=LABEL_COLOR, description="Opened by the monitor: production data calls for a new model")
    github.add_labels(number, [config.label])
    _dispatch(github, config.branch, number)
    return _done(settings, "opened", f"#{number}: opened {pull.get('html_url', '')} ({stats})", number=number, commit=commit)


def _ours(pull: dict[str, Any], logins: frozenset[str]) -> bool:
    """A retraining PR this job opened: by the bot, with the marker (a person's PR from the branch is theirs)."""
    author = (pull.get("user") or {}).get("login") if isinstance(pull.get("user"), dict) else None
    return author in logins and str(pull.get("body") or "").startswith(PR_MARKER)


def _author(pull: dict[str, Any]) -> str:
    user = pull.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return f"@{login}" if isinstance(login, str) else "someone else"


def _own_orphan(github: GitHub, base: str, head: str, logins: frozenset[str]) -> bool:
    """Whether ``head`` is one snapshot commit of this job on top of ``base``'s history, and nothing else.

    What a run leaves when GitHub refused to open its pull request. Ours: written by the bot, with this
    job's trailer; and the only commit the branch has over the base, so that restarting it drops no one's work.
    """
    commits, total = github.comparison(base, head)
    if total != 1 or len(commits) != 1 or commits[0].get("sha") != head or commit_author(commits[0]) not in logins:
        return False
    detail = commits[0].get("commit")
    message = detail.get("message") if isinstance(detail, dict) else None
    return isinstance(message, str) and TRAILER in message.strip().split("\n\n")[-1].splitlines()


def _written_head(pull: dict[str, Any]) -> str | None:
    """The head marker on the body's last line, where this job writes it; one anywhere else is someone else's text."""
    found = _HEAD.findall(str(pull.get("body") or "").rstrip().rsplit("\n", 1)[-1])
    return found[-1] if found else None


def _heads_we_wrote(github: GitHub, branch: str, logins: frozenset[str]) -> set[str]:
    """The last commits this job wrote to earlier retraining PRs (a merged or closed PR's branch may remain)."""
    pulls = github.pulls(head_branch=branch, state="all")
    return {head for pull in pulls if _ours(pull, logins) for head in [_written_head(pull)] if head}


def _closed_at(pull: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(pull["closed_at"]).replace("Z", "+00:00"))


def _recently_closed(github: GitHub, branch: str, now: datetime, cooldown_days: int, logins: frozenset[str]) -> dict[str, Any] | None:
    """The newest of our PRs that was closed without merging within the cooldown, if any."""
    closed = [
        pull
        for pull in github.pulls(head_branch=branch, state="closed")
        if _ours(pull, logins)
        and not pull.get("merged_at")
        and pull.get("closed_at")
        and now - _closed_at(pull) < timedelta(days=cooldown_days)
    ]
    return max(closed, key=_closed_at) if closed else None


def _dispatch(github: GitHub, branch: str, number: int) -> None:
    # A PR opened with GITHUB_TOKEN starts no pull_request run: ask for one on the branch, for this PR.
    github.dispatch_workflow(PR_WORKFLOW, ref=branch, inputs={"pr_number": str(number)})


def _message(summary: dict[str, Any]) -> str:
    return (
        f"Retraining snapshot: {summary.get('verdict', '')}"[:200]
        + f"\n\nChampion: {summary.get('champion', '')}\nMonitor run: {summary.get('run_url', '')}\n\n{TRAILER}\n"
    )


def _body(settings: Settings, summary: dict[str, Any], stats: str, head: str) -> str:
    evidence = monitoring.drift_markdown(summary, [])
    text = (
        f"{PR_MARKER}\n"
        f"The scheduled monitor found that **{inert(summary.get('verdict', ''), 1000)}**.\n\n"
        f"This pull request retrains on a new snapshot of {inert_code(settings.data.path)}: {stats}. "
        f"The `pr` workflow runs on it and compares the new model with the champion {inert_code(summary.get('champion', ''))}; "
        "merge to release it. Pushing your own commits here is safe: the monitor will comment rather than overwrite them.\n\n"
        f"{evidence}\n"
    )
    return fit_comment(text, limit=MAX_COMMENT_CHARS - 100) + f"\n<!-- mlops-retrain-head: {head} -->\n"


def _done(settings: Settings, action: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"action": action, "message": message, **extra}
