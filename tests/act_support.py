"""Run a project's GitHub Actions workflows for real with nektos/act in host mode, offline.

``run_act`` runs one workflow of a committed project (``prepare_repo``) on this machine
(``-P <label>=-self-hosted``: no Docker), with every third-party action replaced by a small
composite stand-in from ``tests/act_standins/<owner>/<name>/`` (``--local-repository``), and
returns what a reader of the run on GitHub would see: which steps and jobs passed, the job
summaries and the uploaded artifacts (copied by the upload-artifact stand-in).

What act does by itself, checked by tests/test_act_support.py:

- ``actions/checkout`` of the repository being run needs no stand-in: act copies the project
  folder (with ``.git``, without what ``.gitignore`` ignores) into the job's workspace.
  It does so only when the step names no other ``repository`` or ``ref``.
- Secrets are masked as ``***`` in the log, so a fake token must be long and unique
  (``fake_token``): a short one would mask every matching fragment of the log.
- Steps inherit act's own environment, so ``run_act`` gives act a cleaned one (no test venv
  on ``PATH``, no outer CI variables) and passes the rest explicitly with ``--env``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from secrets import choice
from typing import Any

import yaml

ACT_STANDINS = Path(__file__).parent / "act_standins"
GH_STANDIN = Path(__file__).parent / "gh_standin.py"
CHECKOUT = "actions/checkout"
# Not fetched from GitHub: this repository's own actions (act cannot run the "$/" form yet) and images.
LOCAL_PREFIXES = ("./", "$/", "docker://")
ORIGIN_PATTERN = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+\.git$")
# Variables of an outer CI run (or a developer's shell) that must not reach the steps.
OUTER_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "STATE_")
# PYTHONDONTWRITEBYTECODE: a hosted runner does not set it, and without it each step reuses
# the bytecode the previous one compiled instead of recompiling mlflow and sklearn on import.
OUTER_NAMES = {
    "VIRTUAL_ENV",
    "GH_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "ACT",
    "CI",
    "UV_BIN_DIR",
    "ACT_ARTIFACTS_DIR",
    "ACT_STANDINS_PYTHON",
    "PYTHONDONTWRITEBYTECODE",
}
MIN_SECRET_LENGTH = 16
CLOSED_LOOPBACK = "http://127.0.0.1:9"  # the discard port: nothing answers there
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "act tests",
    "GIT_AUTHOR_EMAIL": "act-tests@example.invalid",
    "GIT_COMMITTER_NAME": "act tests",
    "GIT_COMMITTER_EMAIL": "act-tests@example.invalid",
}


class MissingStandInError(LookupError):
    """A workflow uses a remote action that has no folder under tests/act_standins/."""


class ActTimeoutError(TimeoutError):
    """act did not finish in time; the message ends with the tail of its log."""


def venv_tool(name: str) -> str:
    """A tool installed beside the test interpreter (the .venv tasks.py makes), else on PATH."""
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        raise RuntimeError(f"{name} not found: install requirements-dev.txt (python3 tasks.py test does)")
    return found


# --- Which actions a project uses ---------------------------------------------------------------


def workflow_files(project: Path) -> list[Path]:
    """The project's workflows and local composite actions."""
    github = project / ".github"
    files = [*github.glob("workflows/*.yml"), *github.glob("workflows/*.yaml")]
    files += [*github.glob("actions/**/action.yml"), *github.glob("actions/**/action.yaml")]
    return sorted(files)


def _uses_steps(document: Any) -> Iterator[dict]:
    """Every step (or job) with a ``uses:`` in a workflow (jobs, steps) or a composite action (runs.steps)."""
    if not isinstance(document, dict):
        return
    candidates: list[Any] = []
    for job in (document.get("jobs") or {}).values():
        if isinstance(job, dict):
            candidates += [job, *(job.get("steps") or [])]  # jobs.<id>.uses calls a reusable workflow
    runs = document.get("runs")
    if isinstance(runs, dict):
        candidates += runs.get("steps") or []
    for candidate in candidates:
        if isinstance(candidate, dict) and isinstance(candidate.get("uses"), str):
            yield candidate


