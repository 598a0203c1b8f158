"""A stranger's table, sorted or not: baked once with data_path, the loop runs and the project's own tests pass on it.

Seeded tables from ``tests/byo_datasets.py``: loan decisions (string labels, nine categorical
columns, an application date and an id), used-car prices (a 6,000-row regression with an
integer id and no date) and diamond prices (a 54,000-row regression). Each is baked once, runs
the PR loop (validate, train, evaluate, report) on the whole table, and passes the whole
generated suite on the table as baked; then the generated tests that sample the user's rows
run on copies of it sorted by its target (and the cars' by their id): a test taking the first
or last rows as "rows like the others" fails on those. A table sorted by its date is
test_bring_your_own_data's tumour table, whose visits are in date order. A target of three or
more classes is refused at the bake until multiclass lands (test_hooks).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import DEFAULT, TEMPLATE, in_project, mlops, tool
from tests.test_bring_your_own_data import bake_env

TABLES = {
    # kind: (file name, target, the columns of its sorted copies)
    # A time split orders by the date whatever the file's order: the target alone is worth a copy.
    "loans": ("loans.csv", "decision", ("decision",)),
    "cars": ("cars.csv", "price", ("price", "car_id")),
    "diamonds": ("diamonds.csv", "price", ("price",)),
}
# The generated tests that sample the user's rows (the others take the rows they need from these samples or make their own).
SAMPLING = ("tests/test_drift.py", "tests/test_production_data.py", "tests/test_core_models.py")
# The reason test_drift's no-drift test gives when the newest rows differ from the older ones: never on these stationary tables.
STEPPED_ASIDE = "this data changes over time"
MAKER = TEMPLATE / "tests" / "byo_datasets.py"


def own_tests(project: Path, *paths: str) -> str:
    """Run the project's own tests (all, or ``paths``); their output, failing with it unless every test passed or was skipped."""
    pytest_run = (tool("uv"), "run", "--frozen", "--no-sync", "--group", "dev", "pytest", "-q", "-rs", "-p", "no:cacheprovider")
    result = in_project(project, *pytest_run, *paths, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow  # a bake with the project installed, the loop, its whole suite, then its sampling tests on each sorted copy
@pytest.mark.parametrize("kind", list(TABLES))
def test_the_projects_own_tests_pass_on_the_table_sorted_and_unsorted(synced_project, tmp_path: Path, kind: str):
    name, target, orders = TABLES[kind]
    # numpy lives in a baked project's environment, not in the template's: make the table there.
    in_project(synced_project(DEFAULT), tool("uv"), "run", "--frozen", "--no-sync", "python", str(MAKER), kind, str(tmp_path / name))
    bake = [tool("cookiecutter"), "--no-input", str(TEMPLATE), f"project_name={kind} model", f"data_path={name}", f"target={target}"]
    result = subprocess.run(bake, cwd=tmp_path, env=bake_env(tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    project = tmp_path / f"{kind}-model"
    # The PR loop on the whole table, as pr.yml runs it (evaluate: exit 1 only if a gate said no, never 2 or 3)
    mlops(project, "validate")
    mlops(project, "train")
    evaluated = mlops(project, "evaluate", check=False)
    assert evaluated.returncode in {0, 1}, evaluated.stderr[-3000:]  # 1: a gate said no on this table, which is the loop working
    mlops(project, "report")
    # The table as it came: the whole suite passes, the no-drift test judged rather than stepped aside (-rs lists the
    # reasons). Then sorted by its target or its id: the tests that sample the rows pass on each copy.
    unsorted = own_tests(project)
    assert " passed" in unsorted and " failed" not in unsorted and STEPPED_ASIDE not in unsorted, unsorted[-3000:]
    for column in orders:
        maker = (tool("uv"), "run", "--frozen", "--no-sync", "python", str(MAKER), kind, f"data/{name}", "--sort-by", column)
        in_project(project, *maker)
        mlops(project, "manifest")
        sampled = own_tests(project, *SAMPLING)
        assert " passed" in sampled and STEPPED_ASIDE not in sampled, f"sorted by {column}:\n{sampled[-3000:]}"
