"""Holdout metrics, their direction, and per-group (fairness) metrics."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .metric_catalog import GROUP_METRICS, HIGHER_IS_BETTER  # noqa: F401 (re-exported)


def score_classification(y_true: np.ndarray, probability: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    predicted = (probability >= threshold).astype(int)
    both_classes = len(np.unique(y_true)) == 2
    return {
        "roc_auc": float(skm.roc_auc_score(y_true, probability)) if both_classes else float("nan"),
        "average_precision": float(skm.average_precision_score(y_true, probability)) if both_classes else float("nan"),
        "f1": float(skm.f1_score(y_true, predicted, zero_division=0)),
        "accuracy": float(skm.accuracy_score(y_true, predicted)),
        "precision": float(skm.precision_score(y_true, predicted, zero_division=0)),
        "recall": float(skm.recall_score(y_true, predicted, zero_division=0)),
        "brier": float(skm.brier_score_loss(y_true, probability)),
    }


def score_regression(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, predicted))),
        "mae": float(skm.mean_absolute_error(y_true, predicted)),
        "r2": float(skm.r2_score(y_true, predicted)),
    }


def score(task: str, y_true: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """``prediction`` is the positive-class probability (classification) or the value (regression)."""
    if task == "regression":
        return score_regression(y_true, prediction)
    return score_classification(y_true, prediction)


def _group_metric(task: str) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    if task == "regression":
        return {"mae": lambda y, p: float(skm.mean_absolute_error(y, p))}
    return {
        "selection_rate": lambda y, p: float(np.mean(p >= 0.5)),
        "recall": lambda y, p: float(skm.recall_score(y, p >= 0.5, zero_division=0)),
        "precision": lambda y, p: float(skm.precision_score(y, p >= 0.5, zero_division=0)),
    }


def group_metrics(task: str, y_true: np.ndarray, prediction: np.ndarray, groups: pd.Series) -> dict[str, dict[str, float]]:
    """Each group metric per group: ``{metric: {group: value}}``."""
    result: dict[str, dict[str, float]] = {}
    labels = groups.astype(str).to_numpy()
    for name, metric in _group_metric(task).items():
        result[name] = {group: metric(y_true[labels == group], prediction[labels == group]) for group in sorted(set(labels))}
    return result


def gaps(per_group: dict[str, dict[str, float]]) -> dict[str, float]:
    """Largest minus smallest value of each metric across groups."""
    return {name: (max(values.values()) - min(values.values())) if values else 0.0 for name, values in per_group.items()}
