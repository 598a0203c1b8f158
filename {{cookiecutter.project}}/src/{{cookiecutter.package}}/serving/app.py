"""The HTTP surface: /health, /ready, /metadata, /metrics, /predict, and the OpenAPI page at /docs.

FastAPI builds the OpenAPI description from the request model that ``schema.RowSchema`` makes of
``confs/data.yaml``, and answers a row that breaks it with 422 naming each field and what it
expected. Caps are checked before any work: the body's size as it is read (413), the batch's
length by the request model (413 too). A failure inside gets a 500 with the request id and no
traceback; the log has the rest.
"""

# No `from __future__ import annotations` here: FastAPI reads the /predict body's type (a model made at run
# time) from the live annotation.
import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ..config import Settings
from ..project import PROJECT_NAME
from .metrics import ServiceMetrics
from .prediction_log import PredictionLog
from .schema import RowSchema
from .scoring import Scorer, ServedModel

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
# A client's request id is kept (and routes a canary) when it is this plain; anything else gets a fresh one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PATHS = frozenset({"/health", "/ready", "/metadata", "/metrics", "/predict", "/docs", "/openapi.json"})


class BodyTooLarge(HTTPException):
    """Raised while the body is read: an HTTPException, so that FastAPI passes it on as it is (413)."""


class PredictResponse(BaseModel):
    predictions: list[float] = Field(description="Positive-class probability (classification) or predicted value, one per row")
    model_version: str
    request_id: str


class Guard:
    """Plain ASGI middleware: request id, body-size cap, and the per-request metrics (cheaper than Starlette's BaseHTTPMiddleware)."""

    def __init__(self, app: Any, *, max_body_bytes: int, metrics: ServiceMetrics, service: "Service") -> None:
        self.app, self.max_body_bytes, self.metrics, self.service = app, max_body_bytes, metrics, service

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        scorer = self.service.scorer
        if scorer is not None and scope["path"] == "/predict":
            scorer.arriving += 1  # until the endpoint queues it (or it ends without reaching the model)
            state["arriving"] = True
        status, started = 500, False
        limit = self.max_body_bytes

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message.setdefault("headers", []).append((REQUEST_ID_HEADER.encode(), request_id.encode()))
            await send(message)

        declared = headers.get(b"content-length", b"")
        received = 0

        async def receiving() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(413, f"request body over {limit} bytes (max_body_bytes in confs/serving.yaml)")
            return message

        try:
            if declared.isdigit() and int(declared) > limit:
                await _json(send, 413, {"detail": f"request body over {limit} bytes (max_body_bytes in confs/serving.yaml)"}, request_id)
                status = 413
                return
            await self.app(scope, receiving, sending)
        except Exception:  # a bug: the log gets the traceback, the client a 500 naming its request id, nothing more
            logger.exception("request %s failed", request_id)
            status = 500
            if not started:
                await _json(send, 500, {"detail": f"internal error (request id {request_id}); the service log has the details"}, request_id)
        finally:
            if state.pop("arriving", False) and scorer is not None:
                scorer.arriving -= 1
            path = scope["path"] if scope["path"] in PATHS else "other"
            self.metrics.answered(path, status, time.perf_counter() - started)