def _remote_steps(project: Path) -> Iterator[tuple[str, dict]]:
    for path in workflow_files(project):
        for step in _uses_steps(yaml.safe_load(path.read_text(encoding="utf-8"))):
            uses = step["uses"].strip()
            if not uses.startswith(LOCAL_PREFIXES):
                yield uses, step.get("with") or {}


def remote_actions(project: Path) -> set[str]:
    """Every ``owner/name@ref`` or ``owner/name/sub@ref`` the project's workflows and actions use."""
    return {uses for uses, _ in _remote_steps(project)}


def split_uses(uses: str) -> tuple[str, str, str]:
    """``owner/name/sub@ref`` → (``owner/name``, ``sub``, ``ref``); sub is empty for most actions."""
    path, at, ref = uses.partition("@")
    parts = path.split("/")
    if not at or not ref or len(parts) < 2 or not all(parts):
        raise ValueError(f"not a remote action reference: {uses!r}")
    return "/".join(parts[:2]), "/".join(parts[2:]), ref


def local_repository_args(project: Path) -> list[str]:
    """``--local-repository owner/name@ref=<stand-in>`` for every remote action but actions/checkout.

    act checks out the repository being run by itself (a copy of the project folder), unless a
    checkout step names a ``repository`` or ``ref``: then it fetches actions/checkout from
    GitHub, which needs a stand-in like any other action.
    """
    args: list[str] = []
    for uses, inputs in sorted(_remote_steps(project), key=lambda item: item[0]):
        repository, sub, ref = split_uses(uses)
        if repository == CHECKOUT and not {"repository", "ref"} & set(inputs):
            continue
        # A reusable workflow (owner/name/.github/workflows/x.yml@ref) is a file; an action, a folder.
        standin = ACT_STANDINS / repository / sub
        wanted = [standin] if sub.endswith((".yml", ".yaml")) else [standin / "action.yml", standin / "action.yaml"]
        if not any(path.is_file() for path in wanted):
            why = " (a checkout step sets repository or ref, so act fetches the action)" if repository == CHECKOUT else ""
            raise MissingStandInError(
                f"the workflows use {uses}, which act cannot fetch offline{why}, and there is no stand-in for it: "
                f"add {wanted[0].relative_to(ACT_STANDINS.parent.parent)}"
            )
        mapping = f"{repository}@{ref}={ACT_STANDINS / repository}"
        if mapping not in args:
            args += ["--local-repository", mapping]
    return args


# --- The repository act runs in -----------------------------------------------------------------


def _git(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=project, env=env, capture_output=True, text=True, check=check, timeout=60)


def prepare_repo(project: Path, owner: str, repo: str, branch: str = "main") -> None:
    """Make ``project`` a git repository act can run in: origin on github.com, everything committed.

    act reads GITHUB_REPOSITORY from the ``origin`` remote and GITHUB_SHA/GITHUB_REF from HEAD.
    """
    if not (project / ".git").exists():
        _git(project, "init", "--quiet", f"--initial-branch={branch}")
    url = f"https://github.com/{owner}/{repo}.git"
    if _git(project, "remote", "get-url", "origin", check=False).returncode == 0:
        _git(project, "remote", "set-url", "origin", url)
    else:
        _git(project, "remote", "add", "origin", url)
    _git(project, "add", "--all")
    if _git(project, "status", "--porcelain").stdout.strip():
        _git(project, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "--message", "Snapshot for act")


def _check_repo(project: Path) -> None:
    origin = _git(project, "remote", "get-url", "origin", check=False)
    if origin.returncode != 0 or not ORIGIN_PATTERN.match(origin.stdout.strip()):
        raise RuntimeError(f"{project} needs an origin remote https://github.com/<owner>/<repo>.git: call prepare_repo first")
    if dirty := _git(project, "status", "--porcelain").stdout.strip():
        raise RuntimeError(f"{project} has uncommitted changes; act would run another state than HEAD: call prepare_repo\n{dirty}")


