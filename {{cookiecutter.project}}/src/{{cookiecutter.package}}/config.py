"""Typed, frozen configuration read once from ``confs/*.yaml``.

Every file maps to one section. A wrong key or value is a ``ConfigError`` that names the
file and the key, e.g. ``confs/model.yaml: estimatr: unknown key``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from .core.specs import ColumnSpec, Features, GatesConfig, Strict
from .errors import ConfigError
from .project import TASK

Task = Literal["binary_classification", "regression"]
# The name under which drift reports the champion's predictions beside the data's columns.
PREDICTION_COLUMN = "prediction"


class DataConfig(Strict):
    path: str
    manifest: str = "data/manifest.json"
    # Defaults to the cookiecutter answer; `mlops init-data` writes it from the data.
    task: Task = TASK
    target: str
    # Classification: the target value counted as positive (1 for 0/1 targets).
    positive_class: int | str | bool | None = None
    id_column: str | None = None
    # A datetime column: the most recent rows are the holdout. Absent: a seeded random split.
    timestamp_column: str | None = None
    # An id repeated across rows (one person in several rows): without a timestamp, the holdout takes whole groups.
    group_column: str | None = None
    sensitive_attribute: str | None = None
    # Cell texts read as missing values; anything else in a numeric column is a bad value.
    missing_values: list[str] = Field(default_factory=lambda: [""])
    features: Features
    holdout_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    columns: dict[str, ColumnSpec]

    @model_validator(mode="after")
    def _columns_are_declared(self) -> DataConfig:
        named = {
            "target": [self.target],
            "timestamp_column": [self.timestamp_column] if self.timestamp_column else [],
            "group_column": [self.group_column] if self.group_column else [],
            "features": self.features.all,
            "sensitive_attribute": [self.sensitive_attribute] if self.sensitive_attribute else [],
            "id_column": [self.id_column] if self.id_column else [],
        }
        for key, names in named.items():
            for name in names:
                if name not in self.columns:
                    raise ValueError(f"{key} names column {name!r}, which is not declared under columns")
        if self.target in self.features.all:
            raise ValueError(f"target {self.target!r} must not also be a feature")
        if self.group_column in self.features.all or self.group_column == self.target:
            raise ValueError(
                f"group_column {self.group_column!r} must be neither a feature nor the target: it says which rows belong together"
            )
        if self.timestamp_column and self.columns[self.timestamp_column].dtype not in ("datetime", "int"):
            dtype = self.columns[self.timestamp_column].dtype
            raise ValueError(
                f"timestamp_column names column {self.timestamp_column!r}, which is {dtype}: "
                "expected a datetime column or integer periods such as year or yyyymm "
                "(or leave timestamp_column out for a seeded random split)"
            )
        self._check_positive_class()
        return self

    def _check_positive_class(self) -> None:
        if self.task == "regression":
            if self.positive_class is not None:
                raise ValueError("positive_class applies to classification only; remove it for regression")
            return
        allowed = self.columns[self.target].allowed
        if self.positive_class is None:
            if allowed is None or sorted(str(value) for value in allowed) != ["0", "1"]:
                raise ValueError(
                    f"positive_class is required: target {self.target!r} is not a 0/1 column "
                    '(name the label to predict, e.g. positive_class: "yes")'
                )
        elif allowed is not None and str(self.positive_class) not in {str(value) for value in allowed}:
            raise ValueError(f"positive_class {self.positive_class!r} is not among the target's allowed values {allowed}")

    @property
    def positive_label(self) -> int | str | bool:
        """The positive class (1 for a 0/1 target)."""
        return 1 if self.positive_class is None else self.positive_class


class SearchConfig(Strict):
    enabled: bool = False
    cv: Annotated[int, Field(ge=2)] = 3
    grid: dict[str, list[Any]] = Field(default_factory=dict)


class ModelConfig(Strict):
    estimator: Literal["hist_gradient_boosting", "random_forest", "linear"]
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 42
    search: SearchConfig = SearchConfig()


class TrackingConfig(Strict):
    tracking_uri: str = "sqlite:///.mlflow/mlflow.db"
    artifact_location: str = ".mlflow/artifacts"
    experiment: str
    registered_model: str


DriftMethod = Literal["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"]


class DriftRule(Strict):
    """A column's own drift test, overriding evidently's default choice (see ``core.drift``)."""

    method: DriftMethod | None = None
    threshold: Annotated[float, Field(gt=0)] | None = None


class DriftConfig(Strict):
    # Dataset drift when at least this share of the monitored columns drift (evidently's default).
    share: Annotated[float, Field(gt=0, le=1)] = 0.5
    columns: dict[str, DriftRule] = Field(default_factory=dict)


class RetrainWhen(Strict):
    """Which findings make retraining due; each is reported whether or not it counts."""

    dataset_drift: bool = True
    prediction_drift: bool = True
    # The champion scores worse on labelled production rows than at its release by more than
    # the gates' max_regression tolerance.
    decay: bool = True
    # The champion release is older than this (days); empty: age never makes retraining due.
    max_champion_age_days: Annotated[int, Field(gt=0)] | None = 180


class RetrainingConfig(Strict):
    branch: str = "mlops/retrain"
    base: str = "main"
    label: str = "retraining"
    # append: the current data plus the labelled production rows (de-duplicated by id_column,
    # the newest row wins); sliding_window: the same, then only the newest `window_days`.
    snapshot: Literal["append", "sliding_window"] = "append"
    window_days: Annotated[int, Field(gt=0)] = 730
    # A retraining pull request that a person closed is not reopened within this many days.
    cooldown_days: Annotated[int, Field(ge=0)] = 7


class MonitorConfig(Strict):
    """``confs/monitor.yaml``: where production data lands and when the champion needs retraining."""

    # Production data: a glob of CSV or Parquet files, local or any fsspec URI.
    current: str = "data/current/*"
    # Only rows whose timestamp_column is within this many days of the newest row (all rows without one).
    window_days: Annotated[int, Field(gt=0)] | None = 90
    # Columns that may be absent or empty in production data (labels arrive late); the target always may.
    late_columns: list[str] = Field(default_factory=list)
    # Fewer production rows than this: reported, nothing judged.
    min_rows: Annotated[int, Field(ge=1)] = 100
    drift: DriftConfig = DriftConfig()
    retrain_when: RetrainWhen = RetrainWhen()
    retraining: RetrainingConfig = RetrainingConfig()
    # History of every run, kept on this branch (never on the base branch) through the Git Data API.
    reports_branch: str = "mlops-reports"
    # Rows sampled for the interactive evidently HTML report (the verdicts use every row).
    report_sample_rows: Annotated[int, Field(ge=100)] = 5000


class DoraConfig(Strict):
    """``confs/dora.yaml``: what `mlops dora` counts as a deployment and as an incident."""

    # Deployments to this GitHub environment are the ones measured (the release creates them in production).
    environment: str = "production"
    # Issues with this label are incidents; a `root cause: <sha>` line in the body names the change that caused it.
    incident_label: str = "incident"
    # Whose incidents count: `triage` (an issue opened by the owner, a member or a collaborator, or labelled by someone
    # with at least triage access) or `anyone` (every labelled issue; the issue form lets anyone open one).
    incident_authors: Literal["triage", "anyone"] = "triage"
    # The one tracking issue the weekly report updates carries this label.
    tracking_label: str = "dora"
    # The history of every run is kept on this branch (the monitoring leg's reports branch by default).
    reports_branch: str = "mlops-reports"


AttestationPolicy = Literal["auto", "required", "off"]


class ReleaseConfig(Strict):
    """``confs/release.yaml``: whether releases carry a build provenance attestation, and what the champion must have."""

    # auto: where GitHub stores them (public repositories; private ones when private_attestations says so; never on
    # GitHub Enterprise Server); required: always, and the champion must have one that verifies; off: never.
    attestation: AttestationPolicy = "auto"
    # True when the plan stores attestations for private and internal repositories (GitHub Enterprise Cloud).
    private_attestations: bool = False
    # Ship a serving image with each release (release.yml builds, smoke-tests and pushes it): needs Docker on the runner.
    image: bool = True

    @field_validator("attestation", mode="before")
    @classmethod
    def _off_unquoted(cls, value: Any) -> Any:
        # YAML 1.1 (PyYAML) reads an unquoted `off` as false: that is what the user wrote.
        return "off" if value is False else value


ReleasePolicy = Literal["direct", "canary", "shadow"]


class PredictionLogConfig(Strict):
    """Where `mlops serve` logs a sample of what it scored, as production data `mlops drift` reads."""

    # Share of requests whose rows are logged; 0 (the default) logs nothing. Shadow mode logs every request.
    sample_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    # A folder, local (relative to the project) or any fsspec URI; JSONL files land there. Keep it where
    # confs/monitor.yaml's `current` reads, so the monitor watches served traffic.
    sink: str = "data/current"
    # A file is written when this many rows are buffered, or this many seconds after the first of them.
    flush_rows: Annotated[int, Field(ge=1)] = 1000
    flush_seconds: Annotated[float, Field(gt=0)] = 60.0


class ServingConfig(Strict):
    """``confs/serving.yaml``: the prediction service's caps, release policy and prediction log."""

    # direct: the release answers; canary: canary_share of request ids go to the release, the rest to the
    # previous model; shadow: the previous model answers, the release is scored and logged beside it.
    policy: ReleasePolicy = "direct"
    canary_share: Annotated[float, Field(gt=0, lt=1)] = 0.1
    # Caps of one /predict request: larger bodies and longer batches get 413.
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1 << 20
    max_batch_rows: Annotated[int, Field(ge=1)] = 1000
    # Micro-batching: concurrent requests are scored in one call of the model, up to this many rows; a batch
    # waits for requests that have already arrived (being read and validated), at most batch_wait_ms.
    micro_batch_rows: Annotated[int, Field(ge=1)] = 512
    batch_wait_ms: Annotated[float, Field(ge=0, le=50)] = 5.0
    prediction_log: PredictionLogConfig = PredictionLogConfig()


