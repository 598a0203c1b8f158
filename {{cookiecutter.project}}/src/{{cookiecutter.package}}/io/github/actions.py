"""GitHub Actions: dispatching a workflow (the one event GITHUB_TOKEN may start a run with)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...errors import InputError
from .client import Client, as_object, checked_ref, json_body

# GitHub's limit: 25 inputs per workflow dispatch.
MAX_DISPATCH_INPUTS = 25


class Actions(Client):
    """Workflow dispatch."""

    def dispatch_workflow(
        self, workflow_file: str, *, ref: str, inputs: Mapping[str, str] | None = None, return_run_details: bool = False
    ) -> dict[str, Any] | None:
        """Run ``.github/workflows/<workflow_file>`` on branch or tag ``ref`` (``workflow_dispatch``).

        Runs started this way are the exception to "events made with GITHUB_TOKEN start no workflow". GitHub
        answers 204, or with ``return_run_details`` (github.com since 2026; not every GitHub Enterprise Server
        takes it) 200 and the run's ``workflow_run_id`` and ``html_url``, which this returns; None otherwise.
        """
        if not re.fullmatch(r"[\w.-]+\.ya?ml", workflow_file):
            raise InputError(f"workflow {workflow_file!r}: expected a file name in .github/workflows such as pr.yml")
        inputs = dict(inputs or {})
        if len(inputs) > MAX_DISPATCH_INPUTS or not all(isinstance(value, str) for value in inputs.values()):
            raise InputError(f"workflow {workflow_file}: expected at most {MAX_DISPATCH_INPUTS} inputs, each a string")
        body: dict[str, Any] = {"ref": checked_ref(ref), "inputs": inputs}
        if return_run_details:
            body["return_run_details"] = True
        url = f"{self.repo_path}/actions/workflows/{workflow_file}/dispatches"
        response = self.request("POST", url, json=body, ok=(200, 204))
        if response.status_code == 204 or not response.content.strip():
            return None
        return as_object(json_body(response, "POST", url), "workflow run", "workflow_run_id", "html_url")
