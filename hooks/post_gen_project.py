"""Finish the baked project: keep the chosen license, record the answers, make the first commit.

Standard library only, no network.
"""

import json
import shutil
import subprocess
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
    initial_commit(here)
