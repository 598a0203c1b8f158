"""Typed, frozen configuration read once from ``confs/*.yaml``.

Every file maps to one section. A wrong key or value is a ``ConfigError`` that names the
file and the key, e.g. ``confs/model.yaml: estimatr: unknown key``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from .core.specs import ColumnSpec, Features, GatesConfig, Strict
from .errors import ConfigError


class DataConfig(Strict):
    path: str
    manifest: str = "data/manifest.json"
    id_column: str | None = None
    timestamp_column: str
    target: str
    sensitive_attribute: str | None = None
    features: Features
    holdout_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    columns: dict[str, ColumnSpec]

    @model_validator(mode="after")
    def _columns_are_declared(self) -> DataConfig:
        named = {
            "target": [self.target],
            "timestamp_column": [self.timestamp_column],
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
        return self


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
    github_actions: bool = False  # "true" inside GitHub Actions: workflow commands (::warning::) are read from stdout
    pr_number: str = ""
    pr_from_fork: bool = False
    mlflow_tracking_uri: str = ""
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
    env: Environment = Environment()
    root: Path = Path(".")

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
}


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{file}: config file not found (expected one per section: {', '.join(SECTIONS)})") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}:{where} is not valid YAML ({getattr(error, 'problem', error)})") from error
    if not isinstance(loaded, dict):
        raise ConfigError(f"{file}: expected a mapping of keys to values, found {type(loaded).__name__}")
    return loaded


def _describe(error: ValidationError, file: Path) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"{file}: {key}: unknown key"
    if first["type"] == "missing":
        return f"{file}: {key}: required key is missing"
    return f"{file}: {key}: {first['msg'].removeprefix('Value error, ')}"


def load_settings(confs: Path = Path("confs"), root: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every section and the environment; ``root`` (default: parent of ``confs``) anchors paths."""
    sections: dict[str, Any] = {}
    for name, model in SECTIONS.items():
        file = confs / f"{name}.yaml"
        try:
            sections[name] = model.model_validate(_read_yaml(file))
        except ValidationError as error:
            raise ConfigError(_describe(error, file)) from error
    environment = Environment.read(os.environ if environ is None else environ)
    return Settings(**sections, env=environment, root=root if root is not None else confs.resolve().parent)
