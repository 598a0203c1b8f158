"""``mlops train``: fit the pipeline on the training split and log it to MLflow.

The logged model folder is kept in ``outputs/train/model`` with its sha256, so that `mlops
evaluate` scores exactly that model without MLflow. A store this run creates (every CI run)
skips SQLite's fsync per schema migration (``io.local_registry.skip_fsync``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from rich.console import Console

from ..config import PREDICTION_COLUMN, Settings
from ..core import drift as drift_rules
from ..core.features import build_preprocessor
from ..core.models import build_estimator, build_pipeline, search_grid
from ..core.records import TrainingRun
from ..errors import ConfigError
from ..io import local_registry
from ..io.artifacts import remove, to_json, write_all
from ..jobs import PROFILE_FILE, TRAINING_JSON
from . import steps

logger = logging.getLogger(__name__)
SEARCH_SCORING = {"binary_classification": "roc_auc", "regression": "neg_root_mean_squared_error"}


def _model(settings: Settings, pipeline):
    """The pipeline, or a time-ordered grid search over it when confs/model.yaml enables one."""
    config = settings.model
    if not config.search.enabled:
        return pipeline
    from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    unknown = sorted(set(config.search.grid) - set(pipeline.named_steps["estimator"].get_params()))
    if unknown:
        raise ConfigError(
            f"confs/model.yaml: search.grid: {type(pipeline.named_steps['estimator']).__name__} has no parameter {', '.join(unknown)}"
        )
    # Folds are made like the holdout: in time order when there is a timestamp, else seeded (and stratified).
    task = settings.data.task
    if settings.data.timestamp_column:
        folds = TimeSeriesSplit(config.search.cv)
    elif settings.data.group_column:
        folds = GroupKFold(config.search.cv)  # fit() passes the groups: no group in both a fold's train and test
    elif task == "binary_classification":
        folds = StratifiedKFold(config.search.cv, shuffle=True, random_state=config.seed)
    else:
        folds = KFold(config.search.cv, shuffle=True, random_state=config.seed)
    return GridSearchCV(pipeline, search_grid(config.search.grid), cv=folds, scoring=SEARCH_SCORING[task], n_jobs=-1)


def training_profile(settings: Settings, data: pd.DataFrame, holdout_prediction: Any) -> dict[str, Any]:
    """The profile `mlops drift` compares production data with: every monitored column of the data,
    and the model's predictions on the holdout (unseen rows, as production rows are).

    It travels in the model folder, so the release archive (its checksum, its attestation) covers it.
    """
    numeric, categorical = steps.monitored_columns(settings)
    profile = drift_rules.build_profile(data, numeric=numeric, categorical=categorical)
    predictions = drift_rules.build_profile(
        pd.DataFrame({PREDICTION_COLUMN: holdout_prediction}), numeric=[PREDICTION_COLUMN], categorical=[]
    )
    # Judged with the tests the features of the training data's size get, not those of the smaller holdout's.
    predictions["columns"][PREDICTION_COLUMN]["tests_as_count"] = len(data)
    profile["columns"].update(predictions["columns"])
    return profile


def run(settings: Settings) -> dict:
    remove(settings.path(str(TRAINING_JSON)))  # a failed run leaves no record for `evaluate` to take
    new_store = local_registry.is_new_store(settings.tracking_uri)
    check, train, holdout = steps.split_for_modelling(settings)
    features = settings.data.features.all
    config = settings.model
    try:
        pipeline = build_pipeline(
            build_preprocessor(settings.data.features), build_estimator(settings.data.task, config.estimator, config.params, config.seed)
        )
    except ValueError as error:
        raise ConfigError(f"confs/model.yaml: params: {error}") from error
    model = _model(settings, pipeline)
    search_summary: dict = {}
    started = time.perf_counter()
    by_group = config.search.enabled and settings.data.group_column and not settings.data.timestamp_column
    groups = {"groups": train[settings.data.group_column].astype("string").fillna("<missing>")} if by_group else {}
    with Console(stderr=True).status(f"Fitting {config.estimator} on {len(train)} rows…"):
        model.fit(train[features], steps.labels(settings, train), **groups)
    fit_seconds = time.perf_counter() - started
    if config.search.enabled:
        search_summary = {"best_params": model.best_params_, "best_cv_score": float(model.best_score_)}
        model = model.best_estimator_
    metrics, prediction = steps.score(settings, model, holdout, role="trained model", uri="(not yet logged)")

    profile_json = to_json(training_profile(settings, check.frame, prediction))

    from ..io import tracking  # mlflow import costs seconds: only here

    session = tracking.open_session(settings, new_store=new_store)

    params = {
        "task": settings.data.task,
        "estimator": config.estimator,
        "seed": config.seed,
        **config.params,
        "train_rows": len(train),
        "holdout_rows": len(holdout),
    }
    params.update({f"best_{name.removeprefix('estimator__')}": value for name, value in search_summary.get("best_params", {}).items()})
    logged_metrics = {**metrics, "fit_seconds": fit_seconds}
    if search_summary:
        logged_metrics["best_cv_score"] = search_summary["best_cv_score"]
    trained = tracking.log_training(
        settings,
        session,
        model,
        params=params,
        metrics=logged_metrics,
        tags={"data_digest": check.manifest_digest, "task": settings.data.task},
        sample_input=holdout[features].head(5),
        sample_output=prediction[:5],
        artifacts={"data/manifest.json": settings.path(settings.data.manifest).read_text(encoding="utf-8"), PROFILE_FILE: profile_json},
        local_dir=settings.path(str(steps.TRAINED_MODEL_DIR)),
    )
    record = TrainingRun(
        task=settings.data.task,
        model=trained,
        tracking_uri=session.uri,
        estimator=config.estimator,
        params={key: value for key, value in params.items() if key not in {"task", "estimator"}},
        search=search_summary,
        holdout_metrics=metrics,
        data_digest=check.manifest_digest,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        fit_seconds=round(fit_seconds, 3),
    ).as_dict()
    model_dir = settings.path(str(steps.TRAINED_MODEL_DIR))
    write_all({model_dir / PROFILE_FILE: profile_json, settings.path(str(TRAINING_JSON)): to_json(steps.stamped(record, settings))})
    logger.info(
        "trained %s (run %s, version %s): %s",
        config.estimator,
        trained.run_id[:12],
        trained.version,
        ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()),
    )
    return record
