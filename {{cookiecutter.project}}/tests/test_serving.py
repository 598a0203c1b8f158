"""The prediction service (`mlops serve`): its answers, caps, release policies, metrics and prediction log.

The app runs in-process (Starlette's TestClient drives its lifespan: load, warm-up, shutdown) on one model
trained per session; parity and SIGTERM run a real `mlops serve` process on a loopback port.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from {{ cookiecutter.package }}.cli import app as cli
from {{ cookiecutter.package }}.config import PredictionLogConfig, ServingConfig, Settings, load_settings
from {{ cookiecutter.package }}.core.schemas import build_schema
from {{ cookiecutter.package }}.errors import ConfigError
from {{ cookiecutter.package }}.io.model_files import load_model
from {{ cookiecutter.package }}.jobs import CHAMPION_DIR, CHAMPION_JSON, DRIFT_JSON, steps
from {{ cookiecutter.package }}.serving.app import Service
from {{ cookiecutter.package }}.serving.prediction_log import PredictionLog
from {{ cookiecutter.package }}.serving.scoring import PREVIOUS, RELEASE, Policy, ServedModel

from tests.conftest import PROJECT_SETTINGS, feature_column, small_sample, unseen_rows

DATA = PROJECT_SETTINGS.data
RELEASE_TAG, PREVIOUS_TAG = "v2.0.0", "v1.0.0"


@pytest.fixture(scope="session")
def estimator(trained: Path) -> Any:
    """The session's model, loaded once through the safe loader."""
    return load_model(trained / steps.TRAINED_MODEL_DIR)


def models(trained: Path, estimator: Any, *, previous: bool = False) -> dict[str, ServedModel]:
    folder = trained / steps.TRAINED_MODEL_DIR
    served = {RELEASE: ServedModel(RELEASE, RELEASE_TAG, folder, estimator, {"tag": RELEASE_TAG, "metrics": {"score": 0.5}})}
    if previous:
        served[PREVIOUS] = ServedModel(PREVIOUS, PREVIOUS_TAG, folder, estimator, {"tag": PREVIOUS_TAG})
    return served


def with_serving(settings: Settings = PROJECT_SETTINGS, **serving: Any) -> Settings:
    return settings.model_copy(update={"serving": ServingConfig(**serving)})


def ready(client: TestClient) -> TestClient:
    """The client once /ready says so (the model loads and warms up after start-up)."""
    for _ in range(500):
        if client.get("/ready").status_code == 200:
            return client
        time.sleep(0.01)
    raise AssertionError(f"never ready: {client.get('/ready').json()}")


def typed_rows(count: int | None = None) -> pd.DataFrame:
    """Rows of the data file, typed as `mlops validate` types them."""
    frame = build_schema(DATA.columns).validate(small_sample())
    return frame if count is None else frame.head(count)


