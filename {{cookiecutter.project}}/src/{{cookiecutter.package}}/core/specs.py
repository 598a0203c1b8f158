"""Typed records of what the config declares: columns, features and gates.

They live in ``core`` so that core logic can take them without importing ``config``;
``config`` reads the YAML files into them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..project import TASK
from .metric_catalog import GROUP_METRICS, HIGHER_IS_BETTER


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
    minimums: dict[str, float] = Field(default_factory=dict)
    maximums: dict[str, float] = Field(default_factory=dict)
    max_regression: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    max_fairness_gap: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _metrics_exist(self) -> GatesConfig:
        known = HIGHER_IS_BETTER[TASK]
        for key in ("minimums", "maximums", "max_regression"):
            for metric in getattr(self, key):
                if metric not in known:
                    raise ValueError(f"{key}.{metric}: unknown metric for {TASK} (expected one of: {', '.join(known)})")
        for metric in self.max_fairness_gap:
            if metric not in GROUP_METRICS[TASK]:
                raise ValueError(f"max_fairness_gap.{metric}: unknown group metric (expected one of: {', '.join(GROUP_METRICS[TASK])})")
        return self
