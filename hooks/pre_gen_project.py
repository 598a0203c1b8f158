"""Reject answers that would bake a broken project, with one line that says what was expected.

Standard library only, no network: this runs on the user's machine before anything is written.
"""

import csv
import json
import keyword
import re
import shutil
import sys
from pathlib import Path

# The answers as JSON inside a raw string: valid Python before and after rendering.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
# Packages the project depends on or shadows: naming the package after one breaks imports.
TAKEN = {"mlflow", "pandas", "pandera", "sklearn", "numpy", "scipy", "typer", "yaml", "pydantic", "rich", "fsspec", "tests", "test", "io"}


def data_source(data_path: str, output_dir: Path) -> Path:
    """The user's table: an absolute path as given, a relative one read from the output directory."""
    path = Path(data_path).expanduser()
    return path if path.is_absolute() else output_dir / path


def data_problem(answers: dict[str, str], output_dir: Path) -> str | None:
    """What is wrong with the bring-your-own-data answers (data_path, target), or None."""
    data_path, target = answers.get("data_path", "").strip(), answers.get("target", "").strip()
    if not data_path:
        return f"target {target!r} needs data_path: give the table it is a column of, or leave target empty" if target else None
    if not target:
        return f"data_path {data_path!r} needs target: the column of that table to predict"
    source = data_source(data_path, output_dir)
    if "://" not in data_path and not source.is_file():
        return f"data_path {data_path!r}: no such file (looked for {source}; a relative path is read from the output directory)"
    if "://" not in data_path and source.suffix.lower() == ".csv":
        found = target_problem(source, target)
        if found:
            return f"data_path {data_path!r}: {found}"
    if shutil.which("uv") is None:
        return "data_path needs uv to install the project and infer its config: install uv (https://docs.astral.sh/uv/) and bake again"
    return None


def target_problem(table: Path, target: str) -> str | None:
    """What makes ``target`` of a CSV table unusable before anything is installed, or None.

    The same rules as the project's ``mlops init-data`` (which also reads Parquet and URIs), checked here on CSV
    with the standard library so that a table the project cannot model is refused in seconds, not after the install.
    """
    try:
        with table.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            header = next(reader, [])
            if target not in header:
                return f"target {target!r} is not a column (columns: {', '.join(header)})"
            index = header.index(target)
            cells = [row[index] if index < len(row) else "" for row in reader if row]
    except (UnicodeDecodeError, csv.Error):
        return None  # init-data reads it with pandas, and says what is wrong if it cannot
    unlabelled = cells.count("")
    if unlabelled:
        return f"target {target!r} is missing on {unlabelled} row(s): drop those rows or label them first"
    labels = {cell.strip() for cell in cells}
    if len(labels) <= 2 or all(_is_number(label) for label in labels):
        return None
    shown = ", ".join(sorted(labels)[:5]) + (", …" if len(labels) > 5 else "")
    return (
        f"target {target!r} has {len(labels)} classes ({shown}); supported are two labels (task binary_classification) "
        "or a numeric target (task regression): multiclass is not supported yet, so map the labels to two (one against the rest) "
        "or choose a numeric target"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Five cron fields of digits, ranges, steps, lists and `*` (GitHub's syntax, no names or @macros).
CRON = re.compile(r"(?:[0-9*,/-]+\s+){4}[0-9*,/-]+")


def problem(answers: dict[str, str]) -> str | None:
    """The first thing wrong with the answers, or None."""
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", answers["project"]) or len(answers["project"]) > 100:
        return (
            f"project {answers['project']!r} is not a valid repository slug: "
            "expected lowercase letters, digits and single dashes, starting with a letter (e.g. churn-model)"
        )
    package = answers["package"]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", package) or keyword.iskeyword(package):
        return (
            f"package {package!r} is not a valid Python package name: "
            "expected lowercase letters, digits and underscores, not starting with a digit (e.g. churn_model)"
        )
    if package in TAKEN or package in sys.stdlib_module_names:
        return f"package {package!r} would shadow an existing module of that name: choose another (e.g. {package}_model)"
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}", answers["github_owner"]):
        return (
            f"github_owner {answers['github_owner']!r} is not a valid GitHub user or organisation name: "
            "expected letters, digits and single dashes, at most 39 characters"
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", answers["runs_on"]):
        return f"runs_on {answers['runs_on']!r} is not a runner label: expected one word such as ubuntu-latest or self-hosted"
    if not CRON.fullmatch(answers["monitor_schedule"].strip()):
        return (
            f"monitor_schedule {answers['monitor_schedule']!r} is not a cron schedule: "
            "expected five fields, minute hour day-of-month month day-of-week (e.g. 17 6 * * 1 for Mondays 06:17 UTC)"
        )
    # The options with a fixed set of values: cookiecutter.json lists them under `_choices`
    # (the option itself holds the default, so that cookiecutter leaves the check to this hook).
    for option, allowed in answers["_choices"].items():
        if answers[option] not in allowed:
            expected = ", ".join(allowed[:-1]) + " or " + allowed[-1]
            return f"{option} {answers[option]!r} is not supported: expected {expected}"
    return None


if __name__ == "__main__":
    # Hooks run inside the project folder being made: its parent is the output directory.
    found = problem(ANSWERS) or data_problem(ANSWERS, Path.cwd().parent)
    if found:
        print(f"ERROR: {found}", file=sys.stderr)
        sys.exit(1)
