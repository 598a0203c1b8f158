"""Model files on disk: saved and loaded with skops and the project's own trusted types, never pickle.

A model folder is MLflow's layout (``MLmodel``, ``model.skops``, requirements). Loading reads
``model.skops`` alone, with ``core.models.TRUSTED_TYPES``: what the folder says about its own
format or trusted types is ignored, since a release asset may have been written by anyone who
can publish a release. Importing this module costs no MLflow import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.models import TRUSTED_TYPES
from ..errors import InputError

MODEL_FILE = "model.skops"

# Should anything load a model through MLflow's own loaders, refuse pickle-based formats there too.
os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"


def load_model(model_dir: Path) -> Any:
    """The estimator in ``model_dir/model.skops``; refuses any type outside ``TRUSTED_TYPES``."""
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    path = Path(model_dir) / MODEL_FILE
    if not path.is_file():
        raise InputError(f"{model_dir}: no {MODEL_FILE}; only skops model files are loaded (never pickle)")
    try:
        # skops audits every type in the file against ``trusted`` before it constructs anything:
        # one pass over the file, not a separate get_untrusted_types pass first.
        return skops.io.load(path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as error:
        found = error.args[0] if error.args and isinstance(error.args[0], (set, list, tuple)) else [str(error)]
        untrusted = ", ".join(sorted(str(name) for name in found))
        raise InputError(f"{path}: contains types this project does not trust ({untrusted}); refusing to load it") from error
    except Exception as error:  # skops raises a variety of errors on a corrupt file
        raise InputError(
            f"{path}: not a readable skops model file ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
        ) from error
