#!/usr/bin/env python3
"""How long the PR loop of a freshly baked project takes, next to a bare scikit-learn script.

What it measures:

1. Bakes the template with its defaults (``cookiecutter --no-input``) and installs the
   project's locked dependencies (``uv sync --frozen --compile-bytecode``; with
   ``--bytecode lazy``, ``uv sync --frozen`` and Python writes each .pyc the first time a
   module is imported, as on a fresh CI runner). The install time is printed, not counted.
2. The PR loop exactly as CI runs it: ``uv run --frozen --no-sync mlops <verb>`` for
   validate, train, evaluate and report, each verb its own process, from the project root.
   Every repeat first deletes ``.mlflow/`` and ``outputs/``, so each one starts from the same
   state (including creating the SQLite schema of the MLflow store).
3. The floor: a bare script that does the same fit and scoring (same data file, time
   split, features, target, estimator and parameters) with pandas and scikit-learn alone,
   without validation, MLflow or reports, run with the project's own interpreter.

It prints the median wall-clock seconds of each verb, of the whole loop and of the bare
script, their ratio, and whether the loop meets its target (≤ 15 s on a 2-core machine, and
at most 3.5 times the bare script). With ``--bytecode lazy`` the first repeat is the cold
one (it compiles what it imports): it is printed on its own and left out of the medians.
It reports the time; it never fails because of it.

Run from the template repository (standard library only; needs cookiecutter and uv on PATH):

    python3 benchmarks/pr_loop.py [--repeats 3] [--bytecode compiled|lazy] [--threads N] [--keep] [--output-dir DIR] [--template DIR]

``--threads 1`` runs the fits of the loop and of the baseline on one OpenMP thread
(``OMP_NUM_THREADS``): not what CI does, but on a shared machine a two-thread fit whose
threads wait on each other for a busy core varies tenfold, and this keeps comparisons of
the framework's cost steady.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

VERBS = ("validate", "train", "evaluate", "report")
TARGET_SECONDS = 15.0
TARGET_RATIO = 3.5
TARGET_CORES = 2
REPO_ROOT = Path(__file__).resolve().parent.parent
BARE_SCRIPT_NAME = "bare_sklearn.py"
# The only files the loop writes; deleting them puts the project back in its baked state.
LOOP_STATE = (".mlflow", "outputs")
TRAINING_RECORD = Path("outputs") / "train" / "run.json"
# Samples of one step this far apart mean other work competed for the cores (with OpenMP
# estimators on 2 cores, contention can slow a fit tenfold): the medians are not to be trusted.
NOISY_SPREAD = 1.5
PRIMARY_METRIC = {"binary_classification": "roc_auc", "regression": "rmse"}
# OpenMP threads of every fit (--threads); None leaves the default, all cores, as in CI.
FIT_THREADS: int | None = None

# The baseline, written next to the baked project and run with its interpreter. It mirrors
# `mlops train` (core.features.time_split, core.models.build_estimator) without importing
# the project package, so that the difference in time is the framework's cost alone.
BARE_SCRIPT = '''\
"""Bare scikit-learn baseline: the data, split and estimator of `mlops train`, nothing else.

Usage: python bare_sklearn.py PROJECT_DIR TASK. Prints {"metric": ..., "value": ...} as JSON.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import mean_squared_error, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ESTIMATORS = {
    "binary_classification": {
        "hist_gradient_boosting": HistGradientBoostingClassifier,
        "random_forest": RandomForestClassifier,
        "linear": LogisticRegression,
    },
    "regression": {
        "hist_gradient_boosting": HistGradientBoostingRegressor,
        "random_forest": RandomForestRegressor,
        "linear": Ridge,
    },
}

project, task = Path(sys.argv[1]), sys.argv[2]
data_conf = yaml.safe_load((project / "confs" / "data.yaml").read_text(encoding="utf-8"))
model_conf = yaml.safe_load((project / "confs" / "model.yaml").read_text(encoding="utf-8"))
numeric, categorical = data_conf["features"]["numeric"], data_conf["features"]["categorical"]
target, timestamp = data_conf["target"], data_conf["timestamp_column"]

# The most recent rows are the holdout, as in `mlops train` (stable order among equal times).
frame = pd.read_csv(project / data_conf["path"], parse_dates=[timestamp])
ordered = frame.sort_values(timestamp, kind="mergesort")
cut = int(np.floor(len(ordered) * (1.0 - data_conf["holdout_fraction"])))
train, holdout = ordered.iloc[:cut], ordered.iloc[cut:]

