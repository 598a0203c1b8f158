"""``mlops train``: fit the pipeline on the training split and log it to MLflow."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from rich.console import Console

from ..config import Settings
from ..core.features import build_preprocessor, time_split
from ..core.metrics import score
from ..core.models import build_estimator, build_pipeline, search_grid
from ..errors import ConfigError, InputError
from ..io.artifacts import to_json, write_all
from ..jobs import TRAINING_JSON
from ..jobs.validate import check_data
from ..project import TASK

logger = logging.getLogger(__name__)
SEARCH_SCORING = {"binary_classification": "roc_auc", "regression": "neg_root_mean_squared_error"}


def split_for_modelling(settings: Settings):
    """The validated data, split in time; the same split for train and evaluate."""
    check = check_data(settings)
    if not check.passed:
        reasons = check.manifest_problems + [failure.describe() for failure in check.failures]
        raise InputError(f"{settings.data.path}: data failed validation ({'; '.join(reasons)}); run `mlops validate` for the report")
    train, holdout = time_split(check.frame, settings.data.timestamp_column, settings.data.holdout_fraction)
    return check, train, holdout


def predict(model, frame):
    """Positive-class probability for classifiers, the value for regressors."""
    return model.predict_proba(frame)[:, 1] if TASK == "binary_classification" else model.predict(frame)


def run(settings: Settings) -> dict:
    check, train, holdout = split_for_modelling(settings)
    features, target = settings.data.features.all, settings.data.target
    config = settings.model
    try:
        pipeline = build_pipeline(
            build_preprocessor(settings.data.features), build_estimator(TASK, config.estimator, config.params, config.seed)
        )
    except ValueError as error:
        raise ConfigError(f"confs/model.yaml: params: {error}") from error
    model, search_summary = pipeline, {}
    if config.search.enabled:
        from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

        unknown = sorted(set(config.search.grid) - set(pipeline.named_steps["estimator"].get_params()))
        if unknown:
            raise ConfigError(
                f"confs/model.yaml: search.grid: {type(pipeline.named_steps['estimator']).__name__} has no parameter {', '.join(unknown)}"
            )
        # Folds respect time order, like the holdout does.
        model = GridSearchCV(
            pipeline, search_grid(config.search.grid), cv=TimeSeriesSplit(config.search.cv), scoring=SEARCH_SCORING[TASK], n_jobs=-1
        )
    started = time.perf_counter()
    with Console(stderr=True).status(f"Fitting {config.estimator} on {len(train)} rows…"):
        model.fit(train[features], train[target])
    fit_seconds = time.perf_counter() - started
    if config.search.enabled:
        search_summary = {"best_params": model.best_params_, "best_cv_score": float(model.best_score_)}
        model = model.best_estimator_
    metrics = score(TASK, holdout[target].to_numpy(), predict(model, holdout[features]))

    from ..io import tracking  # mlflow import costs seconds: only here

    params = {
        "task": TASK,
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
    ref = tracking.log_training(
        settings,
        model,
        params=params,
        metrics=logged_metrics,
        tags={"data_digest": check.manifest_digest, "task": TASK},
        sample_input=train[features].head(5),
        artifacts={"data/manifest.json": settings.path(settings.data.manifest).read_text(encoding="utf-8")},
    )
    record = {
        "task": TASK,
        "model": ref.as_dict(),
        "tracking_uri": tracking.tracking_uri(settings),
        "estimator": config.estimator,
        "params": {key: value for key, value in params.items() if key not in {"task", "estimator"}},
        "search": search_summary,
        "holdout_metrics": metrics,
        "data_digest": check.manifest_digest,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fit_seconds": round(fit_seconds, 3),
    }
    write_all({settings.path(str(TRAINING_JSON)): to_json(record)})
    logger.info(
        "trained %s (run %s, version %s): %s",
        config.estimator,
        ref.run_id[:12],
        ref.version,
        ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()),
    )
    return record
