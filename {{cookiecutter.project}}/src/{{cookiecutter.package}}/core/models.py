"""The model: preprocessing plus an estimator chosen by family and task."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from .features import add_derived_features

ESTIMATORS: dict[str, dict[str, type[BaseEstimator]]] = {
    "binary_classification": {
        "hist_gradient_boosting": HistGradientBoostingClassifier,
        "random_forest": RandomForestClassifier,
        "linear": LogisticRegression,
    },
    "regression": {
        "hist_gradient_boosting": HistGradientBoostingRegressor,
        "random_forest": RandomForestRegressor,
        "linear": Ridge,
    },
}


def build_estimator(task: str, family: str, params: dict[str, Any], seed: int) -> BaseEstimator:
    """Instantiate the estimator; unknown parameter names raise ``ValueError`` naming them."""
    estimator_class = ESTIMATORS[task][family]
    valid = estimator_class().get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"{estimator_class.__name__} has no parameter {', '.join(unknown)}")
    seeded = {"random_state": seed} if "random_state" in valid else {}
    return estimator_class(**{**seeded, **params})


def build_pipeline(preprocessor: Pipeline, estimator: BaseEstimator) -> Pipeline:
    return Pipeline([("preprocess", preprocessor), ("estimator", estimator)])


def search_grid(grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Grid keys name estimator parameters; the pipeline needs them prefixed."""
    return {f"estimator__{name}": values for name, values in grid.items()}


# The only types (beyond skops' own safe defaults) a model of this project may contain. A model
# file is loaded with this list and nothing else: never with a list read from the file itself,
# which whoever wrote the file would control. tests/test_core_models.py checks that every
# estimator family's fitted pipeline needs no other type.
TRUSTED_TYPES: tuple[str, ...] = (
    f"{add_derived_features.__module__}.{add_derived_features.__qualname__}",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)
