"""The baked project's `scripts/build_image.py`, without a Docker daemon: what it refuses and the build it asks for."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE


@pytest.fixture
def project(tmp_path: Path) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path)))


def test_without_a_champion_it_says_to_fetch_one_and_builds_nothing(project: Path):
    # An empty PATH: had it called docker, the error would be a FileNotFoundError traceback, not this line.
    result = subprocess.run(
        [sys.executable, "scripts/build_image.py", "acme/churn-model:v1"], cwd=project, capture_output=True, text=True, env={"PATH": ""}
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "outputs/champion/ holds no champion (champion.json and model/): run `mlops champion` first"


def test_the_build_names_the_base_the_extra_ca_and_the_release_it_serves(project: Path, tmp_path: Path):
    (project / "outputs/champion/model").mkdir(parents=True)
    (project / "outputs/champion/champion.json").write_text(json.dumps({"source": "release", "tag": "v1.2.0", "sha256": "ab" * 32}))
    ca = tmp_path / "proxy.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    spec = importlib.util.spec_from_file_location("build_image", project / "scripts/build_image.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    command = script.build_command("reg/churn-model:v1.2.0", ["--pull"], {"BASE_IMAGE": "local/python:3.11", "EXTRA_CA_CERT_FILE": str(ca)})
    assert command[:2] == ["docker", "build"] and command[-2:] == ["--pull", str(project)]
    arguments = {command[index + 1] for index, flag in enumerate(command) if flag == "--build-arg"}
    assert arguments == {
        "BASE_IMAGE=local/python:3.11",
        f"EXTRA_CA_CERT={ca.read_text()}",
        "MODEL_DIR=outputs/champion",
        "MODEL_VERSION=v1.2.0",
        f"MODEL_SHA256={'ab' * 32}",
    }
    assert command[command.index("--tag") + 1] == "reg/churn-model:v1.2.0" and command[command.index("--network") + 1] == "host"
    # Without them the Dockerfile's defaults apply: the official slim Python and no extra CA.
    plain = script.build_command("churn-model", [], {})
    assert not [argument for argument in plain if argument.startswith(("BASE_IMAGE=", "EXTRA_CA_CERT="))]


def test_the_release_builds_the_prepared_model_folder_and_no_folder_the_build_context_leaves_out(project: Path):
    (project / "outputs/release/serving/model").mkdir(parents=True)
    (project / "outputs/release/serving/champion.json").write_text(json.dumps({"source": "release", "tag": "v2.0.0", "sha256": "cd" * 32}))
    spec = importlib.util.spec_from_file_location("build_image", project / "scripts/build_image.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    command = script.build_command("reg/churn-model:v2.0.0", [], {"MODEL_DIR": "outputs/release/serving"})
    arguments = {command[index + 1] for index, flag in enumerate(command) if flag == "--build-arg"}
    assert {"MODEL_DIR=outputs/release/serving", "MODEL_VERSION=v2.0.0"} <= arguments
    assert "!outputs/release/serving/" in (project / ".dockerignore").read_text().splitlines()

    (project / "elsewhere/model").mkdir(parents=True)
    (project / "elsewhere/champion.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "scripts/build_image.py", "acme/churn-model:v1"],
        cwd=project, capture_output=True, text=True, env={"PATH": "", "MODEL_DIR": "elsewhere"},
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith("MODEL_DIR=elsewhere: expected one of outputs/champion")
