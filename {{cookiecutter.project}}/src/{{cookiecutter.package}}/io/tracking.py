"""MLflow: where runs are tracked, models logged, and the ``champion`` alias kept.

Imported only by the verbs that need it: importing mlflow costs seconds. `mlops train` imports
it in a background thread while the model fits; `mlops evaluate` needs it only to ask a
registry alias (see ``jobs.steps.load_champion``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
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
from ..core.models import TRUSTED_TYPES
from ..core.records import ModelRef, TrainedModel
from ..errors import InputError
from . import local_registry, model_files
from .local_registry import CHAMPION_ALIAS

__all__ = ["CHAMPION_ALIAS", "ModelRef", "TrainedModel"]
# Explicit requirements: MLflow would otherwise spend seconds inferring them on every run.
MODEL_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "scipy")

for noisy in ("mlflow", "alembic", "urllib3"):
    logging.getLogger(noisy).setLevel(logging.WARNING)
# One line per step in the logs: MLflow draws a progress bar for every artifact it downloads (a model
# folder is five). Set here, where MLflow is configured, for every verb; a user's own setting wins.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# uv environments have no pip; MLflow warns about it when it writes conda.yaml.
logging.getLogger("mlflow.utils.environment").setLevel(logging.ERROR)
# Integer columns in the signature are intended: the schema forbids nulls in them.
warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column", category=UserWarning)


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


@dataclass(frozen=True)
class Session:
    """An open tracking store and the experiment's id: what `mlops train` prepares while the model fits."""

    client: MlflowClient
    experiment_id: str
    uri: str


def open_session(settings: Settings, *, new_store: bool = False) -> Session:
    """Connect (a local store's schema is created on first use) and find or create the experiment.

    ``new_store``: the local store did not exist when this run started (see ``local_registry.skip_fsync``).
    """
    if new_store:
        local_registry.skip_fsync(tracking_uri(settings))
    client = connect(settings)
    return Session(client=client, experiment_id=_experiment_id(client, settings), uri=tracking_uri(settings))


def log_training(
    settings: Settings,
    session: Session,
    model: Any,
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    sample_input: Any,
    sample_output: Any,
    artifacts: dict[str, str],
    local_dir: Path,
) -> TrainedModel:
    """One MLflow run: params, metrics, tags, text artifacts and the registered model.

    The logged model folder is then copied to ``local_dir`` and the sha256 of its model file
    returned with it, so that `mlops evaluate` scores exactly these bytes without MLflow.
    """
    with mlflow.start_run(experiment_id=session.experiment_id) as run:
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
                # The project's fixed list rather than one computed by serializing the model a second
                # time; keep_local then checks that the logged file needs nothing beyond it.
                skops_trusted_types=list(TRUSTED_TYPES),
                signature=infer_signature(sample_input, sample_output),
                pip_requirements=[f"{package}=={installed_version(package)}" for package in MODEL_REQUIREMENTS],
                registered_model_name=settings.tracking.registered_model,
            )
        registered = getattr(info, "registered_model_version", None)
        sha256 = keep_local(info.model_uri, local_dir)
    shown = local_dir.relative_to(settings.root) if local_dir.is_relative_to(settings.root) else local_dir
    return TrainedModel(
        run_id=run.info.run_id,
        model_uri=info.model_uri,
        version=str(registered) if registered else None,
        local_dir=shown.as_posix(),
        sha256=sha256,
    )


