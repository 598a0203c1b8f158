"""Releases, their assets and tags: drafts, uploads to GitHub's upload origin, bounded downloads, attestations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx

from ...errors import InputError
from .client import Client, GitHubError, as_object, checked, json_body, origin_of, ref_sha


class Releases(Client):
    """Releases and tags."""

    def _release(self, release: Any) -> dict[str, Any]:
        return checked(
            release,
            "release",
            id="int",
            tag_name="str",
            draft="bool?",
            prerelease="bool?",
            body="str?",
            html_url="str?",
            upload_url="str?",
            published_at="time?",
            assets="list?",
        )

    def latest_release(self) -> dict[str, Any] | None:
        response = self.request("GET", f"{self.repo_path}/releases/latest", ok=(200, 404))
        return self._release(json_body(response, "GET", "releases/latest")) if response.status_code == 200 else None

    def releases(self) -> Iterator[dict[str, Any]]:
        return (self._release(release) for release in self.paginate(f"{self.repo_path}/releases"))

    def tag_sha(self, tag: str) -> str | None:
        response = self.request("GET", f"{self.repo_path}/git/ref/tags/{tag}", ok=(200, 404))
        if response.status_code == 404:
            return None
        return ref_sha(json_body(response, "GET", f"git/ref/tags/{tag}"), f"tags/{tag}")

    def create_tag(self, tag: str, sha: str) -> None:
        self.request("POST", f"{self.repo_path}/git/refs", json={"ref": f"refs/tags/{tag}", "sha": sha}, ok=(201,))

    def create_release(self, tag: str, *, name: str, body: str, sha: str) -> dict[str, Any]:
        payload = {
            "tag_name": tag,
            "target_commitish": sha,
            "name": name,
            "body": body,
            "draft": False,
            "prerelease": False,
            "make_latest": "true",
        }
        return self._release(self.request_json("POST", f"{self.repo_path}/releases", json=payload, ok=(201,)))

    def create_draft_release(self, tag: str, *, name: str, body: str, sha: str) -> dict[str, Any]:
        """A draft release of commit ``sha``: no tag yet (publishing creates it), seen only by those who can write contents."""
        payload = {"tag_name": tag, "target_commitish": sha, "name": name, "body": body, "draft": True, "prerelease": False}
        return self._release(self.request_json("POST", f"{self.repo_path}/releases", json=payload, ok=(201,)))

    def publish_release(self, release_id: int) -> dict[str, Any]:
        """Publish a draft and mark it latest: GitHub creates its tag now."""
        url = f"{self.repo_path}/releases/{int(release_id)}"
        return self._release(self.request_json("PATCH", url, json={"draft": False, "make_latest": "true"}, ok=(200,)))

    def mark_latest(self, release_id: int) -> dict[str, Any]:
        """Mark a published release the repository's latest (what ``GET /releases/latest`` answers from then on)."""
        url = f"{self.repo_path}/releases/{int(release_id)}"
        return self._release(self.request_json("PATCH", url, json={"make_latest": "true"}, ok=(200,)))

    def delete_release(self, release_id: int) -> None:
        """Delete a release (a draft has no tag to leave behind); gone already is fine."""
        self.request("DELETE", f"{self.repo_path}/releases/{int(release_id)}", ok=(204, 404))

    def attestations(self, digest: str) -> list[dict[str, Any]]:
        """The artifact attestations stored in this repository for ``sha256:<digest>``; empty when there are none."""
        url = f"{self.repo_path}/attestations/sha256:{digest}"
        response = self.request("GET", url, ok=(200, 404))
        if response.status_code == 404:
            return []
        found = as_object(json_body(response, "GET", url), "attestation list", "attestations")["attestations"]
        if not isinstance(found, list):
            raise GitHubError(f"GitHub GET {url} answered attestations that are not a list")
        return found

    def release_assets(self, release: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            checked(asset, "release asset", name="str", url="str", size="int?")
            for asset in self.paginate(f"{self.repo_path}/releases/{int(release['id'])}/assets")
        ]

    def upload_asset(self, release: dict[str, Any], name: str, content: bytes, content_type: str) -> dict[str, Any]:
        """Upload to the ``upload_url`` the API returned (uploads.github.com on github.com, the API's host on GHE)."""
        upload_url = release.get("upload_url")
        if not isinstance(upload_url, str):
            raise GitHubError(f"release {release.get('tag_name')!r} has no upload_url")
        target = _upload_base(upload_url)
        if origin_of(target) != self.upload_origin:
            # The token goes to GitHub's upload origin for this API, never to wherever an answer points.
            raise GitHubError(
                f"release {release.get('tag_name')!r} names {target.split('?')[0][:200]!r} for uploads, not GitHub's upload host "
                f"for this API ({self.context.upload_origin}): refusing to send the token there "
                "(if your GitHub takes uploads elsewhere, set MLOPS_GITHUB_UPLOAD_URL)"
            )
        return as_object(
            self.request_json("POST", target, params={"name": name}, content=content, headers={"Content-Type": content_type}, ok=(201,)),
            "uploaded asset",
        )

    def download_asset(self, asset: dict[str, Any], *, max_bytes: int) -> bytes:
        """The asset's bytes, streamed; more than ``max_bytes`` is an ``InputError`` (nothing more is read).

        The cap is required: an asset is written by whoever can edit a release, and read here by every job.
        """
        name = asset.get("name", "?")
        response = self.request("GET", asset["url"], headers={"Accept": "application/octet-stream"}, ok=(200,), stream=True)
        too_big = f"release asset {name!r} is larger than {max_bytes} bytes: refusing it"
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InputError(too_big)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(too_big)
                chunks.append(chunk)
            return b"".join(chunks)
        except httpx.HTTPError as error:
            raise GitHubError(f"downloading release asset {name!r} failed: {type(error).__name__}") from error
        finally:
            response.close()


def _upload_base(upload_url: str) -> str:
    return re.sub(r"\{[^}]*\}$", "", upload_url)
