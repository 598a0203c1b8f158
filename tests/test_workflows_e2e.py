"""The baked project's real workflow files, executed by act against the GitHub API double.

What a user would see is asserted: the PR comment, the job summary, the release with its
assets, the deployment, and what a re-run changes (nothing).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from cookiecutter.main import cookiecutter

from tests.act_support import job_permissions, prepare_repo, run_act, venv_tool
from tests.conftest import DEFAULT, TEMPLATE
from tests.github_double import GitHubDouble

OWNER, REPO = "acme", "churn-model"
RELEASE_ASSETS = {"model.tar.gz", "model.tar.gz.sha256", "metrics.json", "report.md", "model_card.md", "release.json"}
MARKER = f"<!-- mlops-report:{REPO} -->"


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout.strip()


def commit_change(project: Path, branch: str, path: str, old: str, new: str, message: str) -> str:
    """A branch with one commit changing ``path``; returns its sha and leaves it checked out."""
    git(project, "checkout", "-q", "-B", branch)
    file = project / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}"
    file.write_text(text.replace(old, new))
    git(project, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-q", "-am", message)
    return git(project, "rev-parse", "HEAD")


def pull_request_event(number: int, branch: str, sha: str) -> dict:
    return {"pull_request": {"number": number, "head": {"ref": branch, "sha": sha, "repo": {"fork": False}}, "base": {"ref": "main"}}}


def dispatch_event(**inputs: object) -> dict:
    """A workflow_dispatch payload as GitHub sends it: every input value a string ("true", not true)."""
    as_sent = {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in inputs.items()}
    return {"ref": "refs/heads/main", "inputs": as_sent}


def push_event(sha: str) -> dict:
    return {"ref": "refs/heads/main", "before": "0" * 40, "after": sha, "head_commit": {"id": sha}}


def without_image(project: Path) -> Path:
    """confs/release.yaml with `image: false`: building the image takes minutes, so only the image's story builds one."""
    conf = project / "confs" / "release.yaml"
    text = conf.read_text()
    assert "\nimage: true\n" in text
    conf.write_text(text.replace("\nimage: true\n", "\nimage: false\n"))
    return project


@pytest.fixture
def baked(tmp_path: Path) -> Path:
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=DEFAULT, output_dir=str(tmp_path / "bake")))
    prepare_repo(without_image(project), OWNER, REPO)
    return project


# pr.yml's last step runs the project's whole suite (minutes under act); the first pr.yml run of the main story runs it
# whole, the later runs only its pure-logic tests through the repository variable PYTEST_ADDOPTS: the whole suite is
# test_generated_project's, and these stories are about the workflows.
ONLY_CORE_TESTS = {"PYTEST_ADDOPTS": "-k test_core"}


def act(
    project: Path, github: GitHubDouble, event: str, workflow: str, payload: dict, artifacts: Path, variables: dict[str, str] | None = None
):
    """Run a workflow with the GITHUB_TOKEN its job's ``permissions:`` block grants, no more (read from the baked file)."""
    token = github.token_for(permissions=job_permissions(project / ".github" / "workflows" / workflow))
    return run_act(
        project,
        event,
        workflow,
        payload,
        env=github.api_env,
        secrets={"GITHUB_TOKEN": token},
        artifacts_dir=artifacts,
        timeout=900,
        variables=variables,
    )


def suite_passed(log: str) -> int:
    """How many of the project's tests pytest says passed in a pr.yml run's log (its "N passed" line)."""
    counts = [int(found) for found in re.findall(r"(\d+) passed", log)]
    assert counts, log[-4000:]
    return counts[-1]


def posted(github: GitHubDouble, method: str, fragment: str) -> int:
    return sum(1 for call in github.calls if call.method == method and fragment in call.path and call.status < 300)


