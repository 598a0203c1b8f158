"""The container registry client: image names, the tag ``production`` moved by digest through a token-authenticated registry.

The registry here is a small loopback server speaking the distribution API's token authentication as GHCR does (a 401
with a ``Bearer`` challenge naming a token realm; the realm hands a token for the credentials and the scope), with one
manifest stored; the template's own tests move tags on Debian's docker-registry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from {{ cookiecutter.package }}.config import Environment
from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io.registry import Credentials, ImageRef, Registry
from {{ cookiecutter.package }}.jobs import production_image

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "config": {}, "layers": []}).encode()
DIGEST = f"sha256:{hashlib.sha256(MANIFEST).hexdigest()}"
BASIC = "Basic " + base64.b64encode(b"octocat:ghs_the_job_token").decode()


class TokenRegistry(BaseHTTPRequestHandler):
    """/token answers a bearer token to the right basic credentials; /v2/acme/model/manifests/* wants that token."""

    tags: dict[str, bytes]
    scopes: list[str]

    def log_message(self, *_: object) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == "Bearer the-token":
            return True
        realm = f"http://127.0.0.1:{self.server.server_port}/token"
        challenge = f'Bearer realm="{realm}",service="test-registry",scope="repository:acme/model:pull"'
        self._answer(401, b'{"errors": [{"code": "UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
        return False

    def do_GET(self) -> None:
        if self.path.startswith("/token"):
            if self.headers.get("Authorization") != BASIC:
                self._answer(401)
                return
            self.scopes.append(parse_qs(urlsplit(self.path).query)["scope"][0])
            self._answer(200, b'{"token": "the-token"}', {"Content-Type": "application/json"})
            return
        if not self._authorized():
            return
        reference = self.path.rsplit("/", 1)[1]
        content = self.tags.get(reference) or (MANIFEST if reference == DIGEST else None)
        if content is None:
            self._answer(404)
            return
        digest = f"sha256:{hashlib.sha256(content).hexdigest()}"
        self._answer(200, content, {"Content-Type": MANIFEST_TYPE, "Docker-Content-Digest": digest})

    do_HEAD = do_GET

    def do_PUT(self) -> None:
        if not self._authorized():
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.tags[self.path.rsplit("/", 1)[1]] = body
        self._answer(201, headers={"Docker-Content-Digest": f"sha256:{hashlib.sha256(body).hexdigest()}"})


@pytest.fixture
def registry() -> Iterator[tuple[str, type[TokenRegistry]]]:
    handler = type("Handler", (TokenRegistry,), {"tags": {}, "scopes": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_image_references_are_parsed_and_named_in_lower_case():
    image = ImageRef.parse(f"ghcr.io/acme/churn-model:v1.2.0@{DIGEST}")
    assert (image.host, image.repository, image.tag, image.digest) == ("ghcr.io", "acme/churn-model", "v1.2.0", DIGEST)
    assert str(image.at(DIGEST)) == f"ghcr.io/acme/churn-model@{DIGEST}"
    for bad in ("churn-model:v1", "ghcr.io/Acme/model:v1", "ghcr.io/acme/model@sha256:abc", "ghcr.io/acme/model:v1; rm -rf /"):
        with pytest.raises(InputError, match="is not an image reference"):
            ImageRef.parse(bad)
    env = Environment(github_repository="Acme/Churn-Model", image_registry="ghcr.io")
    assert production_image.image_name(env, "v1.2.0") == "ghcr.io/acme/churn-model:v1.2.0"
    assert production_image.image_name(Environment(), "v1.2.0") == ""


def test_production_moves_by_digest_through_token_auth_and_a_second_move_changes_nothing(registry):
    host, handler = registry
    credentials = Credentials("octocat", "ghs_the_job_token")
    with Registry(host, credentials) as client:
        assert client.digest_of("acme/model", "production") is None
        assert client.tag("acme/model", DIGEST, "production") is True
        assert handler.tags["production"] == MANIFEST  # the very bytes the digest names
        assert client.digest_of("acme/model", "production") == DIGEST
        assert client.tag("acme/model", DIGEST, "production") is False
    # The token was asked for pull alone to read, and for pull and push to write
    assert set(handler.scopes) == {"repository:acme/model:pull", "repository:acme/model:pull,push"}
    with Registry(host, Credentials("octocat", "a wrong token")) as client, pytest.raises(InputError, match=r"\(401\)"):
        client.digest_of("acme/model", "production")


def test_only_this_repositorys_image_by_digest_is_tagged(registry):
    host, handler = registry
    env = Environment(
        github_repository="acme/model", image_registry=host, image_registry_username="octocat", image_registry_password="ghs_the_job_token"
    )
    restore = production_image.move_production(env, f"{host}/acme/model@{DIGEST}", where="v1.0.0")
    assert handler.tags["production"] == MANIFEST and restore is not None
    assert production_image.move_production(env, f"{host}/acme/model@{DIGEST}", where="v1.0.0") is None
    for other in (f"{host}/acme/other@{DIGEST}", f"{host}/acme/model:v1.0.0", f"evil.example/acme/model@{DIGEST}"):
        with pytest.raises(InputError, match="is not this repository's image by digest"):
            production_image.move_production(env, other, where="v1.0.0")