estimator_class = ESTIMATORS[task][model_conf["estimator"]]
seeded = {"random_state": model_conf["seed"]} if "random_state" in estimator_class().get_params() else {}
model = Pipeline(
    [
        (
            "columns",
            ColumnTransformer(
                [("numeric", StandardScaler(), numeric), ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical)]
            ),
        ),
        ("estimator", estimator_class(**{**seeded, **(model_conf.get("params") or {})})),
    ]
)
model.fit(train[numeric + categorical], train[target])
features = holdout[numeric + categorical]
if task == "regression":
    result = {"metric": "rmse", "value": float(np.sqrt(mean_squared_error(holdout[target], model.predict(features))))}
else:
    result = {"metric": "roc_auc", "value": float(roc_auc_score(holdout[target], model.predict_proba(features)[:, 1]))}
print(json.dumps(result))
'''


class BenchmarkError(Exception):
    """A step failed: the message says which and why; the run cannot go on."""


@dataclass
class Measurements:
    verb_seconds: dict[str, list[float]] = field(default_factory=lambda: {verb: [] for verb in VERBS})
    loop_seconds: list[float] = field(default_factory=list)
    bare_seconds: list[float] = field(default_factory=list)
    bare_score: dict | None = None
    loop_score: float | None = None
    load_before: str = "n/a"
    cold_verb_seconds: dict[str, float] | None = None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of the loop and of the baseline (default 3)")
    parser.add_argument(
        "--bytecode",
        choices=("compiled", "lazy"),
        default="compiled",
        help="compiled: .pyc written at install (uv sync --compile-bytecode); lazy: written on first import, "
        "the first repeat is the cold one (default compiled)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="OpenMP threads of every fit, loop and baseline alike (OMP_NUM_THREADS; default: as CI, all cores)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory with the baked project")
    parser.add_argument("--output-dir", type=Path, help="bake into this directory instead of a temporary one (never deleted)")
    parser.add_argument("--template", type=Path, default=REPO_ROOT, help=f"template to bake (default: {REPO_ROOT})")
    args = parser.parse_args()
    if args.repeats < 1 or (args.bytecode == "lazy" and args.repeats < 2):
        parser.error("--repeats must be at least 1 (2 with --bytecode lazy: a cold run, then warm ones)")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def require_tools() -> None:
    missing = [tool for tool in ("cookiecutter", "uv") if shutil.which(tool) is None]
    if missing:
        print(
            f"error: {' and '.join(missing)} not on PATH: run `python3 tasks.py test` once or activate .venv",
            file=sys.stderr,
        )
        sys.exit(2)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    # An activated outer venv (e.g. the template's .venv) only makes uv warn; drop it.
    env.pop("VIRTUAL_ENV", None)
    # Measure the project's default store (SQLite under .mlflow/), never a tracking server.
    env.pop("MLFLOW_TRACKING_URI", None)
    # As on a CI runner: Python may cache the bytecode it compiles (this machine forbids it by default).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if FIT_THREADS is not None:
        env["OMP_NUM_THREADS"] = str(FIT_THREADS)
    else:
        env.pop("OMP_NUM_THREADS", None)
    return env


def run_checked(command: list[str], cwd: Path, what: str) -> tuple[float, str]:
    """Run ``command``; return (wall-clock seconds, stdout). A non-zero exit is a BenchmarkError."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=child_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join((result.stderr.strip() or result.stdout.strip()).splitlines()[-15:])
        raise BenchmarkError(f"{what} failed with exit code {result.returncode} (`{' '.join(command)}` in {cwd}):\n{tail}")
    return seconds, result.stdout


def bake(template: Path, output_dir: Path) -> Path:
    """Bake the template's defaults into ``output_dir``; return the new project folder."""
    before = {path for path in output_dir.iterdir() if path.is_dir()}
    run_checked(["cookiecutter", "--no-input", str(template), "--output-dir", str(output_dir)], output_dir, "bake (cookiecutter)")
    created = [path for path in output_dir.iterdir() if path.is_dir() and path not in before]
    if len(created) != 1:
        raise BenchmarkError(f"bake: expected one new project folder in {output_dir}, found {len(created)}")
    return created[0]


def install(project: Path, bytecode: str) -> None:
    """Install the locked dependencies into ``project/.venv``, compiling their bytecode or not."""
    if not (project / "uv.lock").exists():
        # The template is expected to ship uv.lock (`python3 tasks.py lock`); without it the
        # versions are resolved now, so the figures may not match the pinned ones.
        print(f"note: {project.name} has no uv.lock; resolving one with `uv lock` (versions not pinned by the template)")
        run_checked(["uv", "lock"], project, "uv lock")
    # compiled: every .pyc of the venv is written now (what UV_COMPILE_BYTECODE=1 does in CI).
    # lazy: none is; the loop's first process compiles what it imports and caches it for the
    # next ones (child_env lets Python write bytecode).
    command = ["uv", "sync", "--frozen"] + (["--compile-bytecode"] if bytecode == "compiled" else [])
    run_checked(command, project, "uv sync")


def reset_loop_state(project: Path) -> None:
    for name in LOOP_STATE:
        shutil.rmtree(project / name, ignore_errors=True)


def time_loop(project: Path, measurements: Measurements, cold: bool = False) -> None:
    """One pass of the four verbs, each in its own process, from the baked state.

    ``cold``: the first pass over a venv without bytecode; kept apart from the medians.
    """
    reset_loop_state(project)
    seconds_by_verb = {}
    for verb in VERBS:
        seconds, _ = run_checked(["uv", "run", "--frozen", "--no-sync", "mlops", verb], project, f"mlops {verb}")
        seconds_by_verb[verb] = seconds
    if cold:
        measurements.cold_verb_seconds = seconds_by_verb
        return
    for verb, seconds in seconds_by_verb.items():
        measurements.verb_seconds[verb].append(seconds)
    measurements.loop_seconds.append(sum(seconds_by_verb.values()))


def venv_python(project: Path) -> Path:
    return project / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def baked_task(project: Path) -> str:
    """The task the project was baked for (recorded by the post-generation hook)."""
    answers = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    return answers.get("task", "binary_classification")


def time_bare(project: Path, script: Path, task: str, measurements: Measurements) -> None:
    seconds, stdout = run_checked([str(venv_python(project)), str(script), str(project), task], project, "bare scikit-learn script")
    measurements.bare_seconds.append(seconds)
    measurements.bare_score = json.loads(stdout.strip().splitlines()[-1])


def loop_score(project: Path, task: str) -> float | None:
    """The holdout metric `mlops train` recorded, to check that the baseline does comparable work."""
    record_path = project / TRAINING_RECORD
    if not record_path.exists():
        return None
    return json.loads(record_path.read_text(encoding="utf-8")).get("holdout_metrics", {}).get(PRIMARY_METRIC[task])


def machine_facts(project: Path) -> str:
    probe = (
        "import importlib.metadata as m, json, platform;"
        "print(json.dumps({'python': platform.python_version(), 'mlflow': m.version('mlflow'), 'sklearn': m.version('scikit-learn')}))"
    )
    _, stdout = run_checked([str(venv_python(project)), "-c", probe], project, "version probe")
    facts = json.loads(stdout)
    return (
        f"{available_cores()} cores (nproc), Python {facts['python']} (project venv), "
        f"mlflow {facts['mlflow']}, scikit-learn {facts['sklearn']}"
    )


def available_cores() -> int:
    # What `nproc` prints: the cores this process may run on, not all the machine has.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def samples(values: list[float]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def load_average() -> str:
    """1-minute load average: other work on the machine inflates every figure printed here."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def print_report(
    project: Path, measurements: Measurements, repeats: int, facts: str, setup_seconds: dict[str, float | str], kept: bool
) -> None:
    loop_median = statistics.median(measurements.loop_seconds)
    bare_median = statistics.median(measurements.bare_seconds)
    rows = [(f"mlops {verb}", statistics.median(measurements.verb_seconds[verb]), measurements.verb_seconds[verb]) for verb in VERBS]
    rows += [
        ("loop total (4 processes)", loop_median, measurements.loop_seconds),
        ("bare scikit-learn script", bare_median, measurements.bare_seconds),
    ]
    width = max(len(label) for label, _, _ in rows)

    print(f"\nPR loop benchmark: {project.name}, {repeats} repeat(s), each from an empty {' and '.join(n + '/' for n in LOOP_STATE)}")
    print(f"  {'step'.ljust(width)}  {'median s':>9}  samples s")
    for label, median, values in rows:
        print(f"  {label.ljust(width)}  {median:9.2f}  {samples(values)}")
    print(f"  {'ratio loop / bare'.ljust(width)}  {loop_median / bare_median:8.1f}x")
    print("  (loop total median = median of the per-repeat totals)")
    if measurements.cold_verb_seconds:
        cold = measurements.cold_verb_seconds
        split = ", ".join(f"{verb} {seconds:.2f}" for verb, seconds in cold.items())
        print(f"  first repeat, cold bytecode (not in the medians): {sum(cold.values()):.2f} s ({split})")

    verdict = "meets" if loop_median <= TARGET_SECONDS else "misses"
    print(f"\ntarget: loop ≤ {TARGET_SECONDS:.0f} s on a {TARGET_CORES}-core machine; measured median {loop_median:.2f} s: {verdict} it")
    ratio_verdict = "meets" if loop_median <= TARGET_RATIO * bare_median else "misses"
    print(f"target: loop ≤ {TARGET_RATIO:.1f}x the bare script; measured {loop_median / bare_median:.1f}x: {ratio_verdict} it")
    cores = available_cores()
    if cores != TARGET_CORES:
        print(f"  note: this machine has {cores} cores, not {TARGET_CORES}: compare with the target with care")
    if any(max(values) > NOISY_SPREAD * min(values) for _, _, values in rows):
        print(f"  warning: samples of one step differ by more than {NOISY_SPREAD:.1f}x: the machine was busy; rerun when it is quiet")
    print(f"machine: {facts}; load average {measurements.load_before} before the runs, {load_average()} after")
    if FIT_THREADS is not None:
        print(f"fits on {FIT_THREADS} OpenMP thread(s) (--threads): not CI's setting, for steady comparisons")
    if measurements.bare_score:
        metric = measurements.bare_score["metric"]
        loop_value = "n/a" if measurements.loop_score is None else f"{measurements.loop_score:.4f}"
        bare_value = measurements.bare_score["value"]
        print(f"holdout {metric}: mlops train {loop_value}, bare script {bare_value:.4f} (derived feature and imputation only in mlops)")
    print(
        f"setup, not timed in the loop: bake {setup_seconds['bake']:.1f} s, "
        f"uv sync {setup_seconds['install']:.1f} s ({setup_seconds['bytecode']} bytecode)"
    )
    print(f"baked project: {project}" + ("" if kept else " (deleted on exit; --keep to keep it)"))


def benchmark(args: argparse.Namespace, workdir: Path, kept: bool) -> None:
    started = time.perf_counter()
    project = bake(args.template.resolve(), workdir)
    setup_seconds = {"bake": time.perf_counter() - started}
    print(f"baked {project}; installing its dependencies", flush=True)
    started = time.perf_counter()
    install(project, args.bytecode)
    setup_seconds["install"] = time.perf_counter() - started
    setup_seconds["bytecode"] = args.bytecode

    task = baked_task(project)
    bare_script = workdir / BARE_SCRIPT_NAME
    bare_script.write_text(BARE_SCRIPT, encoding="utf-8")
    measurements = Measurements(load_before=load_average())
    # Loop and baseline alternate, so that background load weighs on both alike.
    for repeat in range(1, args.repeats + 1):
        cold = args.bytecode == "lazy" and repeat == 1
        print(f"repeat {repeat}/{args.repeats}: PR loop{' (cold bytecode)' if cold else ''}, then bare baseline", flush=True)
        time_loop(project, measurements, cold=cold)
        if not cold:
            time_bare(project, bare_script, task, measurements)
    measurements.loop_score = loop_score(project, task)
    print_report(project, measurements, args.repeats, machine_facts(project), setup_seconds, kept)


def main() -> int:
    global FIT_THREADS
    args = parse_args()
    FIT_THREADS = args.threads
    require_tools()
    return run_in_workdir(benchmark, args, prefix="pr-loop-")


def run_in_workdir(run: Callable[..., None], args: argparse.Namespace, *, prefix: str) -> int:
    """Run a benchmark in --output-dir or a temporary folder (removed afterwards unless --keep); exit 1 on a BenchmarkError."""
    if args.output_dir:
        workdir, temporary = args.output_dir.resolve(), False
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir, temporary = Path(tempfile.mkdtemp(prefix=prefix)), True
    remove_on_exit = temporary and not args.keep
    try:
        run(args, workdir, kept=not remove_on_exit)
    except BenchmarkError as error:
        # Keep what failed for inspection, whatever --keep says.
        print(f"error: {error}\n(files kept in {workdir})", file=sys.stderr)
        return 1
    if remove_on_exit:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
