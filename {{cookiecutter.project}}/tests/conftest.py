"""Fixtures: a real, small copy of the project (data, config, manifest) in a temporary folder.

Nothing is mocked: MLflow runs on a SQLite file inside that folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package }}.config import Settings, load_settings
from {{ cookiecutter.package }}.core.metric_catalog import GATED_GROUP_METRICS, HIGHER_IS_BETTER
from {{ cookiecutter.package }}.jobs import manifest
from {{ cookiecutter.package }}.project import TASK

PROJECT = Path(__file__).resolve().parents[1]
SMALL_ROWS = 1500
PRIMARY = next(metric for metric, higher in HIGHER_IS_BETTER[TASK].items() if higher)
# Gates loose enough for a model fit on SMALL_ROWS: these tests prove the gate mechanics;
# the template's own tests run the shipped gates on the full data.
TEST_GATES = {"minimums": {PRIMARY: 0.3}, "max_regression": {PRIMARY: 0.01}, "max_fairness_gap": {GATED_GROUP_METRICS[TASK][0]: 0.9}}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the real config and the first rows of the real data, pinned."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    shutil.copytree(PROJECT / "confs", tmp_path / "confs")
    (tmp_path / "confs" / "gates.yaml").write_text(yaml.safe_dump(TEST_GATES))
    (tmp_path / "data").mkdir()
    pd.read_csv(PROJECT / "data" / "reference.csv", dtype=str).head(SMALL_ROWS).to_csv(tmp_path / "data" / "reference.csv", index=False)
    monkeypatch.chdir(tmp_path)
    manifest.run(load_settings(tmp_path / "confs"))
    return tmp_path


@pytest.fixture
def settings(workspace: Path) -> Settings:
    return load_settings(workspace / "confs")


def edit_yaml(file: Path, old: str, new: str) -> None:
    """Replace one line of a config file, failing loudly if the line is not there."""
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new))
