"""``mlops drift``: production data against the champion's own training profile; is retraining due?

Reads the production files ``confs/monitor.yaml`` names, checks them against the data contract
(late labels may be missing), compares every monitored column and the champion's predictions
with the profile that travelled with the champion (``core.drift``: evidently's tests and
thresholds, without reloading the training data), measures decay on labelled rows and the
champion's age, and concludes. Finding drift is the job working: exit 0 either way; the verdict
is the step output ``retraining_due``. With a GitHub token, the earlier runs on the reports
branch draw the trend, and the run is appended to them: here, or (``--no-history``, the
workflow's way, so that the job parsing production data never holds ``contents: write``) by
``mlops drift-history`` in a job of its own, from this job's outputs.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import PREDICTION_COLUMN, Settings
from ..core import drift as drift_rules
from ..core import monitoring
from ..errors import InputError
from ..io import datasets
from ..io.artifacts import append_step_summary, read_json, remove, set_step_output, to_json, write_all
from ..jobs import CHAMPION_DIR, CHAMPION_JSON, DRIFT_HTML, DRIFT_JSON, DRIFT_MD, PRODUCTION_PARQUET, PROFILE_FILE
from . import steps

logger = logging.getLogger(__name__)
HISTORY_FILE = "drift/history.jsonl"
LATEST_MD, LATEST_JSON = "drift/latest.md", "drift/latest.json"
HISTORY_KEPT = 500  # lines kept in the history file; the oldest fall off


def champion(settings: Settings) -> dict[str, Any] | None:
    """``outputs/champion/champion.json`` with its model and profile, or None when there is no champion yet."""
    record = read_json(settings.path(str(CHAMPION_JSON)), produced_by="champion")
    if record.get("source") == "none":
        return None
    if record.get("source") not in ("release", "local"):
        raise InputError(
            "monitoring reads the champion's profile from its release; with a tracking server as the registry, "
            "run `mlops champion` against GitHub Releases (unset MLFLOW_TRACKING_URI for the monitor job)"
        )
    folder = settings.path(record.get("model_path") or str(CHAMPION_DIR))
    profile_file = folder / PROFILE_FILE
    try:
        profile = json.loads(profile_file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InputError(
            f"champion {record.get('tag')}: its release has no {PROFILE_FILE} (released before monitoring existed); "
            "merge a retraining pull request to release a model that carries one"
        ) from error
    except ValueError as error:
        raise InputError(f"champion {record.get('tag')}: {PROFILE_FILE} is not valid JSON") from error
    return {**record, "profile": profile, "folder": folder}


def age_in_days(published_at: str, now: datetime) -> float | None:
    try:
        published = datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (now - published).total_seconds() / 86400


def run(settings: Settings, *, history: bool = True, html: bool = True, now: datetime | None = None) -> dict[str, Any]:
    """Judge the production data; with ``history`` (and a token that may write contents), also append the run;
    with ``html``, also write evidently's interactive report (evidently is imported only then)."""
    outputs = [settings.path(str(path)) for path in (DRIFT_JSON, DRIFT_MD, DRIFT_HTML, PRODUCTION_PARQUET)]
    remove(*outputs)
    now = now or datetime.now(UTC)
    monitor = settings.monitor
    summary: dict[str, Any] = {
        "checked_at": now.isoformat(timespec="seconds"),
        "run_url": settings.env.run_url,
        "current": monitor.current,
        "due": False,
        "drift_share": monitor.drift.share,
    }
    try:
        files = datasets.matching_files(monitor.current if datasets.is_uri(monitor.current) else settings.path(monitor.current))
    except InputError as error:
        raise InputError(f"confs/monitor.yaml: current: {error}") from error
    found = champion(settings) if files else None
    if not files:
        summary["nothing_to_check"] = f"nothing to check in {monitor.current}: no CSV or Parquet file there yet"
    elif found is None:
        summary["nothing_to_check"] = (
            "no champion yet (no complete release; on a laptop, `mlops promote` then `mlops champion`): "
            "nothing to compare production data with"
        )
    else:
        _check(settings, summary, files, found, now, html=html)
    summary["verdict"] = summary.get("verdict") or monitoring.Verdict(due=False, notes=[summary["nothing_to_check"]]).line
    markdown = _with_history(settings, summary, publish=history)
    written: dict[Path, str | bytes] = {
        settings.path(str(DRIFT_JSON)): to_json(steps.stamped(summary, settings)),
        settings.path(str(DRIFT_MD)): markdown,
    }
    write_all(written)
    append_step_summary(markdown, settings.env.github_step_summary)
    set_step_output("retraining_due", "true" if summary["due"] else "false", settings.env)
    set_step_output("verdict", summary["verdict"], settings.env)
    logger.info("%s", summary["verdict"])
    return summary


