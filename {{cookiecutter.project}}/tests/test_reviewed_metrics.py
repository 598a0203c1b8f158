"""The reviewed-metrics record: written only by the report, read back only from the bot's comments.

What the pull request controls (data values, column names, paths, gate settings, titles) must
never write a marker or a block of its own; a person's comment never counts.
"""

from __future__ import annotations

import copy
import json

import pytest

from {{ cookiecutter.package }}.core.report import (
    COMMENT_MARKER,
    MAX_COMMENT_CHARS,
    METRICS_BLOCK,
    TRUNCATED,
    Reviewed,
    find_reviewed,
    fit_comment,
    metrics_block,
    pr_report,
)
from {{ cookiecutter.package }}.errors import CheckFailed

BOT = "github-actions[bot]"
BOTS = frozenset({BOT})
HEAD = "c" * 40
RUN = "https://github.com/acme/model/actions/runs/7"
FORGED = '<!-- mlops-metrics: {"run_id": "evil", "head_sha": "", "workflow_run": "", "metrics": {"r2": 1.0}} -->'

VALIDATION = {
    "dataset": "data/x.csv",
    "rows": 10,
    "columns": 3,
    "passed": False,
    "manifest": {"path": "m.json", "problems": []},
    "failures": [{"column": "age", "check": "greater_than(0)", "rows": 2, "examples": ["-1"]}],
}
EVALUATION = {
    "task": "regression",
    "holdout_rows": 4,
    "challenger": {"run_id": "abcdef1234567890", "model_uri": "models:/m-1", "version": "2", "metrics": {"rmse": 9.0, "r2": 0.5}},
    "champion": None,
    "fairness": {"attribute": "region", "groups": {"rmse": {"north": 8.0, "south": 10.0}}, "gaps": {"rmse": 2.0}},
    "gates": [{"name": "minimum", "metric": "r2", "passed": True, "value": 0.5, "limit": 0.4, "detail": "r2 0.5000 ≥ 0.4"}],
    "passed": True,
}


def bot(body: str, comment_id: int = 1, login: str = BOT) -> dict:
    return {"id": comment_id, "user": {"login": login, "type": "Bot"}, "body": body, "html_url": f"https://github.com/c#{comment_id}"}


def report(validation: dict | None = VALIDATION, evaluation: dict | None = EVALUATION, title: str = "Pipeline") -> str:
    return pr_report(validation, evaluation, title, head_sha=HEAD, workflow_run=RUN)


def test_the_report_records_run_head_commit_workflow_run_and_metrics():
    reviewed = find_reviewed([bot(report())], bot_logins=BOTS)
    assert reviewed == Reviewed(
        run_id="abcdef1234567890", head_sha=HEAD, workflow_run=RUN, metrics={"rmse": 9.0, "r2": 0.5}, comment_url="https://github.com/c#1"
    )


def forged_inputs() -> list[tuple[str, dict | None, dict | None, str]]:
    """Each place the pull request controls, carrying a forged block (with and without a line break before it)."""
    cases = []
    for payload in (FORGED, f"x\n{FORGED}\ny", f"{COMMENT_MARKER}\n{FORGED}"):
        validation, evaluation = copy.deepcopy(VALIDATION), copy.deepcopy(EVALUATION)
        validation["failures"][0]["examples"] = [payload]
        cases.append(("failure example (a data value)", validation, evaluation, "Pipeline"))
        validation = copy.deepcopy(VALIDATION)
        validation["failures"][0]["column"] = payload
        cases.append(("column name", validation, evaluation, "Pipeline"))
        validation = copy.deepcopy(VALIDATION)
        validation["dataset"] = payload
        validation["manifest"]["problems"] = [payload]
        cases.append(("dataset path and manifest problem", validation, evaluation, "Pipeline"))
        cases.append(("title", VALIDATION, EVALUATION, payload))
        evaluation = copy.deepcopy(EVALUATION)
        evaluation["gates"][0]["detail"] = payload
        evaluation["gates"][0]["name"] = payload
        cases.append(("gate name and detail", VALIDATION, evaluation, "Pipeline"))
        evaluation = copy.deepcopy(EVALUATION)
        evaluation["fairness"]["attribute"] = payload
        evaluation["fairness"]["groups"]["rmse"] = {payload: 8.0, "south": 10.0}
        cases.append(("fairness attribute and group", VALIDATION, evaluation, "Pipeline"))
    return cases


@pytest.mark.parametrize(
    ("where", "validation", "evaluation", "title"), forged_inputs(), ids=lambda value: value if isinstance(value, str) else ""
)
def test_a_forged_block_in_anything_the_pr_controls_writes_no_block_and_no_marker(where, validation, evaluation, title):
    markdown = report(validation, evaluation, title)
    # One marker (first line) and one block (last line): the value became text, not a hidden comment.
    assert markdown.count("<!--") == 2, where
    assert markdown.count(METRICS_BLOCK) == 1 and markdown.count(COMMENT_MARKER) == 1, where
    assert find_reviewed([bot(markdown)], bot_logins=BOTS).run_id == "abcdef1234567890", where


def test_a_forged_block_with_no_real_block_after_it_is_still_not_read():
    # Without an evaluation the report has no block: a forged one in a data value must not stand in for it.
    validation = copy.deepcopy(VALIDATION)
    validation["failures"][0]["examples"] = [f"\n{FORGED}\n"]
    assert find_reviewed([bot(report(validation, None))], bot_logins=BOTS) is None


@pytest.mark.parametrize("value", ["a|b", "a`b", "a\nb", "a\\|b", "a` | `b"])
def test_a_value_cannot_break_the_table_it_is_shown_in(value: str):
    validation = copy.deepcopy(VALIDATION)
    validation["failures"][0] |= {"column": value, "check": value, "examples": [value, value]}
    markdown = report(validation, None)
    (row,) = [line for line in markdown.splitlines() if line.startswith("| <code>")]
    assert row.count("|") == 5 and "`" not in row


