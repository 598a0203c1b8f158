#!/usr/bin/env python3
"""How long the whole PR check of a freshly baked project takes, next to a bare scikit-learn fit.

The PR check is what ``pr.yml`` runs after the setup: the loop (``mlops validate``, ``train``,
``evaluate``, ``report``, each its own process, as CI runs them) and then the project's own
tests (``pytest -q``), whose duration is the check's as much as the loop's. Bake and install
(``uv sync --frozen --compile-bytecode``, as CI) are printed, not counted; so are ``mlops
champion`` (a network call in CI, nothing here) and ``mlops comment`` (a GitHub call).

The floor is ``benchmarks/pr_loop.py``'s bare script: the same data file, time split,
features, target, estimator and parameters, with pandas and scikit-learn alone, run with the
project's own interpreter. It prints the median wall-clock seconds of each step, of the check
and of the bare fit, and their ratio; and whether the project's tests meet their target
(≤ 60 s on a 2-core machine). It reports the time; it never fails because of it.

Run from the template repository (standard library only; needs cookiecutter and uv on PATH):

    python3 benchmarks/pr_check.py [--repeats 1] [--threads N] [--keep] [--output-dir DIR] [--template DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pr_loop  # (its bake, install, bare script and timing helpers: one way to measure)

TESTS = ("uv", "run", "--frozen", "--no-sync", "--group", "dev", "pytest", "-q", "-p", "no:cacheprovider")
STEPS = (*(f"mlops {verb}" for verb in pr_loop.VERBS), "project's tests")
TARGET_TESTS_SECONDS = 60.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="timed runs of the check and of the bare fit (default 1)")
    parser.add_argument("--threads", type=int, help="OpenMP threads of every fit (OMP_NUM_THREADS; default: as CI, all cores)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory with the baked project")
    parser.add_argument("--output-dir", type=Path, help="bake into this directory instead of a temporary one (never deleted)")
    parser.add_argument("--template", type=Path, default=pr_loop.REPO_ROOT, help=f"template to bake (default: {pr_loop.REPO_ROOT})")
    args = parser.parse_args()
    if args.repeats < 1 or (args.threads is not None and args.threads < 1):
        parser.error("--repeats and --threads must be at least 1")
    return args


def time_check(project: Path) -> dict[str, float]:
    """One PR check from the baked state: the four verbs, then the project's tests; seconds per step."""
    pr_loop.reset_loop_state(project)
    seconds = {}
    for verb in pr_loop.VERBS:
        seconds[f"mlops {verb}"], _ = pr_loop.run_checked(["uv", "run", "--frozen", "--no-sync", "mlops", verb], project, f"mlops {verb}")
    seconds["project's tests"], _ = pr_loop.run_checked(list(TESTS), project, "the project's tests")
    return seconds


def benchmark(args: argparse.Namespace, workdir: Path, kept: bool) -> None:
    started = time.perf_counter()
    project = pr_loop.bake(args.template.resolve(), workdir)
    bake_seconds = time.perf_counter() - started
    print(f"baked {project}; installing its dependencies", flush=True)
    started = time.perf_counter()
    pr_loop.install(project, "compiled")
    install_seconds = time.perf_counter() - started
    # The project's tests need the dev group, which CI's `uv run --frozen` installs: part of the setup too.
    started = time.perf_counter()
    pr_loop.run_checked(["uv", "sync", "--frozen", "--group", "dev", "--compile-bytecode"], project, "uv sync --group dev")
    install_seconds += time.perf_counter() - started

    task = pr_loop.baked_task(project)
    bare_script = workdir / pr_loop.BARE_SCRIPT_NAME
    bare_script.write_text(pr_loop.BARE_SCRIPT, encoding="utf-8")
    measurements = pr_loop.Measurements(load_before=pr_loop.load_average())
    checks: list[dict[str, float]] = []
    # Check and baseline alternate, so that background load weighs on both alike.
    for repeat in range(1, args.repeats + 1):
        print(f"repeat {repeat}/{args.repeats}: PR check, then bare baseline", flush=True)
        checks.append(time_check(project))
        pr_loop.time_bare(project, bare_script, task, measurements)

    rows = [(step, [check[step] for check in checks]) for step in STEPS]
    rows += [("PR check total", [sum(check.values()) for check in checks]), ("bare scikit-learn fit", measurements.bare_seconds)]
    width = max(len(label) for label, _ in rows)
    print(f"\nPR check benchmark: {project.name}, {args.repeats} repeat(s), each from an empty .mlflow/ and outputs/")
    print(f"  {'step'.ljust(width)}  {'median s':>9}  samples s")
    for label, values in rows:
        print(f"  {label.ljust(width)}  {statistics.median(values):9.2f}  {pr_loop.samples(values)}")
    check_median, bare_median = statistics.median(rows[-2][1]), statistics.median(measurements.bare_seconds)
    print(f"  {'ratio check / bare'.ljust(width)}  {check_median / bare_median:8.1f}x")
    tests_median = statistics.median(rows[len(pr_loop.VERBS)][1])
    verdict = "meets" if tests_median <= TARGET_TESTS_SECONDS else "misses"
    print(
        f"\ntarget: the project's tests ≤ {TARGET_TESTS_SECONDS:.0f} s on a {pr_loop.TARGET_CORES}-core machine; "
        f"measured median {tests_median:.2f} s: {verdict} it"
    )
    cores = pr_loop.available_cores()
    if cores != pr_loop.TARGET_CORES:
        print(f"  note: this machine has {cores} cores, not {pr_loop.TARGET_CORES}: compare with the target with care")
    facts = pr_loop.machine_facts(project)
    print(f"machine: {facts}; load average {measurements.load_before} before the runs, {pr_loop.load_average()} after")
    print(f"setup, not timed: bake {bake_seconds:.1f} s, uv sync (with the dev group) {install_seconds:.1f} s")
    print(f"baked project: {project}" + ("" if kept else " (deleted on exit; --keep to keep it)"))


def main() -> int:
    args = parse_args()
    pr_loop.FIT_THREADS = args.threads
    pr_loop.require_tools()
    return pr_loop.run_in_workdir(benchmark, args, prefix="pr-check-")


if __name__ == "__main__":
    sys.exit(main())
