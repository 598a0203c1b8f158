#!/usr/bin/env python3
"""How long `mlops dora` takes on a busy year, and how many GitHub API calls it makes.

Seeds the GitHub API double (tests/github_double) with a year of delivery: about 10,000 commits
(8,500 on main, 500 pull requests of 3 commits each, squash-merged), 1,000 production deployments
(3 % failed, a rollback every 100), 40 incidents, a data manifest change every 25 commits on main. Then
runs `mlops dora --window 90d --until <the year's last day>` in a baked project (it reads two windows:
half the year; ``--window 182d`` reads all of it) against the double on loopback, and prints the
wall-clock time, the number of API calls by endpoint, and whether the target is met (≤ 30 s). The double
allows GITHUB_TOKEN's 1,000 calls an hour unless told otherwise. It reports; it never fails because of it.

Run from the template repository after `python3 tasks.py demo` (which bakes build/demo/churn-model):

    python3 benchmarks/dora.py [--project build/demo/churn-model] [--window 90d] [--rate-limit 1000]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.github_double import GitHubDouble  # noqa: E402

TARGET_SECONDS = 30.0
WINDOW = "90d"
START = datetime(2025, 7, 1, tzinfo=UTC)
MAIN_COMMITS, PULLS, PULL_COMMITS, DEPLOYMENTS, INCIDENTS = 8_500, 500, 3, 1_000, 40


def sha(kind: str, number: int) -> str:
    """A sha as git makes them: hashed, so that a short prefix names one commit."""
    return hashlib.sha1(f"{kind}{number}".encode()).hexdigest()


def seed(github: GitHubDouble) -> dict[str, int]:
    """A year of delivery; returns what was seeded."""
    step = timedelta(days=365) / MAIN_COMMITS
    merges = set(range(MAIN_COMMITS // PULLS // 2, MAIN_COMMITS, MAIN_COMMITS // PULLS))  # which main commits merge a PR
    every = MAIN_COMMITS // DEPLOYMENTS
    pull_number, commits, deployments, deployed = 0, 0, 0, []
    for index in range(MAIN_COMMITS):
        when = START + index * step
        main_sha = sha("a", index)
        if index in merges and pull_number < PULLS:
            pull_number += 1
            parent = github.branch_head("main")
            branch = f"feature-{pull_number}"
            for own in range(PULL_COMMITS):
                github.add_commit(
                    sha("b", pull_number * 10 + own),
                    when - timedelta(hours=30 - 10 * own),
                    "work",
                    branch=branch,
                    parents=[parent] if own == 0 else None,
                )
                commits += 1
            github.add_pull(pull_number, head_ref=branch, head_sha=sha("b", pull_number * 10 + PULL_COMMITS - 1),
                            merge_commit_sha=main_sha, merged_at=when, created_at=when - timedelta(hours=31))  # fmt: skip
        files = {"data/manifest.json": f'{{"n": {index}}}\n'.encode()} if index % 25 == 0 else None
        github.add_commit(main_sha, when, f"change {index}", branch="main", files=files)
        commits += 1
        if index % every == every - 1 and deployments < DEPLOYMENTS:
            deployments += 1
            out = when + timedelta(minutes=40)
            if deployments % 33 == 0:  # a failed attempt, retried
                github.add_deployment(main_sha, [("in_progress", out), ("failure", out + timedelta(minutes=5))], created_at=out)
                out += timedelta(hours=1)
            target = deployed[-2] if deployments % 100 == 0 and len(deployed) > 1 else main_sha  # a rollback
            github.add_deployment(target, [("in_progress", out), ("success", out + timedelta(minutes=5))], created_at=out,
                                  payload={"version": f"v1.{deployments}.0", "model_changed": index % 25 < every})  # fmt: skip
            deployed.append(target)
    for number in range(INCIDENTS):
        day = 9 * number + 3
        opened = START + timedelta(days=day)
        cause = deployed[min(int((day - 1) * MAIN_COMMITS / 365 / every), len(deployed) - 1)]  # deployed the day before
        github.add_issue(f"incident {number}", f"root cause: {cause[:10]}", labels=["incident"], created_at=opened,
                         closed_at=opened + timedelta(hours=5 + number % 7))  # fmt: skip
    return {"commits": commits, "pulls": pull_number, "deployments": deployments, "incidents": INCIDENTS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=REPO_ROOT / "build" / "demo" / "churn-model")
    parser.add_argument("--window", default=WINDOW, help="mlops dora's window; 182d makes its two windows read the whole year")
    parser.add_argument(
        "--rate-limit", type=int, default=1000, help="the double's calls an hour (GITHUB_TOKEN: 1,000 a repository; an app: 5,000)"
    )
    args = parser.parse_args()
    project = args.project.resolve()
    if not (project / ".venv").exists():
        print(f"{project} is not a baked, synced project: run `python3 tasks.py demo` first", file=sys.stderr)
        return 2
    with GitHubDouble(owner="acme", repo="churn-model", rate_limit=args.rate_limit) as github:
        began = time.perf_counter()
        seeded = seed(github)
        print(f"seeded {seeded} in {time.perf_counter() - began:.1f} s")
        until = (START + timedelta(days=364)).date().isoformat()
        env = {
            **{key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "GITHUB_STEP_SUMMARY")},
            "GITHUB_API_URL": github.url,
            "GITHUB_TOKEN": github.token,
            "GITHUB_REPOSITORY": github.full_name,
        }
        command = ["uv", "run", "--frozen", "--no-sync", "mlops", "dora", "--window", args.window, "--until", until]
        github.calls.clear()
        began = time.perf_counter()
        result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - began
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
            return 1
        by_endpoint = collections.Counter(
            f"{call.method} " + re.sub(r"/[0-9a-f]{40}|/\d+", "/{id}", call.path.split("/repos/acme/churn-model", 1)[-1].split("?")[0])
            for call in github.calls
        )
        report = json.loads((project / "outputs" / "dora" / "dora.json").read_text())
    print(result.stdout.strip())
    print(f"\nmlops dora on a busy year: {seconds:.1f} s, {len(github.calls)} API calls (target ≤ {TARGET_SECONDS:.0f} s: "
          f"{'met' if seconds <= TARGET_SECONDS else 'NOT met'})")  # fmt: skip
    for endpoint, count in by_endpoint.most_common():
        print(f"  {count:6d}  {endpoint}")
    counted = report["metrics"]["deployment_frequency"]["count"], report["previous"]["deployment_frequency"]
    print(f"deployments in the window: {counted[0]}; lead-time pairs: {report['metrics']['lead_time']['count']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
