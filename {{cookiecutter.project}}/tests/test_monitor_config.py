"""confs/monitor.yaml: validated like the other confs, and optional for projects made before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import load_settings
from {{ cookiecutter.package }}.errors import ConfigError

from tests.conftest import PROJECT_SETTINGS, edit_yaml


def test_a_wrong_key_is_named_with_a_suggestion(workspace: Path):
    edit_yaml(workspace / "confs" / "monitor.yaml", "cooldown_days:", "cooldown_dayz:")
    with pytest.raises(
        ConfigError, match=r"^confs/monitor\.yaml: retraining\.cooldown_dayz: unknown key \(did you mean `cooldown_days`\?\)$"
    ):
        load_settings(workspace / "confs")


def test_a_late_column_must_be_a_declared_column(workspace: Path):
    edit_yaml(workspace / "confs" / "monitor.yaml", "late_columns: []", "late_columns: [not_a_column]")
    with pytest.raises(ConfigError, match=r"^confs/monitor\.yaml: 'not_a_column' is not a column declared in confs/data\.yaml$"):
        load_settings(workspace / "confs")


def test_a_drift_rule_takes_a_known_method(workspace: Path):
    column = PROJECT_SETTINGS.data.features.all[0]
    edit_yaml(workspace / "confs" / "monitor.yaml", "  columns: {}", "  columns: " + json.dumps({column: {"method": "kl"}}))
    with pytest.raises(ConfigError, match=rf"^confs/monitor\.yaml: drift\.columns\.{column}\.method: "):
        load_settings(workspace / "confs")


def test_the_sliding_window_needs_a_timestamp(workspace: Path):
    edit_yaml(workspace / "confs" / "monitor.yaml", "snapshot: append", "snapshot: sliding_window")
    if PROJECT_SETTINGS.data.timestamp_column:
        assert load_settings(workspace / "confs").monitor.retraining.snapshot == "sliding_window"
    else:
        with pytest.raises(ConfigError, match="sliding_window needs a timestamp_column"):
            load_settings(workspace / "confs")


def test_the_retraining_branch_is_never_the_base_branch(workspace: Path):
    edit_yaml(workspace / "confs" / "monitor.yaml", "branch: mlops/retrain", "branch: main")
    with pytest.raises(ConfigError, match="must not be the base branch 'main'"):
        load_settings(workspace / "confs")


def test_a_project_without_monitor_yaml_gets_the_defaults(workspace: Path):
    shipped = load_settings(workspace / "confs").monitor
    (workspace / "confs" / "monitor.yaml").unlink()
    defaults = load_settings(workspace / "confs").monitor
    assert defaults == shipped  # the shipped file spells out the defaults