def test_pr_comment_release_rerun_and_next_pr_against_the_release(baked: Path, github: GitHubDouble, tmp_path: Path):
    head = git(baked, "rev-parse", "HEAD")
    github.add_pull(number=12, head_ref="feature", head_sha=head)

    # When the PR workflow runs, Then one sticky comment and the job summary carry the report
    first = act(baked, github, "pull_request", "pr.yml", pull_request_event(12, "feature", head), tmp_path / "run1")
    assert first.returncode == 0, first.log[-6000:]
    whole_suite = suite_passed(first.log)  # the project's whole suite ran
    (comment,) = github.comments(12)
    assert comment["body"].startswith(MARKER)
    assert "## Model report — ✅ pass" in comment["body"] and "no champion yet" in comment["body"]
    assert "## Model report — ✅ pass" in first.summary
    assert list((tmp_path / "run1").glob("model-pr12-run*/outputs/report.md")), "results were kept as an artifact"

    # When it runs again (a new push to the PR), Then the same comment is updated, not duplicated
    second = act(baked, github, "pull_request", "pr.yml", pull_request_event(12, "feature", head), tmp_path / "run2", ONLY_CORE_TESTS)
    assert second.returncode == 0, second.log[-6000:]
    assert 0 < suite_passed(second.log) < whole_suite  # PYTEST_ADDOPTS (-k test_core) reached the suite's step
    assert [c["id"] for c in github.comments(12)] == [comment["id"]]
    assert posted(github, "PATCH", f"/issues/comments/{comment['id']}") == 1

    # When the PR is merged (fast-forward) and the release workflow runs on main
    release_run = act(baked, github, "push", "release.yml", push_event(head), tmp_path / "run3")
    assert release_run.returncode == 0, release_run.log[-6000:]
    # Then: a tag, a latest release with every asset, a checksum that matches, a successful deployment
    assert github.refs["refs/tags/v1.0.0"] == head
    (release,) = github.releases
    assert release["tag_name"] == "v1.0.0"
    assets = {asset["name"]: asset for asset in release["assets"]}
    assert set(assets) == RELEASE_ASSETS
    checksum = assets["model.tar.gz.sha256"]["content"].decode().split()[0]
    assert checksum == hashlib.sha256(assets["model.tar.gz"]["content"]).hexdigest()
    assert "pull/12" in release["body"]  # the model card says which review it passed
    (deployment,) = github.deployments
    assert deployment["environment"] == "production" and deployment["sha"] == head
    assert [status["state"] for status in deployment["statuses"]] == ["in_progress", "success"]
    assert "### ✅ Released v1.0.0" in release_run.summary
    # And the archive the release carries is the one the workflow attested: prepared once, attested, then published
    attested = (tmp_path / "run3" / "attest-build-provenance.calls").read_text().split()
    assert attested == ["outputs/release/model.tar.gz", f"sha256:{checksum}"]
    (attestation,) = github.attestations  # stored through the API, as the real action stores it
    assert attestation["subjects"] == [{"name": "model.tar.gz", "digest": f"sha256:{checksum}"}]

    # When the release workflow is re-run for the same commit, Then nothing new is created, nor attested
    before = len(github.calls)
    rerun = act(baked, github, "push", "release.yml", push_event(head), tmp_path / "run4")
    assert rerun.returncode == 0, rerun.log[-6000:]
    new_calls = github.calls[before:]
    assert not [call for call in new_calls if call.method in {"POST", "PATCH", "DELETE"}], [f"{c.method} {c.path}" for c in new_calls]
    assert not (tmp_path / "run4" / "attest-build-provenance.calls").exists(), "the attest step is skipped"
    # and the champion it fetched first was verified with gh, pinned to the release workflow on main and its commit
    (verified,) = (tmp_path / "run4" / "gh.calls").read_text().splitlines()
    assert verified.endswith(
        f"--repo {OWNER}/{REPO} --signer-workflow github.com/{OWNER}/{REPO}/.github/workflows/release.yml "
        f"--source-ref refs/heads/main --source-digest {head}"
    )
    assert len(github.attestations) == 1 and len(github.releases) == 1 and len(github.deployments) == 1

    # When the next PR changes the model config, Then it is compared against the released champion
    tuned = commit_change(baked, "tune", "confs/model.yaml", "max_leaf_nodes: 31}", "max_leaf_nodes: 15}", "Smaller trees")
    github.add_pull(number=13, head_ref="tune", head_sha=tuned)
    next_pr = act(baked, github, "pull_request", "pr.yml", pull_request_event(13, "tune", tuned), tmp_path / "run5", ONLY_CORE_TESTS)
    assert next_pr.returncode == 0, next_pr.log[-6000:]
    (next_comment,) = github.comments(13)
    assert "vs champion **v1.0.0**" in next_comment["body"]
    (auc_row,) = [line for line in next_comment["body"].splitlines() if line.startswith("| roc_auc |")]
    assert "▲" in auc_row and "🟢" in auc_row  # smaller trees generalise better on this data
    assert len(github.comments(12)) == 1  # the first PR's comment is left alone

    # And merging it releases a minor version: the model config changed, the schema did not
    git(baked, "checkout", "-q", "main")
    git(baked, "merge", "-q", "--ff-only", "tune")
    minor = act(baked, github, "push", "release.yml", push_event(tuned), tmp_path / "run6")
    assert minor.returncode == 0, minor.log[-6000:]
    assert [release["tag_name"] for release in github.releases] == ["v1.0.0", "v1.1.0"]
    assert "minor: model config changed" in github.releases[1]["body"]
    minor_archive = next(asset["content"] for asset in github.releases[1]["assets"] if asset["name"] == "model.tar.gz")
    minor_digest = f"sha256:{hashlib.sha256(minor_archive).hexdigest()}"
    assert github.attestations[-1]["subjects"] == [{"name": "model.tar.gz", "digest": minor_digest}]


