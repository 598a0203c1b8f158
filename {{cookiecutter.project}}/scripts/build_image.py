"""Build the serving image of the champion in outputs/champion/ (write it with `mlops champion` first).

Usage: python3 scripts/build_image.py IMAGE [extra `docker build` options]
Environment: BASE_IMAGE (default: the Dockerfile's official slim Python), EXTRA_CA_CERT_FILE (the PEM file of
a TLS-intercepting proxy's CA, trusted by pip and uv during the build only) and MODEL_DIR (the model folder to
serve, under the project: outputs/champion by default; release.yml builds outputs/release/serving, the prepared
release). Standard library only: it runs before,
and without, the project's environment. The image is labelled with the release it serves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAMPION = Path("outputs") / "champion"
# What .dockerignore lets into the build context: a model folder anywhere else would not reach the build.
MODEL_DIRS = (CHAMPION, Path("outputs") / "release" / "serving")


def model_dir(environ: dict[str, str]) -> Path:
    return Path(environ.get("MODEL_DIR") or CHAMPION)


def build_command(image: str, extra: list[str], environ: dict[str, str]) -> list[str]:
    folder = model_dir(environ)
    record = json.loads((ROOT / folder / "champion.json").read_text())
    # Host networking: the build needs the package index, and CI daemons may have no bridge network.
    command = ["docker", "build", "--network", "host", "--tag", image]
    if environ.get("BASE_IMAGE"):
        command += ["--build-arg", f"BASE_IMAGE={environ['BASE_IMAGE']}"]
    if environ.get("EXTRA_CA_CERT_FILE"):
        command += ["--build-arg", f"EXTRA_CA_CERT={Path(environ['EXTRA_CA_CERT_FILE']).read_text()}"]
    # Labels of the image (see the Dockerfile): the release it serves and its model archive's digest.
    command += ["--build-arg", f"MODEL_DIR={folder.as_posix()}"]
    command += ["--build-arg", f"MODEL_VERSION={record.get('tag', '')}", "--build-arg", f"MODEL_SHA256={record.get('sha256', '')}"]
    return [*command, *extra, str(ROOT)]


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    folder = model_dir(dict(os.environ))
    if folder not in MODEL_DIRS:
        print(f"MODEL_DIR={folder}: expected one of {', '.join(map(str, MODEL_DIRS))} (the folders .dockerignore lets in)", file=sys.stderr)
        return 2
    if not (ROOT / folder / "champion.json").is_file() or not (ROOT / folder / "model").is_dir():
        print(f"{folder}/ holds no champion (champion.json and model/): run `mlops champion` first", file=sys.stderr)
        return 2
    return subprocess.run(build_command(argv[0], argv[1:], dict(os.environ)), check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
