"""Names and directions of the metrics, kept apart from sklearn so config checks stay cheap."""

# True when a larger value is better. Gates and deltas read the direction from here.
HIGHER_IS_BETTER: dict[str, dict[str, bool]] = {
    "binary_classification": {
        "roc_auc": True,
        "average_precision": True,
        "f1": True,
        "accuracy": True,
        "precision": True,
        "recall": True,
        "brier": False,
    },
    "regression": {"rmse": False, "mae": False, "r2": True},
}
# Metrics compared across groups of the sensitive attribute.
# Recall and false-positive-rate gaps (equalized odds) stay meaningful when groups have
# different base rates; a selection-rate gap does not (a perfect classifier fails it).
GROUP_METRICS: dict[str, tuple[str, ...]] = {
    "binary_classification": ("rows", "base_rate", "selection_rate", "recall", "false_positive_rate", "precision"),
    # relative_mae: the group's MAE over the whole holdout's, so its gap has no units.
    "regression": ("rows", "mae", "relative_mae"),
}
# Shown per group so a reader can tell why gaps arise; never gated.
REPORTED_ONLY_GROUP_METRICS = ("rows", "base_rate")
GATED_GROUP_METRICS: dict[str, tuple[str, ...]] = {
    task: tuple(name for name in names if name not in REPORTED_ONLY_GROUP_METRICS) for task, names in GROUP_METRICS.items()
}
