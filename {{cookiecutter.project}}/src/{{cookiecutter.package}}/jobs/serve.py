"""``mlops serve``: the prediction service on a model folder (what `mlops champion` writes), on uvicorn.

The folder is ``champion.json`` beside ``model/``: outputs/champion by default, /opt/champion in the
image. It is checked before the server starts (a missing or empty champion is an input error, exit 2);
the model itself loads through the safe skops loader and is warmed up after the server listens, so
/health answers at once and /ready turns 200 when the model is loaded.

canary and shadow need the model they roll out from: ``--previous-model-dir`` (default
outputs/previous when it holds a champion.json, e.g. the folder `mlops champion` wrote before the
release, copied aside). Without it the release answers alone and /metadata says ``direct``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError
from ..io import model_files
from ..jobs import CHAMPION_JSON, OUTPUTS

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = CHAMPION_JSON.parent
DEFAULT_PREVIOUS_DIR = OUTPUTS / "previous"
RECORD, MODEL = CHAMPION_JSON.name, "model"
# uvicorn's wait for in-flight requests after SIGTERM: within the 10 s Docker and Kubernetes give by default.
GRACEFUL_SECONDS = 8


def model_folder(folder: Path, *, role: str) -> dict[str, Any]:
    """The champion record of a model folder, checked without loading the model (that happens after start-up)."""
    record_path = folder / RECORD
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InputError(
            f"{record_path}: not found; run `mlops champion` (or pass --model-dir to a folder holding {RECORD} and {MODEL}/)"
        ) from error
    except ValueError as error:
        raise InputError(f"{record_path}: not valid JSON ({str(error).splitlines()[0]})") from error
    if not isinstance(record, dict) or record.get("source") == "none":
        raise InputError(
            f"{record_path}: no champion to serve (no complete release yet; on a laptop `mlops promote`, then `mlops champion`)"
        )
    if not (folder / MODEL / model_files.MODEL_FILE).is_file():
        raise InputError(f"{folder / MODEL}: no {model_files.MODEL_FILE} ({role} model folder as `mlops champion` writes it)")
    return record


def loader(folders: dict[str, tuple[Path, dict[str, Any]]]):
    """A function that loads every model through ``io.model_files.load_model`` (trusted types only)."""
    from ..serving.scoring import ServedModel

    def load() -> dict[str, ServedModel]:
        return {
            role: ServedModel(
                role=role,
                version=str(record.get("tag") or record.get("run_id") or folder.name),
                folder=folder,
                estimator=model_files.load_model(folder / MODEL),
                record=record,
            )
            for role, (folder, record) in folders.items()
        }

    return load


def service(settings: Settings, model_dir: Path | None = None, previous_model_dir: Path | None = None):
    """The service for these folders (checked now, loaded when the server starts)."""
    from ..serving.app import Service
    from ..serving.prediction_log import PredictionLog
    from ..serving.scoring import PREVIOUS, RELEASE

    folder = settings.path(str(model_dir or DEFAULT_MODEL_DIR))
    folders = {RELEASE: (folder, model_folder(folder, role=RELEASE))}
    if settings.serving.policy != "direct":
        previous = settings.path(str(previous_model_dir)) if previous_model_dir else settings.path(str(DEFAULT_PREVIOUS_DIR))
        if previous_model_dir or (previous / RECORD).is_file():
            folders[PREVIOUS] = (previous, model_folder(previous, role=PREVIOUS))
    logged = settings.serving.prediction_log
    log = (
        PredictionLog(settings, logged) if logged.sample_rate > 0 or (settings.serving.policy == "shadow" and PREVIOUS in folders) else None
    )
    return Service(settings, loader(folders), log=log)


def run(settings: Settings, *, model_dir: Path | None, previous_model_dir: Path | None, host: str, port: int) -> None:
    import uvicorn

    app = service(settings, model_dir, previous_model_dir).app
    logger.info("serving on http://%s:%d (OpenAPI page: /docs)", host, port)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,  # the CLI's logging
        access_log=False,  # /metrics counts requests; a line per request would cost more than scoring it
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        server_header=False,
    )
