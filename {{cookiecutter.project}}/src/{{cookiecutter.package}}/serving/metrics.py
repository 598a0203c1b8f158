"""What /metrics exposes, in Prometheus' text format (prometheus-client): requests, errors, latency, predictions.

Each service has a registry of its own (not the library's global one), so that several apps in one
process (the tests) do not collide. Series that concern a model carry its role (``release`` or
``previous``) and version as labels, so a canary or a shadow splits by model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from .scoring import ServedModel

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PROBABILITY_BUCKETS = tuple(round(step / 10, 1) for step in range(1, 11))


class ServiceMetrics:
    def __init__(self, task: str, value_buckets: tuple[float, ...] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mlops_http_requests", "HTTP requests answered, by path and status code", ["path", "status"], registry=self.registry
        )
        self.errors = Counter(
            "mlops_http_errors",
            "Requests answered with a 4xx or 5xx status, by path and status code",
            ["path", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mlops_http_request_duration_seconds",
            "Time from request to response, by path",
            ["path"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "mlops_predictions", "Rows scored, by model role and version", ["role", "model_version"], registry=self.registry
        )
        buckets = PROBABILITY_BUCKETS if task == "binary_classification" else (value_buckets or Histogram.DEFAULT_BUCKETS)
        self.values = Histogram(
            "mlops_prediction_value",
            "Distribution of the predictions (positive-class probability, or the predicted value), by model",
            ["role", "model_version"],
            buckets=buckets,
            registry=self.registry,
        )
        self.batch = Histogram(
            "mlops_scoring_batch_seconds",
            "Time of one call of the model on a micro-batch",
            ["role", "model_version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model = Gauge(
            "mlops_model_info",
            "The models being served (value 1), with the release policy",
            ["role", "model_version", "policy"],
            registry=self.registry,
        )

    def served(self, model: ServedModel, policy: str) -> None:
        self.model.labels(model.role, model.version, policy).set(1)

    def scored(self, model: ServedModel, values: list[float], *, batch_seconds: float) -> None:
        self.predictions.labels(model.role, model.version).inc(len(values))
        self.batch.labels(model.role, model.version).observe(batch_seconds)
        histogram = self.values.labels(model.role, model.version)
        for value in values:
            histogram.observe(value)

    def answered(self, path: str, status: int, seconds: float) -> None:
        self.requests.labels(path, str(status)).inc()
        if status >= 400:
            self.errors.labels(path, str(status)).inc()
        self.latency.labels(path).observe(seconds)

    def text(self) -> bytes:
        return generate_latest(self.registry)
