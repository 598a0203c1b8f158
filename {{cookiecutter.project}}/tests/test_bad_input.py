"""Everything read from outside, fed malformed input: a clean result or a one-line input error (exit 2), never a bug (exit 3).

Property-based (Hypothesis): tables as bytes, the history lines on the reports branch, and GitHub's
answers to every reader (over an in-process transport), each field either well formed or any JSON
value. Few examples and a fixed seed, so that the suite stays fast and a failure repeats.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from {{ cookiecutter.package }}.core import dora, monitoring
from {{ cookiecutter.package }}.errors import MlopsError
from {{ cookiecutter.package }}.io import datasets, reports_branch
from {{ cookiecutter.package }}.io.github import GitHub, GitHubContext
from {{ cookiecutter.package }}.jobs import dora as dora_job

from tests.conftest import PROJECT_SETTINGS

QUICK = settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
SHA = "a" * 40
UNTIL = datetime(2026, 6, 1, tzinfo=UTC)


def clean_or_input_error(work) -> Any:
    """Run ``work``: its result, or None when it refused the input as bad input (exit 2). Anything else fails the test."""
    try:
        return work()
    except MlopsError as error:
        assert error.exit_code == 2, f"exit {error.exit_code}: {error}"
        assert "\n" not in str(error), str(error)
        return None


# Any JSON value, and numbers that are absurd rather than wrong.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8
)


# --- Tables -------------------------------------------------------------------------------------

cells = st.text(alphabet=st.sampled_from(list('ab1,"\n\r ;\t-.é\x00')), max_size=6)
tables = st.one_of(
    st.binary(max_size=200),
    st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=6).map(
        lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8")
    ),
)


@QUICK
@given(content=tables)
def test_a_table_reads_as_text_cells_or_is_refused_in_one_line(content: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_bytes(content)
        frame = clean_or_input_error(lambda: datasets.read_table(path))
    if frame is not None:
        assert isinstance(frame.index, pd.RangeIndex) and len(frame) > 0
        assert all(isinstance(cell, str) or pd.isna(cell) for column in frame.columns for cell in frame[column])


# --- The reports branch's history ---------------------------------------------------------------

history_lines = st.lists(
    st.one_of(
        st.fixed_dictionaries({"checked_at": json_values, "share": json_values, "until": json_values, "lead_time": json_values}),
        json_values,
        st.text(max_size=30),
    ),
    max_size=6,
).map(lambda entries: "\n".join(entry if isinstance(entry, str) else json.dumps(entry) for entry in entries).encode())


def branch_serving(content: bytes) -> GitHub:
    """A GitHub whose reports branch holds ``content`` at every path."""

    def handler(request: httpx.Request) -> httpx.Response:
        if "/git/ref/heads/" in request.url.path:
            return httpx.Response(200, json={"ref": "refs/heads/mlops-reports", "object": {"sha": SHA}})
        sha = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        encoded = base64.b64encode(content).decode()
        return httpx.Response(200, json={"type": "file", "size": len(content), "sha": sha, "content": encoded, "encoding": "base64"})

    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token="ghs_" + "x" * 36)
    return GitHub(context, transport=httpx.MockTransport(handler))


@QUICK
@given(content=history_lines)
def test_history_lines_of_any_shape_never_break_the_reports_that_chart_them(content: bytes):
    with branch_serving(content) as github:
        history = clean_or_input_error(lambda: reports_branch.read_history(github, "mlops-reports", "drift/history.jsonl"))
    assert history is not None and all(isinstance(entry, dict) for entry in history)
    summary = {"due": False, "verdict": "retraining due: no", "checked_at": "2026-01-01T00:00:00+00:00", "share": 0.2, "columns": []}
    monitoring.drift_markdown(summary, history)
    report = dora.compute(dora.Events(deployments=(), until=UNTIL))
    markdown = dora.markdown(report, history)
    assert "inf" not in monitoring.trend_chart([*history, summary]) and "nan" not in markdown.split("### Trend")[-1].split("<details>")[0]


# --- GitHub's answers ---------------------------------------------------------------------------


def like(**fields: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Objects shaped like GitHub's: each field mostly well formed, else any JSON value; now and then one field absent."""
    whole = st.fixed_dictionaries({key: st.one_of(*[st.just(value)] * 4, json_values) for key, value in fields.items()})
    one_missing = whole.flatmap(
        lambda found: st.sampled_from(sorted(found)).map(lambda gone: {k: v for k, v in found.items() if k != gone})
    )
    return st.one_of(whole, whole, whole, one_missing)


