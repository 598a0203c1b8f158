"""The environment is read once into the settings: one answer to "is MLflow a server?"."""

from pathlib import Path

from {{ cookiecutter.package }}.config import Environment, load_settings

from tests.conftest import edit_yaml


def test_a_tracking_server_named_only_in_the_config_is_a_server(workspace: Path):
    # Given confs/tracking.yaml naming a server and no MLFLOW_TRACKING_URI in the environment
    edit_yaml(workspace / "confs" / "tracking.yaml", "tracking_uri: sqlite:///.mlflow/mlflow.db", "tracking_uri: https://mlflow.example")
    settings = load_settings(workspace / "confs", environ={})
    # Then every verb sees a server (the champion comes from its registry, the release moves its alias)
    assert settings.uses_tracking_server
    assert settings.tracking_uri == "https://mlflow.example"


def test_the_environment_wins_over_the_config_and_sqlite_is_anchored_at_the_root(workspace: Path):
    local = load_settings(workspace / "confs", environ={})
    assert not local.uses_tracking_server
    assert local.tracking_uri == f"sqlite:///{workspace.resolve()}/.mlflow/mlflow.db"
    served = load_settings(workspace / "confs", environ={"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"})
    assert served.uses_tracking_server and served.tracking_uri == "http://127.0.0.1:5000"


def test_the_environment_record_reads_github_values_and_keeps_the_token_out_of_repr():
    env = Environment.read(
        {
            "GITHUB_TOKEN": "ghs_secret_value",
            "GITHUB_REPOSITORY": "acme/model",
            "GITHUB_RUN_ID": "77",
            "GITHUB_API_URL": "https://ghe.example/api/v3/",
            "PR_FROM_FORK": "true",
        }
    )
    assert env.github_api_url == "https://ghe.example/api/v3"
    assert env.run_url == "https://github.com/acme/model/actions/runs/77"
    assert env.pr_from_fork is True
    assert "ghs_secret_value" not in repr(env)
