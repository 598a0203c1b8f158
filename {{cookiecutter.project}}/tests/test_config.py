import re
from pathlib import Path

import pytest
import yaml

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


def test_invalid_yaml_names_the_line(workspace: Path):
    (workspace / "confs" / "gates.yaml").write_text("minimums: {}\nmax_regression:\n   roc_auc: 0.1\n  f1: 0.2\n")
    with pytest.raises(ConfigError, match=r"^confs/gates\.yaml:4: not valid YAML"):
        load_settings(workspace / "confs")


def test_a_close_unknown_key_suggests_the_known_one_and_comes_before_the_missing_one(workspace: Path):
    text = (workspace / "confs" / "model.yaml").read_text()
    (workspace / "confs" / "model.yaml").write_text(text.replace("estimator:", "estimatr:", 1))
    # The path is shown relative to the project, as the user knows it
    with pytest.raises(ConfigError, match=r"^confs/model\.yaml: estimatr: unknown key \(did you mean `estimator`\?\)$"):
        load_settings(workspace / "confs")


def test_a_nested_unknown_key_suggests_within_its_section(workspace: Path):
    text = (workspace / "confs" / "model.yaml").read_text()
    (workspace / "confs" / "model.yaml").write_text(text.replace("  cv:", "  cvv:", 1))
    with pytest.raises(ConfigError, match=r"search\.cvv: unknown key \(did you mean `cv`\?\)"):
        load_settings(workspace / "confs")


def _data_yaml(workspace: Path) -> dict:
    return yaml.safe_load((workspace / "confs" / "data.yaml").read_text())


