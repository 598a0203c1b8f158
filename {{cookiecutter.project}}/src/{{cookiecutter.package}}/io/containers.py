"""The Docker CLI: run an image for its smoke test, push it and learn the digest the registry stored it under.

The `docker` command of the runner (GitHub-hosted runners ship it), found on the PATH this project was given. A push
logs in with a configuration folder of its own, removed afterwards, so the registry's credentials outlive the push
nowhere on the runner.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..config import Environment
from ..errors import CheckFailed, InputError
from .registry import Credentials, ImageRef, is_digest

logger = logging.getLogger(__name__)


class Docker:
    def __init__(self, env: Environment) -> None:
        found = shutil.which("docker", path=env.path or None)
        if found is None:
            raise InputError("docker is not on PATH: the serving image needs a Docker daemon and its CLI (GitHub-hosted runners have both)")
        self._docker = found
        self._env = {"PATH": env.path, "HOME": env.home or tempfile.gettempdir()}

    def _run(self, *arguments: str, config: Path | None = None, stdin: str | None = None, timeout: float = 600) -> str:
        command = [self._docker, *(["--config", str(config)] if config else []), *arguments]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, env=self._env, timeout=timeout, check=False)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise CheckFailed(f"`docker {arguments[0]}` failed: {reason[:400]}")
        return result.stdout

    def start(self, image: str, command: list[str]) -> str:
        """Run ``image`` detached on the host's network (CI daemons may have no bridge); returns the container id."""
        return self._run("run", "--detach", "--network", "host", image, *command).strip()

    def alive(self, container: str) -> bool:
        (found,) = json.loads(self._run("container", "inspect", container))
        return bool(found.get("State", {}).get("Running"))

    def logs(self, container: str) -> str:
        result = subprocess.run(
            [self._docker, "logs", "--tail", "40", container], capture_output=True, text=True, env=self._env, check=False
        )
        return (result.stdout + result.stderr)[-3000:]

    def remove(self, container: str) -> None:
        subprocess.run([self._docker, "rm", "--force", container], capture_output=True, env=self._env, check=False)

    def push(self, image: ImageRef, credentials: Credentials | None) -> str:
        """Push ``image`` (host/repository:tag, built here); returns the digest the registry stored it under."""
        with tempfile.TemporaryDirectory(prefix="docker-config-") as config:
            folder = Path(config)
            if credentials is not None:
                self._run(
                    "login", image.host, "--username", credentials.username, "--password-stdin", config=folder, stdin=credentials.password
                )
            self._run("push", str(image), config=folder, timeout=1800)
            (inspected,) = json.loads(self._run("image", "inspect", str(image)))
            digests = inspected.get("RepoDigests") or []
        found = [entry.split("@", 1)[1] for entry in digests if entry.startswith(f"{image.name}@")]
        if len(found) != 1 or not is_digest(found[0]):
            raise CheckFailed(f"{image}: pushed, but docker names {len(found)} digests of it in {image.name} ({found[:3]})")
        logger.info("pushed %s as %s", image, found[0][:19])
        return found[0]
