"""Deployments and their statuses (the production record a release and a rollback leave)."""

from __future__ import annotations

from typing import Any

from .client import Client, GitHubError, as_object, checked, json_body, message_of


class Deployments(Client):
    """Deployments and deployment statuses."""

    def deployments(self, *, environment: str, sha: str | None = None) -> list[dict[str, Any]]:
        """Deployments to ``environment`` (of commit ``sha`` when given), newest first."""
        params = {"environment": environment, **({"sha": sha} if sha is not None else {})}
        return [
            checked(deployment, "deployment", id="int", sha="str", created_at="time", payload="object?", description="str?")
            for deployment in self.paginate(f"{self.repo_path}/deployments", params)
        ]

    def deployment_statuses(self, deployment_id: int) -> list[dict[str, Any]]:
        """A deployment's statuses, newest first."""
        return [
            checked(status, "deployment status", state="str", created_at="time")
            for status in self.paginate(f"{self.repo_path}/deployments/{int(deployment_id)}/statuses")
        ]

    def create_deployment(self, *, sha: str, environment: str, description: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = {
            "ref": sha,
            "environment": environment,
            "description": description,
            "auto_merge": False,
            "required_contexts": [],  # the release job itself is the check that passed
            "payload": payload,
            "production_environment": environment == "production",
        }
        response = self.request("POST", f"{self.repo_path}/deployments", json=body, ok=(201, 202, 409))
        if response.status_code == 202:
            raise GitHubError(
                f"GitHub merged the default branch into {sha[:12]} instead of deploying it (202 auto-merge): "
                "deploy a commit sha with auto_merge false, then re-run the release",
                202,
            )
        if response.status_code == 409:
            raise GitHubError(
                f"GitHub refused to deploy {sha[:12]} to {environment}: 409 {message_of(response)} "
                "(required status checks have not passed on that commit; wait for them or list the ones to require in required_contexts)",
                409,
            )
        return as_object(json_body(response, "POST", "deployments"), "deployment", "id")

    def create_deployment_status(
        self, deployment_id: int, *, state: str, description: str, environment_url: str = "", log_url: str = ""
    ) -> None:
        body = {"state": state, "description": description[:140]}
        body |= {name: url for name, url in (("environment_url", environment_url), ("log_url", log_url)) if url}
        self.request("POST", f"{self.repo_path}/deployments/{int(deployment_id)}/statuses", json=body, ok=(201,))