def _write_data_yaml(workspace: Path, data: dict) -> None:
    (workspace / "confs" / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_the_timestamp_must_be_a_datetime_column(workspace: Path):
    data = _data_yaml(workspace)
    not_a_time = next(name for name, spec in data["columns"].items() if spec["dtype"] in {"float", "string", "category"})
    _write_data_yaml(workspace, {**data, "timestamp_column": not_a_time})
    with pytest.raises(
        ConfigError, match=rf"timestamp_column names column '{not_a_time}', which is \w+: expected a datetime column or integer periods"
    ):
        load_settings(workspace / "confs")
    # Integer periods (a year, yyyymm) may order the split; a sliding window counts days, so it needs dates
    periods = next(name for name, spec in data["columns"].items() if spec["dtype"] == "int")
    _write_data_yaml(workspace, {**data, "timestamp_column": periods})
    assert load_settings(workspace / "confs").data.timestamp_column == periods


def test_without_a_timestamp_the_config_is_valid(workspace: Path):
    data = {key: value for key, value in _data_yaml(workspace).items() if key != "timestamp_column"}
    _write_data_yaml(workspace, data)
    assert load_settings(workspace / "confs").data.timestamp_column is None


def test_string_labels_need_a_positive_class_that_is_one_of_them(workspace: Path):
    data = _data_yaml(workspace)
    target = data["target"]
    columns = {**data["columns"], target: {"dtype": "category", "allowed": ["no", "yes"]}}
    data = {key: value for key, value in data.items() if key != "positive_class"}
    _write_data_yaml(workspace, {**data, "task": "binary_classification", "columns": columns})
    with pytest.raises(ConfigError, match="positive_class is required"):
        load_settings(workspace / "confs")
    _write_data_yaml(workspace, {**data, "task": "binary_classification", "columns": columns, "positive_class": "maybe"})
    with pytest.raises(ConfigError, match="positive_class 'maybe' is not among"):
        load_settings(workspace / "confs")
    (workspace / "confs" / "gates.yaml").write_text("{}\n")  # the gates of a regression bake name regression metrics
    _write_data_yaml(workspace, {**data, "task": "binary_classification", "columns": columns, "positive_class": "yes"})
    assert load_settings(workspace / "confs").data.positive_label == "yes"


def test_a_gate_on_an_unknown_metric_is_rejected(workspace: Path):
    (workspace / "confs" / "gates.yaml").write_text("minimums: {accuracy_score: 0.5}\n")
    with pytest.raises(ConfigError, match=r"gates\.yaml: .*accuracy_score: unknown metric"):
        load_settings(workspace / "confs")


def test_a_feature_that_is_not_a_declared_column_is_rejected(workspace: Path):
    data = _data_yaml(workspace)
    data["features"]["numeric"] = ["height", *data["features"].get("numeric", [])]
    _write_data_yaml(workspace, data)
    with pytest.raises(ConfigError, match=r"features names column 'height'"):
        load_settings(workspace / "confs")


def test_a_missing_config_file_is_named(workspace: Path):
    (workspace / "confs" / "tracking.yaml").unlink()
    with pytest.raises(ConfigError, match=r"tracking\.yaml: config file not found"):
        load_settings(workspace / "confs")


def test_a_fairness_gate_without_a_sensitive_attribute_is_named(workspace: Path):
    data = {key: value for key, value in _data_yaml(workspace).items() if key != "sensitive_attribute"}
    _write_data_yaml(workspace, data)
    from {{ cookiecutter.package }}.core.metric_catalog import GATED_GROUP_METRICS

    from tests.conftest import TASK

    gate = {"max_fairness_gap": {GATED_GROUP_METRICS[TASK][0]: 0.1}}
    (workspace / "confs" / "gates.yaml").write_text(yaml.safe_dump(gate))
    with pytest.raises(ConfigError, match=r"^confs/gates\.yaml: max_fairness_gap needs a sensitive_attribute in confs/data\.yaml"):
        load_settings(workspace / "confs")


def test_dora_yaml_is_optional_spells_out_the_defaults_and_checks_its_names(workspace: Path):
    shipped = load_settings(workspace / "confs").dora
    assert (shipped.environment, shipped.incident_label, shipped.tracking_label) == ("production", "incident", "dora")
    assert shipped.incident_authors == "triage"  # the issue form lets anyone open an incident
    edit_yaml(workspace / "confs" / "dora.yaml", "incident_authors: triage", "incident_authors: everyone")
    with pytest.raises(ConfigError, match=r"^confs/dora\.yaml: incident_authors: .*'triage' or 'anyone'"):
        load_settings(workspace / "confs")
    edit_yaml(workspace / "confs" / "dora.yaml", "incident_authors: everyone", "incident_authors: triage")
    edit_yaml(workspace / "confs" / "dora.yaml", "incident_label: incident", "incident_lable: incident")
    with pytest.raises(ConfigError, match=r"^confs/dora\.yaml: incident_lable: unknown key \(did you mean `incident_label`\?\)$"):
        load_settings(workspace / "confs")
    edit_yaml(workspace / "confs" / "dora.yaml", "incident_lable: incident", 'incident_label: " "')
    with pytest.raises(ConfigError, match=r"^confs/dora\.yaml: incident_label must not be empty$"):
        load_settings(workspace / "confs")
    (workspace / "confs" / "dora.yaml").unlink()
    assert load_settings(workspace / "confs").dora == shipped


def test_release_yaml_is_optional_and_names_a_wrong_policy(workspace: Path):
    shipped = load_settings(workspace / "confs").release
    assert shipped.attestation in ("auto", "required", "off") and shipped.private_attestations is False
    text = (workspace / "confs" / "release.yaml").read_text()
    (workspace / "confs" / "release.yaml").write_text(re.sub(r"^attestation: .*$", "attestation: always", text, flags=re.MULTILINE))
    with pytest.raises(ConfigError, match=r"^confs/release\.yaml: attestation: Input should be 'auto', 'required' or 'off'$"):
        load_settings(workspace / "confs")
    (workspace / "confs" / "release.yaml").write_text(text.replace("private_attestations:", "private_attestation:"))
    unknown = r"^confs/release\.yaml: private_attestation: unknown key \(did you mean `private_attestations`\?\)$"
    with pytest.raises(ConfigError, match=unknown):
        load_settings(workspace / "confs")
    (workspace / "confs" / "release.yaml").write_text("attestation: off\n")  # YAML 1.1 reads it as false
    assert load_settings(workspace / "confs").release.attestation == "off"
    (workspace / "confs" / "release.yaml").unlink()
    assert load_settings(workspace / "confs").release.attestation == "auto"
