"""``mlops smoke-test IMAGE``: run the serving image and check it before anything is pushed.

The image is started on the host's network on a free loopback port; it must answer ``/ready`` within the bound,
give for a sample of the data file's rows exactly the predictions the batch path gives (the data contract's typing,
then ``steps.predict``, as ``mlops predict`` does) on the model folder the image was built from, and refuse a row
that breaks the contract with a 422 naming the field. Any miss is ``CheckFailed`` (exit 1): the release job stops
there, and nothing is pushed or published. The container is removed in every case.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ..config import Settings
from ..errors import CheckFailed, InputError
from ..io import datasets, model_files
from ..io.containers import Docker
from . import steps
from .release_model import MODEL_SUBDIR, RECORD_FILE

logger = logging.getLogger(__name__)
SAMPLE_ROWS = 20
MODEL_IN_IMAGE = "/opt/champion"  # where the Dockerfile puts the model folder


@dataclass(frozen=True)
class SmokeTest:
    image: str
    ready_after: float
    rows: int
    model_version: str


def run(settings: Settings, image: str, model_dir: Path, *, ready_within: float = 60.0) -> SmokeTest:
    folder = settings.path(str(model_dir))
    if not (folder / RECORD_FILE).is_file() or not (folder / MODEL_SUBDIR).is_dir():
        raise InputError(f"{folder}: no model folder ({RECORD_FILE} beside {MODEL_SUBDIR}/), the one the image was built from")
    rows, expected = _batch_answer(settings, folder)
    docker = Docker(settings.env)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    container = docker.start(image, ["mlops", "serve", "--model-dir", MODEL_IN_IMAGE, "--host", "127.0.0.1", "--port", str(port)])
    try:
        with httpx.Client(base_url=url, timeout=30.0) as client:
            ready_after = _wait_ready(client, docker, container, started, ready_within)
            answer = client.post("/predict", json={"rows": rows})
            if answer.status_code != 200:
                raise CheckFailed(f"{image}: /predict answered {answer.status_code} to {len(rows)} valid row(s): {answer.text[:300]}")
            body = answer.json()
            if body.get("predictions") != expected:
                raise CheckFailed(f"{image}: /predict gave other predictions than `mlops predict` on the same {len(rows)} row(s)")
            field, bad = _broken_row(settings, rows[0])
            refusal = client.post("/predict", json={"rows": [bad]})
            named = refusal.status_code == 422 and any(field in error.get("loc", []) for error in refusal.json().get("detail", []))
            if not named:
                raise CheckFailed(
                    f"{image}: /predict answered {refusal.status_code}, not a 422 naming {field!r}, to a row breaking the contract"
                )
    except httpx.HTTPError as error:
        raise CheckFailed(
            f"{image}: the service failed while being probed ({type(error).__name__}: {error}): {docker.logs(container)}"
        ) from error
    finally:
        docker.remove(container)
    result = SmokeTest(image=image, ready_after=ready_after, rows=len(rows), model_version=str(body.get("model_version", "")))
    logger.info(
        "%s: ready %.1f s after `docker run`; %d prediction(s) equal the batch path's; a bad row got 422", image, ready_after, len(rows)
    )
    return result


def _batch_answer(settings: Settings, folder: Path) -> tuple[list[dict[str, Any]], list[float]]:
    """The first rows of the data file as a client sends them (JSON values), and the batch path's predictions for them."""
    from ..core.schemas import scoring_schema

    data = settings.data
    keep = list(dict.fromkeys([*([data.id_column] if data.id_column else []), *data.features.all]))
    chunk = next(iter(datasets.read_table_chunks(settings.path(data.path), data.missing_values, rows=SAMPLE_ROWS, columns=keep)))
    typed = scoring_schema(data.columns, keep).validate(chunk)
    predictions = steps.predict(model_files.load_model(folder / MODEL_SUBDIR), typed[data.features.all])
    rows = json.loads(typed.to_json(orient="records", date_format="iso"))
    return rows, [float(value) for value in predictions]


def _broken_row(settings: Settings, row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A row with one numeric feature set to text: the contract refuses it."""
    numeric = [
        name for name in settings.data.features.all if isinstance(row.get(name), int | float) and not isinstance(row.get(name), bool)
    ]
    field = numeric[0] if numeric else settings.data.features.all[0]
    return field, {**row, field: "not a number" if numeric else ["not", "a", "value"]}


def _wait_ready(client: httpx.Client, docker: Docker, container: str, started: float, bound: float) -> float:
    while True:
        try:
            if client.get("/ready", timeout=2.0).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if not docker.alive(container):
            raise CheckFailed(f"the container stopped before /ready answered: {docker.logs(container)}")
        if time.monotonic() - started > bound:
            raise CheckFailed(f"/ready did not answer 200 within {bound:.0f} s of `docker run`: {docker.logs(container)}")
        time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