def as_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as a client sends them: every declared column but the target, JSON values."""
    rows = []
    for record in frame.drop(columns=[DATA.target]).to_dict("records"):
        row = {}
        for name, value in record.items():
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
                row[name] = None
            elif isinstance(value, pd.Timestamp):
                row[name] = value.isoformat()
            else:
                row[name] = value.item() if hasattr(value, "item") else value
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def direct(trained: Path, estimator: Any):
    service = Service(with_serving(max_batch_rows=50, max_body_bytes=64 * 1024), lambda: models(trained, estimator))
    with TestClient(service.app) as client:
        yield ready(client)


def test_health_at_once_ready_only_after_the_model_is_loaded_and_warmed(trained: Path, estimator: Any):
    import threading

    loaded = threading.Event()

    def load():
        loaded.wait(10)
        return models(trained, estimator)

    with TestClient(Service(PROJECT_SETTINGS, load).app) as client:
        assert client.get("/health").json() == {"status": "alive"}
        assert client.get("/ready").status_code == 503
        assert client.post("/predict", json={"rows": as_json(typed_rows(1))}).status_code == 503
        loaded.set()
        assert ready(client).get("/ready").json()["model_version"] == RELEASE_TAG


def test_a_model_that_fails_to_load_is_never_ready_and_says_why(tmp_path: Path):
    def load():
        return {RELEASE: ServedModel(RELEASE, "v0", tmp_path, load_model(tmp_path), {})}

    with TestClient(Service(PROJECT_SETTINGS, load).app) as client:
        for _ in range(200):
            answer = client.get("/ready").json()
            if answer["status"] != "loading":
                break
            time.sleep(0.01)
        assert answer["status"] == "failed" and "no model.skops" in answer["error"]


def test_predictions_match_the_shared_predict_function_for_one_row_and_a_batch(direct: TestClient, estimator: Any):
    frame = typed_rows(40)
    expected = steps.predict(estimator, frame[DATA.features.all]).tolist()
    # Like with like: a linear model's answer for a row alone can differ in the last bit from the same row's within a
    # batch (BLAS kernels differ by shape; the flats' ridge found it), so the one row is compared with it scored alone.
    alone = steps.predict(estimator, frame.head(1)[DATA.features.all]).tolist()
    one = direct.post("/predict", json={"rows": as_json(frame.head(1))})
    assert one.status_code == 200 and one.json()["predictions"] == alone
    batch = direct.post("/predict", json={"rows": as_json(frame)}, headers={"X-Request-ID": "batch-1"}).json()
    assert batch == {"predictions": expected, "model_version": RELEASE_TAG, "request_id": "batch-1"}


def test_the_openapi_page_is_the_data_contract(direct: TestClient):
    schema = direct.get("/openapi.json").json()["components"]["schemas"]["Row"]
    assert set(schema["properties"]) == set(DATA.columns) - {DATA.target}
    assert set(schema["required"]) == {name for name in DATA.features.all if not DATA.columns[name].nullable}
    assert schema["additionalProperties"] is False
    for name in DATA.features.all:
        spec, field = DATA.columns[name], json.dumps(schema["properties"][name])
        if spec.allowed is not None:
            assert all(json.dumps(str(value) if spec.dtype in ("string", "category") else value) in field for value in spec.allowed)
        if spec.min is not None and spec.allowed is None:
            assert f'"minimum": {spec.min}' in field


def problems(client: TestClient, row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    answer = client.post("/predict", json={"rows": [as_json(typed_rows(1))[0], row]})
    assert answer.status_code == 422, answer.text
    return {problem["loc"][-1]: problem for problem in answer.json()["detail"] if problem["loc"][:3] == ["body", "rows", 1]}


def test_422_names_a_value_below_its_minimum(direct: TestClient):
    name, spec = feature_column(lambda spec: spec.min is not None and spec.allowed is None, "bounded numeric")
    found = problems(direct, as_json(typed_rows(1))[0] | {name: spec.min - 1})
    # The bound as a number: pydantic writes a float bound of 0.0 as "0" (the diamonds' carat found it).
    message, _, bound = found[name]["msg"].rpartition(" ")
    assert list(found) == [name] and message.endswith("greater than or equal to") and float(bound) == spec.min


def test_422_names_a_value_outside_the_allowed_ones(direct: TestClient):
    name, spec = feature_column(lambda spec: spec.allowed is not None and spec.dtype in ("category", "string"), "categorical")
    found = problems(direct, as_json(typed_rows(1))[0] | {name: "no-such-value"})
    assert list(found) == [name] and all(str(value) in found[name]["msg"] for value in spec.allowed)


def test_422_names_text_in_a_number(direct: TestClient):
    name, spec = feature_column(lambda spec: spec.dtype in ("int", "float") and spec.allowed is None, "numeric")
    found = problems(direct, as_json(typed_rows(1))[0] | {name: "twelve"})
    assert list(found) == [name] and ("integer" if spec.dtype == "int" else "number") in found[name]["msg"]


def test_422_names_a_missing_required_feature_unknown_fields_and_the_target(direct: TestClient):
    name, _ = feature_column(lambda spec: not spec.nullable, "required")
    row = {key: value for key, value in as_json(typed_rows(1))[0].items() if key != name} | {"no_such_column": 1, DATA.target: 1}
    found = problems(direct, row)
    assert set(found) == {name, "no_such_column", DATA.target}
    assert found[name]["type"] == "missing" and "required feature" in found[name]["msg"]
    assert found["no_such_column"]["msg"].startswith("unknown field")
    assert "is the target" in found[DATA.target]["msg"]


def test_a_missing_nullable_feature_is_imputed_as_in_training(trained: Path, estimator: Any):
    name = DATA.features.all[0]
    columns = {**DATA.columns, name: DATA.columns[name].model_copy(update={"nullable": True})}
    settings = with_serving(PROJECT_SETTINGS.model_copy(update={"data": DATA.model_copy(update={"columns": columns})}))
    row = {key: value for key, value in as_json(typed_rows(1))[0].items() if key != name}
    frame = typed_rows(1)[DATA.features.all].copy()
    frame[name] = pd.array([None], dtype="Int64") if DATA.columns[name].dtype == "int" else None
    if DATA.columns[name].dtype == "float":
        frame[name] = float("nan")
    with TestClient(Service(settings, lambda: models(trained, estimator)).app) as client:
        answer = ready(client).post("/predict", json={"rows": [row]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == steps.predict(estimator, frame).tolist()


def test_a_body_over_the_cap_is_413_before_it_is_parsed(direct: TestClient):
    answer = direct.post("/predict", content=b"{" + b" " * (64 * 1024) + b"}", headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "max_body_bytes" in answer.json()["detail"]

    def chunks():  # no Content-Length: the cap holds while the body is read
        for _ in range(100):
            yield b" " * 1024

    streamed = direct.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_a_batch_over_the_cap_is_413(direct: TestClient):
    rows = as_json(typed_rows(1)) * 51
    answer = direct.post("/predict", json={"rows": rows})
    assert answer.status_code == 413 and "max_batch_rows" in answer.json()["detail"]
    assert direct.post("/predict", json={"rows": rows[:50]}).status_code == 200


def test_a_failure_inside_is_a_500_without_a_stack_trace(trained: Path, estimator: Any):
    class FailsAfterWarmUp:
        calls = 0

        def __getattr__(self, name: str):
            # What the estimator answers with (predict_proba for a classifier, predict for a regressor): a regressor's
            # missing predict_proba stays missing, so the one prediction path calls predict.
            if name not in {"predict", "predict_proba"}:
                raise AttributeError(name)
            method = getattr(estimator, name)

            def fails_after_warm_up(frame):
                FailsAfterWarmUp.calls += 1
                if FailsAfterWarmUp.calls > 1:
                    raise RuntimeError("secret internals")
                return method(frame)

            return fails_after_warm_up

    served = {RELEASE: ServedModel(RELEASE, "v0", trained, FailsAfterWarmUp(), {})}
    with TestClient(Service(PROJECT_SETTINGS, lambda: served).app, raise_server_exceptions=False) as client:
        answer = ready(client).post("/predict", json={"rows": as_json(typed_rows(1))}, headers={"X-Request-ID": "failing"})
        assert answer.status_code == 500 and answer.headers["x-request-id"] == "failing"
        assert "secret" not in answer.text and "Traceback" not in answer.text
        assert client.post("/predict", json={"rows": as_json(typed_rows(1))}).status_code == 500  # still answering


def test_metrics_count_requests_errors_latency_and_predictions_by_model(direct: TestClient):
    direct.post("/predict", json={"rows": as_json(typed_rows(3))})
    direct.post("/predict", json={"rows": [{"no_such_column": 1}]})
    text = direct.get("/metrics").text
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and not line.startswith("#")}
    release = {"model_version": RELEASE_TAG, "role": "release"}
    assert samples[series("mlops_predictions_total", **release)] >= 3
    assert samples[series("mlops_prediction_value_count", **release)] == samples[series("mlops_predictions_total", **release)]
    assert samples[series("mlops_http_errors_total", path="/predict", status="422")] >= 1
    assert samples[series("mlops_http_request_duration_seconds_count", path="/predict")] >= 2
    assert samples[series("mlops_model_info", policy="direct", **release)] == 1


def series(name: str, **labels: str) -> str:
    """A sample's name as the text format writes it (labels sorted by name)."""
    return name + "{" + ",".join(f'{key}="{value}"' for key, value in sorted(labels.items())) + "}"


