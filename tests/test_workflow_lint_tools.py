"""The workflow linters (tests/workflow_lint.py) run offline, pass a hardened sample, catch real problems.

HARDENED is the bar for the generated workflows: zero findings from each tool. What it takes
for zizmor (regular persona, offline), each point checked by a test here:

- ``permissions:`` at the top (``{}``) or per job: none at all is excessive-permissions.
- every ``uses:`` pinned by a full commit SHA (tags are unpinned-uses), with a ``# vX.Y.Z`` comment;
- actions/checkout with ``persist-credentials: false`` (else artipacked);
- no ``${{ }}`` of anything but a few safe contexts in ``run:`` (or github-script ``script:``):
  not github.event.*, github.ref/ref_name/head_ref/actor, inputs.*, vars.*, steps.*.outputs,
  needs.*.outputs or env.* (even the "informational" ones fail): pass them through ``env:``;
- in a release (tag push) workflow, setup-uv with ``enable-cache: false`` (else cache-poisoning);
- dependabot.yml with ``cooldown: default-days: 7`` (or more) per ecosystem;
- local actions as ``uses: ./.github/actions/x # zizmor: ignore[self-repository]``: zizmor wants
  GitHub's new ``$/`` form, which act cannot run yet (test_act_support proves it).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.workflow_lint import actionlint, check_jsonschema, zizmor

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
SETUP_UV = "astral-sh/setup-uv@e92bafb6253dcd438e0484186d7669ea7a8ca1cc # v6.4.3"
UPLOAD = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2"

HARDENED = {
    ".github/workflows/pr.yml": f"""
        name: pr

        on:
          pull_request:
            branches: [main]

        permissions: {{}}

        concurrency:
          group: pr-${{{{ github.event.pull_request.number }}}}
          cancel-in-progress: true

        jobs:
          test:
            name: Test
            runs-on: ubuntu-latest
            timeout-minutes: 15
            permissions:
              contents: read # checkout
            outputs:
              score: ${{{{ steps.evaluate.outputs.score }}}}
            steps:
              - uses: {CHECKOUT}
                with:
                  persist-credentials: false
              - uses: ./.github/actions/setup # zizmor: ignore[self-repository] act cannot run "$/" yet
                with:
                  python-version: "3.12"
              - name: Greet the pull request
                env:
                  TITLE: ${{{{ github.event.pull_request.title }}}}
                  HEAD_REF: ${{{{ github.head_ref }}}}
                run: echo "Testing '$TITLE' from $HEAD_REF"
              - name: Evaluate
                id: evaluate
                run: |
                  uv run --frozen pytest
                  echo "score=0.91" >> "$GITHUB_OUTPUT"
              - uses: {UPLOAD}
                with:
                  name: report
                  path: report.md
                  retention-days: 7
          comment:
            name: Comment
            needs: test
            runs-on: ubuntu-latest
            timeout-minutes: 5
            permissions:
              pull-requests: write # comment on the pull request
            steps:
              - name: Comment the score
                env:
                  GH_TOKEN: ${{{{ github.token }}}}
                  SCORE: ${{{{ needs.test.outputs.score }}}}
                  NUMBER: ${{{{ github.event.pull_request.number }}}}
                run: |
                  gh pr comment "$NUMBER" --repo "$GITHUB_REPOSITORY" --body "Score: $SCORE"
    """,
    ".github/workflows/release.yml": f"""
        name: release

        on:
          push:
            tags: ["v*"]

        permissions: {{}}

        concurrency:
          group: release-${{{{ github.ref }}}}
          cancel-in-progress: false

        jobs:
          release:
            name: Release
            runs-on: ubuntu-latest
            timeout-minutes: 15
            permissions:
              contents: write # create the release
            steps:
              - uses: {CHECKOUT}
                with:
                  persist-credentials: false
              - uses: {SETUP_UV}
                with:
                  enable-cache: false # a release must not restore a cache a pull request could have written
              - name: Build
                run: uv build
              - name: Release
                env:
                  GH_TOKEN: ${{{{ github.token }}}}
                run: gh release create "$GITHUB_REF_NAME" dist/* --repo "$GITHUB_REPOSITORY" --verify-tag
    """,
    ".github/actions/setup/action.yml": f"""
        name: setup
        description: Install uv and the project's locked dependencies.
        inputs:
          python-version:
            description: Python version to run on.
            required: true
        runs:
          using: composite
          steps:
            - uses: {SETUP_UV}
              with:
                python-version: ${{{{ inputs.python-version }}}}
                enable-cache: false
            - name: Install the locked dependencies
              shell: bash
              env:
                PYTHON_VERSION: ${{{{ inputs.python-version }}}}
              run: uv sync --frozen --python "$PYTHON_VERSION"
    """,
    ".github/dependabot.yml": """
        version: 2
        updates:
          - package-ecosystem: github-actions
            directory: /
            schedule:
              interval: weekly
            cooldown:
              default-days: 7
          - package-ecosystem: uv
            directory: /
            schedule:
              interval: weekly
            cooldown:
              default-days: 7
    """,
}

BAD_WORKFLOW = """
    name: bad
    on: pull_request
    jobs:
      test:
        runs-on: ${{ matrix.os }}
        timeout-minuts: 10
        steps:
          - uses: actions/checkout@v4
          - run: echo "${{ github.event.pull_request.title }}"
          - run: echo $UNQUOTED
"""


def write_files(project: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return project


@pytest.fixture
def hardened(tmp_path) -> Path:
    return write_files(tmp_path / "hardened", HARDENED)


@pytest.fixture
def bad(tmp_path) -> Path:
    return write_files(tmp_path / "bad", {".github/workflows/bad.yml": BAD_WORKFLOW})


def with_pr_step(project: Path, step: str) -> Path:
    """The hardened project with one more step in pr.yml's test job."""
    path = project / ".github" / "workflows" / "pr.yml"
    marker = "      - uses: actions/upload-artifact@"
    path.write_text(path.read_text().replace(marker, textwrap.indent(textwrap.dedent(step).lstrip(), " " * 6) + marker, 1))
    return project


# --- actionlint ----------------------------------------------------------------------------------------


def test_actionlint_passes_the_hardened_sample(hardened):
    result = actionlint(hardened)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_undefined_context_typo_key_injection_and_shellcheck(bad):
    # When actionlint checks the bad workflow
    result = actionlint(bad)

    # Then it fails, naming each problem
    assert result.returncode == 1, result.stderr
    assert 'property "os" is not defined in object type {}' in result.stdout
    assert 'unexpected key "timeout-minuts" for "job" section' in result.stdout
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout
    assert "SC2086" in result.stdout  # shellcheck ran on the run: script


def test_actionlint_reads_the_project_runner_labels(hardened):
    # Given a workflow on a self-hosted runner label (the cookiecutter runs_on answer)
    pr = hardened / ".github" / "workflows" / "pr.yml"
    pr.write_text(pr.read_text().replace("runs-on: ubuntu-latest", "runs-on: acme-gpu"))

    # When it is linted without, then with, .github/actionlint.yaml declaring the label
    unknown = actionlint(hardened)
    write_files(hardened, {".github/actionlint.yaml": "self-hosted-runner:\n  labels: [acme-gpu]\n"})
    declared = actionlint(hardened)

    # Then only the declared label passes
    assert unknown.returncode == 1
    assert 'label "acme-gpu" is unknown' in unknown.stdout
    assert declared.returncode == 0, declared.stdout + declared.stderr


# --- zizmor --------------------------------------------------------------------------------------------


def test_zizmor_finds_nothing_in_the_hardened_sample(hardened):
    result = zizmor(hardened)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_catches_template_injection_unpinned_action_and_kept_credentials(bad):
    result = zizmor(bad)
    assert result.returncode != 0
    assert "error[template-injection]" in result.stdout  # the PR title in run:
    assert "error[unpinned-uses]" in result.stdout  # actions/checkout@v4
    assert "warning[artipacked]" in result.stdout  # no persist-credentials: false
    assert "warning[excessive-permissions]" in result.stdout  # no permissions: at all


def test_zizmor_fails_on_an_informational_finding(hardened):
    # Given a step output interpolated into run: (informational template-injection)
    project = with_pr_step(hardened, '- run: echo "${{ steps.evaluate.outputs.score }}"\n')

    # When / Then it counts as a failure
    result = zizmor(project)
    assert result.returncode != 0
    assert "info[template-injection]" in result.stdout


def test_zizmor_wants_cooldown_in_dependabot(hardened):
    dependabot = hardened / ".github" / "dependabot.yml"
    dependabot.write_text(dependabot.read_text().replace("    cooldown:\n      default-days: 7\n", ""))
    result = zizmor(hardened)
    assert result.returncode != 0
    assert "warning[dependabot-cooldown]" in result.stdout


def test_zizmor_wants_no_cache_in_a_release_workflow(hardened):
    release = hardened / ".github" / "workflows" / "release.yml"
    release.write_text(release.read_text().replace("enable-cache: false", "enable-cache: true"))
    result = zizmor(hardened)
    assert result.returncode != 0
    assert "error[cache-poisoning]" in result.stdout


def test_zizmor_flags_a_local_action_without_its_ignore_comment(hardened):
    pr = hardened / ".github" / "workflows" / "pr.yml"
    pr.write_text(pr.read_text().replace(' # zizmor: ignore[self-repository] act cannot run "$/" yet', ""))
    result = zizmor(hardened)
    assert result.returncode != 0
    assert "help[self-repository]" in result.stdout


def test_zizmor_ignores_a_project_config_that_disables_audits(bad):
    # Given a zizmor.yml in the project switching the audits off
    write_files(bad, {".github/zizmor.yml": "rules:\n  template-injection:\n    disable: true\n  unpinned-uses:\n    disable: true\n"})

    # When / Then the findings are still reported
    result = zizmor(bad)
    assert "error[template-injection]" in result.stdout
    assert "error[unpinned-uses]" in result.stdout


def test_zizmor_does_not_skip_a_workflow_it_cannot_parse(hardened):
    # Given a workflow that is not valid YAML (a plain scalar holding ": ")
    write_files(hardened, {".github/workflows/broken.yml": "on: push\njobs:\n  a:\n    steps:\n      - run: printf 'Score: %s'\n"})

    # When / Then zizmor fails instead of warning and auditing the rest
    result = zizmor(hardened)
    assert result.returncode != 0
    assert "broken.yml" in result.stdout + result.stderr


# --- check-jsonschema ----------------------------------------------------------------------------------


def test_check_jsonschema_validates_workflows_actions_and_dependabot(hardened):
    results = check_jsonschema(hardened)
    assert [result.args[3] for result in results] == ["vendor.github-workflows", "vendor.github-actions", "vendor.dependabot"]
    assert [result.returncode for result in results] == [0, 0, 0], "\n".join(result.stdout + result.stderr for result in results)


def test_check_jsonschema_catches_invalid_keys_and_values(hardened):
    # Given a typo'd job key, an unknown kind of action and an impossible schedule
    pr = hardened / ".github" / "workflows" / "pr.yml"
    pr.write_text(pr.read_text().replace("timeout-minutes: 15", "timeout-minuts: 15"))
    action = hardened / ".github" / "actions" / "setup" / "action.yml"
    action.write_text(action.read_text().replace("runs:\n  using: composite", "runs:\n  using: compost"))
    dependabot = hardened / ".github" / "dependabot.yml"
    dependabot.write_text(dependabot.read_text().replace("interval: weekly", "interval: hourly", 1))

    # When they are validated
    workflows, actions, dependabot_config = check_jsonschema(hardened)

    # Then each schema rejects its file
    assert workflows.returncode == 1
    assert "'timeout-minuts' was unexpected" in workflows.stdout
    assert actions.returncode == 1
    assert "'compost' is not one of" in actions.stdout
    assert dependabot_config.returncode == 1
    assert "'hourly' is not one of" in dependabot_config.stdout
