"""MLflow: where runs are tracked, models logged, and the ``champion`` alias kept.

Imported only by the verbs that need it: importing mlflow costs seconds.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from io import StringIO
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from ..config import Settings
from ..errors import InputError
from . import model_files

CHAMPION_ALIAS = "champion"
# Explicit requirements: MLflow would otherwise spend seconds inferring them on every run.
MODEL_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "scipy")

for noisy in ("mlflow", "alembic", "urllib3"):
    logging.getLogger(noisy).setLevel(logging.WARNING)
# uv environments have no pip; MLflow warns about it when it writes conda.yaml.
logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
# Integer columns in the signature are intended: the schema forbids nulls in them.
warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column", category=UserWarning)


@dataclass(frozen=True)
class ModelRef:
    """A logged model: the run that made it and how to load it."""

    run_id: str
    model_uri: str
    version: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "model_uri": self.model_uri, "version": self.version}


def tracking_uri(settings: Settings) -> str:
    """The resolved URI (see ``Settings.tracking_uri``); a local SQLite file's folder is created."""
    uri = settings.tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return uri


def connect(settings: Settings) -> MlflowClient:
    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _experiment_id(client: MlflowClient, settings: Settings) -> str:
    name = settings.tracking.experiment
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    location = None
    if not settings.uses_tracking_server:
        # Without an explicit location artifacts land in ./mlruns of whatever the cwd is.
        artifacts = settings.path(settings.tracking.artifact_location).resolve()
        artifacts.mkdir(parents=True, exist_ok=True)
        location = artifacts.as_uri()
    return client.create_experiment(name, artifact_location=location)


def git_sha(settings: Settings) -> str:
    """The commit being built: ``GITHUB_SHA`` in Actions, else the checkout's HEAD."""
    if settings.env.github_sha:
        return settings.env.github_sha
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=settings.root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()


def log_training(
    settings: Settings,
    model: Any,
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    sample_input: Any,
    artifacts: dict[str, str],
) -> ModelRef:
    """One MLflow run: params, metrics, tags, text artifacts and the registered model."""
    client = connect(settings)
    experiment = _experiment_id(client, settings)
    with mlflow.start_run(experiment_id=experiment) as run:
        mlflow.set_tags({"git_sha": git_sha(settings), **tags})
        mlflow.log_params({key: str(value)[:500] for key, value in params.items()})
        mlflow.log_metrics({key: value for key, value in metrics.items() if value == value})
        for name, text in artifacts.items():
            mlflow.log_text(text, name)
        # Registration prints progress straight to stderr; our own log line says the same.
        with contextlib.redirect_stderr(StringIO()):
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                serialization_format="skops",
                skops_trusted_types=trusted_types(model),
                signature=infer_signature(sample_input, _predict(model, sample_input)),
                pip_requirements=[f"{package}=={installed_version(package)}" for package in MODEL_REQUIREMENTS],
                registered_model_name=settings.tracking.registered_model,
            )
        registered = getattr(info, "registered_model_version", None)
        return ModelRef(run_id=run.info.run_id, model_uri=info.model_uri, version=str(registered) if registered else None)


def trusted_types(model: Any) -> list[str]:
    """Types skops must be told to trust to load this model: only ones our own pipeline contains.

    skops (MLflow's default format) refuses unknown types rather than unpickling arbitrary code.
    The list is computed from the model we just trained ourselves, so it names nothing foreign.
    """
    import skops.io

    return sorted(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def _predict(model: Any, frame: Any) -> Any:
    return model.predict_proba(frame)[:, 1] if hasattr(model, "predict_proba") else model.predict(frame)


def load_model(settings: Settings, model_uri: str) -> Any:
    """Fetch a logged model's folder (a local folder is used as it is), then load it safely (``io.model_files``)."""
    local = Path(model_uri)
    if local.is_dir():
        return model_files.load_model(local)
    connect(settings)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            folder = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=scratch)
        except (MlflowException, OSError) as error:
            raise InputError(f"could not fetch model {model_uri} from MLflow: {str(error).splitlines()[0]}") from error
        return model_files.load_model(Path(folder))


def download_model(settings: Settings, model_uri: str, destination: Path) -> Path:
    """Fetch a logged model's folder into ``destination``; ``io.release_protocol`` packs it for a release."""
    connect(settings)
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(destination)))
    except (MlflowException, OSError) as error:
        raise InputError(f"could not fetch model {model_uri} from MLflow: {str(error).splitlines()[0]}") from error


def champion(settings: Settings) -> ModelRef | None:
    """The model version behind the ``champion`` alias, or None before the first promotion."""
    client = connect(settings)
    try:
        version = client.get_model_version_by_alias(settings.tracking.registered_model, CHAMPION_ALIAS)
    except MlflowException:
        return None
    uri = f"models:/{settings.tracking.registered_model}@{CHAMPION_ALIAS}"
    return ModelRef(run_id=version.run_id, model_uri=uri, version=str(version.version))


def set_champion(settings: Settings, version: str) -> None:
    client = connect(settings)
    client.set_registered_model_alias(settings.tracking.registered_model, CHAMPION_ALIAS, version)


def delete_champion(settings: Settings) -> None:
    client = connect(settings)
    client.delete_registered_model_alias(settings.tracking.registered_model, CHAMPION_ALIAS)