def _check(settings: Settings, summary: dict[str, Any], files: list[str], found: dict[str, Any], now: datetime, *, html: bool) -> None:
    from ..io import model_files

    monitor, data = settings.monitor, settings.data
    raw, typed, violations, refused = steps.production_frame(settings, files)
    raw, typed, window = steps.in_window(settings, raw, typed)
    summary.update(
        files=[Path(file).name if "://" not in file else file for file in files],
        sources=[_shown(settings, file) for file in files],
        champion=found.get("tag", ""),
        champion_url=found.get("release_url", ""),
        rows=len(typed),
        rows_refused=refused,
        violations=violations,
        window=window,
    )
    age = age_in_days(found.get("published_at", ""), now)
    summary["champion_age_days"] = age
    if len(typed) < monitor.min_rows:
        summary["nothing_to_check"] = (
            f"{len(typed)} production rows in the window, fewer than min_rows ({monitor.min_rows}): nothing judged"
        )
        return
    model = model_files.load_model(found["folder"])
    numeric, categorical = steps.monitored_columns(settings)
    current = typed[[name for name in [*numeric, *categorical] if name in typed.columns]].copy()
    try:
        current[PREDICTION_COLUMN] = steps.predict(model, typed[data.features.all])
    except (KeyError, ValueError) as error:
        raise InputError(f"champion {found.get('tag')} cannot score the production data ({str(error).splitlines()[0]})") from error
    # A late column with no value yet (labels not in) is not compared at all, rather than "missing".
    waiting = [name for name in steps.late_columns(settings) if name not in current or current[name].isna().all()]
    current = current.drop(columns=[name for name in waiting if name in current])
    profile = {**found["profile"], "columns": {k: v for k, v in found["profile"].get("columns", {}).items() if k not in waiting}}
    rules = {
        name: drift_rules.ColumnRule(method=rule.method, threshold=rule.threshold)
        for name, rule in monitor.drift.columns.items()
        if name not in waiting
    }
    result = drift_rules.compare(profile, current, rules=rules, drift_share=monitor.drift.share)
    columns = result.as_dict()["columns"]
    summary["not_compared"] = waiting
    feature_columns = [column for column in columns if column["column"] != PREDICTION_COLUMN]
    prediction = next((column for column in columns if column["column"] == PREDICTION_COLUMN), None)
    labelled = typed[typed[data.target].notna()] if data.target in typed else typed.iloc[0:0]
    decays: list[monitoring.Decay] = []
    if len(labelled):
        from ..core.metrics import score

        truth, predicted = steps.labels(settings, labelled), current.loc[labelled.index, PREDICTION_COLUMN].to_numpy()
        decays = monitoring.decay(
            data.task,
            found.get("metrics", {}),
            score(data.task, truth, predicted),
            settings.gates.max_regression,
            # Only the gated metrics: decay reads no other interval, and each costs rounds × a scoring.
            monitoring.bootstrap_intervals(data.task, truth, predicted, metrics=settings.gates.max_regression),
        )
    drifted, share, dataset_drift = monitoring.dataset_drift(feature_columns, monitor.drift.share)
    decided = monitoring.verdict(
        dataset_drift=dataset_drift,
        drifted=drifted,
        share=share,
        prediction_drifted=bool(prediction and prediction["drifted"]),
        decayed=[d for d in decays if d.decayed],
        age_days=age,
        max_age_days=monitor.retrain_when.max_champion_age_days,
        when=monitor.retrain_when.model_dump(),
    )
    summary.update(
        columns=columns,
        drifted=drifted,
        share=share,
        dataset_drift=dataset_drift,
        prediction_drifted=bool(prediction and prediction["drifted"]),
        labelled_rows=len(labelled),
        decay=monitoring.as_dicts(decays),
        due=decided.due,
        reasons=decided.reasons,
        verdict=decided.line,
    )
    summary["production_sha256"] = [datasets.sha256_of(file) for file in files]
    if html:
        # The same columns as the verdict (the target too when labelled), typed as the profile typed them.
        kinds = {column["column"]: column["kind"] for column in feature_columns if not column.get("missing")}
        summary["html_report"] = _html_report(settings, current, kinds)
    else:
        logger.info("evidently HTML report not made (--no-html)")


