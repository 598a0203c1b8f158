"""The monitor's verdict, decay and report: what makes retraining due, and what a reader sees."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package }}.core import monitoring


def test_decay_is_measured_in_the_metric_direction_against_its_tolerance():
    released = {"roc_auc": 0.80, "brier": 0.20}
    tolerances = {"roc_auc": 0.01, "brier": 0.01}
    better = monitoring.decay("binary_classification", released, {"roc_auc": 0.85, "brier": 0.15}, tolerances)
    assert not any(d.decayed for d in better)
    worse = monitoring.decay("binary_classification", released, {"roc_auc": 0.78, "brier": 0.23}, tolerances)
    assert [d.metric for d in worse if d.decayed] == ["roc_auc", "brier"]
    within = monitoring.decay("binary_classification", released, {"roc_auc": 0.795, "brier": 0.205}, tolerances)
    assert not any(d.decayed for d in within)


def test_decay_skips_metrics_the_release_did_not_record():
    assert monitoring.decay("regression", {"rmse": 10.0}, {"rmse": 12.0, "r2": 0.5}, {"r2": 0.01}) == []


def verdict(**overrides):
    values = dict(
        dataset_drift=False,
        drifted=[],
        share=0.0,
        prediction_drifted=False,
        decayed=[],
        age_days=10.0,
        max_age_days=180,
        when={"dataset_drift": True, "prediction_drift": True, "decay": True},
    )
    return monitoring.verdict(**{**values, **overrides})


def test_no_finding_means_no_retraining():
    result = verdict()
    assert not result.due
    assert result.line == "retraining due: no"


def test_each_finding_makes_retraining_due_and_says_why():
    assert (
        verdict(dataset_drift=True, drifted=["a", "b"], share=0.6).line
        == "retraining due: yes, because 2 of the monitored columns drifted (60%)"
    )
    assert "predictions drifted" in verdict(prediction_drifted=True).line
    decayed = monitoring.Decay("roc_auc", 0.8, 0.7, 0.68, 0.72, 0.01, True)
    assert "decayed on labelled production rows (roc_auc)" in verdict(decayed=[decayed]).line
    assert "200 days old (max 180)" in verdict(age_days=200.0).line


def test_a_finding_switched_off_is_reported_but_does_not_make_it_due():
    result = verdict(prediction_drifted=True, when={"prediction_drift": False})
    assert not result.due
    assert "predictions drifted" in result.line


def test_no_age_limit_means_age_never_makes_it_due():
    assert not verdict(age_days=5000.0, max_age_days=None).due


def summary(**overrides):
    values = {
        "due": True,
        "verdict": "retraining due: yes, because 1 of the monitored columns drifted (50%)",
        "champion": "v1.2.0",
        "champion_age_days": 12.0,
        "rows": 1500,
        "files": ["2025-07.csv"],
        "share": 0.5,
        "drift_share": 0.5,
        "drifted": ["monthly_charges"],
        "checked_at": "2025-07-20T06:17:00+00:00",
        "columns": [
            {"column": "monthly_charges", "method": "wasserstein", "statistic": 0.9, "threshold": 0.1, "drifted": True},
            {"column": "age", "method": "ks", "statistic": 0.4, "threshold": 0.05, "drifted": False},
        ],
    }
    return {**values, **overrides}


def test_the_report_lists_drifted_columns_first_with_a_chart():
    markdown = monitoring.drift_markdown(summary(), [])
    table = [line for line in markdown.splitlines() if line.startswith("| <code>")]
    assert "monthly" in table[0] and "⚠️" in table[0]
    assert "xychart-beta" in markdown and '"monthly_charges"' in markdown
    assert "### Trend" not in markdown  # one run is no trend


def test_the_trend_appears_with_history():
    history = [{"checked_at": "2025-07-13T06:17:00", "share": 0.1}]
    markdown = monitoring.drift_markdown(summary(), history)
    assert "### Trend" in markdown
    assert "line [10, 50]" in markdown


def test_names_from_data_cannot_break_out_of_the_report_or_the_chart():
    hostile = 'x"] --> y\n```\n<!-- mlops-retrain -->|'
    markdown = monitoring.drift_markdown(
        summary(columns=[{"column": hostile, "method": "ks", "statistic": 0.0, "threshold": 0.05, "drifted": True}], drifted=[hostile]), []
    )
    assert "<!--" not in markdown
    assert markdown.count("```") == 2  # the chart's own fence, opened and closed once
    chart = markdown.split("```mermaid", 1)[1].split("```", 1)[0]
    assert '"x -- y' in chart and "\n    bar" in chart


def test_history_keeps_only_the_summary_fields():
    entry = monitoring.history_entry({**summary(), "columns": [{"column": "a"}], "violations": ["secret"]})
    assert set(entry) == {"checked_at", "champion", "rows", "share", "dataset_drift", "drifted", "due", "run_url"}


def test_a_history_line_is_checked_for_type_and_bounds():
    good = monitoring.checked_history_entry(summary())
    assert good == monitoring.history_entry(summary())
    for bad, field in [
        ({"share": "0.5"}, "share"),  # a string where a number goes
        ({"share": 1.5}, "share"),
        ({"share": float("nan")}, "share"),
        ({"rows": -1}, "rows"),
        ({"rows": True}, "rows"),
        ({"due": "yes"}, "due"),
        ({"checked_at": "yesterday"}, "checked_at"),
        ({"drifted": ["x" * (monitoring.MAX_NAME + 1)]}, "drifted"),
        ({"drifted": ["a"] * (monitoring.MAX_COLUMNS + 1)}, "drifted"),
    ]:
        with pytest.raises(ValueError, match=field):
            monitoring.checked_history_entry({**summary(), **bad})
    # A run that had nothing to check has no figures: still a valid line.
    quiet = {"checked_at": "2025-07-01T00:00:00+00:00", "due": False, "run_url": ""}
    assert monitoring.checked_history_entry(quiet)["share"] is None


def test_a_drop_within_the_sampling_noise_is_not_decay():
    released, current, tolerances = {"roc_auc": 0.78}, {"roc_auc": 0.75}, {"roc_auc": 0.01}
    assert monitoring.decay("binary_classification", released, current, tolerances)[0].decayed
    noisy = monitoring.decay("binary_classification", released, current, tolerances, {"roc_auc": (0.70, 0.80)})
    assert not noisy[0].decayed
    # Lower is better: the favourable end is the low one.
    rmse = monitoring.decay("regression", {"rmse": 10.0}, {"rmse": 12.0}, {"rmse": 1.0}, {"rmse": (10.5, 13.0)})
    assert not rmse[0].decayed


def test_bootstrap_intervals_hold_the_estimate_and_narrow_with_more_rows():
    rng = np.random.default_rng(3)

    def width(rows: int) -> tuple[float, float, float]:
        truth = rng.integers(0, 2, rows)
        probability = np.clip(truth * 0.3 + rng.random(rows) * 0.7, 0, 1)
        low, high = monitoring.bootstrap_intervals("binary_classification", truth, probability, rounds=100)["roc_auc"]
        return low, high, roc_auc_score(truth, probability)

    small_low, small_high, small_point = width(200)
    large_low, large_high, _ = width(5000)
    assert small_low <= small_point <= small_high
    assert large_high - large_low < small_high - small_low
