import math

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.config import GatesConfig
from {{ cookiecutter.package }}.core.gates import apply_gates
from {{ cookiecutter.package }}.core.metrics import gaps, group_metrics


def gates_for(**sections) -> GatesConfig:
    # model_construct skips the check of metric names against this project's task, so the
    # pure gate logic can be tested for both tasks whatever task the project was baked with.
    return GatesConfig.model_construct(**{"minimums": {}, "maximums": {}, "max_regression": {}, "max_fairness_gap": {}, **sections})


def verdicts(results):
    return {(gate.name, gate.metric): gate.passed for gate in results}


def test_absolute_gates_apply_without_a_champion():
    gates = gates_for(minimums={"r2": 0.5}, maximums={"rmse": 10.0}, max_regression={"rmse": 1.0})
    results = apply_gates("regression", gates, {"r2": 0.4, "rmse": 9.0, "mae": 5.0}, None, {})
    # The first model is judged on absolute gates alone: no regression gate is applied.
    assert verdicts(results) == {("minimum", "r2"): False, ("maximum", "rmse"): True}


def test_regression_is_measured_in_the_direction_of_each_metric():
    gates = gates_for(max_regression={"rmse": 1.0, "r2": 0.01})
    champion = {"rmse": 10.0, "r2": 0.80, "mae": 5.0}
    worse_rmse = {"rmse": 11.5, "r2": 0.80, "mae": 5.0}
    better_rmse = {"rmse": 8.0, "r2": 0.795, "mae": 5.0}
    assert verdicts(apply_gates("regression", gates, worse_rmse, champion, {}))[("no_regression", "rmse")] is False
    assert verdicts(apply_gates("regression", gates, better_rmse, champion, {})) == {
        ("no_regression", "rmse"): True,
        ("no_regression", "r2"): True,
    }


def test_a_metric_that_could_not_be_computed_never_passes():
    gates = gates_for(minimums={"roc_auc": 0.1})
    (result,) = apply_gates("binary_classification", gates, {"roc_auc": math.nan}, None, {})
    assert result.passed is False


def test_fairness_gap_gate_uses_the_gap_between_groups():
    y_true = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    probability = np.array([0.9, 0.8, 0.1, 0.2, 0.9, 0.2, 0.1, 0.3])
    groups = pd.Series(["a", "a", "a", "a", "b", "b", "b", "b"])
    per_group = group_metrics("binary_classification", y_true, probability, groups)
    assert per_group["recall"] == {"a": 1.0, "b": 0.5}
    measured = gaps(per_group)
    assert measured["recall"] == 0.5
    results = apply_gates("binary_classification", gates_for(max_fairness_gap={"recall": 0.2}), {}, None, measured)
    assert verdicts(results) == {("fairness_gap", "recall"): False}
