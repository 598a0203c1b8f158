"""The shared test helpers in conftest.py: the interpreter a bake runs on, and the test lanes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.conftest import DEFAULT, SLOW_TESTS, combo_id, interpreter_for, is_slow


@pytest.mark.parametrize("value", ["true", "1", "yes", "TRUE"])
def test_a_missing_python_fails_in_ci_naming_the_version_and_how_to_install_it(monkeypatch, tmp_path: Path, value: str):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as failed:
        interpreter_for("3.99", tmp_path)
    assert "python3.99 is not installed" in str(failed.value)
    assert "uv python install 3.99" in str(failed.value)


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_a_missing_python_only_warns_outside_ci_and_runs_on_ours(monkeypatch, tmp_path: Path, value: str | None):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.warns(UserWarning, match=r"python3\.99 is not installed here"):
        found = interpreter_for("3.99", tmp_path)
    assert found[0] == "--python" and Path(found[1]).name.startswith("python")


def test_every_test_the_slow_lane_names_exists():
    # A renamed test would silently leave the slow lane and slow the fast one down.
    for module, names in SLOW_TESTS.items():
        tests = {name for name in vars(importlib.import_module(module)) if name.startswith("test_")}
        assert names == "*" or set(names) <= tests, f"{module}: no test named {sorted(set(names) - tests)}"


def test_slow_lane_membership():
    assert is_slow("tests.test_workflows_e2e", "test_anything")
    assert is_slow("tests.test_release_cli", "test_release_with_a_tracking_server_moves_the_champion_alias")
    assert not is_slow("tests.test_release_cli", "test_release_without_a_token_is_a_one_line_error")
    assert not is_slow("tests.test_act_support", "test_run_act_refuses_a_short_secret")


def test_the_fast_lane_keeps_the_default_combination_and_leaves_the_others_out():
    from tests.test_generated_project import test_pr_loop_passes_on_the_embedded_defaults as loop

    (parametrize,) = [mark for mark in loop.pytestmark if mark.name == "parametrize"]
    lanes = {param.id: any(mark.name == "slow" for mark in param.marks) for param in parametrize.args[1]}
    assert lanes.pop(combo_id(DEFAULT)) is False
    assert lanes and all(lanes.values())
