"""Every generated workflow passes actionlint, zizmor (no findings) and GitHub's JSON schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEFAULT
from tests.workflow_lint import actionlint, check_jsonschema, zizmor

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
