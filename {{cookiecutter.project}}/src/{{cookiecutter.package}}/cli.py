"""The ``mlops`` command: parses arguments, dispatches to a job, maps errors to exit codes.

Exit codes: 0 ok, 1 a check or gate said no, 2 bad usage, config or input, 3 unexpected error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.logging import RichHandler

from .errors import MlopsError
from .project import PROJECT_NAME

app = typer.Typer(
    help=f"{PROJECT_NAME}: the model life cycle as CLI verbs (run from the project root).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
T = TypeVar("T")


class State:
    debug = False
    confs = Path("confs")


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    confs: Annotated[Path, typer.Option("--confs", help="Folder holding data/model/gates/tracking.yaml.")] = Path("confs"),
) -> None:
    State.debug, State.confs = debug, confs
    # Colour and layout on a terminal; plain, greppable lines in CI logs.
    handler: logging.Handler = (
        RichHandler(show_path=False, show_time=False, markup=False) if sys.stderr.isatty() else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(message)s" if sys.stderr.isatty() else "%(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, handlers=[handler], force=True)
    if not debug:
        for noisy in ("mlflow", "alembic", "urllib3", "git", "httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _guarded(work: Callable[[], T]) -> T:
    """Run ``work``; known errors become one line on stderr and their exit code, bugs exit 3."""
    try:
        return work()
    except MlopsError as error:
        if State.debug:
            raise
        typer.echo(f"error: {' '.join(str(error).split())}", err=True)  # one line, whatever a value in it held
        raise typer.Exit(error.exit_code) from None
    except Exception as error:  # a bug, not bad input: say so and how to see more
        if State.debug:
            raise
        first_line = (str(error).strip().splitlines() or [""])[0]
        typer.echo(f"internal error: {type(error).__name__}: {first_line} (rerun with --debug for the traceback)", err=True)
        raise typer.Exit(3) from None


DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Send GitHub nothing: print each request it would get (kept in outputs/dry-run/<verb>/); offline without GITHUB_REPOSITORY.",
    ),
]


def _dry(verb: str, job: Callable[..., T]) -> T:
    """Run ``job(settings, recorder)`` with a dry-run recorder, then print what it would have sent."""
    from .jobs import steps

    recorder = None

    def work(settings):
        nonlocal recorder
        recorder = steps.dry_run(settings, verb)
        return job(settings, recorder)

    try:
        return _run(work)
    finally:
        for line in recorder.lines if recorder is not None else []:
            typer.echo(line)
        if recorder is not None:
            typer.echo(f"dry run: {len(recorder.lines)} request(s) recorded in {steps.DRY_RUN / verb}/, none sent")


def _run(job: Callable[..., T], *args: object) -> T:
    """Load the config (its errors are known errors too), then run the job."""
    from .config import load_settings

    return _guarded(lambda: job(load_settings(State.confs), *args))


@app.command("init-data")
def init_data(
    path: Annotated[str, typer.Argument(help="The table: a CSV or Parquet file, or an fsspec URI (s3://, gs://, https://).")],
    target: Annotated[str | None, typer.Option(help="Column to predict (asked for on a terminal when left out).")] = None,
    task: Annotated[str | None, typer.Option(help="binary_classification or regression (default: inferred from the target).")] = None,
    timestamp: Annotated[str | None, typer.Option(help="Date column the holdout split orders by (default: the only date column).")] = None,
    sensitive: Annotated[str | None, typer.Option(help="Column of groups for the fairness report and gates.")] = None,
    positive_class: Annotated[
        str | None, typer.Option("--positive-class", help="Label counted as positive (default: 1 for 0/1, else the rarer label).")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Column of ids repeated across rows: the holdout takes whole groups (default: the only repeated id).")
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="A column never to use as a feature (repeat for several).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite confs/data.yaml, confs/gates.yaml and data/manifest.json.")] = False,
) -> None:
    """Draft the data contract from your own table and print every decision with its reason.

    Reads: the table. Writes: confs/data.yaml, confs/gates.yaml, data/manifest.json, and a copy
    of the table in data/ when it lies outside the project. Exit 2 when a file exists without --force.
    """
    from .jobs import init_data as job

    choices = job.Choices(
        target=target,
        task=task,
        timestamp=timestamp,
        sensitive=sensitive,
        positive_class=positive_class,
        group=group,
        exclude=tuple(exclude or ()),
        force=force,
    )
    ask = (lambda columns: typer.prompt(f"Target column ({', '.join(columns)})")) if sys.stdin.isatty() else None
    confs = State.confs
    # Writes the config rather than reading it: run without loading settings.
    draft = _guarded(lambda: job.run(path, root=confs.resolve().parent, confs=confs, choices=choices, ask_target=ask))
    for line in draft.lines:
        typer.echo(line)


@app.command()
def validate() -> None:
    """Check the data named in confs/data.yaml against its schema and manifest.

    Reads: confs/data.yaml, the data file, data/manifest.json.
    Writes: outputs/validation/report.{md,json}; when the data passes, what was verified
    (verified.json, frame.parquet) for train and evaluate. Exit 1 when the data fails.
    """
    from .jobs import validate as job

    _run(job.run)


@app.command()
def manifest() -> None:
    """Pin the data file: path, sha256, row count and schema hash.

    Reads: confs/data.yaml and the data file. Writes: data/manifest.json (commit it).
    """
    from .jobs import manifest as job

    _run(job.run)


@app.command()
def train() -> None:
    """Fit the pipeline on the training split (fixed seed) and log it to MLflow.

    Reads: confs/*.yaml, the validated data. Writes: an MLflow run and registered model
    version (.mlflow/ or MLFLOW_TRACKING_URI), outputs/train/run.json and the logged model's
    folder outputs/train/model/ (its sha256 in run.json).
    """
    from .jobs import train as job

    _run(job.run)


@app.command()
def evaluate() -> None:
    """Score the challenger and the champion on one holdout and apply the gates.

    Reads: outputs/train/run.json and outputs/train/model/ (sha256-checked), the champion
    (outputs/champion/, else the MLflow alias), confs/gates.yaml.
    Writes: outputs/evaluate/metrics.json and report.md. Exit 1 when a gate fails.
    """
    from .jobs import evaluate as job

    _run(job.run)


@app.command()
def report(
    title: Annotated[str, typer.Option(help="Heading of the report.")] = f"{PROJECT_NAME} pipeline report",
) -> None:
    """Render the PR comment / job summary from the validation and evaluation results.

    Reads: outputs/validation/report.json, outputs/evaluate/metrics.json.
    Writes: outputs/report.md, stdout, and $GITHUB_STEP_SUMMARY when set.
    """
    from .jobs import report as job

    typer.echo(_run(job.run, title), nl=False)


@app.command()
def promote() -> None:
    """Make the evaluated challenger the champion in the registry (CI's release does this on merge).

    Reads: outputs/evaluate/metrics.json. Writes: the `champion` alias. Exit 1 if its gates failed.
    """
    from .jobs import promote as job

    version = _run(job.run)
    typer.echo(f"champion is now version {version}")


@app.command()
def champion() -> None:
    """Fetch the production model: the newest complete GitHub Release's model archive, verified and bounded.

    With a tracking server (MLFLOW_TRACKING_URI=http…) the registry alias is the champion instead; with no
    GITHUB_REPOSITORY (a laptop), the local registry's `champion` alias that `mlops promote` moved is copied out.
    Reads: GITHUB_API_URL, GITHUB_TOKEN, GITHUB_REPOSITORY. Writes: outputs/champion/.
    """
    from .jobs import champion as job

    _run(job.run)


@app.command()
def predict(
    input: Annotated[str, typer.Option("--input", help="The rows to score: CSV, or Parquet by its suffix; a path or an fsspec URI.")],
    output: Annotated[str, typer.Option("--output", help="Where the predictions go (.csv or .parquet; a path or an fsspec URI).")],
    release: Annotated[str | None, typer.Option("--release", help="Score with this GitHub release (vX.Y.Z), fetched and verified.")] = None,
    model_dir: Annotated[Path | None, typer.Option("--model-dir", help="A model folder as `mlops champion` writes it.")] = None,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", help="Rows read, checked and scored at a time (bounds memory).")] = 200_000,
) -> None:
    """Score a table with the champion (or --release / --model-dir), chunk by chunk; bad rows go to a side file with reasons.

    Reads: --input, outputs/champion/ (run `mlops champion`) unless --release or --model-dir, confs/data.yaml.
    Writes: --output (id column, prediction) and <output>.rejected.csv (row, reason, cells), each whole or not at all.
    Exit 2 for a missing column or an unreadable file; exit 1 when no row meets the data contract.
    """
    from .jobs import predict as job

    def work(settings):
        if not sys.stderr.isatty():
            return job.run(settings, input, output, model_dir=model_dir, release=release, chunk_rows=chunk_rows)
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (SpinnerColumn(), TextColumn("scoring: {task.completed:,.0f} rows"), TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("scoring", total=None)
            return job.run(
                settings,
                input,
                output,
                model_dir=model_dir,
                release=release,
                chunk_rows=chunk_rows,
                progress=lambda rows: bar.advance(task, rows),
            )

    typer.echo(_run(work).line())


@app.command()
def comment(
    pr: Annotated[int | None, typer.Option(help="Pull request number (default: $PR_NUMBER).")] = None,
    dry_run: DryRunOption = False,
) -> None:
    """Post outputs/report.md as the pull request's one sticky comment (updated, never duplicated).

    Reads: outputs/report.md, GITHUB_API_URL, GITHUB_TOKEN, GITHUB_REPOSITORY.
    """
    from .jobs import comment as job

    if dry_run:
        _dry("comment", lambda settings, recorder: job.run(settings, pr, recorder))
        return
    _run(job.run, pr)


@app.command()
def release(
    prepare: Annotated[
        bool,
        typer.Option(
            "--prepare", help="Run every check and pack the archive to publish, writing nothing to GitHub; say whether to attest it."
        ),
    ] = False,
    allow_unreviewed: Annotated[
        bool,
        typer.Option("--allow-unreviewed", help="With --prepare: release although no PR comment shows reviewed metrics (needs --reason)."),
    ] = False,
    reason: Annotated[str, typer.Option(help="With --prepare: why an unreviewed model may be released (recorded in the model card).")] = "",
    dry_run: DryRunOption = False,
) -> None:
    """Release the evaluated model from main in two steps: `--prepare`, then publish (GitHub Release, tag, Deployment, alias).

    `--prepare` reads outputs/train/run.json, outputs/evaluate/*, confs/release.yaml and the GitHub API
    (GITHUB_REF must be refs/heads/main); it writes outputs/release/model.tar.gz, outputs/release/plan.json
    and the step output attest=true|false, and nothing on GitHub. Without it, the prepared archive is
    published (its sha256 must be the plan's) and outputs/release/release.json written. Idempotent for a
    commit; all or nothing. Exit 1 when the gates failed, the model differs from the reviewed one, or there
    are no reviewed metrics (without --allow-unreviewed).
    """
    from .jobs import release as job

    if dry_run:  # both steps in one go, with --allow-unreviewed and --reason as for --prepare
        done = _dry("release", lambda settings, recorder: job.dry_run(settings, recorder, allow_unreviewed=allow_unreviewed, reason=reason))
        typer.echo(f"would release {done.version}" if isinstance(done, job.ReleaseOutcome) else f"already released as {done.version}")
        return
    if prepare:
        plan = _run(lambda settings: job.prepare(settings, allow_unreviewed=allow_unreviewed, reason=reason))
        doing = f"publish {plan.version}" if plan.publish else f"already released as {plan.version}"
        typer.echo(f"{doing}; attest: {'yes' if plan.attest else 'no'} ({plan.attest_reason})")
        return
    if allow_unreviewed or reason:
        typer.echo("error: --allow-unreviewed and --reason go with --prepare (the plan records them)", err=True)
        raise typer.Exit(2)
    outcome = _run(job.run)
    typer.echo(f"{outcome.version}: {outcome.release_url}")


@app.command()
def rollback(
    tag: Annotated[str, typer.Option("--tag", help="The release to make the champion again, e.g. v1.2.0.")],
    dry_run: DryRunOption = False,
) -> None:
    """Make an earlier release the champion again: verified as `mlops champion` verifies it, recorded as a deployment.

    Reads: the GitHub API (GITHUB_API_URL, GITHUB_TOKEN, GITHUB_REPOSITORY), confs/release.yaml (attestation policy).
    Writes: a production Deployment marked as a rollback, the release marked latest, the registry's `champion`
    alias (tracking server only), outputs/rollback/rollback.json and the job summary. The current champion's
    tag changes nothing. Exit 2 for a tag that is not a published, complete release or whose archive fails its checks.
    """
    from .jobs import rollback as job

    outcome = _dry("rollback", lambda settings, recorder: job.run(settings, tag, recorder)) if dry_run else _run(job.run, tag)
    typer.echo(outcome.message)


@app.command("smoke-test")
def smoke_test(
    image: Annotated[str, typer.Argument(help="The image to run, as built by scripts/build_image.py.")],
    model_dir: Annotated[
        Path, typer.Option("--model-dir", help="The model folder the image was built from (the batch path's answers come from it).")
    ] = Path("outputs/release/serving"),
    ready_within: Annotated[float, typer.Option("--ready-within", help="Seconds /ready may take after `docker run`.")] = 60.0,
) -> None:
    """Run the serving image and check it: /ready within the bound, /predict equal to the batch path, a bad row refused with 422.

    Reads: the image (a Docker daemon and its CLI), the model folder, the first rows of the data file. Writes nothing; the
    container is removed. Exit 1 when a check fails (the release then pushes and publishes nothing).
    """
    from .jobs import smoke_test as job

    result = _run(lambda settings: job.run(settings, image, model_dir, ready_within=ready_within))
    typer.echo(f"{result.image}: ready in {result.ready_after:.1f} s; {result.rows} prediction(s) equal the batch path's; bad row → 422")


@app.command("push-image")
def push_image(image: Annotated[str, typer.Argument(help="The image the release plan names (REGISTRY/OWNER/NAME:vX.Y.Z).")]) -> None:
    """Push the release's smoke-tested image; record the digest the registry stored (outputs/release/image.json).

    Reads outputs/release/plan.json (the image must be the one it names), IMAGE_REGISTRY_USERNAME and
    IMAGE_REGISTRY_PASSWORD. Sets the step outputs name and digest (the attestation's subject).
    """
    from .jobs import push_image as job

    pushed = _run(job.run, image)
    typer.echo(pushed.reference)


@app.command()
def drift(
    history: Annotated[
        bool, typer.Option(help="Append this run to the history on the reports branch (needs contents: write); see drift-history.")
    ] = True,
    html: Annotated[
        bool, typer.Option("--html/--no-html", help="Also write evidently's interactive report.html (the slow part: it imports evidently).")
    ] = True,
) -> None:
    """Compare production data with the champion's training profile: drift, decay, staleness, schema.

    Reads: confs/monitor.yaml, the production files it names, outputs/champion/ (run `mlops champion`),
    and, when GITHUB_TOKEN is set, the earlier runs on the reports branch (the trend).
    Writes: outputs/drift/drift.{json,md} (and report.html with evidently, unless --no-html), the job summary, the step
    output retraining_due, and the run appended to the history on the reports branch when GITHUB_TOKEN
    is set (not with --no-history). Exit 0 whether or not retraining is due: finding drift is the job working.
    """
    from .jobs import drift as job

    summary = _run(lambda settings: job.run(settings, history=history, html=html))
    typer.echo(summary["verdict"])


@app.command()
def serve(
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model-dir", help="Folder holding champion.json and model/ (default: outputs/champion, as `mlops champion` writes it)."
        ),
    ] = None,
    previous_model_dir: Annotated[
        Path | None,
        typer.Option("--previous-model-dir", help="canary/shadow: the model rolled out from (default: outputs/previous when present)."),
    ] = None,
    release: Annotated[str | None, typer.Option("--release", help="Serve this GitHub release (vX.Y.Z), fetched and verified.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the champion over HTTP: /predict, /health, /ready, /metadata, /metrics, OpenAPI at /docs.

    Reads: confs/data.yaml (the request schema), confs/serving.yaml (caps, release policy, prediction log),
    the model folder(s). Writes: the prediction log when confs/serving.yaml turns it on. Stops on SIGTERM
    after the requests in flight are answered. Exit 2 when there is no champion to serve.
    """
    from .jobs import serve as job

    _run(
        lambda settings: job.run(
            settings, model_dir=model_dir, previous_model_dir=previous_model_dir, host=host, port=port, release=release
        )
    )


@app.command("simulate-batch")
def simulate_batch(
    output: Annotated[
        Path, typer.Option("--output", help="Where to write the batch: CSV, or Parquet by its suffix (e.g. data/current/b.csv).")
    ],
    shift: Annotated[
        list[str] | None, typer.Option("--shift", help="COLUMN=+10% or COLUMN=-3 (numeric), COLUMN=value:30% (any other); repeatable.")
    ] = None,
    rows: Annotated[int, typer.Option(help="Rows in the batch.")] = 1000,
    seed: Annotated[int, typer.Option(help="The same seed gives the same batch.")] = 0,
) -> None:
    """A production batch to try the monitor with: rows sampled from your data (confs/data.yaml), named columns shifted.

    Reads: confs/data.yaml and the data file. Writes: --output (new ids, timestamps after the data's last).
    Exit 2 for an unknown column or a shift that does not fit it.
    """
    from .jobs import simulate_batch as job

    typer.echo(_run(lambda settings: job.run(settings, shift or [], rows=rows, seed=seed, output=output)))


@app.command("drift-history")
def drift_history() -> None:
    """Append the last `mlops drift --no-history` run to the history on the reports branch.

    Reads: outputs/drift/drift.{json,md} (bounded, checked: made from this checkout's data and config, a
    typed history line). Writes: drift/history.jsonl, drift/latest.{md,json} on the reports branch (Git
    Data API; the token needs contents: write and nothing else).
    """
    from .jobs import drift as job

    head = _run(job.publish_history)
    typer.echo(f"history updated: {head}")


@app.command("retrain-pr")
def retrain_pr(dry_run: DryRunOption = False) -> None:
    """Open or update the one retraining pull request when `mlops drift` found retraining due.

    Reads: outputs/drift/drift.json, the data and the production files, the GitHub API.
    Writes: a commit with the new data snapshot and manifest on the retraining branch (Git Data API),
    the pull request, its label, a dispatch of pr.yml on it; outputs/retrain/retrain.json.
    """
    from .jobs import retrain_pr as job

    outcome = _dry("retrain-pr", lambda settings, recorder: job.run(settings, dry_run=recorder)) if dry_run else _run(job.run)
    typer.echo(outcome["message"])


@app.command("dora")
def dora_metrics(
    window: Annotated[str, typer.Option(help="How far back to measure: days, weeks or hours such as 90d, 12w, 48h.")] = "90d",
    until: Annotated[str | None, typer.Option(help="Last day measured, YYYY-MM-DD in UTC (default: now).")] = None,
    history: Annotated[
        bool, typer.Option(help="Append this run to the history on the reports branch (needs contents: write); see dora-history.")
    ] = True,
    dry_run: DryRunOption = False,
) -> None:
    """DORA metrics of this model's delivery, from the repository's own GitHub history.

    Reads: confs/dora.yaml (optional), the GitHub API (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN):
    production deployments and their statuses, the commits they shipped, pull requests' commits,
    incident issues. Writes: outputs/dora/dora.{json,md}, the job summary, the history on the reports
    branch, and one tracking issue (label dora) updated in place.
    """
    from .jobs import dora as job

    if dry_run:
        report = _dry("dora", lambda settings, recorder: job.run(settings, window=window, until=until, history=history, dry_run=recorder))
    else:
        report = _run(lambda settings: job.run(settings, window=window, until=until, history=history))
    for name, metric in report["metrics"].items():
        typer.echo(f"{name}: {metric['level']} ({metric['detail']})")
    typer.echo(f"tracking issue: {report['tracking_issue']['url']}")


@app.command("dora-history")
def dora_history() -> None:
    """Append the last `mlops dora --no-history` run to the history on the reports branch.

    Reads: outputs/dora/dora.{json,md}. Writes: dora/history.jsonl, dora/latest.{md,json} on the reports
    branch (Git Data API; the token needs contents: write and nothing else).
    """
    from .jobs import dora as job

    head = _run(job.publish_history)
    typer.echo(f"history updated: {head}")


def main() -> None:
    app(prog_name="mlops")


if __name__ == "__main__":
    sys.exit(main())