# --- Running act -----------------------------------------------------------------------------------


def fake_token() -> str:
    """A GITHUB_TOKEN-shaped value, long and unique so that act's masking hides only it."""
    return "ghs_" + "".join(choice(string.ascii_letters + string.digits) for _ in range(36))


@dataclass(frozen=True)
class StepResult:
    job: str  # the job id (jobs.<id>)
    step: str  # the step's name as act shows it ("Set up job", "uv --version", "Post astral-sh/setup-uv@…")
    result: str  # "success" or "failure" (also for a failed step with continue-on-error); skipped steps are not listed

    def __str__(self) -> str:
        return f"{self.job}: {self.step}"


@dataclass(frozen=True)
class ActResult:
    returncode: int
    log: str  # act's output, as its text mode prints it (secrets masked as ***)
    summary: str  # every job summary ($GITHUB_STEP_SUMMARY) of the run, in the order written
    artifacts_dir: Path  # <name>/<files> per uploaded artifact
    steps: tuple[StepResult, ...] = ()
    jobs: Mapping[str, str] = field(default_factory=dict)  # job id → "success" / "failure", for the jobs that ran

    def failed_steps(self) -> list[str]:
        """``"<job id>: <step name>"`` of every step that failed, in run order."""
        return [str(step) for step in self.steps if step.result == "failure"]

    def succeeded_steps(self) -> list[str]:
        return [str(step) for step in self.steps if step.result == "success"]

    def failed_jobs(self) -> list[str]:
        return sorted(job for job, result in self.jobs.items() if result == "failure")

    def succeeded_jobs(self) -> list[str]:
        return sorted(job for job, result in self.jobs.items() if result == "success")


