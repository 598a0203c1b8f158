"""The repository itself, as GitHub describes it: its visibility, and which GitHub it lives on."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from .client import Client, GitHubError, as_object, json_body

VISIBILITIES = ("public", "private", "internal")
# Every answer of GitHub Enterprise Server carries its version in this header; github.com and ghe.com send none.
ENTERPRISE_SERVER_HEADER = "x-github-enterprise-version"


@dataclass(frozen=True)
class RepositoryFacts:
    """What the release needs to know about the repository: who can see it, and whether GitHub is Enterprise Server."""

    visibility: str  # public, private or internal
    enterprise_server: bool

    @property
    def public(self) -> bool:
        return self.visibility == "public"


class Repository(Client):
    """``GET /repos/{owner}/{repo}``: needs only the metadata permission every token has."""

    def repository_facts(self) -> RepositoryFacts:
        response = self.request("GET", self.repo_path)
        repository = as_object(json_body(response, "GET", self.repo_path), "repository", "private")
        visibility = repository.get("visibility")
        if visibility is None:  # older Enterprise Server versions answer only `private`
            visibility = "private" if repository["private"] is True else "public" if repository["private"] is False else None
        if visibility not in VISIBILITIES:
            shown = str(visibility)[:40]
            raise GitHubError(f"GitHub GET {self.repo_path} answered visibility {shown!r}: expected public, private or internal")
        return RepositoryFacts(visibility=visibility, enterprise_server=_on_enterprise_server(response, self.context.api_url))


def _on_enterprise_server(response: httpx.Response, api_url: str) -> bool:
    """GitHub Enterprise Server says so in a header of every answer, and serves its API under /api/v3."""
    return ENTERPRISE_SERVER_HEADER in response.headers or httpx.URL(api_url).path.rstrip("/").endswith("/api/v3")