TIME = "2026-05-10T00:00:00Z"
PERSON = {"name": "a", "email": "a@b", "date": TIME}
ANSWERS = {
    "deployments": like(id=1, sha=SHA, created_at=TIME, payload={"version": "v1.0.0", "model_changed": True}, description="d"),
    "statuses": like(state="success", created_at=TIME),
    "issues": like(number=3, title="t", state="closed", created_at=TIME, closed_at=TIME, body="root cause: " + SHA, user={"login": "a"}),
    "events": like(event="labeled", label={"name": "incident"}, actor={"login": "a"}),
    "pulls": like(number=4, updated_at=TIME, merged_at=TIME, merge_commit_sha=SHA, state="closed", head={}, base={}, html_url="u"),
    "commits": like(sha=SHA, commit={"author": PERSON}, parents=[{"sha": "b" * 40}]),
    "permission": like(permission="write", role_name="write", user={"permissions": {"triage": True}}),
    "compare": like(commits=[{"sha": SHA, "commit": {"author": PERSON}}], total_commits=1),
    "releases": like(id=1, tag_name="v1.0.0", draft=False, prerelease=False, body="b", html_url="u", published_at=TIME, assets=[]),
    "assets": like(name="model.tar.gz", url="https://api.github.com/x", size=1),
}
# An answer: a list of such objects, any JSON value instead, or bytes that are not JSON at all.
bodies = {
    kind: st.one_of(st.lists(shape, max_size=3), st.lists(shape, max_size=3), json_values, st.binary(max_size=20))
    for kind, shape in ANSWERS.items()
}
bodies["permission"] = st.one_of(ANSWERS["permission"], json_values, st.binary(max_size=20))
bodies["compare"] = st.one_of(ANSWERS["compare"], json_values, st.binary(max_size=20))
bodies["release"] = st.one_of(ANSWERS["releases"], json_values, st.binary(max_size=20))


def kind_of(path: str) -> str:
    path = path.removeprefix("/repos/acme/model")
    for prefix, kind in (
        ("/deployments/", "statuses"),
        ("/deployments", "deployments"),
        ("/issues/", "events"),
        ("/issues", "issues"),
        ("/pulls/", "commits"),
        ("/pulls", "pulls"),
        ("/commits", "commits"),
        ("/git/commits/", "commits"),
        ("/compare/", "compare"),
        ("/collaborators/", "permission"),
        ("/releases/latest", "release"),
        ("/releases/", "assets"),
        ("/releases", "releases"),
    ):
        if path.startswith(prefix):
            return kind
    raise AssertionError(f"no answer for {path}")


def github_answering(draw, kinds) -> GitHub:
    drawn = {kind: draw(bodies[kind]) for kind in kinds}

    def handler(request: httpx.Request) -> httpx.Response:
        body = drawn[kind_of(request.url.path)]
        # json.dumps writes NaN and Infinity, which GitHub never would, and Python's JSON reader takes them.
        return httpx.Response(200, content=body if isinstance(body, bytes) else json.dumps(body).encode())

    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token="ghs_" + "x" * 36)
    return GitHub(context, transport=httpx.MockTransport(handler), retries=0)


READERS = {
    "deployments": lambda github: github.deployments(environment="production"),
    "statuses": lambda github: github.deployment_statuses(1),
    "issues": lambda github: github.issues(labels=["incident"], state="all"),
    "events": lambda github: github.issue_events(3),
    "pulls": lambda github: [*github.pulls(state="all"), *github.pulls_by_update()],
    "commits": lambda github: [*github.commits(), *github.pull_commits(4)],
    "compare": lambda github: github.comparison(SHA, "b" * 40),
    "permission": lambda github: github.collaborator_permission("someone"),
    "releases": lambda github: list(github.releases()),
    "release": lambda github: github.latest_release(),
    "assets": lambda github: github.release_assets({"id": 1}),
}


