"""Text the project did not write stays inert wherever it is shown on GitHub.

Data values, category and column names, dispatch reasons, logins and incident titles reach the PR
comment, the model card (the release's body), the monitoring report, the retraining PR, the DORA
tracking issue and the job summaries. In each, such a value must not mention anyone, reference an
issue, link, embed an image, autolink a URL, write HTML (a hidden marker) or break a table cell.
"""

from __future__ import annotations

import copy
import re

import pytest

from {{ cookiecutter.package }}.core import monitoring
from {{ cookiecutter.package }}.core.model_card import model_card
from {{ cookiecutter.package }}.core.report import ZERO_WIDTH_SPACE, find_reviewed, inert, inert_code, link, metrics_block, pr_report
from {{ cookiecutter.package }}.jobs import retrain_pr

from tests.conftest import PROJECT_SETTINGS

HEAD = "c" * 40
FORGED_HEAD = f"<!-- mlops-retrain-head: {'e' * 40} -->"
HOSTILE = [
    "@octocat",
    "[x](https://evil)",
    "![i](https://evil/p.png)",
    "https://evil",
    "see www.evil.com or me@evil.com",
    FORGED_HEAD,
    "<img src=x>",
    "a|b",
    "`code`",
    "line\nbreak",
    "fixes #123 and GH-123 and acme/model#9",
    "$\\Huge x$",
]
# What would be live if a value got through: each pattern names what GitHub would do with it.
LIVE = {
    "mention": re.compile(r"@octocat|@evil"),
    "issue reference": re.compile(r"#123|GH-123|model#9", re.IGNORECASE),
    "link": re.compile(r"\[x\]\("),
    "image": re.compile(r"!\[i\]"),
    "autolink": re.compile(r"https?://evil|www\.evil"),
    "HTML": re.compile(r"<!--\s*mlops-retrain-head|<img", re.IGNORECASE),
    "code span": re.compile(r"`code`"),
    "math": re.compile(r"\$[^$\n]+\$"),
}


def assert_inert(markdown: str, value: str) -> None:
    # A Mermaid chart is drawn from code, not rendered as markdown: its labels keep only letters, digits and ._-:/ .
    markdown = re.sub(r"```mermaid\n.*?```", "", markdown, flags=re.DOTALL)
    for what, pattern in LIVE.items():
        assert not pattern.search(markdown), f"{what} from {value!r} is live"
    if value in ("a|b", "line\nbreak"):
        assert value not in markdown, f"{value!r} broke a cell or a line"


@pytest.mark.parametrize("value", HOSTILE)
def test_inert_text_reads_as_it_is_but_does_nothing(value: str):
    shown = inert(value)
    assert_inert(shown, value)
    assert "\n" not in shown and "|" not in shown and "<" not in shown
    # What a reader sees: the same characters once the entities are decoded and the invisible spaces dropped.
    decoded = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), shown).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert decoded.replace(ZERO_WIDTH_SPACE, "") == " ".join(value.split())
    assert_inert(inert_code(value), value)


def test_inert_text_is_bounded_and_drops_control_characters():
    assert len(inert("x" * 1000, 50)) == 50
    assert inert("red\x1b[31m alert\u202eevil") == "red&#91;31m alertevil"


def test_a_link_is_written_only_to_a_plain_https_url():
    assert link("run", "https://github.com/acme/model/actions/runs/7") == "[run](https://github.com/acme/model/actions/runs/7)"
    for url in ("https://x) [y](https://evil", "javascript:alert(1)", "https://evil/<img>", "https://a b"):
        assert link("run", url) == "run", url


# The PR comment and its job summary


VALIDATION = {
    "dataset": "data/x.csv",
    "rows": 10,
    "columns": 3,
    "passed": False,
    "manifest": {"path": "m.json", "problems": ["p"]},
    "failures": [{"column": "age", "check": "greater_than(0)", "rows": 2, "examples": ["-1"]}],
}
EVALUATION = {
    "task": "regression",
    "holdout_rows": 4,
    "split": "random",
    "challenger": {"run_id": "abcdef1234567890", "version": "2", "metrics": {"rmse": 9.0, "r2": 0.5}},
    "champion": {"run_id": "r0", "version": "1", "metrics": {"rmse": 10.0, "r2": 0.6}},
    "fairness": {"attribute": "region", "groups": {"rmse": {"north": 8.0, "south": 10.0}}, "gaps": {"rmse": 2.0}},
    "gates": [{"name": "minimum", "metric": "r2", "passed": True, "value": 0.5, "limit": 0.4, "detail": "r2 0.5000 ≥ 0.4"}],
    "passed": True,
}


def hostile_results(value: str) -> tuple[dict, dict]:
    validation, evaluation = copy.deepcopy(VALIDATION), copy.deepcopy(EVALUATION)
    validation["dataset"] = validation["manifest"]["path"] = value
    validation["manifest"]["problems"] = [value]
    validation["failures"][0] |= {"column": value, "check": value, "examples": [value]}
    evaluation["split"] = value
    evaluation["champion"]["version"] = value
    evaluation["gates"][0] |= {"name": value, "metric": value, "detail": value}
    evaluation["fairness"] = {"attribute": value, "groups": {"rmse": {value: 8.0, "south": 10.0}}, "gaps": {"rmse": 2.0}}
    return validation, evaluation


