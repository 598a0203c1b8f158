"""The models being served, the release policy that picks one per request, and the micro-batcher that scores them.

Every prediction goes through ``jobs.steps.predict``, the function `mlops evaluate`, `mlops drift` and
batch scoring call, on a frame typed as validated data is (``schema.RowSchema.frame``). The model
pipeline costs about the same for one row as for a few hundred (its column transformer dominates), so
concurrent requests are scored together. The batcher is adaptive: it knows how many /predict requests
have arrived and are still being read and validated (``arriving``), waits for those (never longer than
``batch_wait_ms``), scores everything queued in one call per model, and hands each request its share.
A lone request waits for nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..config import ServingConfig
from ..jobs.steps import predict
from .metrics import ServiceMetrics
from .prediction_log import PREFIX, PredictionLog
from .schema import RowSchema

logger = logging.getLogger(__name__)

RELEASE, PREVIOUS = "release", "previous"


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and what identifies it."""

    role: str
    version: str
    folder: Path
    estimator: Any
    record: dict[str, Any] = field(default_factory=dict)


def canary_bucket(request_id: str) -> float:
    """A stable number in [0, 1) for a request id: the same id lands on the same model in every process."""
    return int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:8], "big") / 2**64


@dataclass(frozen=True)
class Policy:
    """Which model answers a request, and which is scored beside it."""

    name: str
    canary_share: float
    has_previous: bool

    @property
    def effective(self) -> str:
        return self.name if self.has_previous else "direct"

    def answering(self, request_id: str) -> str:
        if self.effective == "canary":
            return RELEASE if canary_bucket(request_id) < self.canary_share else PREVIOUS
        return PREVIOUS if self.effective == "shadow" else RELEASE

    @property
    def shadowed(self) -> str | None:
        return RELEASE if self.effective == "shadow" else None


@dataclass
class Scored:
    """The answer to one request."""

    predictions: list[float]
    model_version: str


@dataclass
class _Pending:
    rows: list[BaseModel]
    request_id: str
    answering: str
    future: asyncio.Future[Scored]


class Scorer:
    """Scores requests in micro-batches with the policy's models, counts them and logs a sample."""

    def __init__(
        self,
        schema: RowSchema,
        models: dict[str, ServedModel],
        config: ServingConfig,
        metrics: ServiceMetrics,
        log: PredictionLog | None,
    ) -> None:
        self.schema, self.models, self.config, self.metrics, self.log = schema, models, config, metrics, log
        self.policy = Policy(config.policy, config.canary_share, has_previous=PREVIOUS in models)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[Any]] = set()
        self._random = random.Random()
        # /predict requests that have arrived but are not queued yet (being read or validated); the app counts them.
        self.arriving = 0

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Score what is queued, stop, and write what the log holds."""
        while not self._queue.empty():
            await asyncio.sleep(0.001)
        if self._worker is not None:
            self._worker.cancel()
        if self.log is not None:
            await asyncio.gather(*self._writes, return_exceptions=True)
            await asyncio.to_thread(self.log.write, self.log.take())

    def warm(self) -> None:
        """One prediction per model, so the first request pays no first-call costs."""
        frame = self.schema.frame([self.schema.example()])
        for model in self.models.values():
            predict(model.estimator, frame)

    async def score(self, rows: list[BaseModel], request_id: str) -> Scored:
        future: asyncio.Future[Scored] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(rows, request_id, self.policy.answering(request_id), future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self.config.batch_wait_ms / 1000
        # About as many requests as in the last batches: as many clients are likely waiting on an answer to send again.
        expected = 1
        scoring_seconds = 0.0
        while True:
            batch = [await self._queue.get()]
            # Never wait longer than half a call of the model: past that, scoring twice is cheaper.
            deadline = loop.time() + min(wait, scoring_seconds / 2)
            # Requests already arriving, or as many as came last time, join this batch: waiting a few event-loop
            # turns for them costs far less than another call of the model. A lone client waits for nothing.
            while (self.arriving > 0 or self._queue.qsize() + 1 < expected) and self._queue.qsize() < self.config.micro_batch_rows:
                if loop.time() >= deadline:
                    break
                await asyncio.sleep(0 if self.arriving > 0 else 0.0002)
            rows = len(batch[0].rows)
            while rows < self.config.micro_batch_rows and not self._queue.empty():
                batch.append(self._queue.get_nowait())
                rows += len(batch[-1].rows)
            expected = max(len(batch), expected - 1)  # one straggler does not reset it; a lone client soon waits for nothing
            started = loop.time()
            try:
                self._score_batch(batch)
                scoring_seconds = loop.time() - started
            except Exception as error:  # a bug or a model that cannot score: every waiting request gets a 500, none hangs
                logger.exception("scoring failed")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)
            # Let the event loop read the requests that arrived meanwhile: they form the next batch.
            await asyncio.sleep(0)

    def _score_batch(self, batch: list[_Pending]) -> None:
        by_model: dict[str, list[_Pending]] = {}
        for pending in batch:
            by_model.setdefault(pending.answering, []).append(pending)
        shadowed = self.policy.shadowed
        answers: dict[int, list[float]] = {}
        shadows: dict[int, list[float]] = {}
        for role, group in by_model.items():
            answers.update(self._predict(role, group))
        if shadowed is not None:
            shadows = self._predict(shadowed, batch)
        logged: list[dict[str, Any]] = []
        for pending in batch:
            model = self.models[pending.answering]
            scored = Scored(answers[id(pending)], model.version)
            if not pending.future.done():  # a client that went away cancelled it
                pending.future.set_result(scored)
            if self.log is not None and (shadowed is not None or self._sampled()):
                logged.extend(self._log_records(pending, scored, shadows.get(id(pending))))
        if logged and self.log is not None:
            lines = self.log.add(logged)
            if lines:
                task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.log.write, lines))
                self._writes.add(task)
                task.add_done_callback(self._writes.discard)

    def _predict(self, role: str, group: list[_Pending]) -> dict[int, list[float]]:
        """One call of the shared predict function for every row of ``group``; each request's share by its id."""
        model = self.models[role]
        rows = [row for pending in group for row in pending.rows]
        started = time.perf_counter()
        values = predict(model.estimator, self.schema.frame(rows)).tolist()
        self.metrics.scored(model, values, batch_seconds=time.perf_counter() - started)
        shares: dict[int, list[float]] = {}
        start = 0
        for pending in group:
            shares[id(pending)] = values[start : start + len(pending.rows)]
            start += len(pending.rows)
        return shares

    def _sampled(self) -> bool:
        rate = self.config.prediction_log.sample_rate
        return rate > 0 and self._random.random() < rate

    def _log_records(self, pending: _Pending, scored: Scored, shadow: list[float] | None) -> list[dict[str, Any]]:
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
        records = []
        for index, (row, prediction) in enumerate(zip(pending.rows, scored.predictions, strict=True)):
            record = self.schema.values(row)
            if self.schema.id_column and record.get(self.schema.id_column) is None:
                record[self.schema.id_column] = f"{pending.request_id}-{index}"
            if self.schema.timestamp_column and record.get(self.schema.timestamp_column) is None:
                record[self.schema.timestamp_column] = now
            record |= {
                f"{PREFIX}prediction": prediction,
                f"{PREFIX}model_version": scored.model_version,
                f"{PREFIX}request_id": pending.request_id,
                f"{PREFIX}logged_at": now,
            }
            if shadow is not None:
                record |= {f"{PREFIX}shadow_prediction": shadow[index], f"{PREFIX}shadow_model_version": self.models[RELEASE].version}
            records.append(record)
        return records
