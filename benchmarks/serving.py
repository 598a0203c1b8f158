#!/usr/bin/env python3
"""Serving speed of a baked project, side by side with MLflow's own serving on the same model.

(a) Online: single-row requests at concurrency 8 and 64 on loopback, bounded in count and in time,
against `mlops serve` and against `mlflow models serve --env-manager local`, both on the champion
that `mlops champion` copied out: requests/s, p50, p99, errors, and the ratio of the two.
(b) Batch: rows/s of `mlops predict` (a whole process: start, read, check, score, write) against
MLflow's pyfunc batch path (`mlflow.pyfunc.load_model(...).predict` on the same CSV read in chunks
by pandas: read and score, nothing checked or written) on --rows rows resampled from the project's data.

Targets (issue #15, 2 cores): at concurrency 8, ≥ 4× MLflow's requests/s with p99 ≤ 25 ms; no error at
concurrency 64; batch ≥ 200k rows/s. Figures are printed beside them; it never fails on speed. The
load average is printed too: other work on the machine slows every figure here.

Run from the template repository (standard library only; cookiecutter and uv on PATH to bake):

    python3 benchmarks/serving.py [--project DIR] [--rows 1000000] [--requests 2000] [--seconds 30] [--keep] [--output-dir DIR]

With --project, a project already baked and synced (`uv sync --frozen`) is used as it is; its
outputs/champion/ is made once (validate, train, evaluate, promote, champion) when missing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pr_loop  # (its bake, install and run helpers: one way to set a project up)

CONCURRENCY = (8, 64)
TARGET_RATIO = 4.0
TARGET_P99_MS = 25.0
TARGET_BATCH_ROWS_PER_SECOND = 200_000
WARM_UP_REQUESTS = 50
MLFLOW_OPTIONS = ("--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}")  # its defaults otherwise, as a user runs it
READY_SECONDS = 120.0
CHAMPION_VERBS = ("validate", "train", "evaluate", "promote", "champion")

# Run with the project's interpreter: single rows of its own data as JSON (types as pandas infers them,
# which both servers accept), and the batch file resampled from it.
ROWS_SCRIPT = """
import json, sys, pandas as pd, yaml
data = yaml.safe_load(open("confs/data.yaml"))
features = data["features"].get("numeric", []) + data["features"].get("categorical", [])
frame = pd.read_csv(data["path"]).dropna(subset=features).head(int(sys.argv[1]))
print(json.dumps(json.loads(frame[features].to_json(orient="records"))))
"""
BATCH_FILE_SCRIPT = """
import sys, pandas as pd, yaml
data = yaml.safe_load(open("confs/data.yaml"))
frame = pd.read_csv(data["path"], dtype=str, keep_default_na=False)
big = frame.sample(n=int(sys.argv[1]), replace=True, random_state=0).reset_index(drop=True)
if data.get("id_column"):
    big[data["id_column"]] = [f"B{i:09d}" for i in range(len(big))]
big.to_csv(sys.argv[2], index=False)
"""
MLFLOW_BATCH_SCRIPT = """
import json, sys, time, pandas as pd, yaml, mlflow.pyfunc
data = yaml.safe_load(open("confs/data.yaml"))
features = data["features"].get("numeric", []) + data["features"].get("categorical", [])
started = time.perf_counter()
model = mlflow.pyfunc.load_model(sys.argv[1])
loaded = time.perf_counter()
rows = scoring = 0.0
for chunk in pd.read_csv(sys.argv[2], usecols=features, chunksize=int(sys.argv[3])):
    begin = time.perf_counter()
    model.predict(chunk[features])
    scoring += time.perf_counter() - begin
    rows += len(chunk)
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started, "load": loaded - started, "scoring": scoring}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="a baked, synced project to measure (default: bake the template's defaults)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the batch file (default 1,000,000)")
    parser.add_argument("--chunk-rows", type=int, default=200_000, help="rows per chunk for both batch paths (default 200,000)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per server and concurrency at most (default 2000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per server and concurrency at most (default 30)")
    parser.add_argument("--skip-online", action="store_true", help="only the batch comparison")
    parser.add_argument("--skip-batch", action="store_true", help="only the online comparison")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory with the baked project")
    parser.add_argument("--output-dir", type=Path, help="bake into this directory instead of a temporary one (never deleted)")
    parser.add_argument("--template", type=Path, default=pr_loop.REPO_ROOT, help=f"template to bake (default: {pr_loop.REPO_ROOT})")
    args = parser.parse_args()
    if min(args.rows, args.chunk_rows, args.requests) < 1 or args.seconds <= 0:
        parser.error("--rows, --chunk-rows, --requests and --seconds must be positive")
    return args


