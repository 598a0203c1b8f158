"""The steps several verbs share: check the data, split it for modelling, load a model, predict, score.

A verb never imports another verb: what two verbs both do lives here, and each verb reads as
the list of steps it takes. Heavy libraries (pandas, pandera, scikit-learn, skops, MLflow) are
imported inside the step that needs them, so that a verb pays only for the steps it takes
(`mlops report` imports none of them).

`mlops validate` records what it verified (``outputs/validation/verified.json`` and the typed
frame as Parquet). `mlops train` and `mlops evaluate` re-hash the data file and reuse that frame
only when the bytes, the declared columns and the manifest are provably those validate checked;
otherwise they run every check again. Either way they act on data that passed every check.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..core import manifest as manifest_rules
from ..core.manifest import Manifest
from ..core.records import ModelRef, TrainedModel, VerifiedData
from ..core.schemas import CheckFailure, schema_hash
from ..errors import InputError
from ..io import datasets
from ..io.artifacts import read_json, remove, to_json
from . import CHAMPION_JSON, DRY_RUN, OUTPUTS, TRAINING_JSON

if TYPE_CHECKING:
    import pandas as pd

    from ..io.github import DryRun

logger = logging.getLogger(__name__)

VERIFIED_JSON = OUTPUTS / "validation" / "verified.json"
VERIFIED_FRAME = OUTPUTS / "validation" / "frame.parquet"
TRAINED_MODEL_DIR = OUTPUTS / "train" / "model"
VERIFIED_FORMAT = 1


# --- check the data ---------------------------------------------------------------------------


@dataclass
class DataCheck:
    """The data's shape, the typed frame when it passed, and everything that failed."""

    rows: int
    columns: int
    frame: pd.DataFrame | None
    data_sha256: str
    failures: list[CheckFailure] = field(default_factory=list)
    manifest_problems: list[str] = field(default_factory=list)
    manifest_digest: str = ""
    reused: bool = False

    @property
    def passed(self) -> bool:
        return self.frame is not None and not self.failures and not self.manifest_problems

    def reasons(self) -> list[str]:
        from ..core.schemas import failure_reasons

        return [f"manifest: {problem}" for problem in self.manifest_problems] + failure_reasons(self.failures)


def _source(settings: Settings) -> str | Path:
    location = settings.data.path
    return location if "://" in location else settings.path(location)


def columns_hash(settings: Settings) -> str:
    """Hash of every declared column's full spec (types, bounds, allowed values, nullability)."""
    specs = {name: spec.model_dump(mode="json") for name, spec in settings.data.columns.items()}
    return hashlib.sha256(json.dumps(specs, sort_keys=True).encode()).hexdigest()


def _manifest_problems(settings: Settings, manifest: Manifest, sha256: str, rows: int) -> list[str]:
    pinned = manifest.entry(settings.data.path)
    if pinned is None:
        return [f"{settings.data.path} is not pinned in {settings.data.manifest}; run `mlops manifest`"]
    return manifest_rules.compare(pinned, sha256=sha256, rows=rows, schema_hash=schema_hash(settings.data.columns))


def check_data(settings: Settings) -> DataCheck:
    """Read the configured data, compare it with its manifest entry, validate it against the schema."""
    import pandera.pandas as pa

    from ..core.schemas import build_schema, summarize_failures

    source = _source(settings)
    manifest = datasets.read_manifest(settings.path(settings.data.manifest))
    raw = datasets.read_table(source, settings.data.missing_values)
    sha256 = datasets.sha256_of(source)
    problems = _manifest_problems(settings, manifest, sha256, len(raw))
    try:
        frame = build_schema(settings.data.columns).validate(raw, lazy=True)
        failures: list[CheckFailure] = []
    except pa.errors.SchemaErrors as error:
        frame, failures = None, summarize_failures(error.failure_cases)
    return DataCheck(
        rows=len(raw),
        columns=len(raw.columns),
        frame=frame,
        data_sha256=sha256,
        failures=failures,
        manifest_problems=problems,
        manifest_digest=manifest.digest,
    )