def test_metadata_names_the_release_and_its_training_metrics(direct: TestClient):
    answer = direct.get("/metadata").json()
    assert answer["policy"] == "direct"
    assert [(model["role"], model["release_tag"], model["training_metrics"]) for model in answer["models"]] == [
        ("release", RELEASE_TAG, {"score": 0.5})
    ]


def test_canary_share_is_kept_within_binomial_tolerance_and_sticky_per_request_id(trained: Path, estimator: Any):
    share, ids = 0.3, [f"client-{number}" for number in range(20000)]
    policy = Policy("canary", share, has_previous=True)
    chosen = [policy.answering(request_id) for request_id in ids]
    tolerance = 4 * math.sqrt(share * (1 - share) / len(ids))  # four standard deviations
    assert abs(chosen.count(RELEASE) / len(ids) - share) < tolerance
    assert chosen == [policy.answering(request_id) for request_id in ids]  # the same id, the same model, every time

    settings = with_serving(policy="canary", canary_share=share)
    with TestClient(Service(settings, lambda: models(trained, estimator, previous=True)).app) as client:
        ready(client)
        body = {"rows": as_json(typed_rows(1))}
        versions = {
            request_id: client.post("/predict", json=body, headers={"X-Request-ID": request_id}).json()["model_version"]
            for request_id in ids[:60]
        }
        assert {versions[request_id] for request_id in ids[:60]} == {RELEASE_TAG, PREVIOUS_TAG}
        assert all(
            client.post("/predict", json=body, headers={"X-Request-ID": request_id}).json()["model_version"] == versions[request_id]
            for request_id in ids[:10]
        )
        expected = {request_id: RELEASE_TAG if policy.answering(request_id) == RELEASE else PREVIOUS_TAG for request_id in ids[:60]}
        assert versions == expected
        text = client.get("/metrics").text
    assert series("mlops_predictions_total", model_version=PREVIOUS_TAG, role="previous") in text
    assert series("mlops_predictions_total", model_version=RELEASE_TAG, role="release") in text


