"""Fixtures: a real, small copy of the project (data, config, manifest) in a temporary folder.

Nothing is mocked: MLflow runs on a SQLite file inside that folder.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package }}.config import Settings, load_settings
from {{ cookiecutter.package }}.core.metric_catalog import GATED_GROUP_METRICS, HIGHER_IS_BETTER
from {{ cookiecutter.package }}.core.specs import ColumnSpec
from {{ cookiecutter.package }}.io.datasets import read_table
from {{ cookiecutter.package }}.io.local_registry import SQLITE_PREFIX
from {{ cookiecutter.package }}.jobs import manifest, steps

PROJECT = Path(__file__).resolve().parents[1]
# The project's own config and data, whatever they are (the demo, or a table `mlops init-data` took in):
# the tests read the columns from the config instead of naming any.
PROJECT_SETTINGS = load_settings(PROJECT / "confs", environ={})
TASK = PROJECT_SETTINGS.data.task
SMALL_ROWS = 1500
PRIMARY = next(metric for metric, higher in HIGHER_IS_BETTER[TASK].items() if higher)
# Gates loose enough for a model fit on SMALL_ROWS: these tests prove the gate mechanics;
# the template's own tests run the shipped gates on the full data.
TEST_GATES = {
    "minimums": {PRIMARY: 0.3},
    "max_regression": {PRIMARY: 0.01},
    # Fairness gates need a sensitive attribute; a project without one gates none.
    "max_fairness_gap": {GATED_GROUP_METRICS[TASK][-1]: 0.9} if PROJECT_SETTINGS.data.sensitive_attribute else {},
}


@pytest.fixture(scope="session", autouse=True)
def _one_core_share_per_worker():
    """Each pytest-xdist worker's OpenMP/BLAS threads limited to its share of the cores.

    Without it every worker's gradient boosting starts a thread per core: on 2 cores, 2 workers
    run 4 threads whose spin-waits slow every fit. (A run in one process keeps all cores.)
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=max(1, (os.cpu_count() or 1) // workers)):
        yield


@functools.cache
def _sample() -> pd.DataFrame:
    data = PROJECT_SETTINGS.data
    frame = read_table(PROJECT / data.path, data.missing_values)
    if len(frame) > SMALL_ROWS:
        # Drawn across the whole table, not its first rows: on a table sorted by its target, an id or a date
        # the first rows are one class, one range or one period.
        frame = frame.sample(n=SMALL_ROWS, random_state=PROJECT_SETTINGS.model.seed).sort_index()
    return frame.reset_index(drop=True)


def small_sample() -> pd.DataFrame:
    """SMALL_ROWS rows of the project's data, seeded and from anywhere in it, in the table's own order."""
    return _sample().copy()


@functools.cache
def _empty_store() -> bytes:
    """An empty MLflow SQLite store with its schema made: made once per test process, copied into every workspace.

    Making the schema runs some 70 migrations (about 2.5 s of CPU); a copy takes milliseconds. Each
    workspace still gets a store of its own. ``mlops`` on a brand-new store (no file yet, as in CI) is
    what the template's own tests and this suite's ``trained`` fixture run.
    """
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as scratch:
        store = Path(scratch) / "mlflow.db"
        mlflow.MlflowClient(tracking_uri=f"sqlite:///{store}").search_experiments()
        return store.read_bytes()


def fill(folder: Path, *, store: bool = True) -> Path:
    """Make ``folder`` a project with the real config, test gates and the small sample of the data, pinned.

    ``store``: with an empty MLflow store already made (see ``_empty_store``), or none at all.
    """
    shutil.copytree(PROJECT / "confs", folder / "confs")
    uri = load_settings(folder / "confs", environ={}).tracking_uri
    if store and uri.startswith(SQLITE_PREFIX):
        path = Path(uri.removeprefix(SQLITE_PREFIX))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_empty_store())
    (folder / "confs" / "gates.yaml").write_text(yaml.safe_dump(TEST_GATES))
    copy = folder / PROJECT_SETTINGS.data.path
    copy.parent.mkdir(parents=True, exist_ok=True)
    write_table(small_sample(), copy)
    manifest.run(load_settings(folder / "confs"))
    return folder


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the real config and a small seeded sample of the real data, pinned."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    return fill(tmp_path)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained once per session on the workspace's sample, with its profile: the champion of the tests that need one."""
    from typer.testing import CliRunner

    from {{ cookiecutter.package }}.cli import app

    folder = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        patch.chdir(folder)
        fill(folder, store=False)  # the store made as `mlops train` makes it in CI: from nothing
        result = CliRunner().invoke(app, ["train"])
        assert result.exit_code == 0, result.output
    return folder


def unseen_rows(workspace: Path) -> pd.DataFrame:
    """The workspace's holdout as the project splits it (by time, or shuffled with the configured seed), as read from its file.

    The rows no model trained on the same sample has seen, as production rows are.
    """
    _, _, holdout = steps.split_for_modelling(load_settings(workspace / "confs"))
    return read_table(data_file(workspace), PROJECT_SETTINGS.data.missing_values).loc[holdout.index].reset_index(drop=True)


@pytest.fixture
def settings(workspace: Path) -> Settings:
    return load_settings(workspace / "confs")


def edit_yaml(file: Path, old: str, new: str) -> None:
    """Replace one line of a config file, failing loudly if the line is not there."""
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new))


def data_file(workspace: Path) -> Path:
    """The workspace's copy of the configured data file."""
    return workspace / PROJECT_SETTINGS.data.path


def feature_column(want, what: str) -> tuple[str, ColumnSpec]:
    """The first feature column whose spec satisfies ``want``; the test is skipped when the data has none."""
    data = PROJECT_SETTINGS.data
    for name in data.features.all:
        if want(data.columns[name]):
            return name, data.columns[name]
    pytest.skip(f"the configured data has no {what} feature column")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def rewrite_data(workspace: Path, change) -> None:
    """Apply ``change`` (a function of the frame) to the workspace's data file."""
    path = data_file(workspace)
    write_table(change(read_table(path, PROJECT_SETTINGS.data.missing_values)), path)


def put_text_in_a_number(workspace: Path, text: str) -> str:
    """Write ``text`` into one row of a numeric feature of the workspace's data; return the column's name."""
    name, _ = feature_column(lambda spec: spec.dtype in {"int", "float"} and spec.allowed is None, "numeric")

    def spoil(frame):
        frame.loc[3, name] = text
        return frame

    rewrite_data(workspace, spoil)
    return name
