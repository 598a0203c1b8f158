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
GROUP_METRICS: dict[str, tuple[str, ...]] = {
    "binary_classification": ("selection_rate", "recall", "precision"),
    "regression": ("mae",),
}
