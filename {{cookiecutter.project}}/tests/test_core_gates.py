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


def test_one_failing_gate_among_several_fails_the_report_and_is_named():
    from {{ cookiecutter.package }}.core.report import pr_report

    gates = gates_for(minimums={"r2": 0.5}, maximums={"rmse": 10.0}, max_regression={"mae": 0.5, "r2": 0.1})
    challenger = {"r2": 0.75, "rmse": 9.0, "mae": 6.0}
    champion = {"r2": 0.75, "rmse": 9.5, "mae": 5.0}  # mae worse by 1.0: over its 0.5 tolerance
    results = apply_gates("regression", gates, challenger, champion, {})
    assert verdicts(results) == {
        ("minimum", "r2"): True,
        ("maximum", "rmse"): True,
        ("no_regression", "mae"): False,
        ("no_regression", "r2"): True,
    }
    evaluation = {
        "task": "regression",
        "holdout_rows": 4,
        "challenger": {"run_id": "c" * 16, "model_uri": "models:/m/2", "version": "2", "metrics": challenger},
        "champion": {"run_id": "p" * 16, "model_uri": "models:/m@champion", "version": "1", "metrics": champion},
        "fairness": None,
        "gates": [gate.as_dict() for gate in results],
        "passed": all(gate.passed for gate in results),  # as the evaluate job decides
    }
    markdown = pr_report(None, evaluation, "Pipeline")
    assert "## Pipeline — ❌ fail" in markdown
    assert "(failed gates: no_regression:mae)" in markdown
    assert "### Model — ❌ fail" in markdown
    assert [line for line in markdown.splitlines() if "❌ fail |" in line] == [
        next(line for line in markdown.splitlines() if line.startswith("| no_regression | mae |"))
    ]


# Bounds are inclusive. The numbers are exact in binary floating point so that "at the bound"
# really is at it (0.80 - 0.75 is 0.05000000000000004, not 0.05).
def test_a_minimum_passes_at_its_bound_and_fails_just_below():
    gates = gates_for(minimums={"r2": 0.5})
    assert verdicts(apply_gates("regression", gates, {"r2": 0.5}, None, {})) == {("minimum", "r2"): True}
    below = math.nextafter(0.5, 0.0)
    assert verdicts(apply_gates("regression", gates, {"r2": below}, None, {})) == {("minimum", "r2"): False}


def test_a_maximum_passes_at_its_bound_and_fails_just_above():
    gates = gates_for(maximums={"rmse": 10.0})
    assert verdicts(apply_gates("regression", gates, {"rmse": 10.0}, None, {})) == {("maximum", "rmse"): True}
    above = math.nextafter(10.0, math.inf)
    assert verdicts(apply_gates("regression", gates, {"rmse": above}, None, {})) == {("maximum", "rmse"): False}


def test_a_regression_exactly_at_the_tolerance_passes_in_both_directions():
    gates = gates_for(max_regression={"r2": 0.25, "rmse": 0.5})
    champion = {"r2": 0.75, "rmse": 10.0}
    at_bound = {"r2": 0.5, "rmse": 10.5}  # r2 lower by 0.25, rmse higher by 0.5: both exactly the tolerance
    assert verdicts(apply_gates("regression", gates, at_bound, champion, {})) == {
        ("no_regression", "r2"): True,
        ("no_regression", "rmse"): True,
    }
    past = {"r2": 0.5 - 1e-6, "rmse": 10.5 + 1e-6}
    assert verdicts(apply_gates("regression", gates, past, champion, {})) == {
        ("no_regression", "r2"): False,
        ("no_regression", "rmse"): False,
    }


def test_a_regression_at_the_tolerance_passes_despite_float_subtraction():
    # 0.80 - 0.75 is 0.05000000000000004 in binary: still exactly the allowed 0.05 to a reader
    gates = gates_for(max_regression={"r2": 0.05})
    assert verdicts(apply_gates("regression", gates, {"r2": 0.75}, {"r2": 0.80}, {})) == {("no_regression", "r2"): True}


def test_a_fairness_gap_at_its_bound_passes_and_just_above_fails():
    gates = gates_for(max_fairness_gap={"recall": 0.25})
    assert verdicts(apply_gates("binary_classification", gates, {}, None, {"recall": 0.25})) == {("fairness_gap", "recall"): True}
    above = {"recall": math.nextafter(0.25, 1.0)}
    assert verdicts(apply_gates("binary_classification", gates, {}, None, above)) == {("fairness_gap", "recall"): False}