def _shown(settings: Settings, file: str) -> str:
    """A production file as `mlops retrain-pr` finds it again: relative to the project when inside it."""
    if "://" in file:
        return file
    path = Path(file)
    return path.relative_to(settings.root).as_posix() if path.is_absolute() and path.is_relative_to(settings.root) else file


def _html_report(settings: Settings, current: pd.DataFrame, kinds: dict[str, str]) -> dict[str, Any] | None:
    """evidently's interactive report on bounded samples, for whoever wants to explore; the verdicts above use every row.

    evidently needs reference rows, which the champion's profile does not keep: the sample comes
    from the data checked out beside the monitor (the training data on the base branch). It is
    told which columns to compare and how (``kinds``, column → numeric or categorical): left to
    guess, evidently drops a column whose type differs between the two sides (a nullable integer
    target) and would count other columns than drift.md. Without evidently installed, or on data
    it cannot read, the report is skipped with a log line. Returns what it counted, or None.
    """
    size = settings.monitor.report_sample_rows
    try:
        reference = steps.check_data(settings).frame
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset
    except Exception as error:  # the HTML view is optional: never fail the monitor over it
        logger.info("evidently HTML report skipped (%s)", str(error).splitlines()[0] if str(error) else type(error).__name__)
        return None
    if reference is None:
        logger.info("evidently HTML report skipped: the checked-out training data does not validate")
        return None
    columns = [name for name in kinds if name in current.columns and name in reference.columns]
    sample = without_markup(_plain(reference[columns], kinds).sample(min(size, len(reference)), random_state=0))
    now = without_markup(_plain(current[columns], kinds).sample(min(size, len(current)), random_state=0))
    clean = dict(zip(columns, sample.columns, strict=True))  # the names as without_markup wrote them
    definition = DataDefinition(
        numerical_columns=[clean[name] for name in columns if kinds[name] == drift_rules.NUMERIC],
        categorical_columns=[clean[name] for name in columns if kinds[name] == drift_rules.CATEGORICAL],
    )
    try:
        # The same tests as drift.md where monitor.yaml names them (evidently's own choice, which core.drift follows, elsewhere).
        rules = {clean[name]: rule for name, rule in settings.monitor.drift.columns.items() if name in clean}
        preset = DataDriftPreset(
            drift_share=settings.monitor.drift.share,
            per_column_method={name: rule.method for name, rule in rules.items() if rule.method} or None,
            per_column_threshold={name: rule.threshold for name, rule in rules.items() if rule.threshold} or None,
        )
        snapshot = Report([preset]).run(
            Dataset.from_pandas(now, data_definition=definition), Dataset.from_pandas(sample, data_definition=definition)
        )
        target = settings.path(str(DRIFT_HTML))
        target.parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(target))
        metrics = snapshot.dict()["metrics"]
        drifted = next(round(float(m["value"]["count"])) for m in metrics if m["metric_name"].startswith("DriftedColumnsCount"))
        original = {shown: name for name, shown in clean.items()}
        tests = dict(_value_drift_test(m["metric_name"], original) for m in metrics if m["metric_name"].startswith("ValueDrift("))
        judged = len(tests)  # one per column it compared
    except Exception as error:
        logger.info("evidently HTML report skipped (%s)", str(error).splitlines()[0] if str(error) else type(error).__name__)
        return None
    logger.info("evidently HTML report: %s (%d of %d columns drifted in samples of %d rows)", DRIFT_HTML, drifted, judged, len(now))
    return {"path": str(DRIFT_HTML), "columns": judged, "drifted": drifted, "sample_rows": len(now), "tests": tests}