def verified_outputs(settings: Settings, check: DataCheck) -> dict[Path, str | bytes]:
    """What `mlops validate` leaves for the verbs after it: the typed frame and the proof of what it checked.

    Nothing when the data failed or Parquet cannot be written: the later verbs then check again.
    """
    if not check.passed or check.frame is None or not datasets.frames_can_be_stored():
        return {}
    frame = datasets.frame_to_parquet(check.frame)
    proof = VerifiedData(
        path=settings.data.path,
        data_sha256=check.data_sha256,
        columns_hash=columns_hash(settings),
        manifest_digest=check.manifest_digest,
        rows=check.rows,
        frame=str(VERIFIED_FRAME),
        frame_sha256=hashlib.sha256(frame).hexdigest(),
        format=VERIFIED_FORMAT,
    )
    return {settings.path(str(VERIFIED_FRAME)): frame, settings.path(str(VERIFIED_JSON)): to_json(proof.as_dict())}


def forget_verified(settings: Settings) -> None:
    remove(settings.path(str(VERIFIED_JSON)), settings.path(str(VERIFIED_FRAME)))


def _reuse_verified(settings: Settings) -> DataCheck | None:
    """The frame `mlops validate` checked, when every input is provably the one it checked; else None."""
    proof_path = settings.path(str(VERIFIED_JSON))
    if not proof_path.is_file():
        return None
    try:
        proof = VerifiedData.from_dict(json.loads(proof_path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError):
        return None
    if proof.format != VERIFIED_FORMAT or proof.path != settings.data.path or proof.columns_hash != columns_hash(settings):
        return None
    manifest = datasets.read_manifest(settings.path(settings.data.manifest))
    sha256 = datasets.sha256_of(_source(settings))  # the same bytes as validated, or nothing is reused
    if sha256 != proof.data_sha256 or manifest.digest != proof.manifest_digest:
        return None
    try:
        stored = settings.path(str(VERIFIED_FRAME)).read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.sha256(stored).hexdigest() != proof.frame_sha256 or not datasets.frames_can_be_stored():
        return None
    frame = datasets.frame_from_parquet(stored)
    if len(frame) != proof.rows:
        return None
    return DataCheck(
        rows=len(frame),
        columns=len(frame.columns),
        frame=frame,
        data_sha256=sha256,
        manifest_problems=_manifest_problems(settings, manifest, sha256, len(frame)),
        manifest_digest=manifest.digest,
        reused=True,
    )


def verified_data(settings: Settings) -> DataCheck:
    """The data as `mlops validate` verified it when provably unchanged, else checked again now."""
    reused = _reuse_verified(settings)
    if reused is not None:
        logger.debug("reusing the frame `mlops validate` verified (same data sha256, columns and manifest)")
        return reused
    return check_data(settings)


# --- outputs made from the current inputs only ---------------------------------------------


def inputs_stamp(settings: Settings) -> str:
    """One hash of what every output derives from: the data manifest and each file in confs/."""
    digest = hashlib.sha256()
    for path in [settings.path(settings.data.manifest), *sorted(Path(settings.confs).glob("*.yaml"))]:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


# What a job reads of another job's artifact: far more than a report of thousands of columns takes, and the
# markdown within GitHub's 1 MiB job summary.
MAX_HANDED_OVER_JSON = 16 << 20
MAX_HANDED_OVER_MARKDOWN = 1 << 20


def handed_over(settings: Settings, record: Path, markdown: Path, *, produced_by: str) -> tuple[dict[str, Any], str]:
    """A report and its markdown that another job of this run handed over as an artifact: bounded, made from this checkout.

    The job that made them parsed what others wrote (production data, issues); the job that reads them may write
    contents. So they are external input here: refused over the caps or when made from other data or config.
    """
    from ..io.artifacts import read_text

    report = read_current(settings, record, produced_by=produced_by, max_bytes=MAX_HANDED_OVER_JSON)
    return report, read_text(settings.path(str(markdown)), produced_by=produced_by, max_bytes=MAX_HANDED_OVER_MARKDOWN)


def stamped(record: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {**record, "inputs": inputs_stamp(settings)}


def dry_run(settings: Settings, verb: str) -> DryRun:
    """Where ``mlops <verb> --dry-run`` records what it would send (``outputs/dry-run/<verb>/``, emptied first).

    Without ``GITHUB_REPOSITORY`` (a laptop) its reads are answered offline too, as by a repository with no history.
    """
    from ..io.github import DryRun

    return DryRun(settings.path(str(DRY_RUN / verb)), offline=not settings.env.github_repository)


def read_current(settings: Settings, relative: Path, *, produced_by: str, max_bytes: int | None = None) -> dict[str, Any]:
    """An output of an earlier verb, refused unless it was made from the current data and config."""
    record = read_json(settings.path(str(relative)), produced_by=produced_by, max_bytes=max_bytes)
    if record.get("inputs") != inputs_stamp(settings):
        raise InputError(f"{relative} was made from other data or config than the current ones; run `mlops {produced_by}` again")
    return record


# --- split for modelling ----------------------------------------------------------------------


def split_for_modelling(settings: Settings) -> tuple[DataCheck, pd.DataFrame, pd.DataFrame]:
    """The validated data split into train and holdout; the same split for train and evaluate.

    By time when the config names a timestamp column; otherwise a seeded random split,
    stratified by the label for classification.
    """
    from ..core.features import group_split, random_split, time_split

    check = verified_data(settings)
    if not check.passed or check.frame is None:
        raise InputError(
            f"{settings.data.path}: data failed validation ({'; '.join(check.reasons())}); run `mlops validate` for the report"
        )
    data = settings.data
    try:
        if data.timestamp_column:
            train, holdout = time_split(check.frame, data.timestamp_column, data.holdout_fraction)
        elif data.group_column:
            train, holdout = group_split(check.frame, data.group_column, data.holdout_fraction, settings.model.seed)
        else:
            stratify = labels(settings, check.frame) if data.task == "binary_classification" else None
            train, holdout = random_split(check.frame, data.holdout_fraction, settings.model.seed, stratify)
    except ValueError as error:
        raise InputError(f"{data.path}: {str(error).splitlines()[0]}") from error
    return check, train, holdout


def split_description(settings: Settings) -> str:
    from ..core.features import describe_split

    data = settings.data
    stratified = data.task == "binary_classification" and not data.group_column
    return describe_split(data.timestamp_column, data.holdout_fraction, data.target, stratified=stratified, group_column=data.group_column)


def labels(settings: Settings, frame: pd.DataFrame) -> Any:
    """What the model learns: 1 for the positive class and 0 otherwise (classification), the value (regression)."""
    target = frame[settings.data.target]
    if settings.data.task == "regression":
        return target.to_numpy()
    # Compared as text: the typed column (int 1, "yes", True) and the YAML value agree as strings.
    return (target.astype(str) == str(settings.data.positive_label)).astype(int).to_numpy()


# --- monitoring ------------------------------------------------------------------------------


def monitored_columns(settings: Settings) -> tuple[list[str], list[str]]:
    """The numeric and categorical columns drift watches: the features, the sensitive attribute and the target."""
    data = settings.data
    numeric = list(data.features.numeric)
    categorical = list(data.features.categorical)
    if data.sensitive_attribute and data.sensitive_attribute not in categorical:
        categorical.append(data.sensitive_attribute)
    (numeric if data.task == "regression" else categorical).append(data.target)
    return numeric, categorical


def late_columns(settings: Settings) -> set[str]:
    return {settings.data.target, *settings.monitor.late_columns}


def production_frame(settings: Settings, files: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str], int]:
    """The production rows as read (text) and typed, the rows that break the contract left out and described."""
    import pandera.pandas as pa

    from ..core.schemas import failure_reasons, listed, production_schema, summarize_failures

    raw = datasets.read_tables(files, settings.data.missing_values)
    late = late_columns(settings)
    absent = [name for name in settings.data.columns if name not in raw.columns and name not in late]
    if absent:
        raise InputError(
            f"{settings.monitor.current}: production data lacks column(s) {listed(absent)} (expected every column of "
            f"confs/data.yaml; list late ones under late_columns in confs/monitor.yaml)"
        )
    schema = production_schema(settings.data.columns, may_be_missing=late)
    try:
        return raw, schema.validate(raw, lazy=True), [], 0
    except pa.errors.SchemaErrors as error:
        failures = summarize_failures(error.failure_cases)
        bad_rows = set(error.failure_cases["index"].dropna().astype(int))
        kept = raw.drop(index=sorted(bad_rows))
        if kept.empty:
            raise InputError(
                f"{settings.monitor.current}: no production row meets the data contract ({failure_reasons(failures)[0]})"
            ) from error
        try:
            typed = schema.validate(kept, lazy=True)
        except pa.errors.SchemaErrors as again:  # a table-level failure: nothing row by row to leave out
            raise InputError(f"{settings.monitor.current}: {failure_reasons(summarize_failures(again.failure_cases))[0]}") from again
        return kept, typed, failure_reasons(failures), len(raw) - len(kept)


def in_window(settings: Settings, raw: pd.DataFrame, typed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Only the newest ``window_days`` by the timestamp column (all rows without one)."""
    column, days = settings.data.timestamp_column, settings.monitor.window_days
    if not column or not days or column not in typed:
        return raw, typed, ""
    import pandas as pd

    if settings.data.columns[column].dtype != "datetime":  # integer periods (year, yyyymm): no days to count
        return raw, typed, f"all rows ({column} holds integer periods, so window_days does not apply)"
    when = pd.to_datetime(typed[column], utc=True)
    keep = when >= when.max() - pd.Timedelta(days=days)
    start, end = when[keep].min().date(), when.max().date()
    return raw.loc[keep.to_numpy()], typed.loc[keep], f"{start} to {end} ({days} days)"


# --- predict and score ------------------------------------------------------------------------


def predict(model: Any, frame: pd.DataFrame) -> Any:
    """Positive-class probability for classifiers, the value for regressors.

    The one prediction function: evaluation, monitoring, batch scoring and the service all call it.
    scikit-learn's per-call checks (the fitted parameters again, finiteness of a frame the schema already
    checked) are skipped: they took half of a small batch's time and change no prediction.
    """
    import sklearn

    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return model.predict_proba(frame)[:, 1] if hasattr(model, "predict_proba") else model.predict(frame)


def score(settings: Settings, model: Any, holdout: pd.DataFrame, *, role: str, uri: str) -> tuple[dict[str, float], Any]:
    """Holdout metrics of ``model`` and its prediction; a model that cannot score this holdout is an input error."""
    from ..core.metrics import score as metrics_of

    try:
        prediction = predict(model, holdout[settings.data.features.all])
    except (KeyError, ValueError) as error:
        raise InputError(f"{role} {uri} cannot score the current holdout ({str(error).splitlines()[0]})") from error
    return metrics_of(settings.data.task, labels(settings, holdout), prediction), prediction


# --- load the models --------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_trained(settings: Settings, model: TrainedModel) -> Any:
    """The challenger exactly as logged: its local folder when ``model.skops`` has the recorded sha256.

    Without the local folder (or a record that predates it) the model is fetched from MLflow.
    A local file with another sha256 is refused: it is not the model that was logged.
    """
    from ..io import model_files  # scikit-learn: not for the verbs that only check data

    if model.local_dir and model.sha256:
        folder = settings.path(model.local_dir)
        file = folder / model_files.MODEL_FILE
        if file.is_file():
            actual = file_sha256(file)
            if actual != model.sha256:
                raise InputError(
                    f"{model.local_dir}/{model_files.MODEL_FILE}: sha256 is {actual[:12]}…, {TRAINING_JSON} records "
                    f"{model.sha256[:12]}…; run `mlops train` again"
                )
            return model_files.load_model(folder)
    from ..io import tracking  # MLflow only when the local copy is missing

    return tracking.load_model(settings, model.model_uri, sha256=model.sha256 or None)


def load_champion(settings: Settings) -> tuple[ModelRef, Any] | None:
    """The production model: the release `mlops champion` fetched, else the registry's ``champion`` alias.

    A fetched release is a local folder; MLflow is imported only when the alias must be asked
    (a tracking server, or a local store that has one).
    """
    from ..io import model_files

    fetched = settings.path(str(CHAMPION_JSON))
    if fetched.exists():
        record = read_json(fetched, produced_by="champion")
        if record["source"] == "none":
            return None
        if record["source"] in ("release", "local"):
            folder = settings.path(record["model_path"])
            ref = ModelRef(run_id=record.get("run_id", ""), model_uri=str(folder), version=record["tag"])
            return ref, model_files.load_model(folder)
    from ..io import local_registry

    if not settings.uses_tracking_server and local_registry.alias_is_absent(
        settings.tracking_uri, settings.tracking.registered_model, local_registry.CHAMPION_ALIAS
    ):
        return None
    from ..io import tracking

    ref = tracking.champion(settings)
    return (ref, tracking.load_model(settings, ref.model_uri)) if ref is not None else None
