"""A month of delivery history seeded in the GitHub double, with the DORA metrics it must give worked out by hand.

Window: 30 days up to 2026-06-30 (``--until 2026-06-30``: the day included, so up to 2026-07-01T00:00Z).

- c0 (2026-05-01) deployed on 2026-05-02 12:00: the previous window's one deployment, the first ever.
- Pull request #1: commits p1 (06-02 12:00) and p2 (06-03 00:00), squash-merged as s1 on 06-03 12:00;
  deployment d1 of s1 succeeds 06-04 12:00. Its changes are the pull request's own commits: 48 h and 36 h.
- m1, written 2026-06-10T00:00+02:00 (06-09 22:00 UTC), changes data/manifest.json; d2 of m1 succeeds
  06-10 22:00: 24 h, and the data-change lead time 24 h. Its payload says the model changed.
- m2 (06-15 00:00): d3 fails (06-15 01:00); d4 of m2 succeeds 06-15 06:00: 6 h; code only.
- d5 redeploys m1 on 06-16 00:00: a rollback (nothing new shipped), so d4 counts as failed.
- Incident "scores off" names m1 as root cause: opened 06-12 00:00, closed 06-12 12:00 → recovery from d2
  (06-10 22:00): 38 h; a collaborator opened it. Incident "slow" is still open; a passer-by opened it and a
  collaborator labelled it again. A person's issue labelled incident before the horizon is not read.
- A passer-by's incident (opened 06-16, closed 06-26) names s1 as its root cause: only its author labelled it,
  who has no triage access, so it is listed and not counted (counted, d1 would fail and recovery would change).

Expected, current window: lead time median of 48, 36, 24, 6 h = 30 h; 4 deployments (d1, d2, d4, d5);
attempts 5 (and d3); failures d2 (root cause), d3 (failed), d4 (rolled back) = 3 → 60 %; fourkeys' rate
1 / 4 = 25 %; recovery 38 h; data-change lead time 24 h; model changed 1 (d2), code only 1 (d4), not said 2.
Previous window: 1 deployment.
"""

from __future__ import annotations

from typing import Any

from tests.github_double import GitHubDouble

UNTIL = "2026-06-30"
WINDOW = "30d"
C0, P1, P2, S1, M1, M2 = (f"{digit}" * 40 for digit in "012345")
# An incident a passer-by opened through the issue form, naming s1 as its root cause: not counted (no triage access).
IGNORED_TITLE = "everything is down @octocat [details](https://evil.example)"
EXPECTED: dict[str, Any] = {
    "lead_time_hours": 30.0,
    "deployments": 4,
    "change_failure_rate": 0.6,
    "fourkeys_change_failure_rate": 0.25,
    "recovery_hours": 38.0,
    "data_change_hours": 24.0,
    "previous_deployments": 1,
}


def success(start: str, end: str) -> list[tuple[str, str]]:
    return [("in_progress", start), ("success", end)]


def seed(github: GitHubDouble, manifest: bytes = b'{"files": []}\n') -> None:
    github.add_commit(C0, "2026-05-01T00:00:00Z", "The project", branch="main", files={"data/manifest.json": manifest})
    github.add_deployment(C0, success("2026-05-02T11:55:00Z", "2026-05-02T12:00:00Z"), created_at="2026-05-02T11:50:00Z",
                          payload={"version": "v1.0.0", "model_changed": True})  # fmt: skip
    github.add_commit(P1, "2026-06-02T12:00:00Z", "work", branch="feature", parents=[C0])
    github.add_commit(P2, "2026-06-03T00:00:00Z", "more work", branch="feature")
    github.add_pull(1, head_ref="feature", head_sha=P2, merge_commit_sha=S1, merged_at="2026-06-03T12:00:00Z",
                    created_at="2026-06-02T12:30:00Z")  # fmt: skip
    github.add_commit(S1, "2026-06-03T12:00:00Z", "Feature (#1)", branch="main", files={"src.txt": b"feature"})
    github.add_deployment(S1, success("2026-06-04T11:55:00Z", "2026-06-04T12:00:00Z"), created_at="2026-06-04T11:50:00Z",
                          payload={"version": "v1.0.1"})  # fmt: skip
    github.add_commit(M1, "2026-06-10T00:00:00+02:00", "New data", branch="main", files={"data/manifest.json": manifest + b" "})
    github.add_deployment(M1, success("2026-06-10T21:55:00Z", "2026-06-10T22:00:00Z"), created_at="2026-06-10T21:50:00Z",
                          payload={"version": "v1.1.0", "model_changed": True})  # fmt: skip
    github.add_commit(M2, "2026-06-15T00:00:00Z", "Tidy", branch="main", files={"src.txt": b"tidy"})
    github.add_deployment(M2, [("in_progress", "2026-06-15T00:55:00Z"), ("failure", "2026-06-15T01:00:00Z")],
                          created_at="2026-06-15T00:50:00Z", payload={"version": "v1.1.1"})  # fmt: skip
    github.add_deployment(M2, success("2026-06-15T05:55:00Z", "2026-06-15T06:00:00Z"), created_at="2026-06-15T05:50:00Z",
                          payload={"version": "v1.1.1", "model_changed": False})  # fmt: skip
    github.add_deployment(M1, success("2026-06-15T23:55:00Z", "2026-06-16T00:00:00Z"), created_at="2026-06-15T23:50:00Z",
                          payload={"version": "v1.1.0", "rollback": True}, description="rollback to v1.1.0")  # fmt: skip
    github.add_collaborator("maintainer")
    github.add_user("passer-by")
    github.add_issue("scores off", f"What happened: scores off\n\nroot cause: {M1[:7]}\n", labels=["incident"],
                     user="maintainer", created_at="2026-06-12T00:00:00Z", closed_at="2026-06-12T12:00:00Z")  # fmt: skip
    slow = github.add_issue("slow", "No root cause yet", labels=["incident"], user="passer-by", created_at="2026-06-20T00:00:00Z")
    github.unlabel_issue(slow["number"], "incident", by="maintainer", at="2026-06-20T01:00:00Z")
    github.label_issue(slow["number"], "incident", by="maintainer", at="2026-06-20T01:00:01Z")
    github.add_issue(IGNORED_TITLE, f"root cause: {S1[:7]}", labels=["incident"], user="passer-by",
                     created_at="2026-06-16T00:00:00Z", closed_at="2026-06-26T00:00:00Z")  # fmt: skip
    github.add_issue("ancient", "root cause: 0000000", labels=["incident"], created_at="2025-01-01T00:00:00Z",
                     closed_at="2025-01-02T00:00:00Z")  # fmt: skip
