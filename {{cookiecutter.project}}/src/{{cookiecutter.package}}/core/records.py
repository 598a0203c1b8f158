"""Typed records the verbs hand each other through ``outputs/``: what was verified, trained and evaluated.

Each record serializes to exactly the JSON keys the readers of that file expect (``mlops
report``, ``mlops release``, the model card), in the same order. Standard library only:
importing this module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelRef:
    """A logged model: the run that made it and how to load it."""

    run_id: str
    model_uri: str
    version: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "model_uri": self.model_uri, "version": self.version}


@dataclass(frozen=True)
class TrainedModel(ModelRef):
    """The model `mlops train` logged, plus its folder on disk and the sha256 of its ``model.skops``.

    ``local_dir`` holds the very files MLflow logged, so that `mlops evaluate` can score
    exactly the logged model without asking MLflow for it; ``sha256`` proves it is the same.
    """

    local_dir: str = ""
    sha256: str = ""

    @property
    def ref(self) -> ModelRef:
        return ModelRef(run_id=self.run_id, model_uri=self.model_uri, version=self.version)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "local_dir": self.local_dir, "sha256": self.sha256}


@dataclass(frozen=True)
class TrainingRun:
    """``outputs/train/run.json``."""

    task: str
    model: TrainedModel
    tracking_uri: str
    estimator: str
    params: dict[str, Any]
    search: dict[str, Any]
    holdout_metrics: dict[str, float]
    data_digest: str
    trained_at: str
    fit_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "model": self.model.as_dict(),
            "tracking_uri": self.tracking_uri,
            "estimator": self.estimator,
            "params": self.params,
            "search": self.search,
            "holdout_metrics": self.holdout_metrics,
            "data_digest": self.data_digest,
            "trained_at": self.trained_at,
            "fit_seconds": self.fit_seconds,
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> TrainingRun:
        """Read back what ``as_dict`` wrote (a record without ``local_dir``/``sha256`` has them empty)."""
        model = payload["model"]
        return cls(
            task=payload["task"],
            model=TrainedModel(
                run_id=model["run_id"],
                model_uri=model["model_uri"],
                version=model.get("version"),
                local_dir=model.get("local_dir", ""),
                sha256=model.get("sha256", ""),
            ),
            tracking_uri=payload["tracking_uri"],
            estimator=payload["estimator"],
            params=payload["params"],
            search=payload["search"],
            holdout_metrics=payload["holdout_metrics"],
            data_digest=payload["data_digest"],
            trained_at=payload["trained_at"],
            fit_seconds=payload["fit_seconds"],
        )


@dataclass(frozen=True)
class ScoredModel:
    """A model and its holdout metrics: the challenger or the champion in ``metrics.json``."""

    ref: ModelRef
    metrics: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {**self.ref.as_dict(), "metrics": self.metrics}


@dataclass(frozen=True)
class Evaluation:
    """``outputs/evaluate/metrics.json``."""

    task: str
    holdout_rows: int
    challenger: ScoredModel
    champion: ScoredModel | None
    fairness: dict[str, Any] | None
    gates: list[dict[str, Any]]
    passed: bool
    # How the holdout was chosen (time or seeded random split), and a trivial model's metrics on it.
    split: str = ""
    baseline: dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "holdout_rows": self.holdout_rows,
            "split": self.split,
            "challenger": self.challenger.as_dict(),
            "champion": self.champion.as_dict() if self.champion else None,
            "baseline": self.baseline,
            "fairness": self.fairness,
            "gates": self.gates,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class VerifiedData:
    """``outputs/validation/verified.json``: what `mlops validate` proved, for the verbs after it.

    The typed frame it validated is stored beside it (``frame``, Parquet). A later verb reuses
    that frame only when the data file still hashes to ``data_sha256``, the declared columns
    still hash to ``columns_hash``, the manifest is the same and the frame file is intact;
    otherwise it validates the data again.
    """

    path: str
    data_sha256: str
    columns_hash: str
    manifest_digest: str
    rows: int
    frame: str
    frame_sha256: str
    format: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "path": self.path,
            "data_sha256": self.data_sha256,
            "columns_hash": self.columns_hash,
            "manifest_digest": self.manifest_digest,
            "rows": self.rows,
            "frame": self.frame,
            "frame_sha256": self.frame_sha256,
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> VerifiedData:
        return cls(
            path=payload["path"],
            data_sha256=payload["data_sha256"],
            columns_hash=payload["columns_hash"],
            manifest_digest=payload["manifest_digest"],
            rows=int(payload["rows"]),
            frame=payload["frame"],
            frame_sha256=payload["frame_sha256"],
            format=int(payload.get("format", 0)),
        )
