#!/usr/bin/env python3
"""How long the project's drift check takes next to evidently's DataDriftPreset, and whether they agree.

What it measures:

1. Bakes the template with its defaults and installs the project's locked dependencies
   (``uv sync --frozen --compile-bytecode``), unless ``--project`` names a baked project whose
   ``.venv`` is already synced. The rest runs with that project's interpreter.
2. Makes a seeded reference and a current table, each ``--rows`` rows (1,000,000 by default) ×
   20 columns: 14 numeric, 6 categorical, with a shift built into 7 of them (see ``COLUMNS``)
   and nulls that grow in one more without any shift.
3. Ours: ``core.drift.build_profile`` on the reference plus writing the profile as JSON (what
   ``train`` does), then reading that JSON back plus ``core.drift.compare`` on the current data
   (what the monitoring job does). Run ``--repeats`` times; the median is printed.
4. evidently: ``Report([DataDriftPreset()])`` over the same two tables with the same column
   types, once (it takes about two minutes). Its import is timed apart and not counted.

Each engine runs in its own forked process, which inherits the two tables; the peak memory
printed is what that process added to them (peak RSS minus RSS at its start). The report gives
both times, their ratio, each column's method, statistic and verdict on both sides, and every
disagreement. The target: ours ≤ 10 s on a 2-core machine with the same drifted columns as
evidently. It reports the time; it never fails because of it.

Run from the template repository (standard library only; needs cookiecutter and uv on PATH):

    python3 benchmarks/drift.py [--rows 1000000] [--repeats 3] [--no-evidently] [--project DIR] [--keep] [--template DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0
TARGET_CORES = 2
SEED = 20240611
# Each column: kind, how the reference is drawn, how the current differs. The comments give
# the expected verdict with evidently's defaults (normed Wasserstein / Jensen–Shannon, 0.1).
COLUMNS = {
    "n01_normal": ("numeric", "normal(0, 1)", "same"),
    "n02_normal_shifted": ("numeric", "normal(50, 10)", "+3: W ≈ 0.3, drifts"),
    "n03_lognormal": ("numeric", "lognormal(0, 0.8)", "same"),
    "n04_lognormal_scaled": ("numeric", "lognormal(3, 0.5)", "× 1.25: drifts"),
    "n05_uniform": ("numeric", "uniform(0, 100)", "same"),
    "n06_uniform_shifted": ("numeric", "uniform(0, 100)", "+5: W ≈ 0.17, drifts"),
    "n07_exponential": ("numeric", "exponential(2)", "same"),
    "n08_age": ("numeric", "integers 18..89", "same"),
    "n09_integers_nudged": ("numeric", "integers 0..999", "+10: W ≈ 0.03, does not drift"),
    "n10_flag_rate_up": ("numeric", "0/1, 20 % ones", "35 % ones: JS ≈ 0.12, drifts"),
    "n11_three_levels": ("numeric", "1/2/3", "same"),
    "n12_nulls_grow": ("numeric", "normal(5, 2), 10 % null", "30 % null, same values: does not drift"),
    "n13_heavy_tail": ("numeric", "student t(3)", "same"),
    "n14_gamma_shape": ("numeric", "gamma(2, 2)", "gamma(2.4, 2): drifts"),
    "c01_five_even": ("categorical", "5 categories, even", "same"),
    "c02_three_reweighted": ("categorical", "3 categories 50/30/20", "30/35/35: drifts"),
    "c03_fifty_zipf": ("categorical", "50 categories, Zipf-like", "same"),
    "c04_yes_no": ("categorical", "yes/no", "same"),
    "c05_new_category": ("categorical", "20 categories", "a new one in 10 % of rows: drifts"),
    "c06_stores": ("categorical", "300 categories", "same"),
}
EVIDENTLY_METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi",
}


class BenchmarkError(Exception):
    """A step failed: the message says which and why; the run cannot go on."""


# --- the orchestrator (standard library only) ---------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the reference and of the current table (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of ours; evidently runs once (default 3)")
    parser.add_argument("--no-evidently", action="store_true", help="time ours only")
    parser.add_argument("--project", type=Path, help="a baked project with a synced .venv to use instead of baking one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory with the baked project")
    parser.add_argument("--template", type=Path, default=REPO_ROOT, help=f"template to bake (default: {REPO_ROOT})")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--package", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 2 or args.repeats < 1:
        parser.error("--rows must be at least 2 and --repeats at least 1")
    return args


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_checked(command: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(command, cwd=cwd, env=child_env(), capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr.strip() or result.stdout.strip()).splitlines()[-15:])
        raise BenchmarkError(f"{what} failed with exit code {result.returncode} (`{' '.join(command)}` in {cwd}):\n{tail}")


def bake_and_install(template: Path, workdir: Path) -> Path:
    missing = [tool for tool in ("cookiecutter", "uv") if shutil.which(tool) is None]
    if missing:
        raise BenchmarkError(f"{' and '.join(missing)} not on PATH: run `python3 tasks.py test` once or activate .venv")
    run_checked(["cookiecutter", "--no-input", str(template), "--output-dir", str(workdir)], workdir, "bake (cookiecutter)")
    (project,) = [path for path in workdir.iterdir() if path.is_dir()]
    print(f"baked {project}; installing its locked dependencies", flush=True)
    run_checked(["uv", "sync", "--frozen", "--compile-bytecode"], project, "uv sync")
    return project


def venv_python(project: Path) -> Path:
    return project / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run_worker(project: Path, args: argparse.Namespace) -> dict:
    """This file again, with the project's interpreter: it measures and prints its findings as JSON last."""
    package = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))["package"]
    command = [str(venv_python(project)), str(Path(__file__).resolve()), "--worker", "--package", package]
    command += ["--rows", str(args.rows), "--repeats", str(args.repeats)] + (["--no-evidently"] if args.no_evidently else [])
    # Progress goes to stderr, straight to the terminal; the findings come back on stdout.
    result = subprocess.run(command, cwd=project, env=child_env(), stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise BenchmarkError(f"the measuring process failed with exit code {result.returncode} (`{' '.join(command)}`)")
    return json.loads(result.stdout.strip().splitlines()[-1])


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def print_report(findings: dict, rows: int) -> None:
    ours = findings["ours"]
    theirs = findings.get("evidently")
    numeric = sum(kind == "numeric" for kind, _, _ in COLUMNS.values())
    print(
        f"\nDrift benchmark: {rows:,} reference rows and {rows:,} current rows × {len(COLUMNS)} columns "
        f"({numeric} numeric, {len(COLUMNS) - numeric} categorical)"
    )
    # Peak MB: what each engine's process added to the two tables it inherited.
    print(f"  {'step':<46} {'seconds':>8}  {'peak MB':>8}  samples s")
    samples = " ".join(f"{seconds:.2f}" for seconds in ours["total_seconds"])
    print(f"  {'ours: build_profile + write JSON (train)':<46} {ours['profile_seconds']:8.2f}")
    print(f"  {'ours: read JSON + compare (monitor)':<46} {ours['compare_seconds']:8.2f}")
    print(f"  {'ours: total (median of repeats)':<46} {ours['total_median']:8.2f}  {ours['peak_mb']:8.0f}  {samples}")
    if theirs:
        print(f"  {'evidently ' + theirs['version'] + ': DataDriftPreset report':<46} {theirs['seconds']:8.2f}  {theirs['peak_mb']:8.0f}")
        print(f"  {'ratio evidently / ours':<46} {theirs['seconds'] / ours['total_median']:7.1f}x")
        print(f"  (evidently's import, not counted: {theirs['import_seconds']:.1f} s)")
    print(f"  profile: {ours['profile_bytes'] / 1024:.0f} KB of JSON for {rows:,} rows")
    verdict = "meets" if ours["total_median"] <= TARGET_SECONDS else "misses"
    measured = ours["total_median"]
    print(f"\ntarget: ours ≤ {TARGET_SECONDS:.0f} s on a {TARGET_CORES}-core machine; measured median {measured:.2f} s: {verdict} it")
    if available_cores() != TARGET_CORES:
        print(f"  note: this machine has {available_cores()} cores, not {TARGET_CORES}: compare with the target with care")

    print(f"\n  {'column':<22} {'ours':<36} {'evidently':<36} agree")
    disagreements = []
    for column in COLUMNS:
        mine = ours["columns"][column]
        mine_text = f"{mine['method']} {mine['statistic']:.4g} {'DRIFT' if mine['drifted'] else 'ok'}"
        if theirs:
            other = theirs["columns"][column]
            other_text = f"{other['method']} {other['statistic']:.4g} {'DRIFT' if other['drifted'] else 'ok'}"
            agree = mine["method"] == other["method"] and mine["drifted"] == other["drifted"]
            if not agree:
                disagreements.append(column)
        else:
            other_text, agree = "-", True
        print(f"  {column:<22} {mine_text:<36} {other_text:<36} {'yes' if agree else 'NO'}")
    drifted = [column for column in COLUMNS if ours["columns"][column]["drifted"]]
    print(f"\nours: {len(drifted)} of {len(COLUMNS)} columns drift ({', '.join(drifted)}); dataset drift: {ours['dataset_drift']}")
    if theirs:
        agreeing = len(COLUMNS) - len(disagreements)
        print(f"evidently: dataset drift share {theirs['share']:.2f}; verdicts and methods agree on {agreeing} of {len(COLUMNS)} columns")
        if disagreements:
            print(f"  disagreements: {', '.join(disagreements)}")
        largest = max(COLUMNS, key=lambda column: abs(ours["columns"][column]["statistic"] - theirs["columns"][column]["statistic"]))
        difference = abs(ours["columns"][largest]["statistic"] - theirs["columns"][largest]["statistic"])
        print(f"  largest difference of statistics: {difference:.2g} ({largest})")
    facts = findings["facts"]
    print(
        f"machine: {available_cores()} cores (nproc), Python {facts['python']}, numpy {facts['numpy']}, pandas {facts['pandas']}, "
        f"scipy {facts['scipy']}; load average {findings['load_before']} before, {load_average()} after"
    )


def main() -> int:
    args = parse_args()
    if args.worker:
        return worker(args)
    temporary = None
    try:
        if args.project:
            project = args.project.resolve()
            if not venv_python(project).exists():
                raise BenchmarkError(f"{project} has no synced .venv: run `uv sync --frozen` there first")
        else:
            temporary = Path(tempfile.mkdtemp(prefix="drift-bench-"))
            project = bake_and_install(args.template.resolve(), temporary)
        findings = run_worker(project, args)
    except BenchmarkError as error:
        print(f"error: {error}" + (f"\n(files kept in {temporary})" if temporary else ""), file=sys.stderr)
        return 1
    print_report(findings, args.rows)
    if temporary and not args.keep:
        shutil.rmtree(temporary, ignore_errors=True)
    elif temporary:
        print(f"baked project kept: {project}")
    return 0


# --- the worker (runs with the baked project's interpreter) --------------------------------------


def say(message: str) -> None:
    print(f"» {message}", file=sys.stderr, flush=True)


def make_tables(rows: int):
    """The seeded reference and current tables described by COLUMNS."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)

    def labels(prefix: str, count: int) -> np.ndarray:
        return np.array([f"{prefix}{index:03d}" for index in range(count)], dtype=object)

    zipf = 1.0 / np.arange(1, 51)
    twenty, stores = labels("segment_", 20), labels("store_", 300)

    def table(current: bool) -> pd.DataFrame:
        nulls_share = 0.3 if current else 0.1
        flag_rate = 0.35 if current else 0.2
        three_way = [0.3, 0.35, 0.35] if current else [0.5, 0.3, 0.2]
        frame = pd.DataFrame(
            {
                "n01_normal": rng.normal(0, 1, rows),
                "n02_normal_shifted": rng.normal(53 if current else 50, 10, rows),
                "n03_lognormal": rng.lognormal(0, 0.8, rows),
                "n04_lognormal_scaled": rng.lognormal(3, 0.5, rows) * (1.25 if current else 1.0),
                "n05_uniform": rng.uniform(0, 100, rows),
                "n06_uniform_shifted": rng.uniform(0, 100, rows) + (5 if current else 0),
                "n07_exponential": rng.exponential(2, rows),
                "n08_age": rng.integers(18, 90, rows).astype(float),
                "n09_integers_nudged": rng.integers(0, 1000, rows).astype(float) + (10 if current else 0),
                "n10_flag_rate_up": (rng.random(rows) < flag_rate).astype(float),
                "n11_three_levels": rng.choice([1.0, 2.0, 3.0], rows, p=[0.5, 0.3, 0.2]),
                "n12_nulls_grow": np.where(rng.random(rows) < nulls_share, np.nan, rng.normal(5, 2, rows)),
                "n13_heavy_tail": rng.standard_t(3, rows),
                "n14_gamma_shape": rng.gamma(2.4 if current else 2.0, 2, rows),
                "c01_five_even": rng.choice(labels("kind_", 5), rows),
                "c02_three_reweighted": rng.choice(np.array(["basic", "plus", "premium"], dtype=object), rows, p=three_way),
                "c03_fifty_zipf": rng.choice(labels("city_", 50), rows, p=zipf / zipf.sum()),
                "c04_yes_no": rng.choice(np.array(["yes", "no"], dtype=object), rows, p=[0.6, 0.4]),
                "c05_new_category": rng.choice(twenty, rows),
                "c06_stores": rng.choice(stores, rows),
            }
        )
        if current:
            frame.loc[rng.random(rows) < 0.1, "c05_new_category"] = "segment_new"
        return frame

    return table(current=False), table(current=True)


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def in_child(function, *args):
    """Run ``function(*args)`` in a forked process (it shares the tables); return its result and the peak MB it added."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target() -> None:
        start = rss_mb("VmRSS")
        try:
            result = function(*args)
            sender.send(("ok", result, rss_mb("VmHWM") - start))
        except Exception as error:  # reported by the parent
            sender.send(("error", f"{type(error).__name__}: {error}", 0.0))

    process = context.Process(target=target)
    process.start()
    status, result, peak = receiver.recv()
    process.join()
    if status != "ok":
        raise BenchmarkError(result)
    return result, peak


def run_ours(package: str, reference, current, numeric: list[str], categorical: list[str]) -> dict:
    import importlib

    drift = importlib.import_module(f"{package}.core.drift")
    started = time.perf_counter()
    text = json.dumps(drift.build_profile(reference, numeric=numeric, categorical=categorical), allow_nan=False)
    profiled = time.perf_counter()
    result = drift.compare(json.loads(text), current)
    finished = time.perf_counter()
    return {
        "profile_seconds": profiled - started,
        "compare_seconds": finished - profiled,
        "profile_bytes": len(text),
        "dataset_drift": result.dataset_drift,
        "columns": {
            column.column: {"method": column.method, "statistic": column.statistic, "drifted": column.drifted} for column in result.columns
        },
    }


def run_evidently(reference, current, numeric: list[str], categorical: list[str]) -> dict:
    import warnings

    started = time.perf_counter()
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    imported = time.perf_counter()
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            Dataset.from_pandas(current, data_definition=definition), Dataset.from_pandas(reference, data_definition=definition)
        )
        data = snapshot.dict()
    finished = time.perf_counter()
    values = {metric["config"]["column"]: metric for metric in data["metrics"] if "column" in metric["config"]}
    drifted = {test["metric_config"]["params"]["column"]: test["status"] == "FAIL" for test in data["tests"] if test["id"] == "drift"}
    share = next(metric["value"]["share"] for metric in data["metrics"] if "share" in (metric["value"] or {}))
    return {
        "version": evidently.__version__,
        "import_seconds": imported - started,
        "seconds": finished - imported,
        "share": share,
        "columns": {
            column: {
                "method": EVIDENTLY_METHODS[metric["config"]["method"]],
                "statistic": float(metric["value"]),
                "drifted": drifted[column],
            }
            for column, metric in values.items()
        },
    }


