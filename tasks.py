#!/usr/bin/env python3
"""Developer entry point of the template: ``python3 tasks.py demo|test|fast|lock|data``.

Standard library only, so that it runs on a fresh machine that has Python and git alone:
it creates ``.venv`` beside this file and installs ``requirements-dev.txt`` into it first.

- ``demo``: bake the default project into ``build/demo/`` and run its PR loop
  (validate → train → evaluate → report) on the embedded defaults, printing the report; then,
  against the GitHub API double on loopback, its release and a scheduled monitoring run on a
  drifted production batch, printing the retraining pull request it opens.
- ``test``: run the template's test suite (bakes every option combination, runs the baked
  projects' own tests and loops). Extra arguments go to pytest.
- ``fast``: the quick lane, ``test -m "not slow"``: everything but act, the real mlflow
  server and the installed runs of the non-default combinations. Extra arguments go to pytest.
- ``lock``: (maintainers) re-lock the generated project's dependencies into the template's uv.lock.
- ``data``: (maintainers) regenerate the demo dataset and its manifest in the template.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
REQUIREMENTS = ROOT / "requirements-dev.txt"
TEMPLATE_PROJECT = ROOT / "{{cookiecutter.project}}"
LOOP = ("validate", "train", "evaluate", "report")


def say(message: str) -> None:
    print(f"» {message}", file=sys.stderr, flush=True)


def run(command: list[str], cwd: Path = ROOT, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, check=check, env=tool_env(), **kwargs)


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    # Let Python cache bytecode: without it every `mlops` process recompiles mlflow and
    # sklearn on import (about 3 s each). Lazily written .pyc beat compiling the whole venv.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def ensure_venv() -> None:
    """Create .venv and install the pinned tools once, again only when the pins change."""
    stamp = VENV / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        say(f"creating {VENV.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    say(f"installing {REQUIREMENTS.name}")
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)], check=True
    )
    stamp.write_text(wanted)


def bake(output_dir: Path, *extra: str) -> Path:
    """Bake the template with defaults (plus ``key=value`` overrides); return the project folder."""
    if output_dir.exists():
        shutil.rmtree(output_dir)
    output_dir.mkdir(parents=True)
    run([str(BIN / "cookiecutter"), "--no-input", str(ROOT), "--output-dir", str(output_dir), *extra])
    (project,) = [path for path in output_dir.iterdir() if path.is_dir()]
    return project


def demo(args: list[str]) -> int:
    project = bake(ROOT / "build" / "demo", *args)
    say(f"baked {project.relative_to(ROOT)}; installing its locked dependencies with uv")
    run([str(BIN / "uv"), "sync", "--frozen", "--quiet"], cwd=project)
    failed = []
    for verb in LOOP:
        say(f"mlops {verb}")
        result = run([str(BIN / "uv"), "run", "--frozen", "--no-sync", "mlops", verb], cwd=project, check=False)
        if result.returncode != 0:
            failed.append(f"{verb} (exit {result.returncode})")
            if result.returncode != 1:  # 1 = a check said no: the report still has something to show
                break
    if not failed:
        # The merge, the release and a month of production data, against the GitHub double on loopback.
        say("the release and monitoring legs, against the GitHub API double on loopback")
        story = run([str(BIN / "python"), "-m", "tests.demo_story", str(project)], check=False)
        if story.returncode != 0:
            failed.append(f"release/monitoring story (exit {story.returncode})")
    say(f"done: the project is in {project.relative_to(ROOT)}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def test(args: list[str]) -> int:
    return run([str(BIN / "python"), "-m", "pytest", *parallel(args), *args], check=False).returncode


def parallel(args: list[str]) -> list[str]:
    """Run the tests on every core (pytest-xdist), unless the caller chose (``-n``, ``-p no:xdist``) or asked for one test.

    Most tests wait on a subprocess chain (uv, act, a training): two of them side by side keep two cores busy.
    ``worksteal``: the act stories take minutes, the unit tests milliseconds; an idle worker takes over queued work.
    """
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) or arg == "no:xdist" for arg in args) or "::" in " ".join(args):
        return []
    return ["-n", str(max(2, min(os.cpu_count() or 2, 4))), "--dist", "worksteal"]


def fast(args: list[str]) -> int:
    return test(["-m", "not slow", *args])


def lock(_: list[str]) -> int:
    """uv.lock of the generated project, with the project's own name put back as a variable."""
    with tempfile.TemporaryDirectory() as scratch:
        project = bake(Path(scratch), "project=lock-placeholder")
        run([str(BIN / "uv"), "lock", "--upgrade"], cwd=project)
        text = (project / "uv.lock").read_text()
    marker = 'name = "lock-placeholder"'
    assert text.count(marker) == 1, "expected the project itself exactly once in uv.lock"
    (TEMPLATE_PROJECT / "uv.lock").write_text(text.replace(marker, 'name = "{{ cookiecutter.project }}"'))
    say("wrote {{cookiecutter.project}}/uv.lock")
    return 0


def data(_: list[str]) -> int:
    """Regenerate data/reference.csv from its seeded script, then pin it in data/manifest.json."""
    with tempfile.TemporaryDirectory() as scratch:
        project = bake(Path(scratch))
        run([str(BIN / "uv"), "sync", "--frozen", "--quiet"], cwd=project)
        run([str(BIN / "uv"), "run", "--frozen", "--no-sync", "python", "scripts/make_dataset.py"], cwd=project)
        run([str(BIN / "uv"), "run", "--frozen", "--no-sync", "mlops", "manifest"], cwd=project)
        for name in ("data/reference.csv", "data/manifest.json"):
            shutil.copyfile(project / name, TEMPLATE_PROJECT / name)
    say("wrote {{cookiecutter.project}}/data/reference.csv and manifest.json")
    return 0


COMMANDS = {"demo": demo, "test": test, "fast": fast, "lock": lock, "data": data}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python3 tasks.py {{{'|'.join(COMMANDS)}}} [arguments]\n\n{__doc__}", file=sys.stderr)
        sys.exit(2)
    ensure_venv()
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
