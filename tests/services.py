"""Real services the tests start on loopback and always stop: an MLflow tracking server, a Docker registry."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, timeout: float, failure: Callable[[], str], *, interval: float = 0.5) -> None:
    """Poll ``url`` until it answers 200; RuntimeError(``failure()``) once ``process`` has exited or ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(failure()) from None
            time.sleep(interval)


@contextlib.contextmanager
def mlflow_server(venv: Path, workdir: Path, env: dict[str, str], startup_timeout: float = 120.0) -> Iterator[str]:
    """`mlflow server` from a baked project's venv, on SQLite + a local artifact store; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (workdir / "mlflow-server.log").open("w")
    server = subprocess.Popen(
        [
            str(venv / "bin" / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'server.db'}",
            "--artifacts-destination",
            str(workdir / "server-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        server_log = workdir / "mlflow-server.log"
        wait_until_answering(
            f"{url}/health", server, startup_timeout, lambda: f"mlflow server did not start: {server_log.read_text()[-2000:]}"
        )
        yield url
    finally:
        # The server runs workers in child processes: stop the whole process group.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


@contextlib.contextmanager
def docker_registry(workdir: Path, startup_timeout: float = 30.0) -> Iterator[str]:
    """Debian's `docker-registry` (distribution 2.x) on loopback, storing in workdir; yields its host:port.

    The stand-in for GHCR. Docker talks plain HTTP to a registry on 127.0.0.0/8 without being told to.
    """
    port = free_port()
    config = workdir / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {workdir / 'registry-storage'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    log = (workdir / "registry.log").open("w")
    registry = subprocess.Popen(
        ["docker-registry", "serve", str(config)], cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_until_answering(
            f"http://127.0.0.1:{port}/v2/",
            registry,
            startup_timeout,
            lambda: f"docker-registry did not start: {(workdir / 'registry.log').read_text()[-2000:]}",
            interval=0.2,
        )
        yield f"127.0.0.1:{port}"
    finally:
        registry.terminate()
        try:
            registry.wait(timeout=10)
        except subprocess.TimeoutExpired:
            registry.kill()
            registry.wait(timeout=10)
        log.close()