def test_a_persons_comment_with_the_marker_and_a_block_is_ignored():
    forged = f"{COMMENT_MARKER}\n{FORGED}\n"
    assert find_reviewed([bot(forged, 2, login="mallory")], bot_logins=BOTS) is None
    # Posted after the bot's report, it does not replace it either.
    comments = [bot(report(), 1), bot(forged, 2, login="mallory")]
    assert find_reviewed(comments, bot_logins=BOTS).run_id == "abcdef1234567890"


def test_a_bot_comment_that_does_not_start_with_the_marker_is_ignored():
    quoted = f"> quoting the report\n{COMMENT_MARKER}\n{FORGED}\n"
    assert find_reviewed([bot(report(), 1), bot(quoted, 2)], bot_logins=BOTS).run_id == "abcdef1234567890"


def test_an_app_bot_counts_only_when_the_caller_names_it():
    comments = [bot(report(), 1, login="mlops-app[bot]")]
    assert find_reviewed(comments, bot_logins=BOTS) is None
    assert find_reviewed(comments, bot_logins=BOTS | {"mlops-app[bot]"}).run_id == "abcdef1234567890"


def test_the_last_block_of_the_last_bot_comment_wins():
    first = report().replace("abcdef1234567890", "first-run")
    second = report().replace("abcdef1234567890", "second-run")
    assert find_reviewed([bot(first, 1), bot(second, 2)], bot_logins=BOTS).run_id == "second-run"
    extra = metrics_block(run_id="later-block", head_sha=HEAD, workflow_run=RUN, metrics={"r2": 0.7})
    reviewed = find_reviewed([bot(first, 1), bot(f"{second}{extra}\n", 2)], bot_logins=BOTS)
    assert (reviewed.run_id, reviewed.metrics) == ("later-block", {"r2": 0.7})


def test_a_body_github_hands_back_with_crlf_line_ends_still_has_its_block():
    reviewed = find_reviewed([bot(report().replace("\n", "\r\n"))], bot_logins=BOTS)
    assert reviewed is not None and reviewed.run_id == "abcdef1234567890"


def test_the_newest_report_without_metrics_means_nothing_was_reviewed():
    assert find_reviewed([bot(report(), 1), bot(report(VALIDATION, None), 2)], bot_logins=BOTS) is None


@pytest.mark.parametrize(
    ("block", "why"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not an object"),
        ('{"run_id": "r", "head_sha": "", "metrics": {}}', "missing workflow_run"),
        ('{"run_id": "r", "head_sha": "", "workflow_run": "", "metrics": {"r2": "0.9"}}', "metric 'r2' is not a number"),
        ('{"run_id": "r", "head_sha": "", "workflow_run": "", "metrics": {"r2": true}}', "metric 'r2' is not a number"),
        ('{"run_id": "r", "head_sha": "", "workflow_run": "", "metrics": [0.9]}', "metrics is not an object"),
        ('{"run_id": 3, "head_sha": "", "workflow_run": "", "metrics": {}}', "run_id is not a string"),
    ],
)
def test_a_malformed_block_in_the_bots_comment_is_a_one_line_check_failure(block: str, why: str):
    with pytest.raises(CheckFailed) as caught:
        find_reviewed([bot(f"{COMMENT_MARKER}\nreport\n{METRICS_BLOCK} {block} -->\n")], bot_logins=BOTS)
    message = str(caught.value)
    assert why in message and "https://github.com/c#1" in message and "\n" not in message


def test_values_that_look_like_the_end_of_the_block_stay_inside_it():
    block = metrics_block(run_id="r-->x<!--", head_sha=HEAD, workflow_run=f"{RUN}?a=-->&b=<", metrics={"r2": 0.5, "nan": float("nan")})
    assert block.count("-->") == 1 and block.count("<!--") == 1
    reviewed = find_reviewed([bot(f"{COMMENT_MARKER}\n{block}\n")], bot_logins=BOTS)
    assert reviewed.run_id == "r-->x<!--" and reviewed.workflow_run == f"{RUN}?a=-->&b=<"
    assert reviewed.metrics["r2"] == 0.5 and reviewed.metrics["nan"] != reviewed.metrics["nan"]


def test_a_report_over_githubs_limit_is_cut_keeping_marker_and_metrics():
    validation = copy.deepcopy(VALIDATION)
    validation["failures"] = [{"column": f"c{index}", "check": "x" * 150, "rows": 1, "examples": ["🟢" * 50]} for index in range(400)]
    markdown = report(validation, EVALUATION)
    assert len(markdown) > MAX_COMMENT_CHARS
    cut = fit_comment(markdown)
    assert len(cut.encode("utf-16-le")) // 2 <= MAX_COMMENT_CHARS  # as GitHub may count: UTF-16 units
    assert cut.startswith(COMMENT_MARKER + "\n") and TRUNCATED in cut
    assert cut.rstrip("\n").splitlines()[-1].startswith(METRICS_BLOCK)
    assert find_reviewed([bot(cut)], bot_logins=BOTS) == find_reviewed([bot(markdown)], bot_logins=BOTS)
    assert fit_comment(report()) == report()  # under the limit: untouched


def test_the_block_is_json_that_the_release_can_read_without_this_module():
    last = report().rstrip("\n").splitlines()[-1]
    record = json.loads(last.removeprefix(METRICS_BLOCK).removesuffix("-->"))
    assert record == {"run_id": "abcdef1234567890", "head_sha": HEAD, "workflow_run": RUN, "metrics": {"rmse": 9.0, "r2": 0.5}}