class Environment(Strict):
    """The process environment this project reads, read once (nothing else calls ``os.environ``).

    In GitHub Actions the ``GITHUB_*`` values are set by the runner; the workflows pass the
    token and the pull request's number and fork flag explicitly.
    """

    github_api_url: str = "https://api.github.com"
    github_server_url: str = "https://github.com"
    github_repository: str = ""
    github_token: str = Field(default="", repr=False)
    github_sha: str = ""
    github_ref: str = ""
    github_actor: str = ""
    github_event_name: str = ""
    github_run_id: str = ""
    github_step_summary: str = ""
    github_output: str = ""  # file of step outputs ($GITHUB_OUTPUT): `mlops drift` sets retraining_due there
    github_actions: bool = False  # "true" inside GitHub Actions: workflow commands (::warning::) are read from stdout
    pr_number: str = ""
    pr_head_sha: str = ""
    pr_from_fork: bool = False
    # The bot login of a GitHub App token, when the workflows use one instead of GITHUB_TOKEN.
    mlops_bot_login: str = ""
    # Where GitHub takes release asset uploads, when not where GITHUB_API_URL implies (uploads.github.com
    # beside api.github.com, the same host on GitHub Enterprise Server): a proxy, or the tests' double.
    mlops_github_upload_url: str = ""
    mlflow_tracking_uri: str = ""
    # The container registry of the serving image (`ghcr.io/<owner>/<repository>`), and who may push there: in the
    # release and rollback jobs, github.actor and the job's token (`packages: write`). They go to that registry only.
    image_registry: str = "ghcr.io"
    image_registry_username: str = ""
    image_registry_password: str = Field(default="", repr=False)
    # Handed to the tools the CLI starts (gh), which get nothing else of this environment.
    path: str = ""
    home: str = ""

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> Environment:
        values: dict[str, Any] = {name: environ[name.upper()] for name in cls.model_fields if environ.get(name.upper())}
        for flag in ("pr_from_fork", "github_actions"):
            values[flag] = environ.get(flag.upper(), "").strip().lower() == "true"
        if "github_api_url" in values:
            values["github_api_url"] = values["github_api_url"].rstrip("/")
        return cls(**values)

    @property
    def run_url(self) -> str:
        """The Actions run that is executing, or "" outside Actions."""
        if not (self.github_repository and self.github_run_id):
            return ""
        return f"{self.github_server_url.rstrip('/')}/{self.github_repository}/actions/runs/{self.github_run_id}"