def read_log(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for file in sorted(folder.glob("*.jsonl")) for line in file.read_text().splitlines()]


def test_shadow_answers_with_the_previous_model_and_logs_both(trained: Path, estimator: Any, tmp_path: Path):
    settings = with_serving(policy="shadow", prediction_log=PredictionLogConfig(sink=str(tmp_path), sample_rate=0.0))
    frame = typed_rows(5)
    service = Service(
        settings, lambda: models(trained, estimator, previous=True), log=PredictionLog(settings, settings.serving.prediction_log)
    )
    with TestClient(service.app) as client:
        answer = ready(client).post("/predict", json={"rows": as_json(frame)}, headers={"X-Request-ID": "shadowed"}).json()
        assert client.get("/metadata").json()["policy"] == "shadow"
    assert answer["model_version"] == PREVIOUS_TAG
    logged = read_log(tmp_path)  # every request in shadow mode, whatever the sample rate; written at shutdown
    expected = steps.predict(estimator, frame[DATA.features.all]).tolist()
    assert [line["mlops_prediction"] for line in logged] == expected == answer["predictions"]
    assert [line["mlops_shadow_prediction"] for line in logged] == expected
    assert {(line["mlops_model_version"], line["mlops_shadow_model_version"], line["mlops_request_id"]) for line in logged} == {
        (PREVIOUS_TAG, RELEASE_TAG, "shadowed")
    }


def test_canary_or_shadow_without_a_previous_model_serve_the_release_alone(trained: Path, estimator: Any):
    with TestClient(Service(with_serving(policy="canary"), lambda: models(trained, estimator)).app) as client:
        answers = {ready(client).post("/predict", json={"rows": as_json(typed_rows(1))}).json()["model_version"] for _ in range(5)}
        assert client.get("/metadata").json()["policy"] == "direct"
    assert answers == {RELEASE_TAG}


def crown(workspace: Path, trained: Path) -> Path:
    """The trained model as `mlops champion` leaves the champion: champion.json beside model/."""
    import shutil

    shutil.copytree(trained / steps.TRAINED_MODEL_DIR, workspace / CHAMPION_DIR)
    run = json.loads((trained / steps.TRAINING_JSON).read_text())
    record = {"source": "release", "tag": RELEASE_TAG, "model_path": str(CHAMPION_DIR), "metrics": run["holdout_metrics"]}
    (workspace / CHAMPION_JSON).write_text(json.dumps(record))
    return workspace / CHAMPION_JSON.parent


def test_the_prediction_log_is_production_data_for_mlops_drift(workspace: Path, trained: Path, estimator: Any):
    crown(workspace, trained)
    monitor = workspace / "confs" / "monitor.yaml"
    monitor.write_text(yaml.safe_dump({**yaml.safe_load(monitor.read_text()), "window_days": None, "min_rows": 10}, sort_keys=False))
    assert CliRunner().invoke(cli, ["manifest"]).exit_code == 0
    settings = load_settings(workspace / "confs")
    settings = with_serving(settings, prediction_log=PredictionLogConfig(sample_rate=1.0, sink="data/current", flush_rows=40))
    rows = as_json(build_schema(DATA.columns).validate(unseen_rows(workspace)))
    service = Service(settings, lambda: models(trained, estimator), log=PredictionLog(settings, settings.serving.prediction_log))
    with TestClient(service.app) as client:
        ready(client)
        for start in range(0, len(rows), 25):
            assert client.post("/predict", json={"rows": rows[start : start + 25]}).status_code == 200
    logged = read_log(workspace / "data" / "current")
    assert len(logged) == len(rows) and all(line["mlops_model_version"] == RELEASE_TAG for line in logged)
    result = CliRunner().invoke(cli, ["drift", "--no-history", "--no-html"])
    assert result.exit_code == 0, result.output
    summary = json.loads((workspace / DRIFT_JSON).read_text())
    assert summary["rows"] == len(rows) and summary["rows_refused"] == 0


