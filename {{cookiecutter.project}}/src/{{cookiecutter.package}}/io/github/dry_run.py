"""``--dry-run``: every request that would change something on GitHub is recorded and answered here, never sent.

The :class:`DryRun` transport sits under the client's request layer, so no endpoint can bypass it:
a request other than GET or HEAD never reaches the network. Reads go to GitHub when the run has a
context (``GITHUB_REPOSITORY`` and a token); without one the transport answers them offline, as a
repository with a ``main`` branch and no releases, pull requests, issues, deployments or files
would. What the run created (a draft release and its assets, an issue) is answered back from the
record, so a verb runs to its end.

Each recorded request is written to the verb's folder (``outputs/dry-run/<verb>/``) as
``NNN-<method>-<what>.json`` (method, URL path, query, JSON body), an uploaded asset under
``assets/NNN-<its name>``, and summarised in one line (:attr:`DryRun.lines`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .git_data import git_blob_sha

READS = ("GET", "HEAD")
OFFLINE_BRANCHES = ("main",)
ASSET_UPLOAD = re.compile(r"/releases/\d+/assets$")  # an asset's bytes, whatever their type


def _sha(*parts: object) -> str:
    """A stable fake git sha for something the dry run made up (a branch head, a tree, a commit)."""
    return hashlib.sha1("\0".join(str(part) for part in parts).encode()).hexdigest()


class DryRun(httpx.BaseTransport):
    """The transport of a dry run: writes are recorded and answered as GitHub would, reads as said above."""

    def __init__(self, folder: Path, *, offline: bool) -> None:
        self.folder = folder
        self.offline = offline
        self.reads: httpx.BaseTransport | None = None  # GitHub, for the reads of a run with a context (set by the client)
        self.upload_origin = ""  # set by the client
        self.lines: list[str] = []
        self._created: dict[str, dict[str, Any]] = {}  # URL path → what this run created there
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method in READS:
            created = self._created_answer(path)
            if created is not None:
                return created
            if not self.offline and self.reads is not None:
                return self.reads.handle_request(request)
            return _offline_read(request)
        request.read()
        return self._record(request)

    def _created_answer(self, path: str) -> httpx.Response | None:
        if path in self._created:
            return httpx.Response(200, json=self._created[path])
        if path.endswith("/assets") and path.removesuffix("/assets") in self._created:
            return httpx.Response(200, json=self._created[path.removesuffix("/assets")].get("assets", []))
        return None

    def _record(self, request: httpx.Request) -> httpx.Response:
        number = len(self.lines) + 1
        path, query = request.url.path, dict(request.url.params)
        upload = ASSET_UPLOAD.search(path) is not None
        is_json = not upload and request.headers.get("content-type", "").startswith("application/json")
        body: Any = json.loads(request.content) if is_json and request.content else None
        what = re.sub(r"[^A-Za-z0-9]+", "-", path.split("/", 4)[-1] if path.startswith("/repos/") else path).strip("-")[:80]
        stem = f"{number:03d}-{request.method}-{what}"
        entry: dict[str, Any] = {"method": request.method, "path": path, "query": query, "json": body}
        if upload or (not is_json and request.content):
            # Beside the records, not among them: an asset may be a .json file too.
            file = f"assets/{number:03d}-{Path(query.get('name') or 'content.bin').name}"
            (self.folder / "assets").mkdir(exist_ok=True)
            (self.folder / file).write_bytes(request.content)
            entry["content"] = {"file": file, "bytes": len(request.content), "type": request.headers.get("content-type", "")}
        (self.folder / f"{stem}.json").write_text(json.dumps(entry, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.lines.append(f"dry run, not sent: {request.method} {path}{_gist(body, query)}")
        status, answer = self._answer(request, body, number)
        return httpx.Response(status, json=answer) if answer is not None else httpx.Response(status)

    def _answer(self, request: httpx.Request, body: Any, number: int) -> tuple[int, Any]:
        """What GitHub would answer, as far as the callers check it."""
        path, method = request.url.path, request.method
        repo = "/".join(path.split("/")[2:4]) if path.startswith("/repos/") else "owner/repo"
        fields = body if isinstance(body, dict) else {}
        made: dict[str, Any] = {
            **fields,
            "id": number,
            "number": number,
            "node_id": f"DRY_{number}",
            "html_url": f"https://github.com/{repo}/dry-run/{number}",
            "url": f"{request.url.copy_with(query=None)}",
            "created_at": _now(),
            "user": {"login": "github-actions[bot]"},
        }
        if method == "DELETE":
            self._created.pop(path, None)
            return 204, None
        if path.endswith("/git/blobs"):
            text = str(fields.get("content", ""))
            content = base64.b64decode(text) if fields.get("encoding") == "base64" else text.encode()
            return 201, {"sha": git_blob_sha(content), "url": made["url"]}
        if path.endswith("/git/trees"):
            return 201, {"sha": _sha("tree", json.dumps(fields, sort_keys=True)), "tree": fields.get("tree", [])}
        if path.endswith("/git/commits"):
            sha = _sha("commit", json.dumps(fields, sort_keys=True))
            parents = [{"sha": parent} for parent in fields.get("parents", [])]
            commit = _commit(sha, fields.get("tree"), parents, fields.get("message", ""))
            self._created[f"{path}/{sha}"] = commit  # read back by a later step of the same run
            return 201, commit
        if "/git/refs" in path:
            ref = fields.get("ref") or "refs/" + path.split("/git/refs/", 1)[-1]
            answer = {"ref": ref, "object": {"sha": fields.get("sha", ""), "type": "commit"}}
            self._created[f"{path.split('/git/refs', 1)[0]}/git/ref/{ref.removeprefix('refs/')}"] = answer
            return (201 if method == "POST" else 200), answer
        if ASSET_UPLOAD.search(path):
            return 201, self._asset(request, number)
        if method == "PATCH" and path in self._created:
            self._created[path].update(fields)
            return 200, self._created[path]
        if method == "PATCH":
            return 200, made
        if path.endswith("/releases"):
            # GitHub's URI template; built by concatenation, since the file is a Jinja template too.
            made["upload_url"] = f"{self.upload_origin}/repos/{repo}/releases/{number}/assets" + "{?name,label}"
            made["assets"] = []
            self._created[f"{path}/{number}"] = made
        if path.endswith("/labels") and "/issues/" in path:
            return 200, [{"name": name} for name in fields.get("labels", [])]
        if path.endswith("/dispatches"):
            return 204, None
        return 201, made

    def _asset(self, request: httpx.Request, number: int) -> dict[str, Any]:
        name = request.url.params.get("name", "")
        asset = {
            "id": number,
            "name": name,
            "size": len(request.content),
            "digest": f"sha256:{hashlib.sha256(request.content).hexdigest()}",
            "state": "uploaded",
            "url": f"{request.url.copy_with(query=None)}/{number}",
        }
        # The upload origin may have a path of its own (Enterprise Server's /api/uploads): match from /repos/ on.
        release = re.search(r"/repos/[^/]+/[^/]+/releases/\d+(?=/assets$)", request.url.path)
        for path, made in self._created.items():
            if release and path.endswith(release.group(0)):
                made.setdefault("assets", []).append(asset)
        return asset


def _commit(sha: str, tree: Any, parents: list[dict[str, str]], message: str) -> dict[str, Any]:
    person = {"name": "github-actions[bot]", "email": "github-actions[bot]@users.noreply.github.com", "date": _now()}
    return {"sha": sha, "tree": {"sha": tree}, "parents": parents, "message": message, "author": person, "committer": person}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _offline_read(request: httpx.Request) -> httpx.Response:
    """A GET answered as a repository with a ``main`` branch and nothing else would answer it."""
    path, params = request.url.path, request.url.params
    if "per_page" in params:  # a list endpoint (the client always asks for full pages)
        return httpx.Response(200, json=[])
    if re.fullmatch(r"/repos/[^/]+/[^/]+", path):
        return httpx.Response(200, json={"full_name": path.removeprefix("/repos/"), "private": True, "visibility": "private"})
    branch = re.search(r"/git/(?:ref|refs)/heads/(.+)$", path)
    if branch and branch.group(1) in OFFLINE_BRANCHES:
        return httpx.Response(200, json={"ref": f"refs/heads/{branch.group(1)}", "object": {"sha": _sha("head", branch.group(1))}})
    commit = re.search(r"/git/commits/([0-9a-f]{40})$", path)
    if commit:
        sha = commit.group(1)
        return httpx.Response(200, json=_commit(sha, _sha("tree", sha), [], ""))
    return httpx.Response(404, json={"message": "Not Found (dry run without a GitHub repository)"})


def _gist(body: Any, query: dict[str, str]) -> str:
    """The few words that say what a request is: its name, title, tag, ref or asset."""
    if "name" in query:
        return f" ({query['name']})"
    if not isinstance(body, dict):
        return ""
    for key in ("title", "tag_name", "ref", "name", "environment", "state", "labels", "message", "body"):
        if body.get(key) not in (None, "", []):
            shown = " ".join(str(body[key]).split())
            return f" ({key}: {shown[:70]}{'…' if len(shown) > 70 else ''})"
    return ""