def worker(args: argparse.Namespace) -> int:
    import statistics

    import numpy
    import pandas
    import scipy

    numeric = [name for name, (kind, _, _) in COLUMNS.items() if kind == "numeric"]
    categorical = [name for name, (kind, _, _) in COLUMNS.items() if kind == "categorical"]
    findings: dict = {"load_before": load_average()}
    say(f"making two tables of {args.rows:,} rows × {len(COLUMNS)} columns")
    reference, current = make_tables(args.rows)
    runs = []
    for repeat in range(1, args.repeats + 1):
        say(f"ours, run {repeat}/{args.repeats}")
        runs.append(in_child(run_ours, args.package, reference, current, numeric, categorical))
    totals = [result["profile_seconds"] + result["compare_seconds"] for result, _ in runs]
    median_run, peak = min(runs, key=lambda run: abs(run[0]["profile_seconds"] + run[0]["compare_seconds"] - statistics.median(totals)))
    findings["ours"] = {
        **median_run,
        "total_seconds": totals,
        "total_median": statistics.median(totals),
        "peak_mb": max(p for _, p in runs),
    }
    if not args.no_evidently:
        say("evidently DataDriftPreset (about two minutes for a million rows)")
        result, peak = in_child(run_evidently, reference, current, numeric, categorical)
        findings["evidently"] = {**result, "peak_mb": peak}
    findings["facts"] = {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scipy": scipy.__version__,
    }
    print(json.dumps(findings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