def keep_local(model_uri: str, local_dir: Path) -> str:
    """Copy the logged model folder to ``local_dir`` (swapped in whole); return the sha256 of its model file.

    Refuses a model whose file needs a type beyond the project's fixed trusted list: it could
    never be loaded back safely, so training fails rather than evaluation or production.
    """
    import skops.io

    local_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=local_dir.parent, prefix=f".{local_dir.name}-"))
    try:
        try:
            folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(staging)))
        except (MlflowException, OSError) as error:
            raise InputError(f"could not fetch the logged model {model_uri} back from MLflow: {str(error).splitlines()[0]}") from error
        file = folder / model_files.MODEL_FILE
        untrusted = set(skops.io.get_untrusted_types(file=file)) - set(TRUSTED_TYPES)
        if untrusted:
            raise InputError(f"the trained model contains types this project does not trust ({', '.join(sorted(untrusted))})")
        sha256 = hashlib.sha256(file.read_bytes()).hexdigest()
        if local_dir.exists():
            shutil.rmtree(local_dir)
        os.replace(folder, local_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sha256


def load_model(settings: Settings, model_uri: str, sha256: str | None = None) -> Any:
    """Fetch a logged model's folder (a local folder is used as it is), then load it safely (``io.model_files``).

    With ``sha256``, the fetched model file must hash to it (the model `mlops train` recorded).
    """
    local = Path(model_uri)
    if local.is_dir():
        return model_files.load_model(local)
    connect(settings)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=scratch))
        except (MlflowException, OSError) as error:
            raise InputError(f"could not fetch model {model_uri} from MLflow: {str(error).splitlines()[0]}") from error
        file = folder / model_files.MODEL_FILE
        if sha256 and file.is_file() and hashlib.sha256(file.read_bytes()).hexdigest() != sha256:
            raise InputError(f"model {model_uri}: its {model_files.MODEL_FILE} is not the one `mlops train` recorded (sha256 differs)")
        return model_files.load_model(folder)


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


@dataclass(frozen=True)
class LocalChampion:
    """The ``champion`` alias's model, copied out of the registry: what `mlops drift` compares production data with."""

    version: str
    run_id: str
    sha256: str
    registered_at: str  # ISO 8601, UTC: when the version was registered (the champion's age)
    metrics: dict[str, float]


def fetch_champion(settings: Settings, destination: Path, profile_file: str) -> LocalChampion | None:
    """Copy the ``champion`` alias's model folder, with its run's ``profile_file``, to ``destination`` (swapped in whole).

    None before the first `mlops promote`. The copy is loaded once through the safe loader before it replaces anything.
    """
    ref = champion(settings)
    if ref is None or ref.version is None:
        return None
    client = connect(settings)
    version = client.get_model_version(settings.tracking.registered_model, ref.version)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=destination.parent, prefix=f".{destination.name}-"))
    try:
        try:
            with contextlib.redirect_stderr(StringIO()):  # MLflow's download progress bars
                folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=ref.model_uri, dst_path=str(staging)))
                mlflow.artifacts.download_artifacts(run_id=ref.run_id, artifact_path=profile_file, dst_path=str(folder))
        except (MlflowException, OSError) as error:
            raise InputError(
                f"champion v{ref.version}: could not copy its model and {profile_file} out of MLflow: {str(error).splitlines()[0]}"
            ) from error
        model_files.load_model(folder)  # refuses anything but a skops file of this project's trusted types
        sha256 = hashlib.sha256((folder / model_files.MODEL_FILE).read_bytes()).hexdigest()
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(folder, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    registered = datetime.fromtimestamp(int(version.creation_timestamp) / 1000, UTC).isoformat(timespec="seconds")
    metrics = {name: float(value) for name, value in client.get_run(ref.run_id).data.metrics.items()}
    return LocalChampion(version=ref.version, run_id=ref.run_id, sha256=sha256, registered_at=registered, metrics=metrics)


def version_of_run(settings: Settings, run_id: str) -> str | None:
    """The registered model's version logged by run ``run_id`` (the newest when several are), None when there is none."""
    if not run_id.isalnum():  # a value read from a release record: never put into the search filter unchecked
        return None
    client = connect(settings)
    found = client.search_model_versions(f"name = '{settings.tracking.registered_model}' and run_id = '{run_id}'")
    return str(max(int(version.version) for version in found)) if found else None


def set_champion(settings: Settings, version: str) -> None:
    client = connect(settings)
    client.set_registered_model_alias(settings.tracking.registered_model, CHAMPION_ALIAS, version)


def delete_champion(settings: Settings) -> None:
    client = connect(settings)
    client.delete_registered_model_alias(settings.tracking.registered_model, CHAMPION_ALIAS)
