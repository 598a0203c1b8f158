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


def random_split(
    frame: pd.DataFrame, holdout_fraction: float, seed: int, stratify: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded random holdout, stratified by ``stratify`` (the class labels) when given."""
    from sklearn.model_selection import train_test_split

    holdout_rows = int(np.ceil(len(frame) * holdout_fraction))
    if holdout_rows == 0 or holdout_rows >= len(frame):
        raise ValueError(f"{len(frame)} rows cannot be split into train and holdout at fraction {holdout_fraction}")
    train, holdout = train_test_split(frame, test_size=holdout_rows, random_state=seed, shuffle=True, stratify=stratify)
    return train, holdout


def group_split(frame: pd.DataFrame, group_column: str, holdout_fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded random ``holdout_fraction`` of the groups, with all their rows: no group on both sides."""
    from sklearn.model_selection import GroupShuffleSplit

    groups = frame[group_column].astype("string").fillna("<missing>")  # rows without a group value form one group
    if groups.nunique() < 2:
        raise ValueError(f"{groups.nunique()} value(s) of {group_column}: a group split needs two or more")
    train_rows, holdout_rows = next(
        GroupShuffleSplit(n_splits=1, test_size=holdout_fraction, random_state=seed).split(frame, groups=groups)
    )
    return frame.iloc[train_rows], frame.iloc[holdout_rows]


def describe_split(
    timestamp_column: str | None, holdout_fraction: float, target: str, stratified: bool, group_column: str | None = None
) -> str:
    """How the holdout was chosen, as the report says it."""
    share = f"{round(holdout_fraction * 100)} %"
    if timestamp_column:
        return f"the most recent {share} of rows by {timestamp_column} (a time split, as in production)"
    if group_column:
        return f"a seeded random {share} of the {group_column} values with all their rows (none on both sides; no timestamp column)"
    return f"a seeded random {share} of rows" + (f", stratified by {target}" if stratified else "") + " (no timestamp column)"
