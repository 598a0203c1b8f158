"""Feature engineering and the time-based holdout split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from .specs import Features


def add_derived_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Domain features computed from raw columns, identical at training and serving time."""
    derived = frame.copy()
    if {"monthly_charges", "tenure_months"} <= set(frame.columns):
        # Long-tenured customers on high charges behave differently from new ones.
        derived["charges_per_tenure_year"] = frame["monthly_charges"] / (1.0 + frame["tenure_months"] / 12.0)
    return derived


def derived_feature_names(features: Features) -> list[str]:
    return ["charges_per_tenure_year"] if {"monthly_charges", "tenure_months"} <= set(features.numeric) else []


def build_preprocessor(features: Features) -> Pipeline:
    """Derive features, then impute and scale numbers and one-hot encode categories."""
    numeric = [*features.numeric, *derived_feature_names(features)]
    columns = ColumnTransformer(
        [
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                features.categorical,
            ),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return Pipeline([("derive", FunctionTransformer(add_derived_features, validate=False)), ("columns", columns)])


def time_split(frame: pd.DataFrame, timestamp_column: str, holdout_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oldest rows train, the most recent ``holdout_fraction`` are the holdout (stable tie order)."""
    ordered = frame.sort_values(timestamp_column, kind="mergesort")
    cut = int(np.floor(len(ordered) * (1.0 - holdout_fraction)))
    if cut == 0 or cut == len(ordered):
        raise ValueError(f"{len(frame)} rows cannot be split into train and holdout at fraction {holdout_fraction}")
    return ordered.iloc[:cut], ordered.iloc[cut:]
