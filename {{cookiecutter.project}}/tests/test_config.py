from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import load_settings
from {{ cookiecutter.package }}.errors import ConfigError
from tests.conftest import PROJECT, edit_yaml


def test_the_shipped_config_is_valid():
    # Given the config files the project ships, When they are loaded
    settings = load_settings(PROJECT / "confs")
    # Then every section is typed and the features are declared columns
    assert settings.data.target in settings.data.columns
    assert set(settings.data.features.all) <= set(settings.data.columns)


def test_an_unknown_key_names_the_file_and_the_key(workspace: Path):
    edit_yaml(workspace / "confs" / "model.yaml", "seed: 42", "seeed: 42")
    with pytest.raises(ConfigError, match=r"confs/model\.yaml: seeed: unknown key"):
        load_settings(workspace / "confs")


def test_a_mistyped_value_names_the_file_and_the_key(workspace: Path):
    edit_yaml(workspace / "confs" / "data.yaml", "holdout_fraction: 0.2", "holdout_fraction: lots")
    with pytest.raises(ConfigError, match=r"confs/data\.yaml: holdout_fraction: "):
        load_settings(workspace / "confs")


def test_invalid_yaml_says_where(workspace: Path):
    (workspace / "confs" / "gates.yaml").write_text("minimums: {roc_auc: [\n")
    with pytest.raises(ConfigError, match=r"confs/gates\.yaml: line \d+ is not valid YAML"):
        load_settings(workspace / "confs")


def test_a_gate_on_an_unknown_metric_is_rejected(workspace: Path):
    (workspace / "confs" / "gates.yaml").write_text("minimums: {accuracy_score: 0.5}\n")
    with pytest.raises(ConfigError, match=r"gates\.yaml: .*accuracy_score: unknown metric"):
        load_settings(workspace / "confs")


def test_a_feature_that_is_not_a_declared_column_is_rejected(workspace: Path):
    edit_yaml(workspace / "confs" / "data.yaml", "numeric: [age,", "numeric: [height, age,")
    with pytest.raises(ConfigError, match=r"features names column 'height'"):
        load_settings(workspace / "confs")


def test_a_missing_config_file_is_named(workspace: Path):
    (workspace / "confs" / "tracking.yaml").unlink()
    with pytest.raises(ConfigError, match=r"tracking\.yaml: config file not found"):
        load_settings(workspace / "confs")
