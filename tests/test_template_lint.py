"""The template's own code (hooks, tests, tasks.py, benchmarks) passes ruff."""

from __future__ import annotations

import subprocess

from tests.conftest import TEMPLATE, tool

# Named explicitly: ruff would otherwise try to read the Jinja-templated pyproject.toml.
TEMPLATE_CODE = ["hooks", "tests", "tasks.py", "benchmarks"]


def test_template_code_passes_ruff_check_and_format():
    check = subprocess.run([tool("ruff"), "check", *TEMPLATE_CODE], cwd=TEMPLATE, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = subprocess.run([tool("ruff"), "format", "--check", *TEMPLATE_CODE], cwd=TEMPLATE, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
