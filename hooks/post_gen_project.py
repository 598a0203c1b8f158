"""Finish the baked project: keep the chosen license, record the answers, make the first commit.

Standard library only, no network.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

# The answers, kept so that the project can take template updates later (cruft, cookiecutter replay).
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")


def keep_chosen_license(project: Path) -> None:
    """The template ships every license under LICENSES/; keep the chosen one as LICENSE."""
    licenses = project / "LICENSES"
    if ANSWERS["license"] != "Proprietary":
        shutil.move(str(licenses / ANSWERS["license"]), project / "LICENSE")
    shutil.rmtree(licenses)


def record_answers(project: Path) -> None:
    public = {key: value for key, value in ANSWERS.items() if not key.startswith("_") or key == "_template"}
    (project / ".cookiecutter.json").write_text(json.dumps(public, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def bring_own_data(project: Path) -> None:
    """With data_path: copy the table into data/, install the project, and infer its confs from the table.

    The inferred confs/data.yaml, confs/gates.yaml and data/manifest.json replace the demo's,
    before the first commit, so that the first pull request runs on the user's data.
    """
    data_path, target = ANSWERS.get("data_path", "").strip(), ANSWERS.get("target", "").strip()
    if not data_path:
        return
    uv = shutil.which("uv")
    if uv is None:
        fail("data_path needs uv to install the project and infer its config: install uv (https://docs.astral.sh/uv/) and bake again")
    if "://" in data_path:
        table = data_path  # a URI: init-data reads it there and the manifest pins it there
    else:
        source = Path(data_path).expanduser()
        source = source if source.is_absolute() else project.parent / source
        (project / "data").mkdir(exist_ok=True)
        shutil.copyfile(source, project / "data" / source.name)
        table = f"data/{source.name}"
    print(f"Inferring the data contract from {data_path} (target {target}): installing the project with uv…")
    for step in (
        [uv, "sync", "--frozen", "--quiet"],
        [uv, "run", "--frozen", "--quiet", "mlops", "init-data", table, "--target", target, "--force"],
    ):
        result = subprocess.run(step, cwd=project, capture_output=True, text=True)
        print(result.stdout, end="")
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines()
            last = lines[-1] if lines else f"exit {result.returncode}"
            reason = next((line for line in reversed(lines) if line.startswith("error:")), last)
            fail(f"`{' '.join(['uv', *step[1:]])}` failed in {project.name}: {reason.removeprefix('error: ')}")


def fail(message: str) -> None:
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(1)


def initial_commit(project: Path) -> None:
    """A repository on `main` with one commit, when git is installed; never fails the bake."""
    if shutil.which("git") is None:
        print("note: git not found; skipped `git init` (run it yourself before pushing)")
        return
    # Use the user's identity when git has one; a neutral one otherwise, so the commit never fails.
    has_identity = subprocess.run(["git", "config", "user.email"], cwd=project, capture_output=True).returncode == 0
    identity = [] if has_identity else ["-c", "user.name=" + ANSWERS["author"], "-c", "user.email=mlops-template@users.noreply.github.com"]
    steps = [
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        ["git", *identity, "commit", "--quiet", "--no-verify", "-m", "Initial commit from cookiecutter-mlops-gitops"],
    ]
    for step in steps:
        result = subprocess.run(step, cwd=project, capture_output=True, text=True)
        if result.returncode != 0:
            reason = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
            print(f"note: `{' '.join(step)}` failed ({reason}); commit by hand")
            return


if __name__ == "__main__":
    here = Path.cwd()
    keep_chosen_license(here)
    record_answers(here)
    bring_own_data(here)
    initial_commit(here)