# --- the project ----------------------------------------------------------------------------------


def prepared_project(args: argparse.Namespace, workdir: Path) -> Path:
    if args.project:
        project = args.project.resolve()
    else:
        pr_loop.require_tools()
        project = pr_loop.bake(args.template.resolve(), workdir)
        print(f"baked {project}; installing its dependencies", flush=True)
        pr_loop.install(project, "compiled")
    if not (project / "outputs" / "champion" / "model" / "MLmodel").is_file():
        print("making the champion once: " + ", ".join(f"mlops {verb}" for verb in CHAMPION_VERBS), flush=True)
        for verb in CHAMPION_VERBS:
            pr_loop.run_checked([str(tool(project, "mlops")), verb], project, f"mlops {verb}")
    return project


def tool(project: Path, name: str) -> Path:
    return project / ".venv" / "bin" / name


def project_python(project: Path, script: str, *arguments: str) -> str:
    _, stdout = pr_loop.run_checked([str(pr_loop.venv_python(project)), "-c", script, *arguments], project, "a helper script")
    return stdout


# --- online ---------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    command: list[str]
    ready_path: str
    predict_path: str
    body_key: str  # the JSON key its rows go under


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_status(port: int, path: str) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


class Running:
    """A server started in its own process group, stopped with SIGTERM (then SIGKILL) by that group's id."""

    def __init__(self, server: Server, project: Path, log: Path) -> None:
        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in server.command]
        self.log = log.open("w")
        # The venv's bin first on PATH, as `uv run` or an activated venv has it: mlflow starts `uvicorn` by name.
        env = pr_loop.child_env() | {"PATH": f"{project / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.process = subprocess.Popen(command, cwd=project, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        started = time.perf_counter()
        while get_status(self.port, server.ready_path) != 200:
            if self.process.poll() is not None or time.perf_counter() - started > READY_SECONDS:
                self.stop()
                raise pr_loop.BenchmarkError(f"{server.name} did not get ready (`{' '.join(command)}`; its log: {log})")
            time.sleep(0.2)
        self.ready_seconds = time.perf_counter() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def load(port: int, path: str, bodies: list[bytes], concurrency: int, max_requests: int, max_seconds: float) -> LoadResult:
    """``concurrency`` clients, each one keep-alive connection, sending single-row requests until either bound is reached."""
    lock = threading.Lock()
    sent = [0]
    errors = [0]
    latencies: list[float] = []
    deadline = time.perf_counter() + max_seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                if sent[0] >= max_requests or time.perf_counter() > deadline:
                    break
                index = sent[0]
                sent[0] += 1
            body = bodies[index % len(bodies)]
            began = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(requests=sent[0], errors=errors[0], seconds=time.perf_counter() - started, latencies_ms=latencies)


def online(project: Path, args: argparse.Namespace, workdir: Path) -> dict[str, dict[int, LoadResult]]:
    rows = json.loads(project_python(project, ROWS_SCRIPT, "500"))
    servers = [
        Server(
            "mlops serve",
            [str(tool(project, "mlops")), "serve", "--model-dir", "outputs/champion", "--host", "127.0.0.1", "--port", "{port}"],
            "/ready",
            "/predict",
            "rows",
        ),
        Server(
            "mlflow models serve",
            [str(tool(project, "mlflow")), "models", "serve", "-m", "outputs/champion/model", *MLFLOW_OPTIONS],
            "/ping",
            "/invocations",
            "dataframe_records",
        ),
    ]
    has_serve = subprocess.run([str(tool(project, "mlops")), "serve", "--help"], cwd=project, capture_output=True).returncode == 0
    results: dict[str, dict[int, LoadResult]] = {}
    for server in servers:
        if server.name == "mlops serve" and not has_serve:
            print("mlops serve: not in this project (the service is not merged yet): skipped", flush=True)
            continue
        bodies = [json.dumps({server.body_key: [row]}).encode() for row in rows]
        running = Running(server, project, workdir / f"{server.name.split()[0]}-serve.log")
        try:
            print(f"{server.name}: ready in {running.ready_seconds:.1f} s on port {running.port}", flush=True)
            load(running.port, server.predict_path, bodies, 4, WARM_UP_REQUESTS, args.seconds)
            results[server.name] = {}
            for concurrency in CONCURRENCY:
                result = load(running.port, server.predict_path, bodies, concurrency, args.requests, args.seconds)
                results[server.name][concurrency] = result
                print(
                    f"  concurrency {concurrency:>2}: {result.requests} requests in {result.seconds:.1f} s, "
                    f"{result.per_second:.0f} req/s, p50 {result.percentile(0.5):.1f} ms, p99 {result.percentile(0.99):.1f} ms, "
                    f"{result.errors} errors",
                    flush=True,
                )
        finally:
            running.stop()
    return results


# --- batch ----------------------------------------------------------------------------------------


def batch(project: Path, args: argparse.Namespace, workdir: Path) -> tuple[float, float, dict]:
    """(mlops predict rows/s, its seconds, MLflow pyfunc's figures) on the same file."""
    source = workdir / "batch.csv"
    print(f"batch: resampling {args.rows:,} rows of the project's data into {source}", flush=True)
    project_python(project, BATCH_FILE_SCRIPT, str(args.rows), str(source))
    output = workdir / "batch-predictions.csv"
    command = [
        str(tool(project, "mlops")),
        "predict",
        "--input",
        str(source),
        "--output",
        str(output),
        "--chunk-rows",
        str(args.chunk_rows),
    ]
    seconds, stdout = pr_loop.run_checked(command, project, "mlops predict")
    print(f"  mlops predict: {stdout.strip()}", flush=True)
    print(f"  mlops predict: {args.rows / seconds:,.0f} rows/s ({seconds:.1f} s, the whole process)", flush=True)
    figures = json.loads(
        project_python(project, MLFLOW_BATCH_SCRIPT, str(project / "outputs" / "champion" / "model"), str(source), str(args.chunk_rows))
    )
    print(
        f"  mlflow pyfunc: {figures['rows'] / figures['seconds']:,.0f} rows/s ({figures['seconds']:.1f} s: load {figures['load']:.1f} s, "
        f"predict {figures['scoring']:.1f} s, the rest reading)",
        flush=True,
    )
    return args.rows / seconds, seconds, figures


# --- report ---------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(online_results: dict[str, dict[int, LoadResult]], batch_figures: tuple[float, float, dict] | None, load_before: str) -> None:
    print(f"\n== serving benchmark ({pr_loop.available_cores()} cores; load average before {load_before}, after {pr_loop.load_average()})")
    ours, theirs = online_results.get("mlops serve"), online_results.get("mlflow models serve")
    if ours and theirs:
        for concurrency in CONCURRENCY:
            a, b = ours[concurrency], theirs[concurrency]
            ratio = a.per_second / b.per_second if b.per_second else float("inf")
            print(
                f"concurrency {concurrency:>2}: mlops serve {a.per_second:.0f} req/s (p50 {a.percentile(0.5):.1f} ms, "
                f"p99 {a.percentile(0.99):.1f} ms, {a.errors} errors) vs mlflow {b.per_second:.0f} req/s "
                f"(p50 {b.percentile(0.5):.1f} ms, p99 {b.percentile(0.99):.1f} ms, {b.errors} errors): ratio {ratio:.2f}×"
            )
        eight = ours[8]
        ratio = eight.per_second / theirs[8].per_second if theirs[8].per_second else float("inf")
        print(f"target ≥ {TARGET_RATIO:.0f}× mlflow at concurrency 8: {ratio:.2f}× — {verdict(ratio >= TARGET_RATIO)}")
        p99 = eight.percentile(0.99)
        print(f"target p99 ≤ {TARGET_P99_MS:.0f} ms at concurrency 8: {p99:.1f} ms — {verdict(p99 <= TARGET_P99_MS)}")
        print(f"target no error at concurrency 64: {ours[64].errors} errors — {verdict(ours[64].errors == 0)}")
    elif theirs:
        print("online: mlops serve was not measured (not in this project), so no ratio")
    if batch_figures is not None:
        rate, _, figures = batch_figures
        theirs_rate = figures["rows"] / figures["seconds"]
        print(f"batch: mlops predict {rate:,.0f} rows/s vs mlflow pyfunc {theirs_rate:,.0f} rows/s: ratio {rate / theirs_rate:.2f}×")
        print(f"target batch ≥ {TARGET_BATCH_ROWS_PER_SECOND:,} rows/s: {rate:,.0f} — {verdict(rate >= TARGET_BATCH_ROWS_PER_SECOND)}")


def benchmark(args: argparse.Namespace, workdir: Path, kept: bool) -> None:
    load_before = pr_loop.load_average()
    project = prepared_project(args, workdir)
    online_results = {} if args.skip_online else online(project, args, workdir)
    batch_figures = None if args.skip_batch else batch(project, args, workdir)
    report(online_results, batch_figures, load_before)
    if kept:
        print(f"(files kept in {workdir})")


def main() -> int:
    return pr_loop.run_in_workdir(benchmark, parse_args(), prefix="serving-bench-")


if __name__ == "__main__":
    sys.exit(main())