def run_act(
    project: Path,
    event: str,
    workflow: str,
    payload: dict,
    *,
    env: dict[str, str],
    secrets: dict[str, str],
    artifacts_dir: Path,
    timeout: float = 900,
    runs_on: str | Sequence[str] = "ubuntu-latest",
    variables: dict[str, str] | None = None,
    job: str | None = None,
    actor: str | None = None,
) -> ActResult:
    """Run ``.github/workflows/<workflow>`` of ``project`` for ``event`` with act; return what it did.

    ``secrets`` must hold GITHUB_TOKEN (use ``fake_token()``), values of 16 characters or more;
    ``env`` reaches every step (GITHUB_API_URL defaults to a closed loopback port: pass a double's);
    ``variables`` are the repository variables (``vars.*``); ``runs_on`` is the runner label
    (or labels) the workflow's jobs use, run on this machine; ``job`` runs that job only.
    Each call works in its own temporary folder (act's workspaces, action and cache-server
    folders, configuration): runs do not share state, in parallel or one after the other.
    """
    workflow_path = project / ".github" / "workflows" / workflow
    if not workflow_path.is_file():
        raise FileNotFoundError(workflow_path)
    if "GITHUB_TOKEN" not in secrets:
        raise ValueError("secrets must include GITHUB_TOKEN (fake_token() makes a safe one)")
    if short := sorted(name for name, value in secrets.items() if 0 < len(value) < MIN_SECRET_LENGTH):
        # act replaces every occurrence of a secret's value with ***: a short one garbles the whole log.
        raise ValueError(f"secrets shorter than {MIN_SECRET_LENGTH} characters would mask unrelated log text: {short}")
    _check_repo(project)
    local_repositories = local_repository_args(project)
    artifacts_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="act-") as temporary:
        state = Path(temporary)
        act_workflow = _for_act(workflow_path, state)
        event_file = state / "event.json"
        event_file.write_text(json.dumps(payload), encoding="utf-8")
        empty = state / "empty.env"
        empty.write_text("", encoding="utf-8")
        secret_file = state / "secrets.env"
        secret_file.touch(mode=0o600)
        secret_file.write_text("".join(f"{name}={_dotenv_quote(value)}\n" for name, value in secrets.items()), encoding="utf-8")
        uv_bin = state / "uv-bin"  # only uv and uvx, as setup-uv would provide: not the whole test venv
        uv_bin.mkdir()
        for name in ("uv", "uvx"):
            (uv_bin / name).symlink_to(venv_tool(name))
        # and gh, which GitHub-hosted runners ship (`mlops champion` verifies attestations with it): a stand-in
        # that asks the double given in env, and records its calls in artifacts_dir/gh.calls.
        gh = uv_bin / "gh"
        api = env.get("GITHUB_API_URL", CLOSED_LOOPBACK)
        record = artifacts_dir.resolve() / "gh.calls"
        gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{GH_STANDIN}" --api "{api}" --record "{record}" "$@"\n')
        gh.chmod(0o755)

        step_env = {
            # GitHub's API is never the real one: a workflow that calls it without a double given
            # here (env={"GITHUB_API_URL": ...}) fails fast on a closed loopback port.
            "GITHUB_API_URL": CLOSED_LOOPBACK,
            "GITHUB_GRAPHQL_URL": f"{CLOSED_LOOPBACK}/graphql",
            "UV_BIN_DIR": str(uv_bin),
            "ACT_ARTIFACTS_DIR": str(artifacts_dir.resolve()),
            "ACT_STANDINS_PYTHON": sys.executable,
            # act itself gets private XDG folders (below); the steps keep the user's (uv's cache).
            "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"),
            "XDG_CONFIG_HOME": os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config"),
            **env,
        }
        command = [
            venv_tool("act"),
            event,
            "--workflows", str(act_workflow),
            "--eventpath", str(event_file),
            "--action-offline-mode",
            *local_repositories,
            "--action-cache-path", str(state / "actions"),
            "--cache-server-path", str(state / "cache-server"),
            "--cache-server-addr", "127.0.0.1",
            "--cache-server-port", "0",
            "--secret-file", str(secret_file),
            # Not the project's .env/.vars/.input: GitHub does not read them either.
            "--env-file", str(empty),
            "--var-file", str(empty),
            "--input-file", str(empty),
            "--json",
        ]  # fmt: skip
        for label in [runs_on] if isinstance(runs_on, str) else runs_on:
            command += ["--platform", f"{label}=-self-hosted"]
        for name, value in step_env.items():
            command += ["--env", f"{name}={value}"]
        for name, value in (variables or {}).items():
            command += ["--var", f"{name}={value}"]
        if job:
            command += ["--job", job]
        if actor:
            command += ["--actor", actor]
        returncode, output = _run(command, project, _act_environment(state), timeout, secrets.values())
    return _parse(returncode, output, artifacts_dir, secrets.values())


def _for_act(workflow_path: Path, state: Path) -> Path:
    """The workflow as act can read it: act's schema lacks ``environment.deployment`` (GitHub's newer key).

    Only that key is dropped, in a copy outside the repository; the static tests lint the original.
    act ignores environments anyway (no protection rules, no deployments), so the run is the same.
    """
    document = yaml.safe_load(workflow_path.read_text(encoding="utf-8"))
    changed = False
    for job in (document.get("jobs") or {}).values():
        environment = job.get("environment") if isinstance(job, dict) else None
        if isinstance(environment, dict) and "deployment" in environment:
            del environment["deployment"]
            changed = True
    if not changed:
        return workflow_path
    copy = state / "workflows" / workflow_path.name
    copy.parent.mkdir()
    # yaml turns the key `on` into True: write it back as "on".
    text = yaml.safe_dump({("on" if key is True else key): value for key, value in document.items()}, sort_keys=False)
    copy.write_text(text, encoding="utf-8")
    return copy


def _dotenv_quote(value: str) -> str:
    """A value for act's --secret-file (godotenv): double-quoted with its escapes, no expansion."""
    if "\r" in value:
        raise ValueError("secret values cannot hold a carriage return")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n")
    return f'"{escaped}"'


