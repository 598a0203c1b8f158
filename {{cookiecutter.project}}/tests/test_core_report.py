from {{ cookiecutter.package }}.core.report import COMMENT_MARKER, pr_report

VALIDATION = {
    "dataset": "data/x.csv",
    "rows": 10,
    "columns": 3,
    "passed": True,
    "manifest": {"path": "m.json", "problems": []},
    "failures": [],
}


def evaluation(passed: bool, champion: bool) -> dict:
    gates = [{"name": "minimum", "metric": "r2", "passed": passed, "value": 0.5, "limit": 0.6, "detail": "r2 0.5 ≥ 0.6"}]
    return {
        "task": "regression",
        "holdout_rows": 4,
        "challenger": {"run_id": "abcdef1234567890", "model_uri": "models:/m-1", "version": "2", "metrics": {"rmse": 9.0, "r2": 0.5}},
        "champion": {"run_id": "r0", "model_uri": "models:/x@champion", "version": "1", "metrics": {"rmse": 10.0, "r2": 0.6}}
        if champion
        else None,
        "fairness": None,
        "gates": gates,
        "passed": passed,
    }


def test_report_starts_with_the_hidden_marker_and_names_failed_gates():
    markdown = pr_report(VALIDATION, evaluation(passed=False, champion=True), "Pipeline")
    assert markdown.startswith(COMMENT_MARKER)
    assert "## Pipeline — ❌ fail" in markdown
    assert "failed gates: minimum:r2" in markdown


def test_deltas_are_coloured_by_the_direction_of_the_metric():
    markdown = pr_report(VALIDATION, evaluation(passed=True, champion=True), "Pipeline")
    # rmse fell (better, green); r2 fell (worse, red)
    assert "| rmse | 9.0000 | 10.0000 | ▼ -1.0000 🟢 |" in markdown
    assert "| r2 | 0.5000 | 0.6000 | ▼ -0.1000 🔴 |" in markdown


def test_first_model_says_there_is_no_champion():
    markdown = pr_report(None, evaluation(passed=True, champion=False), "Pipeline")
    assert "no champion yet" in markdown
    assert "| rmse | 9.0000 | — | — |" in markdown


def test_the_reviewed_metrics_ride_along_hidden_in_the_bots_comment():
    from {{ cookiecutter.package }}.core.report import find_reviewed

    markdown = pr_report(VALIDATION, evaluation(passed=True, champion=False), "Pipeline", head_sha="f" * 40, workflow_run="https://run/1")
    assert "mlops-metrics" in markdown.splitlines()[-1] and markdown.splitlines()[-1].startswith("<!--")
    comment = {"user": {"login": "github-actions[bot]"}, "body": markdown, "html_url": "https://pr/1#c"}
    reviewed = find_reviewed([comment], bot_logins=frozenset({"github-actions[bot]"}))
    assert reviewed is not None
    assert (reviewed.run_id, reviewed.head_sha, reviewed.workflow_run) == ("abcdef1234567890", "f" * 40, "https://run/1")
    assert reviewed.metrics == {"rmse": 9.0, "r2": 0.5}
    # Only a report of ours counts: the same block pasted without the marker is ignored.
    pasted = {**comment, "body": markdown.replace(COMMENT_MARKER, "")}
    assert find_reviewed([pasted], bot_logins=frozenset({"github-actions[bot]"})) is None