def test_a_required_attestation_that_github_refuses_stops_the_release_before_anything_is_published(tmp_path: Path):
    # Given a private repository on GitHub Free, whose project requires attestations
    project = Path(
        cookiecutter(str(TEMPLATE), no_input=True, extra_context={**DEFAULT, "attestation": "required"}, output_dir=str(tmp_path / "bake"))
    )
    prepare_repo(without_image(project), OWNER, REPO)
    with GitHubDouble(owner=OWNER, repo=REPO, visibility="private", plan="free") as github:
        # When the release is dispatched, Then the attest step fails with GitHub's refusal and the release step never runs
        payload = dispatch_event(allow_unreviewed=True, reason="first")
        run = act(project, github, "workflow_dispatch", "release.yml", payload, tmp_path / "r")
        assert run.returncode != 0
        failed = [step.split(": ", 1)[1] for step in run.failed_steps()]
        assert failed == ["Attest the model archive's build provenance"], run.failed_steps()
        assert "Feature not available for user-owned private repositories" in run.log
        assert not any("Release (publish the prepared archive)" in step for step in run.succeeded_steps())
        # And nothing was published, tagged, deployed or attested
        assert github.releases == [] and github.deployments == [] and github.attestations == []
        assert not [ref for ref in github.refs if ref.startswith("refs/tags/")]
        assert github.violations == []


def test_a_pr_that_breaks_a_gate_fails_after_commenting(baked: Path, github: GitHubDouble, tmp_path: Path):
    strict = commit_change(baked, "strict", "confs/gates.yaml", "minimums: {roc_auc: 0.70,", "minimums: {roc_auc: 0.99,", "Demand 0.99 AUC")
    github.add_pull(number=7, head_ref="strict", head_sha=strict)
    result = act(baked, github, "pull_request", "pr.yml", pull_request_event(7, "strict", strict), tmp_path / "run", ONLY_CORE_TESTS)
    assert result.returncode != 0
    assert any("Evaluate against the champion" in step for step in result.failed_steps()), result.failed_steps()
    (comment,) = github.comments(7)
    assert "## Model report — ❌ fail" in comment["body"]
    assert "failed gates: minimum:roc_auc" in comment["body"]
    assert not github.releases


def test_a_dispatched_unreviewed_release_on_an_immutable_repository(baked: Path, tmp_path: Path):
    head = git(baked, "rev-parse", "HEAD")
    with GitHubDouble(owner=OWNER, repo=REPO, immutable_releases=True) as github:
        # Given no reviewed PR comment, When the release is dispatched with allow_unreviewed and a reason
        payload = dispatch_event(allow_unreviewed=True, reason="first model, reviewed offline")
        run = act(baked, github, "workflow_dispatch", "release.yml", payload, tmp_path / "run1")
        assert run.returncode == 0, run.log[-6000:]
        # Then one published, immutable release carries every asset, and the card says why it was unreviewed
        (release,) = github.releases
        assert not release["draft"] and release["immutable"] and github.refs["refs/tags/v1.0.0"] == head
        assert {asset["name"] for asset in release["assets"]} == RELEASE_ASSETS
        assert "released without review: first model, reviewed offline" in release["body"]
        assert "::warning::releasing" in run.log
        (attestation,) = github.attestations  # the run that published attested what it published
        # When it is re-run, Then nothing is written, nor attested (the release is immutable, and complete)
        before = len(github.calls)
        rerun = act(baked, github, "workflow_dispatch", "release.yml", payload, tmp_path / "run2")
        assert rerun.returncode == 0, rerun.log[-6000:]
        writes = [call for call in github.calls[before:] if call.method in {"POST", "PATCH", "DELETE"}]
        assert writes == [] and github.attestations == [attestation]
        assert github.violations == []