class Settings(Strict):
    """All configuration, one section per file in ``confs/``, and the environment."""

    data: DataConfig
    model: ModelConfig
    gates: GatesConfig
    tracking: TrackingConfig
    monitor: MonitorConfig = MonitorConfig()
    dora: DoraConfig = DoraConfig()
    release: ReleaseConfig = ReleaseConfig()
    serving: ServingConfig = ServingConfig()
    env: Environment = Environment()
    root: Path = Path(".")
    # Where the YAML files were read from: outputs record a hash of them (see jobs.steps.inputs_stamp).
    confs: Path = Path("confs")

    @property
    def tracking_uri(self) -> str:
        """``MLFLOW_TRACKING_URI`` wins over ``confs/tracking.yaml``; a relative SQLite path is anchored at the root."""
        uri = self.env.mlflow_tracking_uri or self.tracking.tracking_uri
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
            uri = prefix + str((self.root / uri.removeprefix(prefix)).resolve())
        return uri

    @property
    def uses_tracking_server(self) -> bool:
        """True when MLflow is a tracking server, whose registry alias then holds the champion.

        The one answer to this question: from the environment or ``confs/tracking.yaml`` alike.
        """
        return is_tracking_server(self.tracking_uri)

    def path(self, relative: str) -> Path:
        """Resolve a path from the config against the project root."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.root / candidate


def is_tracking_server(uri: str) -> bool:
    """True for an MLflow tracking server (whose registry holds the champion), False for a local store."""
    return uri.startswith(("http://", "https://", "databricks"))


SECTIONS: dict[str, type[Strict]] = {
    "data": DataConfig,
    "model": ModelConfig,
    "gates": GatesConfig,
    "tracking": TrackingConfig,
    "monitor": MonitorConfig,
    "dora": DoraConfig,
    "release": ReleaseConfig,
    "serving": ServingConfig,
}
# Sections a project may leave out (projects made before the section existed): defaults apply.
OPTIONAL_SECTIONS = frozenset({"monitor", "dora", "release", "serving"})


def _read_yaml(file: Path, shown: str) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{shown}: config file not found (expected one per section: {', '.join(SECTIONS)})") from error
    except yaml.YAMLError as error:
        # The problem mark is where the parser gave up; fall back to the context it was in.
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{shown}{where}: not valid YAML ({problem})") from error
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{shown}: expected a mapping of keys to values, found {type(loaded).__name__}")
    return loaded


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _known_keys(model: type[BaseModel], location: tuple[Any, ...]) -> list[str]:
    """The keys accepted where ``location`` points: nested models followed, and dict values (``columns.<name>``)."""
    current: Any = model
    for part in location[:-1]:
        if _is_model(current):
            field = current.model_fields.get(str(part))
            current = field.annotation if field else None
        else:  # dict[str, Model] or Model | None: the key is a user's name, step into the model
            current = next((arg for arg in getattr(current, "__args__", ()) if _is_model(arg)), None)
    return list(current.model_fields) if _is_model(current) else []


def _describe(error: ValidationError, shown: str, model: type[BaseModel]) -> str:
    # An unknown key usually explains a "missing" one (a typo): report it first.
    first = sorted(error.errors(), key=lambda item: item["type"] != "extra_forbidden")[0]
    location = tuple(first["loc"])
    if not location:  # a rule across keys: its message names them
        return f"{shown}: {first['msg'].removeprefix('Value error, ')}"
    key = ".".join(str(part) for part in location)
    if first["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(location[-1]), _known_keys(model, location), n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        return f"{shown}: {key}: unknown key{hint}"
    if first["type"] == "missing":
        return f"{shown}: {key}: required key is missing"
    return f"{shown}: {key}: {first['msg'].removeprefix('Value error, ')}"


def _shown(file: Path, root: Path) -> str:
    """A config path as the user knows it: relative to the project when it is inside it."""
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file)


def _monitor_problem(monitor: MonitorConfig, data: DataConfig) -> str | None:
    """A monitor setting that names what the data does not have, described; None when all fit."""
    for name in [*monitor.late_columns, *monitor.drift.columns]:
        if name not in data.columns and name != PREDICTION_COLUMN:
            return f"{name!r} is not a column declared in confs/data.yaml"
    if (
        monitor.retraining.snapshot == "sliding_window"
        and data.timestamp_column
        and data.columns[data.timestamp_column].dtype != "datetime"
    ):
        return (
            "retraining.snapshot: sliding_window counts window_days, which needs dates: timestamp_column holds integer periods (use append)"
        )
    if monitor.retraining.snapshot == "sliding_window" and not data.timestamp_column:
        return "retraining.snapshot: sliding_window needs a timestamp_column in confs/data.yaml (or use append)"
    if not monitor.reports_branch.strip() or not monitor.retraining.branch.strip():
        return "reports_branch and retraining.branch must name a branch"
    if monitor.retraining.branch == monitor.retraining.base or monitor.reports_branch == monitor.retraining.base:
        return f"the retraining and reports branches must not be the base branch {monitor.retraining.base!r}"
    return None


def load_settings(confs: Path = Path("confs"), root: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every section and the environment; ``root`` (default: parent of ``confs``) anchors paths."""
    root = root if root is not None else confs.resolve().parent
    sections: dict[str, Any] = {}
    for name, model in SECTIONS.items():
        file = confs / f"{name}.yaml"
        shown = _shown(file, root)
        if name in OPTIONAL_SECTIONS and not file.exists():
            continue
        try:
            sections[name] = model.model_validate(_read_yaml(file, shown))
        except ValidationError as error:
            raise ConfigError(_describe(error, shown, model)) from error
    unknown = sections["gates"].unknown_metrics(sections["data"].task)
    if unknown:
        raise ConfigError(f"{_shown(confs / 'gates.yaml', root)}: {unknown}")
    if sections["gates"].max_fairness_gap and not sections["data"].sensitive_attribute:
        raise ConfigError(
            f"{_shown(confs / 'gates.yaml', root)}: max_fairness_gap needs a sensitive_attribute in "
            f"{_shown(confs / 'data.yaml', root)} (the column whose groups are compared); set one or remove the gate"
        )
    if "monitor" in sections:
        problem = _monitor_problem(sections["monitor"], sections["data"])
        if problem:
            raise ConfigError(f"{_shown(confs / 'monitor.yaml', root)}: {problem}")
    if "dora" in sections:
        empty = [name for name, value in sections["dora"].model_dump().items() if not str(value).strip()]
        if empty:
            raise ConfigError(f"{_shown(confs / 'dora.yaml', root)}: {', '.join(empty)} must not be empty")
    environment = Environment.read(os.environ if environ is None else environ)
    return Settings(**sections, env=environment, root=root, confs=confs)
