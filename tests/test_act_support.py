"""The act runner (tests/act_support.py) and its stand-ins, proven on a throwaway repository.

Every run is real: act executes the workflows on this machine, offline, on loopback only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.act_support import (
    ACT_STANDINS,
    ActResult,
    ActTimeoutError,
    MissingStandInError,
    fake_token,
    local_repository_args,
    prepare_repo,
    remote_actions,
    run_act,
    venv_tool,
)
from tests.github_double import GitHubDouble

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"  # v4.2.2
SETUP_UV = "astral-sh/setup-uv@0c5e2b8115b80b4c7c5ddf6ffdd634974642d182"  # any 40-hex ref: the stand-in is matched by it
UPLOAD = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"  # v4.6.2
DOWNLOAD = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093"  # v4.3.0
VENV_BIN = str(Path(sys.prefix) / "bin")
TRICKY_SECRET = "a $HOME `b` \"c\" 'd' \\e\nsecond line with ${PATH}"

CI = f"""
name: ci
on: pull_request
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions:
      contents: read # checkout only
    outputs:
      wheel: ${{{{ steps.package.outputs.wheel }}}}
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - name: The committed files are checked out
        run: |
          test -f src/hello.txt
          test "$(git rev-parse HEAD)" = "$GITHUB_SHA"
          echo "repository=$GITHUB_REPOSITORY pr=${{{{ github.event.pull_request.number }}}} api=$GITHUB_API_URL" >> "$GITHUB_STEP_SUMMARY"
      - uses: {SETUP_UV}
        with:
          python-version: "3.12"
          enable-cache: true
      - name: uv is the one setup-uv provides, the test venv is not on PATH
        run: |
          uv --version
          test "$(command -v uv)" = "$UV_BIN_DIR/uv"
          case ":$PATH:" in *":$TEST_VENV_BIN:"*) echo "test venv leaked into PATH"; exit 1;; esac
          echo "uv=$(uv --version | cut -d' ' -f2) python=$UV_PYTHON" >> "$GITHUB_STEP_SUMMARY"
      - name: Package
        id: package
        run: |
          mkdir -p dist/docs
          echo wheel > dist/hello-1.0-py3-none-any.whl
          echo notes > dist/docs/notes.md
          echo "wheel=hello-1.0-py3-none-any.whl" >> "$GITHUB_OUTPUT"
      - uses: {UPLOAD}
        with:
          name: dist
          path: dist/
          retention-days: 1
      - name: Print the token
        env:
          TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}
        run: echo "token is $TOKEN" | tee -a "$GITHUB_STEP_SUMMARY"
      - name: Secrets arrive verbatim
        env:
          TRICKY: ${{{{ secrets.TRICKY }}}}
        run: printf '%s' "$TRICKY" | sha256sum | cut -c1-64 | sed 's/^/tricky sha256 /'
  report:
    needs: build
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions: {{}}
    steps:
      - uses: {DOWNLOAD}
        with:
          name: dist
          path: downloaded
      - name: Report
        env:
          WHEEL: ${{{{ needs.build.outputs.wheel }}}}
        run: |
          test -f "downloaded/$WHEEL"
          echo "### Built $WHEEL" >> "$GITHUB_STEP_SUMMARY"
"""

BROKEN = """
name: broken
on: push
jobs:
  broken:
    runs-on: acme-linux
    steps:
      - name: Passes
        run: echo fine
      - name: Fails on purpose
        run: exit 3
      - name: Never runs
        run: echo never
      - name: Reports the failure
        if: failure()
        run: echo "failure seen" >> "$GITHUB_STEP_SUMMARY"
  after:
    needs: broken
    runs-on: acme-linux
    steps:
      - run: echo never