def _value_drift_test(metric_name: str, original: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The column and the test evidently ran on it, from its metric's name: ``ValueDrift(column=x,method=psi,threshold=0.1)``."""
    inside = metric_name.removeprefix("ValueDrift(column=").removesuffix(")")
    column, _, rest = inside.rpartition(",method=")
    method, _, threshold = rest.rpartition(",threshold=")
    return original.get(column, column), {"method": method, "threshold": float(threshold)}


def _plain(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Numeric columns as float64: a nullable integer (Int64 with a missing value) reaches numpy as objects, and evidently fails."""
    plain = frame.copy()
    for name in (name for name in frame.columns if kinds[name] == drift_rules.NUMERIC):
        plain[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return plain


# evidently 0.7 writes the report's data (column names, category values) as JSON into an inline <script>
# without escaping "<": a value holding </script> would end that script and start markup of its own, and
# <!-- would change how the rest is parsed. In the copy it is given, "<" is the look-alike "＜" (U+FF1C).
MARKUP_LOOKALIKE = "\uff1c"


def without_markup(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose column names and text values hold no "<", for evidently's HTML report."""

    def clean(value: Any) -> Any:
        return value.replace("<", MARKUP_LOOKALIKE) if isinstance(value, str) else value

    copy = frame.rename(columns=lambda name: clean(str(name)))
    for name in copy.columns:
        column = copy[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            copy[name] = column.astype(object).map(clean).astype("category")
        elif not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_datetime64_any_dtype(column):
            copy[name] = column.map(clean)
    return copy


def _with_history(settings: Settings, summary: dict[str, Any], *, publish: bool) -> str:
    """The report, its trend drawn from the earlier runs on the reports branch; with ``publish``, the run appended there.

    Reading the history needs ``contents: read`` only. Without a GitHub repository and token (a laptop),
    there is no history and no trend.
    """
    env = settings.env
    if not (env.github_repository and env.github_token):
        logger.info("no GitHub repository and token: no history from %s", settings.monitor.reports_branch)
        return monitoring.drift_markdown(summary, [])
    from ..io import reports_branch
    from ..io.github import GitHub, GitHubContext

    with GitHub(GitHubContext.from_env(env)) as github:
        earlier = reports_branch.read_history(github, settings.monitor.reports_branch, HISTORY_FILE)
        markdown = monitoring.drift_markdown(summary, earlier)
        if publish:
            summary["history_commit"] = _publish(github, settings, summary, markdown, earlier)
    return markdown


def publish_history(settings: Settings) -> str:
    """Append the run in ``outputs/drift/drift.json`` to the history on the reports branch; the new head.

    The drift job handed these files over as an artifact, and made them while parsing production data:
    they are read bounded, must come from this checkout's data and config, and the history line is typed,
    all before anything is asked of GitHub.
    """
    from ..io import reports_branch
    from ..io.github import GitHub, GitHubContext

    summary, markdown = steps.handed_over(settings, DRIFT_JSON, DRIFT_MD, produced_by="drift")
    _history_line(summary)
    with GitHub(GitHubContext.from_env(settings.env)) as github:
        earlier = reports_branch.read_history(github, settings.monitor.reports_branch, HISTORY_FILE)
        return _publish(github, settings, summary, markdown, earlier)


def _history_line(summary: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The run's typed history entry and its verdict line; ``InputError`` naming the field when the summary is not one of ours."""
    from pydantic import ValidationError

    try:
        entry = monitoring.checked_history_entry(summary)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise InputError(f"{DRIFT_JSON}: {where}: {problem['msg']}; not a summary `mlops drift` writes") from error
    verdict = summary.get("verdict")
    if not isinstance(verdict, str) or len(verdict) > monitoring.MAX_VERDICT:
        raise InputError(f"{DRIFT_JSON}: verdict: expected the verdict line `mlops drift` writes")
    return entry, verdict


def _publish(github: Any, settings: Settings, summary: dict[str, Any], markdown: str, earlier: list[dict[str, Any]]) -> str:
    from ..io import reports_branch

    entry, verdict = _history_line(summary)
    kept = [*earlier, entry][-HISTORY_KEPT:]
    lines = "".join(json.dumps(item, sort_keys=True) + "\n" for item in kept)
    files = {HISTORY_FILE: lines.encode(), LATEST_MD: markdown.encode(), LATEST_JSON: to_json(summary).encode()}
    return reports_branch.publish(github, settings.monitor.reports_branch, files, f"drift: {' '.join(verdict.split())[:72]}")
