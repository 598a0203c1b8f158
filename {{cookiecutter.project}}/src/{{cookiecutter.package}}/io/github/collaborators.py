"""Collaborators: what access a person has to the repository (who may declare an incident)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from .client import Client, as_object, json_body

# A GitHub login (39 characters, letters, digits and single dashes), or an app's "<slug>[bot]".
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(\[bot\])?")


class Collaborators(Client):
    """A person's permission on the repository."""

    def collaborator_permission(self, login: str) -> dict[str, Any] | None:
        """GitHub's answer to GET /collaborators/{login}/permission (``permission``, ``role_name``, ``user.permissions``).

        None for a login GitHub does not know (404) or one that is not a login at all (never sent). The
        endpoint needs the Metadata read permission, which every GITHUB_TOKEN has.
        """
        if not isinstance(login, str) or not LOGIN.fullmatch(login):
            return None
        url = f"{self.repo_path}/collaborators/{quote(login, safe='')}/permission"
        response = self.request("GET", url, ok=(200, 404))
        if response.status_code == 404:
            return None
        return as_object(json_body(response, "GET", url), "collaborator permission", "permission")
