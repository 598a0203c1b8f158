"""The serving image, built and run for real: a Docker daemon, a registry on loopback standing in for GHCR.

The default bake is trained, promoted and its champion copied out as `mlops champion` does on a laptop; the project's
own build script makes the image on the local base image (tests/images.py), which is pushed, removed, pulled back by
digest and run: probed over HTTP, checked to run as non-root with no build or training tools in it, to answer what
the batch path answers on the same rows, and to stop cleanly on SIGTERM. One story, so that the image is built once.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import images
from tests.conftest import DEFAULT, in_project, mlops, running_in_ci
from tests.services import docker_registry, free_port

pytestmark = pytest.mark.slow
SIZE_BUDGET = 450 * 1000 * 1000  # bytes, uncompressed, as `docker images` counts them
GRACE = 10  # seconds between SIGTERM and SIGKILL when the container is stopped
ROWS = 25
# The batch path's answer on the same rows: the one prediction function, on the rows typed as `mlops validate` types
# them; the rows as a client sends them (every declared column but the target, as JSON values).
BATCH_PREDICT = """
import json, sys
from pathlib import Path
from {package}.config import load_settings
from {package}.core.schemas import build_schema
from {package}.io.datasets import read_table
from {package}.io.model_files import load_model
from {package}.jobs.steps import predict
data = load_settings(Path("confs"), environ={{}}).data
frame = build_schema(data.columns).validate(read_table(sys.argv[1]))
rows = json.loads(frame.drop(columns=[data.target]).to_json(orient="records", date_format="iso"))
print(json.dumps({{"rows": rows, "predictions": predict(load_model(Path(sys.argv[2])), frame[data.features.all]).tolist()}}))
"""

# Run inside the image: what must not be in it (training stack, installers, compilers, the build stage's files).
ABSENT = """
import importlib.util, json, os, shutil
modules = [name for name in ("mlflow", "evidently", "pandera", "uv", "pytest") if importlib.util.find_spec(name)]
tools = [name for name in ("gcc", "cc", "uv") if shutil.which(name)]
paths = [path for path in ("/build", "/root/.cache", "/opt/venv/lib/python3.11/site-packages/sklearn/tests") if os.path.exists(path)]
print(json.dumps(modules + tools + paths))
"""


@pytest.fixture(scope="module")
def client():
    client = images.daemon()
    if client is None:
        message = "no Docker daemon answers: `bash .ci/docker up` (as root) starts one, as .ci/run does"
        if running_in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture(scope="module")
def champion(synced_project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default bake with a champion in outputs/champion/, made on its own registry with no trace of GitHub."""
    project = synced_project(DEFAULT)
    shutil.rmtree(project / "outputs", ignore_errors=True)
    env = {name: "" for name in os.environ if name.startswith("GITHUB_")} | {
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path_factory.mktemp('image-mlflow') / 'mlflow.db'}",
    }
    for verb in ("validate", "train", "evaluate", "promote", "champion"):
        mlops(project, verb, env=env)
    return project


def http(url: str, body: dict | None = None, timeout: float = 10) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_ready(url: str, container, timeout: float = 120) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if http(f"{url}/ready", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        container.reload()
        assert container.status in {"created", "running"}, container.logs().decode()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"/ready did not answer 200 within {timeout} s: {container.logs().decode()[-3000:]}")


def sample_rows(project: Path, folder: Path) -> Path:
    """The first rows of the reference data."""
    lines = (project / "data" / "reference.csv").read_text().splitlines(keepends=True)[: ROWS + 1]
    (folder / "rows.csv").write_text("".join(lines))
    return folder / "rows.csv"


