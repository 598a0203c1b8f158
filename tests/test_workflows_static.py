"""Every generated workflow passes actionlint, zizmor (no findings) and GitHub's JSON schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEFAULT
from tests.workflow_lint import actionlint, check_jsonschema, workflows, zizmor
from tests.workflow_triggers import fires, included, paths_fire

GRANT = re.compile(r"^\s+(actions|attestations|checks|contents|deployments|id-token|issues|packages|pull-requests|statuses): (read|write)")
COMBOS = [DEFAULT, {**DEFAULT, "task": "regression", "runs_on": "self-hosted"}]


@pytest.mark.parametrize("combo", COMBOS, ids=["default", "regression-self-hosted"])
def test_generated_workflows_pass_the_linters(cookies, combo):
    project = Path(cookies.bake(extra_context=combo).project_path)
    linted = actionlint(project)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    audited = zizmor(project)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    for checked in check_jsonschema(project):
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_workflows_follow_the_hardening_rules(cookies):
    project = Path(cookies.bake(extra_context=DEFAULT).project_path)
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}, path.name
        assert "concurrency" in workflow, path.name
        for name, job in workflow["jobs"].items():
            assert job["timeout-minutes"] <= 60, f"{path.name}:{name}"
            assert job["permissions"], f"{path.name}:{name} grants nothing explicitly"
            for step in job["steps"]:
                uses = step.get("uses", "")
                if uses and not uses.startswith("./"):
                    assert len(uses.split("@")[1]) == 40, f"{uses} is not pinned by a full SHA"
                if uses.startswith("actions/checkout"):
                    assert step["with"]["persist-credentials"] is False
        text = path.read_text()
        grants = [line for line in text.splitlines() if GRANT.match(line)]
        assert grants and all("# " in line for line in grants), f"{path.name}: every permission grant says why in a comment"
        assert "pull_request_target" not in text


# A commit landing on main (push) or a pull request into main changing these paths → the workflows it starts.
# pr.yml has no path filter on purpose: it is the check a protected main requires, and a required
# workflow skipped by a path filter leaves its check pending, so the pull request could never merge.
CHANGES = [
    ("a production batch", ["data/current/2025-07-20.csv"], {"push": set(), "pull_request": {"pr"}}),
    ("a batch in a subfolder", ["data/current/eu/2025-07.parquet"], {"push": set(), "pull_request": {"pr"}}),
    ("batches landing and leaving", ["data/current/2025-07.csv", "data/current/2025-06.csv"], {"push": set(), "pull_request": {"pr"}}),
    ("the reference data", ["data/reference.csv"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("its manifest", ["data/manifest.json"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("a retraining snapshot", ["data/reference.csv", "data/manifest.json"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("a batch beside the reference", ["data/current/2025-07-20.csv", "data/reference.csv"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("the gates", ["confs/gates.yaml"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("the model config", ["confs/model.yaml"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("the code", ["src/churn_model/core/features.py"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("the lock", ["uv.lock"], {"push": {"release"}, "pull_request": {"pr"}}),
    ("the README", ["README.md"], {"push": set(), "pull_request": {"pr"}}),
    ("the docs", ["docs/runbook.md"], {"push": set(), "pull_request": {"pr"}}),
]


@pytest.mark.parametrize(("change", "paths", "expected"), CHANGES, ids=[change for change, _, _ in CHANGES])
def test_each_change_starts_the_workflows_it_should(cookies, change, paths, expected):
    project = Path(cookies.bake(extra_context=DEFAULT).project_path)
    for event, started in expected.items():
        found = {path.stem for path in workflows(project) if fires(path, event, "main", paths)}
        assert found == started, f"{change} ({event} on main): started {sorted(found)}, expected {sorted(started)}"


def test_production_data_where_the_monitor_reads_it_is_outside_every_release_path(cookies):
    project = Path(cookies.bake(extra_context=DEFAULT).project_path)
    current = yaml.safe_load((project / "confs" / "monitor.yaml").read_text())["current"]
    folder = current.split("*")[0]  # data/current/*: the folder batches land in
    assert folder == "data/current/"
    for batch in (f"{folder}2025-07-20.csv", f"{folder}2025-07-20.parquet", f"{folder}region/eu.csv", f"{folder}.keep"):
        assert not fires(project / ".github/workflows/release.yml", "push", "main", [batch]), batch
    # And the release still starts for what the batch sits beside
    assert fires(project / ".github/workflows/release.yml", "push", "main", ["data/reference.csv"])


# GitHub's own examples ("Filter pattern cheat sheet"), so that the matcher above is GitHub's, not ours.
CHEAT_SHEET = [
    ("feature/*", "feature/my-branch", True),
    ("feature/*", "feature/your/branch", False),
    ("feature/**", "feature/beta-a/my-branch", True),
    ("*.js", "app.js", True),
    ("*.js", "js/index.js", False),
    ("**.js", "src/js/app.js", True),
    ("docs/*", "docs/file.txt", True),
    ("docs/*", "docs/mona/octocat.txt", False),
    ("docs/**", "docs/mona/octocat.txt", True),
    ("docs/**/*.md", "docs/a/markdown/file.md", True),
    ("**/docs/**", "docs/hello.md", True),
    ("**/docs/**", "space/docs/plan/space.doc", True),
    ("**/README.md", "README.md", True),
    ("**/README.md", "js/README.md", True),
    ("**/*src/**", "a/src/app.js", True),
    ("**/*src/**", "my-src/code/js/app.js", True),
    ("**/*-post.md", "my-post.md", True),
    ("**/*-post.md", "path/their-post.md", True),
    ("**/migrate-*.sql", "migrate-10909.sql", True),
    ("**/migrate-*.sql", "db/migrate-v1.0.sql", True),
    ("v2*", "v2.0", True),
    ("v[12].[0-9]+.[0-9]+", "v1.10.1", True),
    ("v[12].[0-9]+.[0-9]+", "v3.0.0", False),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), CHEAT_SHEET)
def test_the_filter_matcher_follows_githubs_cheat_sheet(pattern, path, matches):
    assert included(path, [pattern]) is matches


def test_the_last_matching_pattern_decides():
    patterns = ["sub-project/**", "!sub-project/docs/**", "sub-project/docs/api/**"]
    assert included("sub-project/app.py", patterns)
    assert not included("sub-project/docs/index.md", patterns)
    assert included("sub-project/docs/api/index.md", patterns)  # a later positive pattern includes it again
    assert not paths_fire(["sub-project/docs/index.md"], paths=patterns)
    assert paths_fire(["sub-project/docs/index.md", "sub-project/app.py"], paths=patterns)  # any included path
    assert not paths_fire(["docs/a.md", "README.md"], paths_ignore=["docs/**", "*.md"])  # every path ignored
    assert paths_fire(["docs/a.md", "src/x.py"], paths_ignore=["docs/**"])


# Least privilege, job by job (release.yml's are the release's own business). The jobs that parse what others wrote
# (production data, the champion's archive, a pull request's code) never hold `contents: write`: monitor.yml's drift
# job hands its summary to a history job that does nothing else, as dora.yml's measuring job does.
JOB_PERMISSIONS = {
    ("pr", "model"): {"contents": "read", "pull-requests": "write", "attestations": "read"},
    ("monitor", "drift"): {"contents": "read", "attestations": "read"},
    ("monitor", "history"): {"contents": "write"},
    ("monitor", "retrain"): {"contents": "write", "pull-requests": "write", "issues": "write", "actions": "write"},
    ("dora", "measure"): {"deployments": "read", "contents": "read", "pull-requests": "read", "issues": "write"},
    ("dora", "history"): {"contents": "write"},
    ("rollback", "rollback"): {"contents": "write", "deployments": "write", "attestations": "read", "packages": "write"},
}


def test_each_job_holds_only_the_permissions_it_needs(cookies):
    project = Path(cookies.bake(extra_context=DEFAULT).project_path)
    found = {}
    for path in workflows(project):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            found[(path.stem, name)] = job["permissions"]
    assert {key: found.get(key) for key in JOB_PERMISSIONS} == JOB_PERMISSIONS
    history_steps = [
        step.get("run", "") for step in yaml.safe_load((project / ".github/workflows/monitor.yml").read_text())["jobs"]["history"]["steps"]
    ]
    assert "uv run --frozen mlops drift-history" in history_steps  # and nothing that reads production data or archives
    assert not [run for run in history_steps if "mlops" in run and "drift-history" not in run]