def _act_environment(state: Path) -> dict[str, str]:
    """act's environment, which host-mode steps inherit: the caller's, minus what GitHub would not have."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith(OUTER_PREFIXES) and name not in OUTER_NAMES}
    if sys.prefix != sys.base_prefix:  # the test venv: steps must get tools from setup actions, not from it
        venv_bin = str(Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin"))
        environment["PATH"] = os.pathsep.join(entry for entry in environment.get("PATH", "").split(os.pathsep) if entry != venv_bin)
    # act reads its configuration (actrc) and keeps state under these: private to this run.
    environment["XDG_CACHE_HOME"] = str(state / "xdg-cache")
    environment["XDG_CONFIG_HOME"] = str(state / "xdg-config")
    return environment


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc/<pid>/task/<tid>/children``; empty where that is missing)."""
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            found += children
            queue += children
    return found


def _run(command: list[str], cwd: Path, environment: dict[str, str], timeout: float, secret_values: Iterable[str]) -> tuple[int, str]:
    # A session of its own, so that a timeout stops act and every step process it started.
    process = subprocess.Popen(
        command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # act starts some step processes in process groups of their own, which outlive it when
        # SIGHUP is ignored (a CI started under nohup): kill every descendant, found before act dies.
        descendants = _descendants(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        for pid in descendants:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        output, _ = process.communicate()
        log = _parse(-1, output, Path(), secret_values).log
        raise ActTimeoutError(f"act ran longer than {timeout:g}s and was stopped; end of its log:\n{log[-6000:]}") from None
    return process.returncode, output


def _parse(returncode: int, output: str, artifacts_dir: Path, secret_values: Iterable[str]) -> ActResult:
    """Read act's --json lines. Its structured fields (step names, summaries) are not masked: mask them."""
    masks = sorted({line for value in secret_values for line in [value, *value.splitlines()] if len(line) >= 4}, key=len, reverse=True)

    def mask(text: str) -> str:
        for secret in masks:
            text = text.replace(secret, "***")
        return text

    lines: list[str] = []
    summaries: list[str] = []
    steps: list[StepResult] = []
    jobs: dict[str, str] = {}
    for raw in output.splitlines():
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if not isinstance(record, dict) or "msg" not in record:
            lines.append(raw)
            continue
        prefix = f"[{record['job']}] " if "job" in record else ""
        message = str(record["msg"])
        if record.get("raw_output"):
            lines += [f"{prefix}  | {line}" for line in message.rstrip("\n").split("\n")]
        else:
            lines.append(f"{prefix}{message.rstrip()}")
        job_id = str(record.get("jobID", ""))
        if record.get("command") == "summary":
            summaries.append(mask(str(record.get("content", ""))))
        # A composite action's own steps carry the outer step's name and a longer stepID: skip them.
        if "stepResult" in record and len(record.get("stepID") or record.get("stepid") or [""]) == 1:
            stage = record.get("stage", "")
            name = mask(str(record.get("step", "")))
            steps.append(StepResult(job_id, f"{stage} {name}" if stage in ("Pre", "Post") else name, str(record["stepResult"])))
        if "jobResult" in record:
            jobs[job_id] = str(record["jobResult"])
    return ActResult(returncode, mask("\n".join(lines)) + "\n", "".join(summaries), artifacts_dir, tuple(steps), jobs)


def job_permissions(workflow: Path, job: str | None = None) -> dict[str, str]:
    """The ``permissions:`` block of a workflow's job (its only job when ``job`` is None), for ``GitHubDouble.token_for``.

    A job without its own block gets the workflow's; neither means GitHub's default, which the double's
    ``token_for(permissions=None)`` models as all write.
    """
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    jobs = document.get("jobs") or {}
    if job is None:
        if len(jobs) != 1:
            raise ValueError(f"{workflow.name} has {len(jobs)} jobs: name the one whose permissions to use")
        (job,) = jobs
    block = jobs[job].get("permissions", document.get("permissions"))
    if block is None:
        raise ValueError(f"{workflow.name}:{job} declares no permissions: every job must (tests/test_workflows_static.py)")
    return dict(block) if isinstance(block, dict) else block
