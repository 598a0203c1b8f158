"""Finish the baked project: keep the chosen license, bring the user's table, record the answers, make the first commit.

Standard library only, no network.
"""

import json
import re
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
    """``.cookiecutter.json``: the answers a replay needs to bake this same project."""
    public = {key: value for key, value in ANSWERS.items() if not key.startswith("_") or key == "_template"}
    (project / ".cookiecutter.json").write_text(json.dumps(public, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def bring_own_data(project: Path) -> None:
    """With data_path: copy the table into data/, install the project, infer its confs from the table, drop the demo's data.

    The inferred confs/data.yaml, confs/gates.yaml and data/manifest.json replace the demo's,
    before the first commit, so that the first pull request runs on the user's data. The answers
    then record what a replay needs: the inferred task, and the table by its copy in the project
    (relative to the output directory, as data_path is read), never by a path on this machine.
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
        copy = project / "data" / source.name
        if not copy.exists() or copy.resolve() != source.resolve():  # a replay reads the project's own copy
            shutil.copyfile(source, copy)
        table = f"data/{source.name}"
        ANSWERS["data_path"] = f"{project.name}/{table}"
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
    settle_task(project, inferred_task(project))
    drop_demo_data(project, keep=table)


def inferred_task(project: Path) -> str:
    """The task init-data wrote into confs/data.yaml (a line ``task: …`` of its own)."""
    found = re.search(r"^task: (\w+)$", (project / "confs" / "data.yaml").read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        fail("confs/data.yaml written by init-data names no task: a bug in the template, please report it")
    return found.group(1)


# Where the bake wrote the answered task before init-data inferred one: (file, text per task).
TASK_TEXT = [
    ("README.md", {"binary_classification": "Task: **binary classification**", "regression": "Task: **regression**"}),
    (f"src/{ANSWERS['package']}/project.py", {task: f'= "{task}"' for task in ("binary_classification", "regression")}),
]
# The linear family's settings differ per task (logistic regression or ridge).
LINEAR_TEXT = [
    ("confs/model.yaml", {"binary_classification": "params: {max_iter: 1000}", "regression": "params: {}"}),
    ("confs/model.yaml", {"binary_classification": "    C: [", "regression": "    alpha: ["}),
]


def settle_task(project: Path, task: str) -> None:
    """The inferred task replaces the answered one in every file the bake rendered from it, and in the answers."""
    answered = ANSWERS["task"]
    ANSWERS["task"] = task
    if task == answered:
        return
    for name, texts in TASK_TEXT + (LINEAR_TEXT if ANSWERS["model_family"] == "linear" else []):
        path = project / name
        text = path.read_text(encoding="utf-8")
        if texts[answered] not in text:
            fail(f"{name} does not say {texts[answered]!r}: a bug in the template, please report it")
        path.write_text(text.replace(texts[answered], texts[task], 1), encoding="utf-8")
    print(f"task: {task} (inferred from the target), replacing the answer {answered}")


def drop_demo_data(project: Path, keep: str) -> None:
    """The demo's table and its generator are not the user's: not committed (the datasheet is rendered for the user's table)."""
    for name in ("data/reference.csv", "scripts/make_dataset.py"):
        if name != keep:  # the user's own table may be called reference.csv
            (project / name).unlink(missing_ok=True)
    scripts = project / "scripts"
    if scripts.is_dir() and not any(scripts.iterdir()):
        scripts.rmdir()


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
    bring_own_data(here)
    record_answers(here)
    initial_commit(here)
