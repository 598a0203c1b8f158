"""DORA metrics on small event sets whose expected values are worked out here from the definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from {{ cookiecutter.package }}.core import dora
from {{ cookiecutter.package }}.errors import InputError

HOUR, DAY = 3600.0, 86400.0
A, B, C, D, E, F = (letter * 40 for letter in "abcdef")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def deployment(id_, sha, when, *, state="success", changes=(), shipped=None, **extra):
    statuses = (dora.Status("in_progress", at(when) - timedelta(minutes=5)), dora.Status(state, at(when)))
    return dora.Deployment(
        id=id_,
        sha=sha,
        created_at=at(when) - timedelta(minutes=10),
        statuses=statuses,
        shipped=tuple(shipped if shipped is not None else [sha]),
        changes=tuple(changes),
        **extra,
    )


def change(sha, when, pull=None):
    return dora.Change(sha=sha, at=at(when), pull=pull)


def test_lead_time_is_the_median_of_positive_pairs_in_the_window_whatever_the_offsets():
    # Window: 30 days up to 2026-04-01T00:00Z, so (2026-03-02T00:00Z, 2026-04-01T00:00Z].
    deployments = (
        # Deployed 2026-03-10 10:00 UTC (written at +02:00). A squash merge: the pull request's own commits are its changes.
        deployment(
            1,
            A,
            "2026-03-10T12:00:00+02:00",
            changes=[
                change("1" * 40, "2026-03-09T10:00:00+00:00"),  # 24 h
                change("2" * 40, "2026-03-08T10:00:00+00:00", pull=7),  # 48 h
                change("3" * 40, "2026-03-10T10:00:00+00:00", pull=7),  # 0 h: ignored
                change("4" * 40, "2026-03-10T11:00:00+00:00", pull=7),  # -1 h: ignored
            ],
        ),
        # Deployed 2026-03-20 00:00 UTC; its change was written 2026-03-19 18:00 at -05:00, i.e. 23:00 UTC: 1 h.
        deployment(2, B, "2026-03-20T00:00:00+00:00", changes=[change("5" * 40, "2026-03-19T18:00:00-05:00")]),
        # Just outside: one hour before the window starts, and one second after it ends.
        deployment(3, C, "2026-03-01T23:00:00+00:00", changes=[change("6" * 40, "2026-02-01T00:00:00+00:00")]),
        deployment(4, D, "2026-04-01T00:00:01+00:00", changes=[change("7" * 40, "2026-03-31T00:00:00+00:00")]),
    )
    report = dora.compute(dora.Events(deployments=deployments, until=at("2026-04-01T00:00:00+00:00"), window=timedelta(days=30)))
    lead = report["metrics"]["lead_time"]
    # Positive pairs: 24 h, 48 h, 1 h -> median 24 h; two non-positive pairs left out.
    assert lead["value"] == 24 * HOUR
    assert lead["count"] == 3
    assert "2 non-positive ignored" in lead["detail"]
    assert lead["level"] == "high"  # not < 1 day, < 1 week
    assert lead["fourkeys"] == "One week"  # fourkeys: < 24 h is "One day", so 24 h is "One week"
    frequency = report["metrics"]["deployment_frequency"]
    assert frequency["count"] == 2
    assert frequency["value"] == pytest.approx(2 / 30)
    assert frequency["level"] == "medium"  # >= 1 a month, < 1 a week
    # Days 2026-03-02..2026-04-01 in Sunday weeks (1 March 2026 is a Sunday): weeks of 1, 8, 15, 22, 29 March.
    # Weeks with a deployment: 8 and 15 March -> [0, 1, 1, 0, 0]: median 0, not Weekly; every week starts in March,
    # whose weeks with a deployment number 2 -> median 2 >= 1: Monthly.
    assert frequency["fourkeys"] == "Monthly"


def test_change_failure_rate_counts_root_causes_failed_statuses_and_rollbacks_and_fourkeys_only_the_first():
    until = at("2026-06-01T00:00:00+00:00")  # window (2026-05-02, 2026-06-01]
    deployments = (
        deployment(10, A, "2026-05-05T00:00:00+00:00", shipped=[A, "0" * 40]),
        deployment(11, B, "2026-05-10T00:00:00+00:00"),  # ships incident 1's root cause
        deployment(12, C, "2026-05-12T00:00:00+00:00"),  # followed by the rollback below
        deployment(13, B, "2026-05-13T00:00:00+00:00", shipped=[]),  # B again, not the sha just before: a rollback
        deployment(14, E, "2026-05-14T00:00:00+00:00", state="failure"),  # never succeeded
        deployment(15, D, "2026-05-20T00:00:00+00:00"),
    )
    incidents = (
        # Root cause shipped on 10 May, opened 11 May 00:00, closed 11 May 06:00: recovery 30 h (from the deployment).
        dora.Incident(1, "bad scores", at("2026-05-11T00:00:00Z"), at("2026-05-11T06:00:00Z"), root_cause=B[:7]),
        # No root cause: opened 15 May 10:00 at +02:00 (08:00 UTC), closed 12:00 UTC: 4 h.
        dora.Incident(2, "timeouts", at("2026-05-15T10:00:00+02:00"), at("2026-05-15T12:00:00Z")),
        # A root cause never deployed: counted from the incident, 24 h, and listed.
        dora.Incident(3, "bad branch", at("2026-05-16T00:00:00Z"), at("2026-05-17T00:00:00Z"), root_cause=F),
        dora.Incident(4, "still open", at("2026-05-25T00:00:00Z"), None),
        # Closed in the previous window (2026-04-02, 2026-05-02]: 11 days, counted there only.
        dora.Incident(5, "old", at("2026-03-30T00:00:00Z"), at("2026-04-10T00:00:00Z")),
        dora.Incident(6, "after until", at("2026-06-02T00:00:00Z"), at("2026-06-03T00:00:00Z")),
    )
    report = dora.compute(dora.Events(deployments=deployments, incidents=incidents, until=until, window=timedelta(days=30)))
    rate = report["metrics"]["change_failure_rate"]
    # Attempts: 5 successes + 1 failure = 6; failures: 11 (root cause), 12 (rolled back), 14 (failed) = 3.
    assert rate["value"] == pytest.approx(3 / 6)
    assert rate["count"] == 6
    assert rate["level"] == "low"
    # fourkeys: deployments shipping a root cause (11) over successful deployments (5).
    assert rate["fourkeys"] == pytest.approx(1 / 5)
    rows = {row["id"]: row for row in report["details"]["deployments"]}
    assert [row["id"] for row in report["details"]["failed_deployments"]] == [14]
    assert rows[13]["rollback"] and not rows[13]["failed"]
    assert rows[12]["failed"] and rows[11]["failed"] and not rows[10]["failed"] and not rows[15]["failed"]
    recovery = report["metrics"]["recovery_time"]
    # Median of 30 h, 4 h, 24 h.
    assert recovery["value"] == 24 * HOUR
    assert recovery["count"] == 3
    assert recovery["level"] == "medium"
    assert report["details"]["open_incidents"] == [4]
    assert report["details"]["root_cause_never_deployed"] == [3]
    assert report["previous"]["recovery_time"] == 11 * DAY
    assert report["previous"]["deployment_frequency"] is None  # no deployment in the previous window


def test_no_deployments_and_no_incidents_is_not_enough_data_for_every_metric():
    report = dora.compute(dora.Events(deployments=(), until=at("2026-06-01T00:00:00Z")))
    for metric in report["metrics"].values():
        assert metric["value"] is None
        assert metric["level"] == dora.NOT_ENOUGH
    text = dora.markdown(report, [])
    assert text.count("not enough data") >= 5
    assert "no deployment in the window" in text


def test_one_deployment_without_changes_has_a_frequency_and_a_rate_but_no_lead_time():
    one = deployment(1, A, "2026-05-30T00:00:00Z", changes=[])
    report = dora.compute(dora.Events(deployments=(one,), until=at("2026-06-01T00:00:00Z"), window=timedelta(days=90)))
    metrics = report["metrics"]
    assert metrics["deployment_frequency"]["value"] == pytest.approx(1 / 90)
    assert metrics["change_failure_rate"]["value"] == 0.0
    assert metrics["change_failure_rate"]["level"] == "elite"
    assert metrics["lead_time"]["value"] is None
    assert metrics["recovery_time"]["level"] == dora.NOT_ENOUGH


def test_fourkeys_frequency_buckets_daily_and_weekly():
    until, start = at("2026-03-29T00:00:00Z"), at("2026-03-01T00:00:00Z")  # a Sunday to a Sunday
    # Monday to Wednesday of four weeks: weeks of 1, 8, 15, 22 March have 3 days, that of 29 March none -> median 3: Daily.
    mondays = [start + timedelta(days=1 + 7 * week) for week in range(4)]
    daily = [monday + timedelta(days=offset, hours=9) for monday in mondays for offset in range(3)]
    assert dora.fourkeys_frequency_bucket(daily, start, until) == "Daily"
    # One Tuesday a week: [1, 1, 1, 1, 0] -> median 1: Weekly.
    weekly = [monday + timedelta(days=1) for monday in mondays]
    assert dora.fourkeys_frequency_bucket(weekly, start, until) == "Weekly"
    assert dora.fourkeys_frequency_bucket([], start, until) == "Yearly"


def test_data_change_lead_time_and_model_versus_code_only():
    deployments = (
        deployment(1, A, "2026-05-10T00:00:00Z", shipped=[A, "9" * 40], model_changed=True, version="v1.1.0"),
        deployment(2, B, "2026-05-12T00:00:00Z", model_changed=False, version="v1.1.1"),
        deployment(3, C, "2026-05-14T00:00:00Z"),
    )
    data_changes = (
        dora.Change("9" * 40, at("2026-05-08T00:00:00+00:00")),  # shipped by deployment 1: 2 days
        dora.Change("8" * 40, at("2026-05-09T00:00:00+00:00")),  # never deployed: not counted
    )
    report = dora.compute(
        dora.Events(deployments=deployments, data_changes=data_changes, until=at("2026-06-01T00:00:00Z"), window=timedelta(days=30))
    )
    assert report["metrics"]["data_change_lead_time"]["value"] == 2 * DAY
    assert report["metrics"]["data_change_lead_time"]["count"] == 1
    assert (report["details"]["model_changed"], report["details"]["code_only"], report["details"]["model_unknown"]) == (1, 1, 1)


def test_inactive_after_success_is_still_a_deployment_and_a_failure_after_retry_is_not():
    superseded = dora.Deployment(
        1,
        A,
        at("2026-05-01T00:00:00Z"),
        (dora.Status("success", at("2026-05-01T00:05:00Z")), dora.Status("inactive", at("2026-05-02T00:00:00Z"))),
    )
    assert superseded.deployed_at == at("2026-05-01T00:05:00+00:00")
    errored = dora.Deployment(
        2,
        B,
        at("2026-05-01T00:00:00Z"),
        (dora.Status("in_progress", at("2026-05-01T00:01:00Z")), dora.Status("error", at("2026-05-01T00:02:00Z"))),
    )
    assert errored.deployed_at is None and errored.failed_at == at("2026-05-01T00:02:00+00:00")
    pending = dora.Deployment(3, C, at("2026-05-01T00:00:00Z"), (dora.Status("in_progress", at("2026-05-01T00:01:00Z")),))
    assert pending.deployed_at is None and pending.failed_at is None


def test_the_previous_window_and_the_change_are_reported():
    deployments = [deployment(i, format(i, "040x"), (at("2026-04-05T00:00:00Z") + timedelta(days=i)).isoformat()) for i in range(4)]
    deployments += [
        deployment(10 + i, format(10 + i, "040x"), (at("2026-05-05T00:00:00Z") + timedelta(days=i)).isoformat()) for i in range(8)
    ]
    report = dora.compute(dora.Events(deployments=tuple(deployments), until=at("2026-06-01T00:00:00Z"), window=timedelta(days=30)))
    assert report["metrics"]["deployment_frequency"]["value"] == pytest.approx(8 / 30)
    assert report["previous"]["deployment_frequency"] == pytest.approx(4 / 30)
    assert report["details"]["deployments"][0]["rollback"] is False
    text = dora.markdown(report, [])
    assert "+100%" in text  # twice as many deployments
    assert "Accelerate State of DevOps 2023" in text
    assert "elite &lt; 1 day" in text  # thresholds beside the level, escaped for the table


def test_parsing_times_windows_and_root_causes():
    assert dora.parse_time("2026-05-01T12:00:00+02:00") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert dora.parse_time("2026-05-01T10:00:00Z") == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert dora.parse_time(None) is None
    with pytest.raises(InputError, match="no UTC offset"):
        dora.parse_time("2026-05-01T10:00:00")
    assert dora.parse_window("90d") == timedelta(days=90)
    assert dora.parse_window("2w") == timedelta(days=14)
    for bad in ("0d", "d", "90", "1y"):
        with pytest.raises(InputError, match="window"):
            dora.parse_window(bad)
    assert dora.root_cause("What broke\n\nroot cause: `ABCDEF1`\n") == "abcdef1"
    assert dora.root_cause("### Root cause\n\nnope") is None
    assert dora.root_cause("root cause: not-a-sha") is None
    # As the incident issue form renders its answers: a heading, then the value (or "_No response_").
    assert dora.root_cause("### What happened\n\nslow\n\n### Root cause\n\n3F2C1AB\n") == "3f2c1ab"
    assert dora.root_cause("### Root cause\n\nroot cause: 3f2c1ab9\n") == "3f2c1ab9"
    assert dora.root_cause("### Root cause\n\n_No response_\n") is None
    assert dora.root_cause(None) is None
    with pytest.raises(InputError, match="no UTC offset"):
        dora.compute(dora.Events(deployments=(), until=datetime(2026, 1, 1)))


def test_trend_chart_needs_two_runs_and_escapes_labels():
    report = dora.compute(dora.Events(deployments=(), until=at("2026-06-01T00:00:00Z")))
    assert dora.trend_chart([dora.history_entry(report)]) == ""
    earlier = {**dora.history_entry(report), "until": '2026-05-25"]\n', "deployment_frequency": 1 / 7, "lead_time": 2 * HOUR}
    chart = dora.trend_chart([earlier, dora.history_entry(report)])
    assert chart.count("xychart-beta") == 2
    assert '"]\n' not in chart.split("x-axis")[1].split("\n")[0][:-1]
    assert "line [1.00, 0.00]" in chart and "line [2.00, 0.00]" in chart


# Incidents from anyone: the issue form labels them, so only those declared by someone with triage access count.


def test_an_incident_nobody_with_triage_access_declared_moves_no_metric_and_is_listed():
    until = at("2026-06-01T00:00:00+00:00")
    deployments = (deployment(1, A, "2026-05-05T00:00:00+00:00"), deployment(2, B, "2026-05-10T00:00:00+00:00"))
    counted = dora.Incident(1, "bad scores", at("2026-05-11T00:00:00Z"), at("2026-05-11T04:00:00Z"), author="maintainer")
    # Given an incident from someone without triage access, naming a shipped commit and taking 20 days to close
    spam = dora.Incident(
        2,
        "@octocat [x](https://evil) <!-- mlops -->",
        at("2026-05-12T00:00:00Z"),
        at("2026-06-01T00:00:00Z"),
        root_cause=B[:7],
        author="eve",
        ignored="author none, label added by eve without triage access",
    )
    report = dora.compute(dora.Events(deployments=deployments, incidents=(counted, spam), until=until, window=timedelta(days=30)))
    # Then neither the failure rate nor the recovery time moves
    assert report["metrics"]["change_failure_rate"]["value"] == 0
    assert report["metrics"]["recovery_time"]["value"] == 4 * HOUR and report["metrics"]["recovery_time"]["count"] == 1
    # And it is listed, its title and author shown inert
    assert report["details"]["ignored_incidents"] == [
        {"number": 2, "title": spam.title, "author": "eve", "why": "author none, label added by eve without triage access"}
    ]
    markdown = dora.markdown(report, [])
    line = next(line for line in markdown.splitlines() if line.startswith("- #2 "))
    assert "@octocat" not in line and "[x](" not in line and "https://evil" not in line and "<!--" not in line
    assert "Incidents not counted (1)" in markdown


def test_ignored_incidents_outside_the_window_are_not_listed():
    until = at("2026-06-01T00:00:00+00:00")
    old = dora.Incident(3, "old", at("2026-03-01T00:00:00Z"), at("2026-03-02T00:00:00Z"), ignored="x")
    later = dora.Incident(4, "later", at("2026-06-02T00:00:00Z"), None, ignored="x")
    open_one = dora.Incident(5, "open", at("2026-04-01T00:00:00Z"), None, ignored="x")
    report = dora.compute(dora.Events(deployments=(), incidents=(old, later, open_one), until=until, window=timedelta(days=30)))
    assert [incident["number"] for incident in report["details"]["ignored_incidents"]] == [5]


def labeled(label: str, login: str) -> dict:
    return {"event": "labeled", "label": {"name": label}, "actor": {"login": login}}


def test_the_labeller_is_whoever_last_added_the_label():
    events = [
        labeled("incident", "eve"),
        {"event": "unlabeled", "label": {"name": "incident"}, "actor": {"login": "maintainer"}},
        labeled("bug", "mallory"),
        labeled("Incident", "maintainer"),  # GitHub's label names do not depend on case
        {"event": "labeled", "label": None, "actor": {"login": "x"}},
        "not an event",
    ]
    assert dora.last_labeller(events, "incident") == "maintainer"
    assert dora.last_labeller(events[:3], "incident") == "eve"
    assert dora.last_labeller([labeled("bug", "eve")], "incident") is None
    assert dora.last_labeller([{"event": "labeled", "label": {"name": "incident"}, "actor": None}], "incident") is None


def permission(role: str, **flags: bool) -> dict:
    base = {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}
    return {"permission": role, "role_name": role, "user": {"login": "x", "permissions": {**base, **flags}}}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(permission("read", triage=True) | {"role_name": "triage"}, True, id="triage"),
        pytest.param(permission("write", triage=True, push=True), True, id="write"),
        pytest.param(permission("admin", admin=True), True, id="admin-flag-alone"),
        pytest.param(permission("read"), False, id="read"),
        # A custom role is named as its creator likes: its base role's flags decide.
        pytest.param(permission("read") | {"role_name": "maintainer"}, False, id="custom-role-named-like-maintain"),
        pytest.param({"permission": "write", "role_name": "write", "user": None}, True, id="no-flags-write"),
        pytest.param({"permission": "read", "role_name": "triage", "user": None}, False, id="no-flags-read"),
        pytest.param({"permission": "none", "role_name": "none", "user": {"permissions": {"triage": "yes"}}}, False, id="flag-not-bool"),
        pytest.param(None, False, id="not-a-collaborator"),
    ],
)
def test_triage_access_is_read_from_the_base_roles_flags(answer, expected: bool):
    assert dora.can_triage(answer) is expected


def well_formed_report() -> dict:
    """A report as `mlops dora` writes it, reduced to what its history line reads."""
    return dora.compute(dora.Events(deployments=(), until=at("2026-06-01T00:00:00Z"), window=timedelta(days=90)))


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda report: report | {"until": 12}, "until: expected an ISO 8601 time"),
        (lambda report: report | {"until": "next tuesday"}, "is not an ISO 8601 time"),
        (lambda report: report | {"window_days": -3}, "window_days: expected a number from 0 to 3660"),
        (lambda report: report | {"window_days": 0}, "window_days: expected a window longer than 0 days"),
        (lambda report: report | {"window_days": True}, "window_days: expected a number"),
        (lambda report: report | {"metrics": {"lead_time": {"value": "fast"}}}, "metrics.lead_time.value: expected a number"),
        (lambda report: report | {"metrics": {"lead_time": {"value": 1e300}}}, "metrics.lead_time.value: expected a number"),
        (lambda report: report | {"metrics": {"lead_time": {"value": float("nan")}}}, "metrics.lead_time.value: expected a number"),
        (lambda report: report | {"metrics": {"injected": {"value": 1}}}, "metrics: expected an object with some of"),
        (lambda report: report | {"metrics": ["lead_time"]}, "metrics: expected an object"),
    ],
    ids=["until-a-number", "until-not-a-time", "negative-window", "empty-window", "window-a-bool", "value-a-string", "value-absurd",
         "value-nan", "unknown-metric", "metrics-a-list"],
)  # fmt: skip
def test_a_history_line_is_taken_only_from_a_report_as_dora_writes_it(spoil, expected: str):
    report = well_formed_report()
    entry = dora.checked_history_entry(report, "https://github.com/acme/model/actions/runs/1")
    assert entry["window_days"] == 90 and set(dora.METRICS) <= set(entry)
    with pytest.raises(InputError, match=expected):
        dora.checked_history_entry(spoil(report))


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("deployment_frequency", 1.0, "elite"),
        ("deployment_frequency", 1 / 7, "high"),
        ("deployment_frequency", 1 / 30, "medium"),
        ("deployment_frequency", 1 / 30 - 1e-9, "low"),
        ("lead_time", DAY - 1, "elite"),
        ("lead_time", DAY, "high"),
        ("lead_time", 7 * DAY, "medium"),
        ("lead_time", 30 * DAY, "low"),
        ("data_change_lead_time", DAY, "high"),
        ("change_failure_rate", 0.05, "elite"),
        ("change_failure_rate", 0.10, "high"),
        ("change_failure_rate", 0.15, "medium"),
        ("change_failure_rate", 0.15 + 1e-9, "low"),
        ("recovery_time", HOUR - 1, "elite"),
        ("recovery_time", HOUR, "high"),
        ("recovery_time", DAY, "medium"),
        ("recovery_time", 7 * DAY, "low"),
    ],
)
def test_a_value_exactly_at_a_bound_takes_the_level_the_thresholds_table_gives(metric: str, value: float, expected: str):
    # THRESHOLDS, as the report prints them: "≥ 1 a day", "< 1 day", "≤ 5%", "< 1 hour"...
    assert dora.level(metric, value) == expected


def test_a_deployment_exactly_at_the_window_start_belongs_to_the_window_before():
    # Window: 30 days up to 2026-04-01T00:00Z, so (2026-03-02T00:00Z, 2026-04-01T00:00Z]: its start belongs to the previous one.
    deployments = (
        deployment(1, A, "2026-03-02T00:00:00+00:00"),
        deployment(2, B, "2026-03-02T00:00:01+00:00"),
        deployment(3, C, "2026-04-01T00:00:00+00:00"),
    )
    report = dora.compute(dora.Events(deployments=deployments, until=at("2026-04-01T00:00:00+00:00"), window=timedelta(days=30)))
    assert report["metrics"]["deployment_frequency"]["count"] == 2
    assert report["previous"]["deployment_frequency"] == pytest.approx(1 / 30)
