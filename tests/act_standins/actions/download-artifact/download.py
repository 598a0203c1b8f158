"""download-artifact stand-in: copy artifacts back from $ACT_ARTIFACTS_DIR (v4 semantics).

Standard library only: it runs on whatever interpreter ACT_STANDINS_PYTHON names.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn


def fail(message: str) -> NoReturn:
    print(f"::error::{message}", flush=True)
    sys.exit(1)


def main() -> None:
    name = os.environ.get("INPUT_NAME", "").strip()
    pattern = os.environ.get("INPUT_PATTERN", "").strip()
    merge = os.environ.get("INPUT_MERGE_MULTIPLE", "false").strip() == "true"
    if not os.environ.get("ACT_ARTIFACTS_DIR"):
        fail("download-artifact stand-in: ACT_ARTIFACTS_DIR is not set (run_act passes it)")
    store = Path(os.environ["ACT_ARTIFACTS_DIR"])
    if os.environ.get("INPUT_ARTIFACT_IDS", "").strip():
        fail("download-artifact stand-in: artifact-ids is not supported; download by name or pattern")
    if os.environ.get("INPUT_RUN_ID", "").strip() not in ("", os.environ.get("THIS_RUN_ID", "")):
        fail("download-artifact stand-in: only artifacts of this run exist under act (run-id names another run)")
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())
    destination = Path(os.path.normpath(workspace / os.path.expanduser(os.environ.get("INPUT_PATH", "").strip() or ".")))

    if name:
        source = store / name
        if not source.is_dir():
            fail(f"Unable to download artifact(s): Artifact not found for name: {name}")
        shutil.copytree(source, destination, dirs_exist_ok=True)
        print(f"download-artifact stand-in: {name} copied to {destination}")
    else:
        found = sorted(entry.name for entry in store.iterdir() if entry.is_dir()) if store.is_dir() else []
        chosen = [entry for entry in found if not pattern or fnmatch.fnmatchcase(entry, pattern)]
        for entry in chosen:
            shutil.copytree(store / entry, destination if merge else destination / entry, dirs_exist_ok=True)
        print(f"download-artifact stand-in: {len(chosen)} artifact(s) copied to {destination}: {', '.join(chosen)}")
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as output:
        output.write(f"download-path={destination}\n")


if __name__ == "__main__":
    main()
