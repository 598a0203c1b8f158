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


def test_bootstrap_intervals_of_the_gated_metrics_only_are_the_same_intervals():
    rng = np.random.default_rng(4)
    truth = rng.integers(0, 2, 300)
    probability = np.clip(truth * 0.3 + rng.random(300) * 0.7, 0, 1)
    every = monitoring.bootstrap_intervals("binary_classification", truth, probability, rounds=20)
    gated = monitoring.bootstrap_intervals("binary_classification", truth, probability, rounds=20, metrics={"roc_auc": 0.01})
    assert gated == {"roc_auc": every["roc_auc"]}
    assert set(every) > {"roc_auc", "f1", "brier"}


def chart_of(markdown: str) -> str:
    return markdown.split("```mermaid", 1)[1].split("```", 1)[0]


def test_the_chart_draws_scores_from_zero_with_the_threshold_as_a_line():
    # One column at 3.6 times its threshold: from an axis starting at the smallest bar, it would draw as an empty bar.
    column = {"column": "monthly_charges", "method": "wasserstein", "statistic": 0.36, "threshold": 0.1, "drifted": True}
    chart = chart_of(monitoring.drift_markdown(summary(columns=[column]), []))
    assert 'y-axis "score" 0 --> 4' in chart
    assert "bar [3.60]" in chart and "line [1]" in chart


def test_p_values_and_distances_are_scored_on_one_scale_and_shown_as_what_they_are():
    columns = [
        {"column": "age", "method": "ks", "statistic": 0.0025, "threshold": 0.05, "drifted": True},
        {"column": "monthly_charges", "method": "wasserstein", "statistic": 0.2, "threshold": 0.1, "drifted": True},
        {"column": "region", "method": "chisquare", "statistic": 0.5, "threshold": 0.05, "drifted": False},
    ]
    markdown = monitoring.drift_markdown(summary(columns=columns), [])
    rows = {line.split(" | ")[0]: line for line in markdown.splitlines() if line.startswith("| <code>")}
    # p = threshold² scores 2, as a distance of twice its threshold does
    assert "| K-S | p = 0.0025 | p ≤ 0.05 | 2.00× | ⚠️ |" in rows["| <code>age</code>"]
    assert "| Wasserstein (normed) | distance 0.2000 | distance ≥ 0.1 | 2.00× | ⚠️ |" in rows["| <code>monthly&#95;charges</code>"]
    # a p-value above its threshold scores below 1: log 0.5 / log 0.05
    assert "| chi-square | p = 0.5000 | p < 0.05 | 0.23× | — |" in rows["| <code>region</code>"]
    assert "bar [2.00, 2.00]" in chart_of(markdown)


def test_a_p_value_of_zero_is_infinitely_far_and_drawn_at_the_cap_saying_so():
    columns = [
        {"column": "age", "method": "z", "statistic": 0.0, "threshold": 0.05, "drifted": True},
        {"column": "tenure", "method": "psi", "statistic": 0.3, "threshold": 0.1, "drifted": True},
    ]
    markdown = monitoring.drift_markdown(summary(columns=columns), [])
    assert "| z-test | p ≈ 0 | p < 0.05 | ∞ | ⚠️ |" in markdown
    chart = chart_of(markdown)
    assert f'x-axis ["age over {monitoring.CHART_SCORE_CAP:.0f}", "tenure"]' in chart
    assert f"bar [{monitoring.CHART_SCORE_CAP:.2f}, 3.00]" in chart


def test_a_data_set_drifts_when_exactly_the_configured_share_of_its_columns_drift():
    # confs/monitor.yaml: "dataset drift when at least this share of the monitored columns drift"
    columns = [{"column": name, "drifted": name in ("a", "b")} for name in "abcd"]
    assert monitoring.dataset_drift(columns, 0.5) == (["a", "b"], 0.5, True)
    assert monitoring.dataset_drift(columns, 0.51)[2] is False
    assert monitoring.dataset_drift([], 0.5) == ([], 0.0, False)