def union_permissions(workflow: Path) -> dict[str, str]:
    """One token for a whole act run of a multi-job workflow: each job's grants, the highest of each."""
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    granted: dict[str, str] = {}
    for name in jobs:
        for scope, level in job_permissions(workflow, name).items():
            granted[scope] = "write" if "write" in (level, granted.get(scope)) else level
    return granted


def land_batch(project: Path, kind: str, seed: int, start: str) -> None:
    """Production data lands in data/current/ (committed here, as a scheduled export would)."""
    subprocess.run(
        ["uv", "run", "--frozen", "--quiet", "python", "scripts/make_dataset.py", "--batch", kind, "--rows", "1500",
         "--seed", str(seed), "--start", start, "--out", f"data/current/{start}.csv"],
        cwd=project, check=True, capture_output=True, env={**os.environ, "PATH": f"{Path(venv_tool('uv')).parent}:{os.environ['PATH']}"},
    )  # fmt: skip
    git(project, "add", "data/current")
    git(project, "-c", "user.name=exporter", "-c", "user.email=exporter@example.com", "commit", "-q", "-m", f"Production batch {start}")


def test_monitor_opens_one_retraining_pr_and_the_pr_workflow_reports_on_it(baked: Path, tmp_path: Path):
    monitor_yml = baked / ".github" / "workflows" / "monitor.yml"
    triggers = yaml.safe_load(monitor_yml.read_text())[True]  # YAML 1.1 reads the key `on` as true
    schedule = {"schedule": triggers["schedule"][0]["cron"]}
    # The retraining PR is opened with GITHUB_TOKEN: the repository must allow it (off by default on GitHub).
    with GitHubDouble(owner=OWNER, repo=REPO, actions_can_create_pull_requests=True) as github:
        github.add_workflows_from(baked / ".github" / "workflows")
        first = dispatch_event(allow_unreviewed=True, reason="first model")
        release = act(baked, github, "workflow_dispatch", "release.yml", first, tmp_path / "r")
        assert release.returncode == 0, release.log[-6000:]
        github.add_commit(git(baked, "rev-parse", "HEAD"), "2025-06-20T00:00:00Z", "main", branch="main")
        token = github.token_for(permissions=union_permissions(monitor_yml))

        def monitor(run: str):
            return run_act(
                baked, "schedule", "monitor.yml", schedule, env=github.api_env, secrets={"GITHUB_TOKEN": token},
                artifacts_dir=tmp_path / run, timeout=900,
            )  # fmt: skip

        # An i.i.d. batch: green, a history line on the reports branch, no pull request
        land_batch(baked, "iid", seed=12, start="2025-06-20")
        quiet = monitor("m1")
        assert quiet.returncode == 0, quiet.log[-6000:]
        assert "retraining due: no" in quiet.summary and github.pulls == []
        assert "retrain" not in quiet.jobs, "the retraining job is skipped when nothing is due"
        # The drift job only reads contents; the history job appended its summary to the reports branch
        assert quiet.jobs.get("history") == "success"
        assert len(github.files("mlops-reports")["drift/history.jsonl"].splitlines()) == 1

        # The price rise: green too, and one retraining PR with the data change, pr.yml dispatched on it
        git(baked, "rm", "-q", "data/current/2025-06-20.csv")
        land_batch(baked, "shifted", seed=11, start="2025-07-20")
        drifted = monitor("m2")
        assert drifted.returncode == 0, drifted.log[-6000:]
        assert "🔁 retraining due" in drifted.summary and drifted.jobs.get("retrain") == "success"
        assert drifted.jobs.get("history") == "success" and "### Trend" in drifted.summary  # the trend read the history
        assert len(github.files("mlops-reports")["drift/history.jsonl"].splitlines()) == 2
        (pull,) = github.pulls
        assert pull["head"]["ref"] == "mlops/retrain" and [label["name"] for label in pull["labels"]] == ["retraining"]
        (dispatch,) = github.dispatches
        assert dispatch["workflow"] == "pr.yml" and dispatch["inputs"] == {"pr_number": str(pull["number"])}
        assert list((tmp_path / "m2").glob("monitor-run*/drift.md")), "the report was kept as an artifact"

        # The dispatched pr.yml on that branch reports on the retraining PR
        git(baked, "checkout", "-q", "-b", "mlops/retrain")
        for path, content in github.files("mlops/retrain").items():
            if path.startswith("data/"):
                (baked / path).write_bytes(content)
        git(baked, "-c", "user.name=bot", "-c", "user.email=bot@example.com", "commit", "-q", "-am", "Retraining snapshot")
        payload = {**dispatch["event"], "ref": "refs/heads/mlops/retrain"}
        report = act(baked, github, "workflow_dispatch", "pr.yml", payload, tmp_path / "p1", ONLY_CORE_TESTS)
        assert report.returncode == 0, report.log[-6000:]
        (comment,) = [c for c in github.comments(pull["number"]) if c["body"].startswith(MARKER)]
        assert "vs champion **v1.0.0**" in comment["body"]

        # The same batch again: no new commit on the branch, no new dispatch
        git(baked, "checkout", "-q", "main")
        head = github.branch_head("mlops/retrain")
        again = monitor("m3")
        assert again.returncode == 0, again.log[-6000:]
        assert github.branch_head("mlops/retrain") == head and len(github.dispatches) == 1
        assert github.violations == []


