"""Shared pieces of the template's tests: the option matrix, read from cookiecutter.json itself."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]
OPTIONS = json.loads((TEMPLATE / "cookiecutter.json").read_text())
# The options with a fixed set of values, in cookiecutter.json's `_choices` (first value = the default).
CHOICES: dict[str, list[str]] = OPTIONS["_choices"]
# Options that shape the same files (model.yaml, gates.yaml) interact: take their full product.
INTERACTING = ("task", "model_family", "hyperparameter_search")
# The rest combine freely: cycle through their values across the product, so every value is baked.
CYCLED = tuple(key for key in CHOICES if key not in INTERACTING)


def option_matrix() -> list[dict[str, str]]:
    product = [dict(zip(INTERACTING, values, strict=True)) for values in itertools.product(*(CHOICES[key] for key in INTERACTING))]
    cycles = {key: itertools.cycle(CHOICES[key]) for key in CYCLED}
    return [{**combo, **{key: next(cycle) for key, cycle in cycles.items()}} for combo in product]


def combo_id(combo: dict[str, str]) -> str:
    """Readable and canonical: the same answers give the same id whatever their order."""
    return "-".join(f"py{combo[key]}" if key == "python_version" else combo[key] for key in CHOICES if key in combo)


MATRIX = option_matrix()
DEFAULT = {key: values[0] for key, values in CHOICES.items()}
REGRESSION = {**DEFAULT, "task": "regression"}


def tool(name: str) -> str:
    """A tool installed beside the test interpreter (the .venv tasks.py made)."""
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        raise RuntimeError(f"{name} not found: run the tests with `python3 tasks.py test`")
    return found


def project_env() -> dict[str, str]:
    """Environment for commands run inside a baked project: its own venv, never ours."""
    # Without PYTHONDONTWRITEBYTECODE each process caches what it compiled for the next one.
    dropped = {"VIRTUAL_ENV", "MLFLOW_TRACKING_URI", "GITHUB_STEP_SUMMARY", "PYTHONDONTWRITEBYTECODE"}
    # Never download an interpreter (no internet here): a missing one must be a clear error.
    return {key: value for key, value in os.environ.items() if key not in dropped} | {"UV_PYTHON_DOWNLOADS": "never"}


def in_project(project: Path, *command: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(list(command), cwd=project, env=project_env() | (env or {}), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` exited {result.returncode} in {project}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def mlops(project: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return in_project(project, tool("uv"), "run", "--frozen", "--no-sync", "mlops", *args, check=check, env=env)


def interpreter_for(version: str, project: Path) -> list[str]:
    """Run on the Python the answers chose when this machine has it; else on ours, and say so.

    The version is a pin in .python-version and CI; the code is the same for every version.
    A machine without it must still run the loop rather than skip it (uv would try to download).
    In CI (``CI`` set to a true value) a missing version fails instead: a CI that silently ran
    every bake on one Python would report versions as tested that never were.
    """
    probe = shutil.which(f"python{version}")
    if probe:
        # Asked from the project folder: version managers (pyenv) resolve by its .python-version.
        # pyenv exports PYENV_VERSION to the processes it starts, which would pin ours instead.
        env = {key: value for key, value in os.environ.items() if key != "PYENV_VERSION"}
        found = subprocess.run([probe, "-c", "import sys; print(sys.executable)"], cwd=project, env=env, capture_output=True, text=True)
        if found.returncode == 0:
            return ["--python", found.stdout.strip()]
    if running_in_ci():
        pytest.fail(
            f"python{version} is not installed on this CI machine, so the bakes that chose {version} cannot run on it: "
            f"install it (e.g. actions/setup-python with python-version {version}, `uv python install {version}`, "
            f"or `pyenv install {version}`) and put python{version} on PATH",
            pytrace=False,
        )
    warnings.warn(f"python{version} is not installed here: running that bake on {sys.executable}", stacklevel=2)
    return ["--python", sys.executable]


def running_in_ci() -> bool:
    """CI services set CI=true (GitHub Actions, .ci/run); "", "0", "false", "no" and "off" mean no."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}


