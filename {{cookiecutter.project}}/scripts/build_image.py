"""Build the serving image of the champion in outputs/champion/ (write it with `mlops champion` first).

Usage: python3 scripts/build_image.py IMAGE [extra `docker build` options]
Environment: BASE_IMAGE (default: the Dockerfile's official slim Python) and EXTRA_CA_CERT_FILE (the PEM file of a
TLS-intercepting proxy's CA, trusted by pip and uv during the build only). Standard library only: it runs before,
and without, the project's environment. The image is labelled with the release it serves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAMPION = ROOT / "outputs" / "champion"


def build_command(image: str, extra: list[str], environ: dict[str, str]) -> list[str]:
    record = json.loads((CHAMPION / "champion.json").read_text())
    # Host networking: the build needs the package index, and CI daemons may have no bridge network.
    command = ["docker", "build", "--network", "host", "--tag", image]
    if environ.get("BASE_IMAGE"):
        command += ["--build-arg", f"BASE_IMAGE={environ['BASE_IMAGE']}"]
    if environ.get("EXTRA_CA_CERT_FILE"):
        command += ["--build-arg", f"EXTRA_CA_CERT={Path(environ['EXTRA_CA_CERT_FILE']).read_text()}"]
    # Labels of the image (see the Dockerfile): the release it serves and its model archive's digest.
    command += ["--build-arg", f"MODEL_VERSION={record.get('tag', '')}", "--build-arg", f"MODEL_SHA256={record.get('sha256', '')}"]
    return [*command, *extra, str(ROOT)]


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    if not (CHAMPION / "champion.json").is_file() or not (CHAMPION / "model").is_dir():
        print(f"{CHAMPION.relative_to(ROOT)}/ holds no champion (champion.json and model/): run `mlops champion` first", file=sys.stderr)
        return 2
    return subprocess.run(build_command(argv[0], argv[1:], dict(os.environ)), check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