def test_dora_reports_on_a_seeded_month_and_a_second_run_updates_the_same_tracking_issue(baked: Path, tmp_path: Path):
    from tests import dora_history

    dora_yml = baked / ".github" / "workflows" / "dora.yml"
    with GitHubDouble(owner=OWNER, repo=REPO) as github:
        dora_history.seed(github)
        token = github.token_for(permissions=union_permissions(dora_yml))

        def dora(run: str, until: str):
            payload = dispatch_event(window=dora_history.WINDOW, until=until)
            return run_act(
                baked, "workflow_dispatch", "dora.yml", payload, env=github.api_env,
                secrets={"GITHUB_TOKEN": token}, artifacts_dir=tmp_path / run, timeout=900,
            )  # fmt: skip

        first = dora("d1", "2026-06-23")
        assert first.returncode == 0, first.log[-6000:]
        assert "## DORA metrics" in first.summary and first.jobs.get("history") == "success"
        (issue,) = [i for i in github.issues if "dora" in [label["name"] for label in i["labels"]]]
        second = dora("d2", dora_history.UNTIL)
        assert second.returncode == 0, second.log[-6000:]
        (again,) = [i for i in github.issues if "dora" in [label["name"] for label in i["labels"]]]
        assert again["number"] == issue["number"] and again["body"] != issue["body"]
        assert "60%" in again["body"] and "### Trend" in again["body"]  # the hand-worked failure rate; two runs of history
        assert len(github.files("mlops-reports")["dora/history.jsonl"].splitlines()) == 2
        assert github.violations == []


def test_rollback_moves_latest_records_a_rollback_deployment_and_a_second_run_changes_nothing(baked: Path, synced_project, tmp_path: Path):
    from tests.test_rollback_cli import FIRST, latest, make_two_releases

    with GitHubDouble(owner=OWNER, repo=REPO) as github:
        # Given v1.0.0 and v1.0.1 released through the CLI (the release workflow's own story is above)
        make_two_releases(synced_project(DEFAULT), github)
        # When rollback.yml is dispatched with v1.0.0
        rollback = act(baked, github, "workflow_dispatch", "rollback.yml", dispatch_event(tag="v1.0.0"), tmp_path / "b1")
        assert rollback.returncode == 0, rollback.log[-6000:]
        # Then v1.0.0 is marked latest, and a production deployment of its commit records the rollback
        assert latest(github) == "v1.0.0"
        deployment = github.deployments[-1]
        assert deployment["sha"] == FIRST and deployment["payload"]["rollback"] is True
        assert [status["state"] for status in deployment["statuses"]] == ["in_progress", "success"]
        assert "↩️ rolled back to v1.0.0 from v1.0.1" in rollback.summary
        assert list((tmp_path / "b1").glob("rollback-run*/rollback.json")), "the record was kept as an artifact"
        # When it is dispatched again with the same tag, Then nothing is written
        before = len(github.calls)
        again = act(baked, github, "workflow_dispatch", "rollback.yml", dispatch_event(tag="v1.0.0"), tmp_path / "b2")
        assert again.returncode == 0, again.log[-6000:]
        assert not [call for call in github.calls[before:] if call.method in {"POST", "PATCH", "PUT", "DELETE"}]
        assert "v1.0.0 is the champion already: nothing changed" in again.summary
        assert len(github.deployments) == 3 and github.violations == []


