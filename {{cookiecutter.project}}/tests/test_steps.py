"""The shared steps: reusing what validate verified only when provably unchanged, the kept model, the champion probe."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package }}.cli import app
from {{ cookiecutter.package }}.config import Settings, load_settings
from {{ cookiecutter.package }}.core.records import TrainingRun
from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io import local_registry
from {{ cookiecutter.package }}.jobs import METRICS_JSON, PR_REPORT_MD, TRAINING_JSON, steps

from tests.conftest import data_file, put_text_in_a_number


def mlops(*args: str):
    return CliRunner().invoke(app, list(args))


def test_train_and_evaluate_reuse_exactly_the_frame_validate_checked(settings: Settings):
    # Given validated data
    assert mlops("validate").exit_code == 0
    # When a later verb asks for the data, Then it gets the very frame validate checked, types included
    reused = steps.verified_data(settings)
    checked = steps.check_data(settings)
    assert reused.reused and reused.passed
    pd.testing.assert_frame_equal(reused.frame, checked.frame)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda ws: _append_to(data_file(ws), ""), id="data-bytes"),
        pytest.param(lambda ws: _widen_a_bound(ws), id="column-bounds"),
        pytest.param(lambda ws: _append_to(ws / steps.VERIFIED_FRAME, "x"), id="stored-frame"),
        pytest.param(lambda ws: (ws / steps.VERIFIED_JSON).write_text("{"), id="unreadable-proof"),
    ],
)
def test_anything_changed_since_validate_means_checking_again(workspace: Path, change):
    assert mlops("validate").exit_code == 0
    change(workspace)
    check = steps.verified_data(load_settings(workspace / "confs"))
    assert not check.reused


def test_failing_validation_leaves_no_proof_and_train_checks_again(workspace: Path):
    assert mlops("validate").exit_code == 0
    name = put_text_in_a_number(workspace, "forty")
    assert mlops("manifest").exit_code == 0
    assert mlops("validate").exit_code == 1
    assert not (workspace / steps.VERIFIED_JSON).exists() and not (workspace / steps.VERIFIED_FRAME).exists()
    result = mlops("train")
    assert result.exit_code == 2 and f"{name}: 1 row(s) not a valid" in result.stderr


def test_train_keeps_the_logged_model_and_evaluate_scores_it_without_mlflow(workspace: Path, settings: Settings):
    assert mlops("validate").exit_code == 0
    # The frame validate checked is reused, so train never imports pandera; evaluate never imports
    # MLflow when there is no champion
    assert "pandera" not in _top_level(modules_imported_by("train", watching={"pandera"}))
    record = TrainingRun.from_dict(json.loads((workspace / TRAINING_JSON).read_text()))
    assert record.model.local_dir == steps.TRAINED_MODEL_DIR.as_posix()
    assert steps.file_sha256(workspace / record.model.local_dir / "model.skops") == record.model.sha256
    # The kept folder holds the same bytes MLflow logged
    from {{ cookiecutter.package }}.io import tracking

    logged = tracking.load_model(settings, record.model.model_uri, sha256=record.model.sha256)
    assert type(logged) is type(steps.load_trained(settings, record.model))
    assert not {"mlflow", "pandera"} & _top_level(modules_imported_by("evaluate", watching={"mlflow", "pandera"}))
    assert json.loads((workspace / METRICS_JSON).read_text())["challenger"]["run_id"] == record.model.run_id


def test_report_imports_none_of_the_heavy_libraries(workspace: Path):
    assert mlops("validate").exit_code == 0
    heavy = {"pandas", "pandera", "sklearn", "skops", "mlflow"}
    assert not heavy & _top_level(modules_imported_by("report", watching=heavy))
    assert (workspace / PR_REPORT_MD).exists()


def test_the_import_probe_sees_what_a_verb_imports(workspace: Path):
    # The probe itself can fail: what the verb's path imports is seen. (Watching a third-party package that the
    # verb does import would load a second copy of it beside the first, which pandera and skops, with their
    # registries of types, do not survive; the project's own modules are unloaded and imported afresh each time.)
    assert mlops("validate").exit_code == 0
    assert "{{ cookiecutter.package }}.jobs.report" in modules_imported_by("report", watching=set())
    assert "{{ cookiecutter.package }}.jobs.train" not in modules_imported_by("report", watching=set())


def modules_imported_by(verb: str, *, watching: set[str]) -> set[str]:
    """Run ``mlops <verb>`` as a fresh process would import it; return the modules of ``watching`` and of the project it imported.

    In this process (a new interpreter per probe costs seconds of imports): the project's own
    modules and the ``watching`` packages are unloaded first, so every import statement on the
    verb's path runs again, and put back after, so the rest of the session keeps its modules.
    Only a package the verb must NOT import may be watched: one it does import is loaded twice.
    """
    package = "{{ cookiecutter.package }}"

    def unloadable(name: str) -> bool:
        return name.partition(".")[0] in watching | {package}

    saved = {name: sys.modules.pop(name) for name in [name for name in sys.modules if unloadable(name)]}
    argv = sys.argv
    try:
        sys.argv = ["mlops", verb]
        try:
            importlib.import_module(f"{package}.cli").main()
        except SystemExit as done:
            assert not done.code, done.code
        return {name for name in sys.modules if unloadable(name)}
    finally:
        sys.argv = argv
        for name in [name for name in sys.modules if unloadable(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def _top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_a_kept_model_that_is_not_the_logged_one_is_refused(workspace: Path, settings: Settings):
    assert mlops("train").exit_code == 0
    record = TrainingRun.from_dict(json.loads((workspace / TRAINING_JSON).read_text()))
    with (workspace / record.model.local_dir / "model.skops").open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(InputError, match="run `mlops train` again"):
        steps.load_trained(settings, record.model)
    result = mlops("evaluate")
    assert result.exit_code == 2 and "sha256" in result.stderr


def test_the_local_alias_probe_agrees_with_mlflow(workspace: Path, settings: Settings):
    uri, name = settings.tracking_uri, settings.tracking.registered_model
    # No store yet (as in CI, where every run starts without one): provably no champion
    Path(uri.removeprefix(local_registry.SQLITE_PREFIX)).unlink()
    assert local_registry.is_new_store(uri)
    assert local_registry.alias_is_absent(uri, name, local_registry.CHAMPION_ALIAS)
    assert mlops("train").exit_code == 0
    assert not local_registry.is_new_store(uri)
    assert local_registry.alias_is_absent(uri, name, local_registry.CHAMPION_ALIAS)
    assert mlops("evaluate").exit_code == 0
    assert mlops("promote").exit_code == 0
    # Once promoted the probe defers to MLflow, which finds the champion
    assert not local_registry.alias_is_absent(uri, name, local_registry.CHAMPION_ALIAS)
    ref, _ = steps.load_champion(settings)
    assert ref.version == "1"
    # Anything but a readable SQLite store with that table means: ask MLflow
    broken = workspace / "not-a-store.db"
    broken.write_text("not sqlite")
    assert not local_registry.alias_is_absent(f"sqlite:///{broken}", name, local_registry.CHAMPION_ALIAS)
    assert not local_registry.alias_is_absent("http://localhost:5000", name, local_registry.CHAMPION_ALIAS)


def _append_to(path: Path, text: str) -> None:
    with path.open("a") as stream:
        stream.write(text + "\n")


def _widen_a_bound(workspace: Path) -> None:
    """Loosen one numeric column's upper bound in confs/data.yaml: a new contract, the same data."""
    import yaml

    path = workspace / "confs" / "data.yaml"
    data = yaml.safe_load(path.read_text())
    name = next(name for name, spec in data["columns"].items() if spec.get("max") is not None)
    data["columns"][name]["max"] = data["columns"][name]["max"] + 1
    path.write_text(yaml.safe_dump(data, sort_keys=False))
