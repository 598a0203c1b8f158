"""Typed records of what the config declares: columns, features and gates.

They live in ``core`` so that core logic can take them without importing ``config``;
``config`` reads the YAML files into them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .metric_catalog import GATED_GROUP_METRICS, HIGHER_IS_BETTER


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(Strict):
    dtype: Literal["int", "float", "string", "category", "datetime", "bool"]
    nullable: bool = False
    unique: bool = False
    min: int | float | None = None
    max: int | float | None = None
    allowed: list[Any] | None = None


class Features(Strict):
    numeric: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical]


class GatesConfig(Strict):
    """What a challenger must achieve; metric names are checked against the task by ``unknown_metrics``."""

    # Beat a trivial baseline (prior / mean predictor) on the same holdout by this margin.
    beat_baseline: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    minimums: dict[str, float] = Field(default_factory=dict)
    maximums: dict[str, float] = Field(default_factory=dict)
    max_regression: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    max_fairness_gap: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)

    def unknown_metrics(self, task: str) -> str | None:
        """The first gate naming a metric the task does not have, described; None when all exist."""
        known = HIGHER_IS_BETTER[task]
        for key in ("beat_baseline", "minimums", "maximums", "max_regression"):
            for metric in getattr(self, key):
                if metric not in known:
                    return f"{key}.{metric}: unknown metric for {task} (expected one of: {', '.join(known)})"
        gated = GATED_GROUP_METRICS[task]
        for metric in self.max_fairness_gap:
            if metric not in gated:
                return f"max_fairness_gap.{metric}: unknown group metric for {task} (expected one of: {', '.join(gated)})"
        return None