"""

ARTIFACTS = f"""
name: artifacts
on: workflow_dispatch
jobs:
  upload:
    runs-on: ubuntu-latest
    steps:
      - name: Make files
        run: |
          mkdir -p out/sub reports
          echo a > out/a.txt; echo b > out/sub/b.txt; echo h > out/.hidden; echo l > out/debug.log; echo r > reports/r.md
      - name: Upload two folders minus logs
        uses: {UPLOAD}
        with:
          name: bundle
          path: |
            out/
            reports/r.md
            !**/*.log
      - name: Upload hidden files too
        uses: {UPLOAD}
        with:
          name: everything
          path: out
          include-hidden-files: true
      - name: Upload one file
        uses: {UPLOAD}
        with:
          name: single
          path: reports/r.md
      - name: Upload a name already used
        continue-on-error: true
        uses: {UPLOAD}
        with:
          name: bundle
          path: out/a.txt
      - name: Upload nothing, error
        continue-on-error: true
        uses: {UPLOAD}
        with:
          name: missing
          path: nothing-here/
          if-no-files-found: error
      - name: Upload nothing, warn
        uses: {UPLOAD}
        with:
          name: missing-warn
          path: nothing-here/
"""

LOCAL = f"""
name: local
on: push
jobs:
  dot:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
      - uses: ./.github/actions/setup
        with:
          python-version: "3.12"
      - name: uv from the local action
        run: uv --version
  dollar:
    runs-on: ubuntu-latest
    steps:
      - uses: {CHECKOUT}
      - uses: $/.github/actions/setup
        with:
          python-version: "3.12"
"""

SETUP_ACTION = f"""
name: setup
description: The project's setup action, wrapping setup-uv.
inputs:
  python-version:
    description: Python version.
    required: true
runs:
  using: composite
  steps:
    - uses: {SETUP_UV}
      with:
        python-version: ${{{{ inputs.python-version }}}}
"""

SLEEP = """
name: sleep
on: push
jobs:
  sleep:
    runs-on: ubuntu-latest
    steps:
      - run: echo $$ > "$PID_FILE"; sleep 120
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def make_repo(root: Path, **workflows: str) -> Path:
    project = root / "throwaway"
    write(project / "src" / "hello.txt", "hello\n")
    for name, text in workflows.items():
        write(project / ".github" / "workflows" / f"{name}.yml", text)
    prepare_repo(project, "acme", "throwaway")
    return project


def files_in(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ActResult, str]:
    root = tmp_path_factory.mktemp("ci")
    project = make_repo(root, ci=CI)
    token = fake_token()
    result = run_act(
        project,
        "pull_request",
        "ci.yml",
        {"pull_request": {"number": 12, "head": {"ref": "feature"}, "base": {"ref": "main"}}},
        env={"TEST_VENV_BIN": VENV_BIN},
        secrets={"GITHUB_TOKEN": token, "TRICKY": TRICKY_SECRET},
        artifacts_dir=root / "artifacts",
        timeout=300,
    )
    return result, token


# --- Which actions a project uses, and their stand-ins ---------------------------------------------


def test_remote_actions_lists_pinned_actions_of_workflows_and_composite_actions(tmp_path):
    # Given a workflow with remote, sub-path, local and docker actions, and a local composite action
    project = tmp_path / "project"
    write(
        project / ".github" / "workflows" / "pr.yml",
        f"""
        on: pull_request
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: {CHECKOUT}
              - uses: ./.github/actions/setup
              - uses: $/.github/actions/setup
              - uses: github/codeql-action/init@1b549b9259bda1cb5ddde3b41741a82a2d15a841
              - uses: docker://alpine:3.20
        """,
    )
    write(
        project / ".github" / "actions" / "setup" / "action.yml",
        f"""
        runs:
          using: composite
          steps:
            - uses: {SETUP_UV}
        """,
    )

    # When the remote actions are listed
    found = remote_actions(project)

    # Then every owner/name[/sub]@ref is there, and neither local nor docker actions
    assert found == {CHECKOUT, SETUP_UV, "github/codeql-action/init@1b549b9259bda1cb5ddde3b41741a82a2d15a841"}


def test_local_repository_args_map_stand_ins_but_not_checkout(tmp_path):
    # Given a workflow using checkout, setup-uv and upload-artifact
    project = tmp_path / "project"
    write(
        project / ".github" / "workflows" / "pr.yml",
        f"""
        on: pull_request
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: {CHECKOUT}
              - uses: {SETUP_UV}
              - uses: {UPLOAD}
                with: {{name: x, path: x}}
        """,
    )

    # When the act arguments are made
    args = local_repository_args(project)

    # Then each stand-in is mapped at the exact ref the workflow pins, and checkout is left to act
    assert args == [
        "--local-repository",
        f"{UPLOAD}={ACT_STANDINS / 'actions' / 'upload-artifact'}",
        "--local-repository",
        f"{SETUP_UV}={ACT_STANDINS / 'astral-sh' / 'setup-uv'}",
    ]


def test_unknown_remote_action_raises_an_error_naming_it(tmp_path):
    # Given a workflow using an action that has no stand-in
    project = tmp_path / "project"
    write(
        project / ".github" / "workflows" / "pr.yml",
        """
        on: pull_request
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: someone/unheard-of@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        """,
    )

    # When / Then the error names the action and where its stand-in would go
    with pytest.raises(MissingStandInError, match=r"someone/unheard-of@a{40}.*tests/act_standins/someone/unheard-of/action\.yml"):
        local_repository_args(project)


def test_checkout_of_another_ref_needs_a_stand_in(tmp_path):
    # Given a checkout step that names a ref (act then fetches actions/checkout from GitHub)
    project = tmp_path / "project"
    write(
        project / ".github" / "workflows" / "pr.yml",
        f"""
        on: pull_request
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: {CHECKOUT}
                with:
                  ref: ${{{{ github.event.pull_request.head.sha }}}}
        """,
    )

    # When / Then the error says so instead of letting act reach the network
    with pytest.raises(MissingStandInError, match=r"actions/checkout@11bd7190.*sets repository or ref"):
        local_repository_args(project)


def test_run_act_refuses_a_short_secret(tmp_path):
    # Given a prepared repository
    project = make_repo(tmp_path, broken=BROKEN)

    # When / Then a secret short enough to mask unrelated log text is refused, naming it
    with pytest.raises(ValueError, match=r"\['API_KEY'\]"):
        run_act(
            project,
            "push",
            "broken.yml",
            {},
            env={},
            secrets={"GITHUB_TOKEN": fake_token(), "API_KEY": "t"},
            artifacts_dir=tmp_path / "a",
        )


def test_run_act_refuses_uncommitted_changes(tmp_path):
    # Given a prepared repository with a change made afterwards
    project = make_repo(tmp_path, broken=BROKEN)
    (project / "src" / "hello.txt").write_text("changed\n", encoding="utf-8")

    # When / Then act is not run on a state other than HEAD
    with pytest.raises(RuntimeError, match="uncommitted changes"):
        run_act(project, "push", "broken.yml", {}, env={}, secrets={"GITHUB_TOKEN": fake_token()}, artifacts_dir=tmp_path / "a")


# --- A successful run --------------------------------------------------------------------------------


def test_successful_run_exits_zero_with_every_job_and_step_green(ci_run):
    result, _ = ci_run
    assert result.returncode == 0, result.log
    assert result.jobs == {"build": "success", "report": "success"}
    assert result.failed_steps() == []
    assert "build: The committed files are checked out" in result.succeeded_steps()
    assert f"build: {SETUP_UV}" in result.succeeded_steps()


def test_summary_collects_every_step_of_every_job(ci_run):
    result, _ = ci_run
    assert "repository=acme/throwaway pr=12 api=http://127.0.0.1:9\n" in result.summary  # no real GitHub API by default
    uv_version = subprocess.run([venv_tool("uv"), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    assert f"uv={uv_version} python=3.12\n" in result.summary  # the tests' uv (requirements-dev.txt), and UV_PYTHON
    assert "### Built hello-1.0-py3-none-any.whl\n" in result.summary  # from the job that needs build, through its output


def test_uploaded_artifact_is_copied_with_its_layout(ci_run):
    result, _ = ci_run
    assert files_in(result.artifacts_dir) == {"dist/hello-1.0-py3-none-any.whl", "dist/docs/notes.md"}
    assert (result.artifacts_dir / "dist" / "docs" / "notes.md").read_text() == "notes\n"


def test_fake_token_never_appears_in_log_or_summary(ci_run):
    result, token = ci_run
    assert token not in result.log
    assert token not in result.summary
    assert "token is ***" in result.log
    assert "token is ***" in result.summary


def test_secrets_reach_steps_verbatim(ci_run):
    result, _ = ci_run
    assert f"tricky sha256 {hashlib.sha256(TRICKY_SECRET.encode()).hexdigest()}" in result.log


# --- A failing run -----------------------------------------------------------------------------------


def test_failing_step_is_reported_by_name_and_fails_the_run(tmp_path):
    # Given a workflow whose job fails on purpose, on a custom runner label
    project = make_repo(tmp_path, broken=BROKEN)

    # When it runs with that label mapped to this machine
    result = run_act(
        project,
        "push",
        "broken.yml",
        {},
        env={},
        secrets={"GITHUB_TOKEN": fake_token()},
        artifacts_dir=tmp_path / "artifacts",
        runs_on="acme-linux",
        timeout=300,
    )

    # Then act fails, names the failed step, runs `if: failure()`, and skips what depends on it
    assert result.returncode == 1
    assert result.failed_steps() == ["broken: Fails on purpose"]
    assert result.failed_jobs() == ["broken"]
    assert "broken: Reports the failure" in result.succeeded_steps()
    assert "broken: Never runs" not in result.succeeded_steps() + result.failed_steps()
    assert "after" not in result.jobs
    assert result.summary == "failure seen\n"


def test_upload_artifact_stand_in_follows_v4_rules(tmp_path):
    # Given a workflow exercising upload-artifact's paths, hidden files, duplicates and empty uploads
    project = make_repo(tmp_path, artifacts=ARTIFACTS)

    # When it runs
    result = run_act(
        project,
        "workflow_dispatch",
        "artifacts.yml",
        {"inputs": {}},
        env={},
        secrets={"GITHUB_TOKEN": fake_token()},
        artifacts_dir=tmp_path / "artifacts",
        timeout=300,
    )

    # Then files keep paths below the search paths' common folder, minus exclusions and hidden files
    assert files_in(tmp_path / "artifacts" / "bundle") == {"out/a.txt", "out/sub/b.txt", "reports/r.md"}
    assert files_in(tmp_path / "artifacts" / "everything") == {"a.txt", "sub/b.txt", ".hidden", "debug.log"}
    assert files_in(tmp_path / "artifacts" / "single") == {"r.md"}
    # And a reused name or no files with if-no-files-found: error fail; warn only warns
    assert result.failed_steps() == ["upload: Upload a name already used", "upload: Upload nothing, error"]
    assert "an artifact with this name already exists on the workflow run: bundle" in result.log
    assert "No files were found with the provided path: nothing-here/" in result.log
    assert not (tmp_path / "artifacts" / "missing-warn").exists()
    assert result.jobs == {"upload": "success"}  # both failures were continue-on-error


def test_local_composite_action_runs_but_self_repository_syntax_does_not_yet(tmp_path):
    # Given a local composite action (using a remote one), called as ./ in one job and $/ in another
    write(tmp_path / "throwaway" / ".github" / "actions" / "setup" / "action.yml", SETUP_ACTION)
    project = make_repo(tmp_path, local=LOCAL)

    # When the workflow runs
    result = run_act(
        project,
        "push",
        "local.yml",
        {},
        env={},
        secrets={"GITHUB_TOKEN": fake_token()},
        artifacts_dir=tmp_path / "artifacts",
        timeout=300,
    )

    # Then ./ works, stand-ins included, while act 0.2.89 rejects GitHub's $/ form (zizmor asks for it:
    # keep ./ with `# zizmor: ignore[self-repository]` until this test fails)
    assert result.jobs == {"dot": "success", "dollar": "failure"}, result.log
    assert "dot: uv from the local action" in result.succeeded_steps()
    assert "Expected format {org}/{repo}[/path]@ref. Actual '$/.github/actions/setup'" in result.log


def test_timeout_stops_act_and_its_steps(tmp_path):
    # Given a workflow that would sleep for two minutes
    project = make_repo(tmp_path, sleep=SLEEP)
    pid_file = tmp_path / "step.pid"

    # When it runs with a timeout well short of the sleep (long enough for a cold act, on a
    # fresh CI machine, to reach the step: 5 s once ended act before the step had started)
    started = time.monotonic()
    with pytest.raises(ActTimeoutError, match="longer than 20s"):
        run_act(
            project,
            "push",
            "sleep.yml",
            {},
            env={"PID_FILE": str(pid_file)},
            secrets={"GITHUB_TOKEN": fake_token()},
            artifacts_dir=tmp_path / "artifacts",
            timeout=20,
        )

    # Then it returns soon after, and the step's shell is gone too
    assert time.monotonic() - started < 45
    assert not process_alive(int(pid_file.read_text()))


def process_alive(pid: int, wait: float = 5.0) -> bool:
    """True while pid runs (a zombie, waiting for a reaper that may never come, counts as gone)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.1)
    return True


# --- The attest-build-provenance stand-in: stores the attestation through the API, fails when GitHub refuses ---

ATTEST = "actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32"  # v4.1.0
ATTEST_ACTION = ACT_STANDINS / "actions" / "attest-build-provenance" / "action.yml"
ATTESTATIONS_DOCS = "https://docs.github.com/rest/repos/attestations#create-an-attestation"
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def run_composite(action: Path, inputs: dict[str, str], github_token: str, env: dict[str, str], cwd: Path) -> tuple[int, str, dict]:
    """Every step of a composite action as a runner runs it: ``${{ inputs.* }}`` and ``${{ github.token }}`` filled
    into the step's ``env:``, then ``bash --noprofile --norc -eo pipefail``; returns the exit code, the output and
    the outputs written to GITHUB_OUTPUT (without act: the stand-in's own logic, fast)."""
    document = yaml.safe_load(action.read_text(encoding="utf-8"))
    values = {f"inputs.{name}": spec.get("default", "") for name, spec in document["inputs"].items()} | {"github.token": github_token}
    values |= {f"inputs.{name}": value for name, value in inputs.items()}

    def resolve(text: str) -> str:
        return EXPRESSION.sub(lambda found: resolve(str(values[found.group(1)])), text)

    outputs_file = cwd / "github_output"
    outputs_file.touch()
    path = os.pathsep.join(entry for entry in os.environ["PATH"].split(os.pathsep) if entry != VENV_BIN)
    output = ""
    for step in document["runs"]["steps"]:
        step_env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "GITHUB_OUTPUT": str(outputs_file), **env}
        step_env |= {name: resolve(str(value)) for name, value in (step.get("env") or {}).items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd, env=step_env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        output += done.stdout + done.stderr
        if done.returncode != 0:
            return done.returncode, output, {}
    outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines() if line)
    return 0, output, outputs


def attest_env(gh: GitHubDouble, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "artifacts").mkdir(exist_ok=True)
    return {
        "GITHUB_API_URL": gh.url,
        "GITHUB_REPOSITORY": gh.full_name,
        "GITHUB_SERVER_URL": "https://github.com",
        "RUNNER_TEMP": str(tmp_path),
        "ACT_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
    }


def test_attest_stand_in_stores_the_subjects_attestation_through_the_api(tmp_path):
    # Given a public repository and a file to attest
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"the model archive")
    digest = f"sha256:{hashlib.sha256(archive.read_bytes()).hexdigest()}"
    with GitHubDouble() as gh:
        # When the stand-in runs with the job's token (attestations: write)
        token = gh.token_for(permissions={"attestations": "write", "id-token": "write"})
        code, output, outputs = run_composite(ATTEST_ACTION, {"subject-path": str(archive)}, token, attest_env(gh, tmp_path), tmp_path)

        # Then GitHub stores one attestation of that subject, which the list by digest returns
        assert code == 0, output
        (stored,) = gh.attestations
        assert stored["subjects"] == [{"name": "model.tar.gz", "digest": digest}]
        assert stored["predicate_type"] == "https://slsa.dev/provenance/v1" and stored["login"] == "github-actions[bot]"
        assert outputs["attestation-id"] == str(stored["id"])
        assert outputs["attestation-url"] == f"https://github.com/acme/churn-model/attestations/{stored['id']}"
        assert json.loads(Path(outputs["bundle-path"]).read_text()) == stored["bundle"]
        listed = httpx.get(f"{gh.url}/repos/acme/churn-model/attestations/{digest}", headers={"Authorization": f"Bearer {token}"})
        assert [item["bundle"] for item in listed.json()["attestations"]] == [stored["bundle"]]
        # And the call is recorded for the tests, as before
        assert (tmp_path / "artifacts" / "attest-build-provenance.calls").read_text() == f"{archive} {digest}\n"

        # When a subject is given by digest and name instead, Then that name is attested
        named = {"subject-digest": "sha256:" + "ab" * 32, "subject-name": "image"}
        assert run_composite(ATTEST_ACTION, named, token, attest_env(gh, tmp_path), tmp_path)[0] == 0
        assert gh.attestations[-1]["subjects"] == [{"name": "image", "digest": "sha256:" + "ab" * 32}]
        assert gh.violations == []


@pytest.mark.parametrize(
    ("settings", "permissions", "message"),
    [
        (
            {"visibility": "private"},
            {"attestations": "write"},
            "Feature not available for user-owned private repositories. To enable this feature, please make this repository public.",
        ),
        (
            {"visibility": "private", "owner_type": "Organization", "plan": "team"},
            {"attestations": "write"},
            "Feature not available for the acme organization. "
            "To enable this feature, please upgrade the billing plan, or make this repository public.",
        ),
        ({}, {"attestations": "read"}, "Resource not accessible by integration"),
    ],
)
def test_attest_stand_in_fails_the_step_with_githubs_message_when_github_refuses(tmp_path, settings, permissions, message):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"the model archive")
    with GitHubDouble(**settings) as gh:
        token = gh.token_for(permissions=permissions)
        code, output, outputs = run_composite(ATTEST_ACTION, {"subject-path": str(archive)}, token, attest_env(gh, tmp_path), tmp_path)
        assert code == 1
        assert f"::error::Failed to persist attestation: {message} - {ATTESTATIONS_DOCS}" in output
        assert gh.attestations == [] and outputs == {}
        assert token not in output
        assert gh.violations == []


ATTESTED = f"""
name: attested
on: push
jobs:
  attest:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      attestations: write
    steps:
      - uses: {CHECKOUT}
      - name: Attest
        uses: {ATTEST}
        with:
          subject-path: src/hello.txt
      - name: After
        run: echo attested
"""


def test_attest_stand_in_under_act_fails_the_job_on_a_private_personal_repository(tmp_path):
    # Given the workflow of a private personal repository that attests a file
    project = make_repo(tmp_path, attested=ATTESTED)
    with GitHubDouble(owner="acme", repo="throwaway", visibility="private") as gh:
        # When act runs it with a token that may write attestations
        result = run_act(
            project,
            "push",
            "attested.yml",
            {},
            env={"GITHUB_API_URL": gh.url},
            secrets={"GITHUB_TOKEN": gh.token_for(permissions={"id-token": "write", "attestations": "write"})},
            artifacts_dir=tmp_path / "artifacts",
            timeout=300,
        )
        # Then the step fails with GitHub's refusal, as the real action's does, and nothing is stored
        assert result.failed_steps() == ["attest: Attest"], result.log[-3000:]
        assert "attest: After" not in result.succeeded_steps()
        assert "Failed to persist attestation: Feature not available for user-owned private repositories." in result.log
        assert gh.attestations == [] and gh.violations == []
