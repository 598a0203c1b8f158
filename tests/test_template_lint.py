"""The template's own code (hooks, tests, tasks.py, benchmarks) and the generated project's sources pass ruff."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import CHOICES, TEMPLATE, tool

# Named explicitly: ruff would otherwise try to read the Jinja-templated pyproject.toml.
TEMPLATE_CODE = ["hooks", "tests", "tasks.py", "benchmarks"]

GENERATED = TEMPLATE / "{{cookiecutter.project}}"
PACKAGE = "{{cookiecutter.package}}"
# The only sources with Jinja in them: every other .py file of the package is plain Python.
# (Ruff reads exclusions as globs, in which braces mean alternatives: hence `*` for the package.)
JINJA_SOURCES = ["src/*/project.py", "src/*/__init__.py"]
# Findings in the generated sources that their owners still have to fix: ignored here, rule by
# rule and file by file, so that anything else fails. Remove an entry once its file is clean.


def test_template_code_passes_ruff_check_and_format():
    check = subprocess.run([tool("ruff"), "check", *TEMPLATE_CODE], cwd=TEMPLATE, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = subprocess.run([tool("ruff"), "format", "--check", *TEMPLATE_CODE], cwd=TEMPLATE, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def project_ruff_settings(lint_rules: bool = True) -> list[str]:
    """The generated project's own [tool.ruff] settings, as `--config` overrides.

    Its pyproject.toml is Jinja-templated as a whole, but the [tool.ruff*] tables are plain TOML:
    they are read from there, so this lint follows whatever the project itself enforces.
    """
    lines, inside = [], False
    for line in (GENERATED / "pyproject.toml").read_text().splitlines():
        if line.startswith("["):
            inside = line.startswith("[tool.ruff")
        if inside:
            lines.append(line)
    ruff = tomllib.loads("\n".join(lines))["tool"]["ruff"]
    lint = ruff.pop("lint", {})
    # As command-line options where ruff has them (ruff 0.17 drops a `--config lint.ignore=` override
    # when `lint.select` is overridden too), as `--config` overrides otherwise.
    options = {"line-length", "target-version", "select", "ignore"}
    settings = {**ruff, **lint} if lint_rules else ruff
    args = ["--isolated", "--no-cache"]  # a .ruff_cache in the template would be baked into projects
    for key, value in settings.items():
        if key in options:
            args += [f"--{key}", ",".join(value) if isinstance(value, list) else str(value)]
        elif isinstance(value, dict):  # a nested table (lint.isort): one dotted override per key
            prefix = f"{'lint.' if key in lint else ''}{key}"
            args += [arg for name, item in value.items() for arg in ("--config", f"{prefix}.{name} = {json.dumps(item)}")]
        else:
            args += ["--config", f"{'lint.' if key in lint else ''}{key} = {json.dumps(value)}"]
    return args


def ruff_on_generated(cwd: Path, command: str, *args: str) -> subprocess.CompletedProcess:
    settings = project_ruff_settings(lint_rules=command == "check")
    return subprocess.run([tool("ruff"), command, *settings, *args], cwd=cwd, capture_output=True, text=True)


def test_the_project_ruff_settings_are_its_pyproject_ones():
    settings = project_ruff_settings()
    assert settings[settings.index("--line-length") + 1] == "140"
    assert "RUF" in settings[settings.index("--select") + 1].split(",")


def test_generated_sources_pass_the_projects_own_ruff_settings():
    excluded = [arg for path in JINJA_SOURCES for arg in ("--exclude", path)]
    check = ruff_on_generated(GENERATED, "check", "--output-format", "concise", *excluded, "src", "scripts")
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = ruff_on_generated(GENERATED, "format", "--check", *excluded, "src", "scripts")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_generated_tests_pass_the_projects_own_ruff_settings(tmp_path: Path):
    # The tests import the package by its templated name: lint a copy with that one name
    # rendered, laid out as in a baked project so that imports sort as first-party.
    shutil.copytree(GENERATED / "src" / PACKAGE, tmp_path / "src" / "churn_model")
    shutil.copytree(GENERATED / "tests", tmp_path / "tests")
    for test in (tmp_path / "tests").glob("*.py"):
        test.write_text(test.read_text().replace("{{ cookiecutter.package }}", "churn_model"))
    leftover = [test.name for test in (tmp_path / "tests").glob("*.py") if "{{" in test.read_text() or "{%" in test.read_text()]
    assert leftover == [], "the generated tests may only template the package name"
    check = ruff_on_generated(tmp_path, "check", "--output-format", "concise", "tests")
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = ruff_on_generated(tmp_path, "format", "--check", "tests")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("python_version", CHOICES["python_version"])
def test_the_baked_dockerfile_passes_hadolint_and_defaults_to_the_projects_python(tmp_path: Path, python_version: str):
    from cookiecutter.main import cookiecutter

    project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context={"python_version": python_version}, output_dir=str(tmp_path)))
    lint = subprocess.run([tool("hadolint"), "--no-color", "Dockerfile"], cwd=project, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    (default,) = [line for line in (project / "Dockerfile").read_text().splitlines() if line.startswith("ARG BASE_IMAGE=")]
    assert default == f"ARG BASE_IMAGE=python:{(project / '.python-version').read_text().strip()}-slim-bookworm"
    assert (project / ".python-version").read_text().strip() == python_version