def test_the_release_image_is_small_serves_the_champion_from_the_registry_and_stops_cleanly(client, champion: Path, tmp_path: Path):
    project, package = champion, champion.name.replace("-", "_")
    base = images.base_image(client)
    tag = f"mlops-test/{project.name}:{os.environ.get('PYTEST_XDIST_TESTRUNUID', 'local')[:12]}-{os.getpid()}"
    extra_ca = images.machine_extra_ca(tmp_path / "extra-ca.pem")
    containers, references = [], [tag]
    started, build_started = time.monotonic(), datetime.now(UTC)
    try:
        built = in_project(
            project, sys.executable, "scripts/build_image.py", tag, env={"BASE_IMAGE": base, "EXTRA_CA_CERT_FILE": str(extra_ca)}
        )
        image = client.images.get(tag)
        print(f"\nimage built in {time.monotonic() - started:.0f} s, {image.attrs['Size'] / 1e6:.0f} MB uncompressed")
        assert image.attrs["Size"] <= SIZE_BUDGET, f"{image.attrs['Size'] / 1e6:.0f} MB is over the budget\n{built.stdout[-3000:]}"
        record = json.loads((project / "outputs/champion/champion.json").read_text())
        assert image.labels["org.opencontainers.image.version"] == record["tag"]

        # Pushed, removed here, pulled back by digest: what runs below is what the registry holds.
        with docker_registry(tmp_path) as registry:
            repository = f"{registry}/mlops-test/{project.name}"
            image.tag(repository, "v1")
            references.append(f"{repository}:v1")
            pushed = list(client.images.push(repository, "v1", stream=True, decode=True))
            assert not [line for line in pushed if "error" in line], pushed
            (digest,) = {line["aux"]["Digest"] for line in pushed if "Digest" in line.get("aux", {})}
            for reference in references:
                client.images.remove(reference)
            pulled = client.images.pull(f"{repository}@{digest}")
            references.append(f"{repository}@{digest}")
            assert pulled.id == image.id

        assert pulled.attrs["Config"]["User"] not in {"", "0", "root"} and not pulled.attrs["Config"]["User"].startswith(("0:", "root:"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = ["mlops", "serve", "--model-dir", "/opt/champion", "--host", "127.0.0.1", "--port", str(port)]
        started = time.monotonic()
        served = client.containers.run(pulled.id, command, detach=True, network_mode="host", labels={images.TEST_LABEL: "ephemeral"})
        containers.append(served)
        wait_ready(url, served)
        ready_at, served_for = datetime.now(UTC), time.monotonic() - started
        served.reload()  # the process's own start, apart from the container's creation (vfs copies the whole image)
        process = datetime.fromisoformat(served.attrs["State"]["StartedAt"][:26].rstrip("Z") + "+00:00")
        since_process = (ready_at - process).total_seconds()
        print(f"cold start: /ready {served_for:.1f} s after `docker run`, {since_process:.1f} s after the process started")

        uid = served.exec_run(["id", "-u"])
        assert uid.exit_code == 0 and uid.output.decode().strip() not in {"", "0"}
        # Runtime dependencies only: no training stack, no installer, no compiler, nothing of the build stage.
        absent = served.exec_run(["python", "-c", ABSENT])
        assert absent.exit_code == 0 and json.loads(absent.output) == [], absent.output

        assert json.loads(http(f"{url}/health")[1]) == {"status": "alive"}
        status, ready = http(f"{url}/ready")
        assert status == 200 and json.loads(ready)["status"] == "ready"

        batch = json.loads(
            in_project(
                project, str(project / ".venv/bin/python"), "-c", BATCH_PREDICT.format(package=package),
                str(sample_rows(project, tmp_path)), str(project / "outputs/champion/model"),
            ).stdout
        )  # fmt: skip
        status, answer = http(f"{url}/predict", {"rows": batch["rows"]})
        assert status == 200, answer
        assert json.loads(answer)["predictions"] == batch["predictions"]  # bit for bit: the same floats

        number = next(name for name, value in batch["rows"][0].items() if type(value) in {int, float})
        status, refusal = http(f"{url}/predict", {"rows": [{**batch["rows"][0], number: "not a number"}]})
        assert status == 422 and [error for error in json.loads(refusal)["detail"] if number in error["loc"]], refusal

        status, metrics = http(f"{url}/metrics")
        assert status == 200 and "# TYPE" in metrics

        stopping = time.monotonic()
        served.stop(timeout=GRACE)
        stopped_in = time.monotonic() - stopping
        served.reload()
        print(f"stopped {stopped_in:.1f} s after SIGTERM, exit code {served.attrs['State']['ExitCode']}")
        assert served.attrs["State"]["ExitCode"] in {0, 143} and stopped_in < GRACE, served.logs().decode()[-3000:]
    finally:
        images.remove_test_leftovers(client, base, containers, references, before=build_started)