def test_the_release_ships_its_smoke_tested_image_by_digest_and_a_failing_smoke_test_publishes_nothing(tmp_path: Path):
    from tests import images
    from tests.conftest import running_in_ci
    from tests.services import docker_registry, free_port
    from tests.test_image import http, wait_ready
    from tests.test_release_image_cli import tagged

    client = images.daemon()
    if client is None:
        message = "no Docker daemon answers: `bash .ci/docker up` (as root) starts one, as .ci/run does"
        if running_in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=DEFAULT, output_dir=str(tmp_path / "bake")))
    prepare_repo(project, OWNER, REPO)
    base, started = images.base_image(client), datetime.now(UTC)
    extra_ca = images.machine_extra_ca(tmp_path / "extra-ca.pem")  # this machine's TLS-intercepting proxy
    repository, containers, references = f"{OWNER}/{REPO}", [], []
    (tmp_path / "registry").mkdir()
    try:
        with docker_registry(tmp_path / "registry") as registry, GitHubDouble(owner=OWNER, repo=REPO) as github:
            references += [f"{registry}/{repository}:v1.0.0", f"{registry}/{repository}:v1.0.1"]  # built here by the runs
            variables = {"IMAGE_REGISTRY": registry, "BASE_IMAGE": base, "EXTRA_CA_CERT_FILE": str(extra_ca)}

            def release(artifacts: str, reason: str):
                token = github.token_for(permissions=job_permissions(project / ".github/workflows/release.yml"))
                payload = dispatch_event(allow_unreviewed=True, reason=reason)
                return run_act(
                    project, "workflow_dispatch", "release.yml", payload, env=github.api_env, secrets={"GITHUB_TOKEN": token},
                    artifacts_dir=tmp_path / artifacts, timeout=2400, variables=variables,
                )  # fmt: skip

            # When the first release runs, Then its image is built, smoke-tested, pushed, attested and named by digest
            first = release("r1", "first image")
            assert first.returncode == 0, first.log[-8000:]
            (published,) = github.releases
            record = json.loads(next(asset["content"] for asset in published["assets"] if asset["name"] == "release.json"))
            name, digest = record["image"].split("@")
            assert name == f"{registry}/{repository}" and f"docker pull {record['image']}" in published["body"]
            (deployment,) = github.deployments
            assert deployment["payload"]["image"] == record["image"]
            assert tagged(registry, repository, "v1.0.0") == digest == tagged(registry, repository, "production")
            assert [{"name": name, "digest": digest}] in [attestation["subjects"] for attestation in github.attestations]
            # And the image pulled back from the registry by digest serves that release
            pulled = client.images.pull(record["image"])
            references.append(record["image"])
            port = free_port()
            command = ["mlops", "serve", "--model-dir", "/opt/champion", "--host", "127.0.0.1", "--port", str(port)]
            served = client.containers.run(pulled.id, command, detach=True, network_mode="host", labels={images.TEST_LABEL: "ephemeral"})
            containers.append(served)
            wait_ready(f"http://127.0.0.1:{port}", served)
            (served_model,) = json.loads(http(f"http://127.0.0.1:{port}/metadata")[1])["models"]
            assert served_model["release_tag"] == "v1.0.0" and served_model["git_sha"] == git(project, "rev-parse", "HEAD")

            # When a change that breaks the service (batches capped at 5 rows: the smoke test sends 20) is released
            commit_change(project, "main", "confs/serving.yaml", "max_batch_rows: 1000", "max_batch_rows: 5", "Cap batches at 5 rows")
            attestations = len(github.attestations)
            second = release("r2", "a broken cap")
            # Then the smoke test fails the job, and nothing is attested, pushed, published, tagged or deployed
            assert second.returncode != 0
            failed = [step.split(": ", 1)[1] for step in second.failed_steps()]
            assert failed == ["Smoke-test the image (nothing is pushed unless it passes)"], second.log[-8000:]
            assert "/predict answered 413" in second.log
            assert len(github.releases) == 1 and len(github.deployments) == 1 and len(github.attestations) == attestations
            assert "refs/tags/v1.0.1" not in github.refs
            assert tagged(registry, repository, "v1.0.1") is None and tagged(registry, repository, "production") == digest
            assert github.violations == []
    finally:
        images.remove_test_leftovers(client, base, containers, references, before=started)