# Test lanes. `slow` marks what needs act, a real `mlflow server`, or a bake of every option
# combination installed and run; `python3 tasks.py fast` (pytest -m "not slow") leaves those out.
# Tests in files of our own carry @pytest.mark.slow. Tests in files other work owns are marked
# here, by module and test name (the name without its parameters), so that those files need no edit.
SLOW_TESTS = {
    "tests.test_workflows_e2e": "*",  # every test runs the generated workflows under act
    "tests.test_act_support": {
        # the tests that start act; the others check act_support's own logic without running it
        "test_successful_run_exits_zero_with_every_job_and_step_green",
        "test_summary_collects_every_step_of_every_job",
        "test_uploaded_artifact_is_copied_with_its_layout",
        "test_fake_token_never_appears_in_log_or_summary",
        "test_secrets_reach_steps_verbatim",
        "test_failing_step_is_reported_by_name_and_fails_the_run",
        "test_upload_artifact_stand_in_follows_v4_rules",
        "test_local_composite_action_runs_but_self_repository_syntax_does_not_yet",
        "test_timeout_stops_act_and_its_steps",
        "test_attest_stand_in_under_act_fails_the_job_on_a_private_personal_repository",
    },
    "tests.test_release_cli": {
        "test_release_with_a_tracking_server_moves_the_champion_alias",  # a real mlflow server
        "test_release_survives_server_errors_and_rate_limits",  # trains, evaluates and waits out Retry-After: ~50 s
        # Each trains and evaluates, then releases: stories. Refusals of a bad release (no training) stay fast.
        "test_the_first_release_on_github_enterprise_server_uploads_to_its_own_host_and_attests_nothing",
        "test_a_champion_is_the_newest_complete_semver_release_by_version",
        "test_an_attested_archive_must_pass_gh_attestation_verify",
        "test_a_merge_whose_rebuilt_model_differs_from_the_reviewed_one_is_refused",
        "test_a_merge_matching_its_reviewed_comment_is_released_and_says_by_whom_and_why",
        "test_reviewed_metrics_must_be_the_bots_and_for_the_pull_requests_head",
        "test_without_reviewed_metrics_the_release_fails_closed_unless_allowed_with_a_reason",
        "test_a_release_is_refused_off_main",
        "test_release_with_the_workflows_permissions_is_all_or_nothing",
        "test_a_rerun_after_publication_changes_nothing",
        "test_a_rerun_completes_a_published_release_that_lost_an_asset",
        "test_a_rerun_completes_or_replaces_the_draft_a_killed_run_left",
        "test_a_leftover_draft_that_carries_every_asset_is_published_by_a_rerun",
        "test_a_merge_commit_other_than_the_reviewed_pr_head_is_released",
        "test_a_marker_inside_a_dispatch_reason_never_matches_another_commit",
        "test_prepare_writes_nothing_to_github_and_the_archive_must_not_change_before_publication",
        "test_nothing_is_attested_for_a_commit_already_released",
        "test_auto_attests_a_public_repository_and_skips_a_private_one_on_github_free",
        "test_required_attests_even_a_private_repository_and_refuses_an_unattested_champion",
        "test_off_never_attests_and_the_champion_still_verifies_attestations_it_finds",
    },
    "tests.test_monitoring_cli": "*",  # every test trains, releases and monitors: stories
    "tests.test_comment_cli": {"test_the_whole_pr_loop_comment_carries_a_block_the_bot_alone_can_vouch_for"},  # runs the loop
    "tests.test_generated_project": {"test_pr_loop_passes_on_the_embedded_defaults"},  # trains (the unit tests stay fast)
    "tests.test_bring_your_own_data": "*",  # each table baked with the project installed and its data inferred
}


def is_slow(module: str, name: str) -> bool:
    names = SLOW_TESTS.get(module, ())
    return names == "*" or name in names


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(item.module.__name__, getattr(item, "originalname", item.name)):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def synced_project(tmp_path_factory: pytest.TempPathFactory):
    """Bake a combination once per session and install its locked dependencies."""
    from cookiecutter.main import cookiecutter

    baked: dict[str, Path] = {}

    def get(combo: dict[str, str]) -> Path:
        key = combo_id(combo)
        if key not in baked:
            output = tmp_path_factory.mktemp(key[:40])
            project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=combo, output_dir=str(output)))
            in_project(project, tool("uv"), "sync", "--frozen", "--quiet", *interpreter_for(combo["python_version"], project))
            baked[key] = project
        return baked[key]

    return get


@pytest.fixture
def github():
    """The GitHub REST API double for acme/churn-model (the default bake's repository)."""
    from tests.github_double import GitHubDouble

    with GitHubDouble(owner="acme", repo="churn-model") as double:
        yield double
        assert double.violations == [], "the double saw calls GitHub's OpenAPI description does not allow"
