"""Holdout metrics, their direction, and per-group (fairness) metrics."""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .metric_catalog import GROUP_METRICS, HIGHER_IS_BETTER, REPORTED_ONLY_GROUP_METRICS  # noqa: F401 (re-exported)


def score_classification(
    y_true: np.ndarray, probability: np.ndarray, threshold: float = 0.5, *, only: Collection[str] | None = None
) -> dict[str, float]:
    """Every classification metric, or those named in ``only`` (the others are not computed)."""
    predicted = (probability >= threshold).astype(int)
    both_classes = len(np.unique(y_true)) == 2
    measures: dict[str, Callable[[], float]] = {
        "roc_auc": lambda: float(skm.roc_auc_score(y_true, probability)) if both_classes else float("nan"),
        "average_precision": lambda: float(skm.average_precision_score(y_true, probability)) if both_classes else float("nan"),
        "f1": lambda: float(skm.f1_score(y_true, predicted, zero_division=0)),
        "accuracy": lambda: float(skm.accuracy_score(y_true, predicted)),
        "precision": lambda: float(skm.precision_score(y_true, predicted, zero_division=0)),
        "recall": lambda: float(skm.recall_score(y_true, predicted, zero_division=0)),
        "brier": lambda: float(skm.brier_score_loss(y_true, probability)),
    }
    return {name: measure() for name, measure in measures.items() if only is None or name in only}


def score_regression(y_true: np.ndarray, predicted: np.ndarray, *, only: Collection[str] | None = None) -> dict[str, float]:
    """Every regression metric, or those named in ``only``."""
    measures: dict[str, Callable[[], float]] = {
        "rmse": lambda: float(np.sqrt(skm.mean_squared_error(y_true, predicted))),
        "mae": lambda: float(skm.mean_absolute_error(y_true, predicted)),
        "r2": lambda: float(skm.r2_score(y_true, predicted)),
    }
    return {name: measure() for name, measure in measures.items() if only is None or name in only}


def score(task: str, y_true: np.ndarray, prediction: np.ndarray, *, only: Collection[str] | None = None) -> dict[str, float]:
    """``prediction`` is the positive-class probability (classification) or the value (regression); ``only``: these metrics."""
    if task == "regression":
        return score_regression(y_true, prediction, only=only)
    return score_classification(y_true, prediction, only=only)


def _rate(hits: np.ndarray, among: np.ndarray) -> float:
    """Share of ``hits`` among the rows where ``among`` holds; NaN when there are none."""
    return float(hits[among].mean()) if among.any() else float("nan")


def _group_metric(task: str, overall_mae: float) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    if task == "regression":
        return {
            "rows": lambda y, p: float(len(y)),
            "mae": lambda y, p: float(skm.mean_absolute_error(y, p)),
            "relative_mae": lambda y, p: float(skm.mean_absolute_error(y, p)) / overall_mae if overall_mae else float("nan"),
        }
    return {
        "rows": lambda y, p: float(len(y)),
        "base_rate": lambda y, p: float(np.mean(y == 1)),
        "selection_rate": lambda y, p: float(np.mean(p >= 0.5)),
        "recall": lambda y, p: _rate(p >= 0.5, y == 1),
        "false_positive_rate": lambda y, p: _rate(p >= 0.5, y == 0),
        "precision": lambda y, p: _rate(y == 1, p >= 0.5),
    }


def group_metrics(task: str, y_true: np.ndarray, prediction: np.ndarray, groups: pd.Series) -> dict[str, dict[str, float]]:
    """Each group metric per group: ``{metric: {group: value}}`` (rows and base rates included, for the reader)."""
    result: dict[str, dict[str, float]] = {}
    labels = groups.astype(str).to_numpy()
    overall_mae = float(skm.mean_absolute_error(y_true, prediction)) if task == "regression" else 0.0
    for name, metric in _group_metric(task, overall_mae).items():
        result[name] = {group: metric(y_true[labels == group], prediction[labels == group]) for group in sorted(set(labels))}
    return result


def gaps(per_group: dict[str, dict[str, float]]) -> dict[str, float]:
    """Largest minus smallest value of each gated metric across groups (NaN values, e.g. no positives, ignored)."""
    result = {}
    for name, values in per_group.items():
        if name in REPORTED_ONLY_GROUP_METRICS:
            continue
        known = [value for value in values.values() if not np.isnan(value)]
        result[name] = (max(known) - min(known)) if known else float("nan")
    return result


def baseline_metrics(task: str, y_train: np.ndarray, y_holdout: np.ndarray) -> dict[str, float]:
    """A trivial model's holdout metrics: the training prior (classification) or mean (regression) for every row."""
    constant = float(np.mean(y_train)) if len(y_train) else 0.0
    return score(task, y_holdout, np.full(len(y_holdout), constant, dtype=float))
