"""The Docker side of the image tests: a client of the running daemon and the base image made without a registry.

No registry image can be pulled on these machines, so the base is Debian bookworm with its python3 (3.11, the default
`.python-version`), made by debootstrap from the apt mirror and `docker import`ed once; a daemon that has it keeps it
for the next run (`.ci/docker down` leaves it). Test images and containers carry TEST_LABEL so that what a killed
run left behind can be found and removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import docker
import docker.errors

BASE_IMAGE = "mlops-test/python:3.11-bookworm"
BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
TEST_LABEL = "org.mlops-gitops.test"
# Not needed in an image and large: apt's package lists and downloads, documentation, translations.
BASE_TRIM = ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info")


def daemon() -> docker.DockerClient | None:
    """The daemon DOCKER_HOST (or the default socket) names, or None when none answers."""
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException:
        return None
    return client


@contextlib.contextmanager
def machine_lock(name: str) -> Iterator[None]:
    """One holder at a time across the test workers of this machine (pytest-xdist), e.g. while one builds an image."""
    with (Path(tempfile.gettempdir()) / f"mlops-test-{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def base_image(client: docker.DockerClient) -> str:
    """The local base image's tag: made now (a couple of minutes) unless the daemon already has it."""
    with machine_lock("base-image"):
        try:
            client.images.get(BASE_IMAGE)
            return BASE_IMAGE
        except docker.errors.ImageNotFound:
            pass
        if shutil.which("debootstrap") is None:
            raise RuntimeError(f"{BASE_IMAGE} is missing and debootstrap is not installed: run `.ci/docker up` as root")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="mlops-base-") as scratch:
            root = Path(scratch) / "root"
            subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(root), DEBIAN_MIRROR],
                check=True,
                capture_output=True,
            )
            for folder in BASE_TRIM:
                shutil.rmtree(root / folder, ignore_errors=True)
            archive = Path(scratch) / "root.tar"
            subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(archive), "."], check=True)
            repository, tag = BASE_IMAGE.rsplit(":", 1)
            client.api.import_image_from_file(
                str(archive), repository=repository, tag=tag, changes=[f"LABEL {TEST_LABEL}=base", 'CMD ["python3"]']
            )
        print(f"made base image {BASE_IMAGE} in {time.monotonic() - started:.0f} s")
        return BASE_IMAGE


def forget_earlier_builds(client: docker.DockerClient, base: str, before: datetime) -> None:
    """Remove the build stages that earlier builds on ``base`` left, keeping this build's (the next one's cache).

    Each build leaves its builder stage as an untagged image; on vfs every layer of it is a full copy of the files.
    Layers this build shares with them (the locked dependencies) stay, since this build's stage still uses them.
    """
    base_id = client.images.get(base).id
    for image in client.images.list(filters={"dangling": True}):
        created = datetime.fromisoformat(image.attrs["Created"][:26].rstrip("Z") + "+00:00")
        if created < before and base_id in {layer["Id"] for layer in image.history()}:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(image.id)


def machine_extra_ca(path: Path) -> Path:
    """``path`` holding the CAs this machine added (where Debian keeps them; a TLS-intercepting proxy's here), for
    EXTRA_CA_CERT_FILE: empty on a machine that needs none."""
    path.write_text("".join(found.read_text() for found in sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))))
    return path


def remove_test_leftovers(client: docker.DockerClient, base: str, containers: list, references: list[str], before: datetime) -> None:
    """A test's containers and image references removed, and the build stages older than its build (vfs keeps every layer)."""
    for container in containers:
        container.remove(force=True)
    for reference in references:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(reference, force=True)
    forget_earlier_builds(client, base, before=before)
