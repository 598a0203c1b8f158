"""With MLFLOW_TRACKING_URI set, runs, models and the champion alias live on a real `mlflow server`."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEFAULT, mlops, project_env
from tests.services import mlflow_server


def server_get(url: str, endpoint: str, **query: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/2.0/mlflow/{endpoint}?{urllib.parse.urlencode(query)}", timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow  # a real mlflow server
def test_runs_models_and_the_champion_alias_live_on_the_server(synced_project, tmp_path: Path):
    project = synced_project(DEFAULT)
    shutil.rmtree(project / "outputs", ignore_errors=True)
    with mlflow_server(project / ".venv", tmp_path, project_env()) as url:
        remote = {"MLFLOW_TRACKING_URI": url}
        # Given a tracking server, When the first model is trained and evaluated
        for verb in ("validate", "train", "champion", "evaluate"):
            mlops(project, verb, env=remote)
        # Then the run and the registered version are on the server, and `champion` needed no GitHub
        first = json.loads((project / "outputs" / "train" / "run.json").read_text())
        assert first["tracking_uri"] == url
        run = server_get(url, "runs/get", run_id=first["model"]["run_id"])["run"]
        assert {param["key"]: param["value"] for param in run["data"]["params"]}["seed"] == "42"
        assert json.loads((project / "outputs" / "champion" / "champion.json").read_text()) == {"source": "registry"}
        assert json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())["champion"] is None
        # When it is promoted and a second model is evaluated
        mlops(project, "promote", env=remote)
        alias = server_get(url, "registered-models/alias", name="churn-model", alias="champion")["model_version"]
        assert alias["version"] == first["model"]["version"] == "1"
        mlops(project, "train", env=remote)
        mlops(project, "evaluate", env=remote)
        # Then the champion was loaded from the server's registry through the alias
        metrics = json.loads((project / "outputs" / "evaluate" / "metrics.json").read_text())
        assert metrics["champion"]["model_uri"] == "models:/churn-model@champion"
        assert metrics["champion"]["version"] == "1" and metrics["challenger"]["version"] == "2"