@QUICK
@given(data=st.data())
def test_every_github_reader_takes_any_answer_cleanly_or_refuses_it_in_one_line(data):
    for kind, read in READERS.items():
        with github_answering(data.draw, [kind]) as github:
            clean_or_input_error(lambda read=read, github=github: read(github))


# Answers that make `mlops dora` read every kind of object: a deployment that succeeded, the commit it
# shipped (merged through pull request 4), an incident from someone the report must look up.
WELL_FORMED = {
    "deployments": [{"id": 1, "sha": SHA, "created_at": TIME, "payload": {"version": "v1.0.0", "model_changed": True}, "description": "d"}],
    "statuses": [{"state": "success", "created_at": "2026-05-10T00:05:00Z"}],
    "commits": [{"sha": SHA, "commit": {"author": PERSON}, "parents": []}],
    "pulls": [{"number": 4, "updated_at": TIME, "merged_at": TIME, "merge_commit_sha": SHA}],
    "issues": [
        {
            "number": 3,
            "title": "t",
            "state": "closed",
            "created_at": TIME,
            "closed_at": "2026-05-11T00:00:00Z",
            "body": "root cause: " + SHA,
            "user": {"login": "someone"},
            "author_association": "NONE",
        }
    ],
    "events": [{"event": "labeled", "label": {"name": "incident"}, "actor": {"login": "someone"}}],
    "permission": {"permission": "write", "role_name": "write", "user": {"permissions": {"triage": True}}},
    "compare": {"commits": [], "total_commits": 0},
}
GONE = object()


@st.composite
def one_field_spoiled(draw) -> dict[str, Any]:
    """The well-formed answers with one thing wrong: a field of one object any JSON value or absent, or a whole answer."""
    answers = json.loads(json.dumps(WELL_FORMED))
    kind = draw(st.sampled_from(sorted(answers)))
    if draw(st.integers(0, 5)) == 0:
        answers[kind] = draw(st.one_of(json_values, st.binary(max_size=20)))
        return answers
    target = answers[kind][0] if isinstance(answers[kind], list) else answers[kind]
    key = draw(st.sampled_from(sorted(target)))
    value = draw(st.one_of(json_values, st.just(GONE)))
    if value is GONE:
        del target[key]
    else:
        target[key] = value
    return answers


@settings(QUICK, max_examples=150)
@given(answers=one_field_spoiled(), incident_authors=st.sampled_from(["triage", "anyone"]))
def test_the_dora_report_takes_any_answers_cleanly_or_refuses_them_in_one_line(answers: dict[str, Any], incident_authors: str):
    def handler(request: httpx.Request) -> httpx.Response:
        body = answers[kind_of(request.url.path)]
        return httpx.Response(200, content=body if isinstance(body, bytes) else json.dumps(body).encode())

    conf = PROJECT_SETTINGS.dora.model_copy(update={"incident_authors": incident_authors})
    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token="ghs_" + "x" * 36)
    with GitHub(context, transport=httpx.MockTransport(handler), retries=0) as github:
        collected = clean_or_input_error(
            lambda: dora_job.collect(github, PROJECT_SETTINGS.model_copy(update={"dora": conf}), UNTIL, timedelta(days=30))
        )
    if collected is not None:
        report = clean_or_input_error(lambda: dora.compute(collected[0]))
        if report is not None:
            dora.markdown(report, [])
            assert all(metric["value"] is None or math.isfinite(metric["value"]) for metric in report["metrics"].values())


def test_the_well_formed_answers_reach_every_reader():
    """The answers the property spoils one field of: whole, they make a report with a deployment, a change and an incident."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(kind_of(request.url.path))
        return httpx.Response(200, json=WELL_FORMED[seen[-1]])

    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token="ghs_" + "x" * 36)
    with GitHub(context, transport=httpx.MockTransport(handler)) as github:
        events, _ = dora_job.collect(github, PROJECT_SETTINGS, UNTIL, timedelta(days=30))
    assert set(seen) == set(WELL_FORMED) - {"compare"}
    assert len(events.deployments) == 1 and events.deployments[0].changes and len(events.incidents) == 1
    assert not events.incidents[0].ignored  # the labeller has triage access