@pytest.mark.parametrize("value", HOSTILE)
def test_the_pr_report_shows_every_value_from_the_pull_request_inert(value: str):
    validation, evaluation = hostile_results(value)
    markdown = pr_report(validation, evaluation, value, head_sha=HEAD, workflow_run="https://github.com/acme/model/actions/runs/7")
    assert_inert(markdown, value)


def test_the_reviewed_metrics_are_read_from_the_comments_last_line_only():
    block = metrics_block(run_id="real", head_sha=HEAD, workflow_run="", metrics={"r2": 0.5})
    bot = {"user": {"login": "github-actions[bot]"}, "html_url": "https://github.com/c#1"}
    marker = pr_report(None, None, "t").splitlines()[0]
    assert find_reviewed([{**bot, "body": f"{marker}\nreport\n{block}\n"}], bot_logins=frozenset({"github-actions[bot]"})).run_id == "real"
    # A block with anything after it (an edit by someone with write access) is not the record the report wrote.
    edited = {**bot, "body": f"{marker}\nreport\n{block}\nedited afterwards\n"}
    assert find_reviewed([edited], bot_logins=frozenset({"github-actions[bot]"})) is None


# The model card: the release's body


def card(value: str, why: str | None = None) -> str:
    _, evaluation = hostile_results(value)
    evaluation["challenger"]["metrics"] = {"r2": 0.5}
    training = {"estimator": "linear", "trained_at": "2026-01-01", "data_digest": "d" * 64, "params": {"alpha": value, value: 1}}
    return model_card(
        project="Churn Model",
        description="Predicts churn.",
        version="v1.2.0",
        bump_reason="minor: new data",
        training=training,
        evaluation=evaluation,
        sha=HEAD,
        released_by=value,
        why=why if why is not None else f"released without review: {value}",
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_the_model_card_shows_the_reason_the_releaser_and_the_data_inert(value: str):
    assert_inert(card(value), value)


def test_the_model_card_links_the_pull_request_the_metrics_were_reviewed_in():
    markdown = card("x", why="reviewed in https://github.com/acme/model/pull/12")
    assert "reviewed in https://github.com/acme/model/pull/12\n" in markdown
    # A reason is a person's words, whatever it looks like: never a link.
    for why in ("released without review: reviewed in https://evil/pull/1", "reviewed in https://evil/x) [y](https://evil"):
        assert_inert(card("x", why=why), why)


# The monitoring report: job summary, reports branch and the retraining PR's evidence


def drift_summary(value: str) -> dict:
    return {
        "due": True,
        "verdict": f"retraining due: yes, because {value}",
        "champion": value,
        "champion_age_days": 3.0,
        "rows": 300,
        "files": [value],
        "window": value,
        "share": 1.0,
        "drift_share": 0.5,
        "drifted": [value],
        "checked_at": "2026-01-01T00:00:00+00:00",
        "columns": [
            {"column": value, "method": value, "statistic": 0.9, "threshold": 0.1, "drifted": True, "new_categories": [value, "b"]},
        ],
        "decay": [{"metric": value, "released": 0.8, "current": 0.7, "low": 0.6, "high": 0.75, "tolerance": 0.01, "decayed": True}],
        "labelled_rows": 10,
        "violations": [f"column {value}: {value}"],
        "rows_refused": 1,
        "run_url": "https://github.com/acme/model/actions/runs/9",
    }


@pytest.mark.parametrize("value", HOSTILE)
def test_the_monitoring_report_shows_production_data_inert(value: str):
    markdown = monitoring.drift_markdown(drift_summary(value), [{"checked_at": value, "share": 0.1}])
    assert_inert(markdown, value)
    assert "[Monitoring run](https://github.com/acme/model/actions/runs/9)" in markdown  # the project's own link stays


def test_a_run_url_that_is_not_a_plain_url_is_no_link():
    markdown = monitoring.drift_markdown({**drift_summary("x"), "run_url": "https://x) ![i](https://evil/p.png"}, [])
    assert_inert(markdown, "run_url")


# The retraining pull request


@pytest.mark.parametrize("value", HOSTILE)
def test_the_retraining_pr_body_is_inert_and_its_head_marker_is_read_from_its_last_line(value: str):
    body = retrain_pr._body(PROJECT_SETTINGS, drift_summary(value), "3 new labelled production rows", HEAD)
    assert_inert(body.rsplit("\n<!-- mlops-retrain-head", 1)[0], value)
    assert retrain_pr._written_head({"body": body}) == HEAD


def test_a_head_marker_with_anything_after_it_is_not_the_one_the_job_wrote():
    body = f"<!-- mlops-retrain:x -->\ntext\n<!-- mlops-retrain-head: {HEAD} -->\n"
    assert retrain_pr._written_head({"body": body}) == HEAD
    assert retrain_pr._written_head({"body": body + "a person's note\n"}) is None