def test_serve_without_a_champion_is_one_line_and_exit_2(workspace: Path):
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()] and "run `mlops champion`" in result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_real_server_matches_evaluation_bit_for_bit_and_finishes_in_flight_requests_on_sigterm(workspace: Path, trained: Path):
    import httpx

    folder = crown(workspace, trained)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "{{ cookiecutter.package }}", "serve", "--model-dir", str(folder), "--port", str(port)],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the server never got ready")
        # The rows as the data file holds them, typed as validate types them, scored as evaluate scores them.
        frame = typed_rows(200)
        expected = steps.predict(load_model(folder / "model"), frame[DATA.features.all]).tolist()
        assert httpx.post(f"{base}/predict", json={"rows": as_json(frame)}, timeout=30).json()["predictions"] == expected

        body = json.dumps({"rows": as_json(frame.head(3))}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            head = f"POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            connection.sendall(head.encode() + body[:10])
            time.sleep(0.5)  # the server has the request's head: it is in flight
            server.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            connection.sendall(body[10:])
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        status, _, payload = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 200"), answer[:200]
        assert json.loads(payload)["predictions"] == steps.predict(load_model(folder / "model"), frame.head(3)[DATA.features.all]).tolist()
        # uvicorn ends by re-raising the signal it handled (after the graceful shutdown): the status says SIGTERM.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        output = server.stdout.read().decode() if server.stdout else ""
        assert "Traceback" not in output
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_serving_yaml_is_optional_spells_out_the_defaults_and_names_a_wrong_key(workspace: Path):
    shipped = load_settings(workspace / "confs").serving
    assert shipped.model_copy(update={"policy": "direct"}) == ServingConfig()  # the file says what the defaults are
    assert shipped.prediction_log.sample_rate == 0  # off until someone turns it on
    path = workspace / "confs" / "serving.yaml"
    text = path.read_text()
    path.write_text(text.replace("  sample_rate:", "  sample_rat:"))
    unknown = r"^confs/serving\.yaml: prediction_log\.sample_rat: unknown key \(did you mean `sample_rate`\?\)$"
    with pytest.raises(ConfigError, match=unknown):
        load_settings(workspace / "confs")
    path.write_text(text.replace("canary_share: 0.1", "canary_share: 1.5"))
    with pytest.raises(ConfigError, match=r"^confs/serving\.yaml: canary_share: Input should be less than 1$"):
        load_settings(workspace / "confs")
    path.unlink()
    assert load_settings(workspace / "confs").serving == ServingConfig()


def test_the_log_is_off_by_default_and_on_for_a_shadow_with_a_previous_model(workspace: Path, trained: Path):
    from {{ cookiecutter.package }}.jobs import serve

    folder = crown(workspace, trained)
    settings = load_settings(workspace / "confs")
    assert serve.service(with_serving(settings), folder).log is None
    assert serve.service(with_serving(settings, prediction_log=PredictionLogConfig(sample_rate=0.1)), folder).log is not None
    shadow = with_serving(settings, policy="shadow")
    assert serve.service(shadow, folder).log is None  # no previous model: the release answers alone, nothing to compare
    assert serve.service(shadow, folder, previous_model_dir=folder).log is not None


def test_a_quiet_service_still_writes_its_log_after_flush_seconds(trained: Path, estimator: Any, tmp_path: Path):
    logged = PredictionLogConfig(sample_rate=1.0, sink=str(tmp_path), flush_rows=1000, flush_seconds=0.05)
    settings = with_serving(prediction_log=logged)
    service = Service(settings, lambda: models(trained, estimator), log=PredictionLog(settings, logged))
    with TestClient(service.app) as client:
        assert ready(client).post("/predict", json={"rows": as_json(typed_rows(2))}, headers={"X-Request-ID": "quiet"}).status_code == 200
        for _ in range(500):  # no more traffic, no shutdown: the flusher writes the two rows on its own
            if list(tmp_path.glob("*.jsonl")):
                break
            time.sleep(0.01)
        assert [line["mlops_request_id"] for line in read_log(tmp_path)] == ["quiet", "quiet"]
