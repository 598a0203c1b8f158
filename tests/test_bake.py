"""Every option combination bakes the exact expected file set, fully rendered."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEFAULT, MATRIX, combo_id

# The exact files of a baked project. A file added to the template must be added here too:
# that is the point (nothing appears in users' projects by accident).
COMMON_FILES = {
    ".cookiecutter.json",
    ".dockerignore",
    "Dockerfile",
    ".github/actions/setup/action.yml",
    ".github/dependabot.yml",
    ".github/workflows/pr.yml",
    ".github/workflows/release.yml",
    ".github/workflows/monitor.yml",
    ".github/workflows/dora.yml",
    ".github/workflows/rollback.yml",
    ".github/ISSUE_TEMPLATE/incident.yml",
    ".github/actionlint.yaml",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".python-version",
    "README.md",
    "docs/datasheet.md",
    "docs/runbook.md",
    "confs/data.yaml",
    "confs/gates.yaml",
    "confs/model.yaml",
    "confs/tracking.yaml",
    "confs/monitor.yaml",
    "confs/dora.yaml",
    "confs/release.yaml",
    "confs/serving.yaml",
    "data/manifest.json",
    "data/reference.csv",
    "pyproject.toml",
    "scripts/build_image.py",
    "scripts/make_dataset.py",
    "uv.lock",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/test_cli.py",
    "tests/test_config.py",
    "tests/test_core_drift.py",
    "tests/test_core_gates.py",
    "tests/test_core_models.py",
    "tests/test_core_versioning.py",
    "tests/test_environment.py",
    "tests/test_io_github.py",
    "tests/test_github_dry_run.py",
    "tests/test_simulation.py",
    "tests/test_release_protocol.py",
    "tests/test_core_report.py",
    "tests/test_core_provenance.py",
    "tests/test_reviewed_metrics.py",
    "tests/test_core_schemas.py",
    "tests/test_steps.py",
    "tests/test_predict.py",
    "tests/test_stale_outputs.py",
    "tests/test_core_inference.py",
    "tests/test_init_data.py",
    "tests/test_core_snapshot.py",
    "tests/test_core_monitoring.py",
    "tests/test_core_dora.py",
    "tests/test_monitor_config.py",
    "tests/test_production_data.py",
    "tests/test_drift.py",
    "tests/test_inert_text.py",
    "tests/test_dora_incidents.py",
    "tests/test_bad_input.py",
    "tests/test_serving.py",
    "tests/test_registry.py",
} | {
    f"src/{{package}}/{name}"
    for name in (
        "__init__.py",
        "__main__.py",
        "cli.py",
        "config.py",
        "errors.py",
        "project.py",
        "core/__init__.py",
        "core/features.py",
        "core/drift.py",
        "core/gates.py",
        "core/inference.py",
        "core/manifest.py",
        "core/model_card.py",
        "core/metric_catalog.py",
        "core/metrics.py",
        "core/monitoring.py",
        "core/provenance.py",
        "core/dora.py",
        "core/simulation.py",
        "core/snapshot.py",
        "core/models.py",
        "core/records.py",
        "core/report.py",
        "core/schemas.py",
        "core/specs.py",
        "core/versioning.py",
        "io/__init__.py",
        "io/artifacts.py",
        "io/datasets.py",
        "io/github/__init__.py",
        "io/github/actions.py",
        "io/github/client.py",
        "io/github/collaborators.py",
        "io/github/deployments.py",
        "io/github/dry_run.py",
        "io/github/git_data.py",
        "io/github/issues.py",
        "io/github/releases.py",
        "io/github/repository.py",
        "io/containers.py",
        "io/local_registry.py",
        "io/model_files.py",
        "io/predictions.py",
        "io/release_protocol.py",
        "io/registry.py",
        "io/reports_branch.py",
        "io/tracking.py",
        "jobs/__init__.py",
        "jobs/champion.py",
        "jobs/comment.py",
        "jobs/drift.py",
        "jobs/dora.py",
        "jobs/retrain_pr.py",
        "jobs/rollback.py",
        "jobs/simulate_batch.py",
        "jobs/evaluate.py",
        "jobs/init_data.py",
        "jobs/manifest.py",
        "jobs/promote.py",
        "jobs/release.py",
        "jobs/report.py",
        "jobs/steps.py",
        "jobs/train.py",
        "jobs/validate.py",
        "jobs/verified_release.py",
        "jobs/predict.py",
        "jobs/release_model.py",
        "jobs/serve.py",
        "jobs/smoke_test.py",
        "jobs/push_image.py",
        "jobs/production_image.py",
        "serving/__init__.py",
        "serving/app.py",
        "serving/metrics.py",
        "serving/prediction_log.py",
        "serving/schema.py",
        "serving/scoring.py",
    )
}
# Jinja left behind: a cookiecutter variable, a block tag, or a comment. (GitHub's own
# `${{ }}` expressions are legitimate in workflows, so `{{` alone is not a finding.)
UNRENDERED = re.compile(r"{{-?\s*cookiecutter|{%|%}|{#-?\s|(?<!\.)cookiecutter\.(?!json\b)\w+")


def expected_files(combo: dict[str, str], package: str) -> set[str]:
    files = {name.replace("{package}", package) for name in COMMON_FILES}
    if combo["license"] != "Proprietary":
        files.add("LICENSE")
    return files


def baked_files(project: Path) -> set[str]:
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


@pytest.mark.parametrize("combo", MATRIX, ids=combo_id)
def test_bake_yields_the_exact_file_set_fully_rendered(cookies, combo):
    result = cookies.bake(extra_context=combo)
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert baked_files(project) == expected_files(combo, answers["package"])
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(encoding="utf-8")
            assert not UNRENDERED.search(text), f"unrendered template syntax in {path.relative_to(project)}"


@pytest.mark.parametrize("combo", MATRIX, ids=combo_id)
def test_baked_sources_and_configs_parse_and_carry_the_answers(cookies, combo):
    project = Path(cookies.bake(extra_context=combo).project_path)
    for source in project.rglob("*.py"):
        ast.parse(source.read_text(), filename=str(source))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["mlops"].endswith(".cli:main")
    assert (project / ".python-version").read_text().strip() == combo["python_version"]
    data = yaml.safe_load((project / "confs" / "data.yaml").read_text())
    model = yaml.safe_load((project / "confs" / "model.yaml").read_text())
    gates = yaml.safe_load((project / "confs" / "gates.yaml").read_text())
    assert data["target"] == ("spend_next_quarter" if combo["task"] == "regression" else "churned")
    assert model["estimator"] == combo["model_family"]
    assert model["search"]["enabled"] is (combo["hyperparameter_search"] == "yes")
    assert set(gates) == {"beat_baseline", "minimums", "maximums", "max_regression", "max_fairness_gap"}
    release = yaml.safe_load((project / "confs" / "release.yaml").read_text())
    assert release == {"attestation": combo["attestation"], "private_attestations": False, "image": True}
    assert yaml.safe_load((project / "confs" / "serving.yaml").read_text())["policy"] == combo["release_policy"]
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert {key: answers[key] for key in combo} == combo


def test_bake_makes_one_initial_commit_on_main(cookies):
    project = Path(cookies.bake(extra_context=DEFAULT).project_path)
    branch = subprocess.run(["git", "branch", "--show-current"], cwd=project, capture_output=True, text=True, check=True).stdout.strip()
    log = subprocess.run(["git", "log", "--format=%s"], cwd=project, capture_output=True, text=True, check=True).stdout.splitlines()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True).stdout
    assert branch == "main"
    assert log == ["Initial commit from cookiecutter-mlops-gitops"]
    assert status == ""  # every baked file is committed


def test_derived_names_follow_the_project_name(cookies):
    result = cookies.bake(extra_context={"project_name": "Fraud Scores V2"})
    answers = json.loads((Path(result.project_path) / ".cookiecutter.json").read_text())
    assert (answers["project"], answers["package"]) == ("fraud-scores-v2", "fraud_scores_v2")
    assert (Path(result.project_path) / "src" / "fraud_scores_v2" / "cli.py").is_file()


def test_quotes_in_free_text_answers_stay_valid_python_and_toml(cookies):
    tricky = 'It\'s "quoted" \\ and {braces}'
    project = Path(cookies.bake(extra_context={"description": tricky, "author": tricky, "project_name": "Quote Test"}).project_path)
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["description"] == tricky
    assert ast.get_docstring(ast.parse((project / "src" / "quote_test" / "__init__.py").read_text())) == tricky