async def _json(send: Callable, status: int, body: dict[str, Any], request_id: str) -> None:
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (REQUEST_ID_HEADER.encode(), request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _expected(error: dict[str, Any], target: str) -> str:
    """What a field expected, in words, for a 422."""
    kind, field = error["type"], str(error["loc"][-1]) if error["loc"] else ""
    if kind == "extra_forbidden":
        if field == target:
            return f"unknown field: {target!r} is the target, which this service predicts; leave it out"
        return "unknown field: not a column of confs/data.yaml (only declared columns are accepted, none is ignored)"
    if kind == "missing":
        return "required feature is missing (only features declared nullable may be left out)"
    return str(error["msg"])


class Service:
    """The app and what it serves: built once; the models load (and warm up) after the server has started."""

    def __init__(
        self,
        settings: Settings,
        load: Callable[[], dict[str, ServedModel]],
        *,
        log: PredictionLog | None = None,
        value_buckets: tuple[float, ...] | None = None,
    ) -> None:
        self.settings, self.load = settings, load
        self.config = settings.serving
        self.schema = RowSchema(settings.data)
        self.metrics = ServiceMetrics(settings.data.task, value_buckets)
        self.log = log
        self.scorer: Scorer | None = None
        self.loading_error: str | None = None
        self.app = self._build()

    @property
    def ready(self) -> bool:
        return self.scorer is not None

    async def _start(self) -> None:
        try:
            models = await asyncio.to_thread(self.load)
            scorer = Scorer(self.schema, models, self.config, self.metrics, self.log)
            await asyncio.to_thread(scorer.warm)
        except Exception as error:  # not ready, ever: /ready says why, the log has the traceback
            logger.exception("the model could not be loaded")
            self.loading_error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            return
        for model in models.values():
            self.metrics.served(model, scorer.policy.effective)
        if scorer.policy.effective != self.config.policy:
            logger.warning("release policy %s needs a previous model; none given, so the release answers alone", self.config.policy)
        scorer.start()
        self.scorer = scorer
        logger.info("ready: %s", ", ".join(f"{model.role} {model.version}" for model in models.values()))

    def _build(self) -> FastAPI:
        request_model = self.schema.request_model(self.config.max_batch_rows)
        target = self.schema.target

        @asynccontextmanager
        async def lifespan(_: FastAPI):
            loading = asyncio.get_running_loop().create_task(self._start())
            yield
            loading.cancel()
            if self.scorer is not None:
                await self.scorer.stop()

        app = FastAPI(
            title=f"{PROJECT_NAME} prediction service",
            description="Rows in, predictions out. The request schema is confs/data.yaml's contract (the one `mlops validate` checks).",
            lifespan=lifespan,
            redoc_url=None,
        )
        app.add_middleware(Guard, max_body_bytes=self.config.max_body_bytes, metrics=self.metrics, service=self)

        @app.exception_handler(RequestValidationError)
        async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
            problems = error.errors()
            if any(problem["type"] == "too_long" and tuple(problem["loc"][-1:]) == ("rows",) for problem in problems):
                detail = f"more than {self.config.max_batch_rows} rows (max_batch_rows in confs/serving.yaml)"
                return JSONResponse({"detail": detail}, status_code=413)
            shown = [{"loc": list(problem["loc"]), "msg": _expected(problem, target), "type": problem["type"]} for problem in problems]
            return JSONResponse({"detail": shown}, status_code=422)

        @app.get("/health")
        async def health() -> dict[str, str]:
            """Alive (the process answers); not necessarily ready."""
            return {"status": "alive"}

        @app.get("/ready", responses={503: {"description": "the model is not loaded and warmed yet (or could not be)"}})
        async def ready() -> JSONResponse:
            """200 once the model is loaded through the safe loader and has made one prediction."""
            if self.scorer is None:
                body = {"status": "failed" if self.loading_error else "loading"} | (
                    {"error": self.loading_error} if self.loading_error else {}
                )
                return JSONResponse(body, status_code=503)
            return JSONResponse(
                {"status": "ready", "model_version": self.scorer.models["release"].version, "policy": self.scorer.policy.effective}
            )

        @app.get("/metadata")
        async def metadata() -> JSONResponse:
            """The models served and where they came from: release tag, version, commit, data manifest digest, training metrics."""
            if self.scorer is None:
                return JSONResponse({"status": "loading"}, status_code=503)
            return JSONResponse(
                {
                    "project": PROJECT_NAME,
                    "task": self.settings.data.task,
                    "policy": self.scorer.policy.effective,
                    "configured_policy": self.config.policy,
                    "canary_share": self.config.canary_share if self.scorer.policy.effective == "canary" else None,
                    "models": [describe(model) for model in self.scorer.models.values()],
                }
            )

        @app.get("/metrics")
        async def metrics() -> Response:
            """Prometheus text format."""
            return Response(self.metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")

        @app.post(
            "/predict",
            response_model=PredictResponse,
            responses={413: {"description": "body or batch over the caps in confs/serving.yaml"}, 503: {"description": "not ready yet"}},
        )
        async def predict(body: request_model, request: Request) -> Response:  # type: ignore[valid-type]
            """Score one row or a batch: ``{"rows": [{column: value, ...}, ...]}``."""
            request_id = request.scope["state"]["request_id"]
            if self.scorer is None:
                return JSONResponse({"detail": "not ready: the model is still loading"}, status_code=503)
            if request.scope["state"].pop("arriving", False):
                self.scorer.arriving -= 1
            scored = await self.scorer.score(body.rows, request_id)  # type: ignore[attr-defined]
            content = {"predictions": scored.predictions, "model_version": scored.model_version, "request_id": request_id}
            return Response(json.dumps(content).encode(), media_type="application/json")

        return app


def describe(model: ServedModel) -> dict[str, Any]:
    record = model.record
    fingerprint = record.get("fingerprint") or {}
    return {
        "role": model.role,
        "model_version": model.version,
        "release_tag": record.get("tag", ""),
        "source": record.get("source", ""),
        "release_url": record.get("release_url", ""),
        "git_sha": record.get("commit", ""),
        "archive_sha256": record.get("sha256", ""),
        "run_id": record.get("run_id", ""),
        "published_at": record.get("published_at", ""),
        "data_manifest_digest": fingerprint.get("data_digest", ""),
        "training_metrics": record.get("metrics", {}),
    }
