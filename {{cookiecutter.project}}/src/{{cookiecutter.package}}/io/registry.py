"""A container registry's HTTP API (the OCI distribution specification): read a tag's digest, point a tag at a digest.

Used to move the tag ``production`` (``mlops release``, ``mlops rollback``) without pulling the image: the
manifest stored under the digest is read and put back under the tag, byte for byte, so the tag names exactly that
digest. GHCR and Docker Hub answer 401 with a ``Bearer`` challenge: a token is asked of its realm with the
credentials (GHCR takes the workflow's GITHUB_TOKEN, user ``github.actor``); a ``Basic`` challenge gets them
directly. A registry on loopback (the tests' stand-in for GHCR) is spoken to over plain HTTP, as Docker does.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

import httpx

from ..errors import InputError

logger = logging.getLogger(__name__)

# Every manifest kind `docker build`/`docker push` writes (an index for multi-platform or attested builds).
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
MAX_MANIFEST_BYTES = 4 * 1024**2  # the distribution spec's own limit on a manifest
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_REFERENCE = re.compile(
    r"(?P<host>[a-z0-9.-]+(?::[0-9]+)?)/(?P<repository>[a-z0-9._/-]+)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_LOOPBACK = ("127.", "localhost", "[::1]")


@dataclass(frozen=True)
class ImageRef:
    """``host/repository[:tag][@digest]``: an image as the release names it (``ghcr.io/acme/churn-model@sha256:…``)."""

    host: str
    repository: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        found = _REFERENCE.fullmatch(text.strip())
        if found is None or ("." not in found["host"] and ":" not in found["host"] and found["host"] != "localhost"):
            raise InputError(f"{text[:200]!r} is not an image reference: expected REGISTRY/OWNER/NAME[:TAG][@sha256:DIGEST]")
        return cls(found["host"], found["repository"], found["tag"] or "", found["digest"] or "")

    @property
    def name(self) -> str:
        """``host/repository``: the subject name of its provenance attestation."""
        return f"{self.host}/{self.repository}"

    def at(self, digest: str) -> ImageRef:
        return ImageRef(self.host, self.repository, "", digest)

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def is_digest(text: str) -> bool:
    return _DIGEST.fullmatch(text) is not None


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


class Registry:
    """One registry's API, as a client with the credentials for it (they go to that host and its token realm only)."""

    def __init__(self, host: str, credentials: Credentials | None = None, *, timeout: float = 30.0) -> None:
        scheme = "http" if host.startswith(_LOOPBACK) else "https"
        self.host, self.base = host, f"{scheme}://{host}/v2"
        self._credentials = credentials
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)
        self._tokens: dict[str, str] = {}

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_: object) -> None:
        self._client.close()

    def digest_of(self, repository: str, tag: str) -> str | None:
        """The digest the tag names now; None when the repository has no such tag."""
        response = self._request("HEAD", repository, f"manifests/{tag}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code == 404:
            return None
        self._check(response, f"{self.host}/{repository}:{tag}")
        digest = response.headers.get("Docker-Content-Digest", "")
        if not is_digest(digest):
            raise InputError(f"{self.host}/{repository}:{tag}: the registry named no sha256 digest for it ({digest[:80]!r})")
        return digest

    def tag(self, repository: str, digest: str, tag: str) -> bool:
        """Point ``tag`` at ``digest`` (its manifest put back under the tag); False when it named that digest already."""
        if self.digest_of(repository, tag) == digest:
            return False
        where = f"{self.host}/{repository}@{digest}"
        response = self._request("GET", repository, f"manifests/{digest}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code == 404:
            raise InputError(f"{where}: no such image in the registry; cannot tag it {tag!r}")
        self._check(response, where)
        manifest = response.content
        if len(manifest) > MAX_MANIFEST_BYTES or "sha256:" + hashlib.sha256(manifest).hexdigest() != digest:
            raise InputError(f"{where}: the registry answered a manifest that is not the one this digest names; refusing to tag it")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type not in MANIFEST_TYPES:
            raise InputError(f"{where}: unexpected manifest type {content_type[:80]!r}")
        put = self._request("PUT", repository, f"manifests/{tag}", headers={"Content-Type": content_type}, content=manifest, push=True)
        self._check(put, f"{self.host}/{repository}:{tag}")
        logger.info("%s/%s:%s now names %s", self.host, repository, tag, digest[:19])
        return True

    def _request(self, method: str, repository: str, path: str, *, headers: dict[str, str], push: bool = False, **kwargs) -> httpx.Response:
        scope = f"repository:{repository}:pull" + (",push" if push else "")
        url = f"{self.base}/{repository}/{path}"
        auth = self._tokens.get(scope)
        response = self._client.request(method, url, headers=headers | ({"Authorization": auth} if auth else {}), **kwargs)
        if response.status_code != 401:
            return response
        auth = self._authorize(response.headers.get("WWW-Authenticate", ""), scope)
        if auth is None:
            return response
        self._tokens[scope] = auth
        return self._client.request(method, url, headers=headers | {"Authorization": auth}, **kwargs)

    def _authorize(self, challenge: str, scope: str) -> str | None:
        """The Authorization header a 401's challenge asks for; None when there is nothing to answer it with."""
        kind, _, rest = challenge.partition(" ")
        basic = httpx.BasicAuth(self._credentials.username, self._credentials.password) if self._credentials else None
        if kind.lower() == "basic":
            return None if basic is None else next(basic.auth_flow(httpx.Request("GET", self.base))).headers["Authorization"]
        if kind.lower() != "bearer":
            return None
        params = dict(_CHALLENGE.findall(rest))
        realm = params.pop("realm", "")
        if not realm.startswith(("https://", "http://127.", "http://localhost")):
            raise InputError(
                f"{self.host}: the registry asked for a token from {realm[:100]!r}, which is not HTTPS; refusing to send it credentials"
            )
        response = self._client.get(realm, params={"service": params.get("service", ""), "scope": scope}, auth=basic)
        self._check(response, f"{self.host} (token for {scope})")
        body = response.json()
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise InputError(f"{self.host}: its token service answered no token for {scope}")
        return f"Bearer {token}"

    def _check(self, response: httpx.Response, where: str) -> None:
        if response.status_code in (401, 403):
            raise InputError(
                f"{where}: the registry refused the credentials ({response.status_code}); the job needs `packages: write` "
                "and IMAGE_REGISTRY_USERNAME/IMAGE_REGISTRY_PASSWORD"
            )
        if response.status_code >= 300:
            raise InputError(f"{where}: the registry answered {response.status_code} ({response.text[:200]!r})")
