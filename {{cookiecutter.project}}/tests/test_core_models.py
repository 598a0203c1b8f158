"""Model files: every estimator family loads with the project's fixed trusted types; nothing else loads."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import skops.io
from sklearn.preprocessing import FunctionTransformer

from {{ cookiecutter.package }}.config import Settings
from {{ cookiecutter.package }}.core.features import build_preprocessor
from {{ cookiecutter.package }}.core.models import ESTIMATORS, TRUSTED_TYPES, build_estimator, build_pipeline
from {{ cookiecutter.package }}.core.schemas import build_schema
from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io import model_files
from {{ cookiecutter.package }}.io.datasets import read_table

from tests.conftest import TASK


@pytest.mark.parametrize("family", sorted(ESTIMATORS[TASK]))
def test_every_family_needs_only_the_fixed_trusted_types(settings: Settings, family: str, tmp_path: Path):
    # Given a fitted pipeline of this family on the project's own data (seeded rows from anywhere: a table sorted by its
    # target would give its first rows a single class)
    frame = build_schema(settings.data.columns).validate(read_table(settings.path(settings.data.path), settings.data.missing_values))
    frame = frame.sample(n=min(400, len(frame)), random_state=settings.model.seed)
    pipeline = build_pipeline(build_preprocessor(settings.data.features), build_estimator(TASK, family, {}, 0))
    pipeline.fit(frame[settings.data.features.all], frame[settings.data.target])
    # Then skops needs no type beyond the fixed list, and the saved file loads back through the safe loader
    assert set(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))) <= set(TRUSTED_TYPES)
    (tmp_path / model_files.MODEL_FILE).write_bytes(skops.io.dumps(pipeline))
    loaded = model_files.load_model(tmp_path)
    assert type(loaded.named_steps["estimator"]) is type(pipeline.named_steps["estimator"])


def test_a_pickled_model_is_never_loaded(tmp_path: Path):
    # Given a model folder whose MLmodel claims pickle, with a pickle that would run code on load
    marker = tmp_path / "pwned"
    (tmp_path / "MLmodel").write_text("flavors:\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n")
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(_Exploit(str(marker))))
    # When it is loaded, Then it is refused and the payload never ran
    with pytest.raises(InputError, match="only skops model files are loaded"):
        model_files.load_model(tmp_path)
    assert not marker.exists()


def test_a_skops_file_with_a_foreign_type_is_refused_whatever_mlmodel_trusts(tmp_path: Path):
    # Given a skops file that carries a function outside the trusted list, and an MLmodel that trusts it
    (tmp_path / model_files.MODEL_FILE).write_bytes(skops.io.dumps(FunctionTransformer(func=os.system)))
    (tmp_path / "MLmodel").write_text("flavors:\n  sklearn:\n    serialization_format: skops\n    skops_trusted_types: [posix.system]\n")
    with pytest.raises(InputError, match="types this project does not trust") as refused:
        model_files.load_model(tmp_path)
    # And the message names the foreign type
    assert f"{os.system.__module__}.{os.system.__name__}" in str(refused.value)


def test_a_corrupt_model_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / model_files.MODEL_FILE).write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable skops model file"):
        model_files.load_model(tmp_path)


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))
