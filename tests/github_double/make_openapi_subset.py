#!/usr/bin/env python3
"""Regenerate ``openapi_subset.json``: the part of GitHub's OpenAPI description that the double implements.

Maintainers run it when the double gains an endpoint (add it to ``OPERATIONS``) or to move to a newer
description; tests never run it, they read the committed ``openapi_subset.json``::

    python3 tests/github_double/make_openapi_subset.py              # latest @octokit/openapi
    python3 tests/github_double/make_openapi_subset.py 23.0.2       # a given version

Needs Python's standard library and ``npm`` on PATH (``npm pack`` fetches the package from the npm
registry). The package ``@octokit/openapi`` republishes GitHub's own description
(github/rest-api-description); its ``generated/api.github.com.json`` is OpenAPI 3.0 with ``$ref``s kept,
which makes a far smaller subset than the dereferenced variant beside it.

The subset keeps the listed operations and every ``#/components/...`` entry they reference, transitively.
Examples, long prose and GitHub's internal ``x-github`` metadata are dropped to keep the file small;
schemas, parameters, responses and schema descriptions are kept verbatim. ``x-source`` records where it
came from. Review the diff before committing: a changed required field is a change in GitHub's contract.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi"
SOURCE_FILE = "generated/api.github.com.json"
OUTPUT = Path(__file__).resolve().parent / "openapi_subset.json"

# Every (method, path template) the double serves; tests check the double's routes against this list.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/repos/{owner}/{repo}"),
    ("post", "/repos/{owner}/{repo}/git/refs"),
    ("get", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("get", "/repos/{owner}/{repo}/git/matching-refs/{ref}"),
    ("patch", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("post", "/repos/{owner}/{repo}/git/blobs"),
    ("get", "/repos/{owner}/{repo}/git/blobs/{file_sha}"),
    ("post", "/repos/{owner}/{repo}/git/trees"),
    ("post", "/repos/{owner}/{repo}/git/commits"),
    ("get", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("get", "/repos/{owner}/{repo}/commits"),
    ("get", "/repos/{owner}/{repo}/releases"),
    ("post", "/repos/{owner}/{repo}/releases"),
    ("get", "/repos/{owner}/{repo}/releases/latest"),
    ("get", "/repos/{owner}/{repo}/releases/tags/{tag}"),
    ("get", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("patch", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("delete", "/repos/{owner}/{repo}/releases/{release_id}"),
    ("get", "/repos/{owner}/{repo}/releases/{release_id}/assets"),
    ("post", "/repos/{owner}/{repo}/releases/{release_id}/assets"),
    ("get", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    ("delete", "/repos/{owner}/{repo}/releases/assets/{asset_id}"),
    ("get", "/repos/{owner}/{repo}/issues"),
    ("post", "/repos/{owner}/{repo}/issues"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("patch", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("get", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("get", "/repos/{owner}/{repo}/labels/{name}"),
    ("post", "/repos/{owner}/{repo}/labels"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("patch", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"),
    ("get", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls"),
    ("get", "/repos/{owner}/{repo}/deployments"),
    ("post", "/repos/{owner}/{repo}/deployments"),
    ("get", "/repos/{owner}/{repo}/deployments/{deployment_id}"),
    ("get", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("post", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
    ("get", "/repos/{owner}/{repo}/compare/{basehead}"),
    ("get", "/repos/{owner}/{repo}/attestations/{subject_digest}"),
    ("post", "/repos/{owner}/{repo}/attestations"),
    ("post", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"),
    # Who may say what: collaborators' permissions, issue events
    ("get", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/events"),
    # Repository settings: Actions workflow permissions
    ("get", "/repos/{owner}/{repo}/actions/permissions/workflow"),
    ("put", "/repos/{owner}/{repo}/actions/permissions/workflow"),
)

# Keys that only document or illustrate: dropped wherever they appear outside a schema's properties.
OPERATION_PROSE = ("description", "x-github", "tags")
ILLUSTRATIONS = ("example", "examples")


def download(version: str, workdir: Path) -> tuple[dict[str, Any], str]:
    """``npm pack`` the package into workdir; return the description and the exact version packed."""
    spec = f"{PACKAGE}@{version}" if version else PACKAGE
    packed = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)], check=True, capture_output=True, text=True, cwd=workdir
    )
    (tarball_info,) = json.loads(packed.stdout)
    with tarfile.open(workdir / tarball_info["filename"]) as tarball:
        member = tarball.extractfile(f"package/{SOURCE_FILE}")
        if member is None:
            raise SystemExit(f"{SOURCE_FILE} is missing from {spec}")
        return json.load(member), tarball_info["version"]


def strip_illustrations(node: Any, in_properties: bool = False) -> Any:
    """Drop examples everywhere; a key named ``example`` inside ``properties`` is a field, so keep it."""
    if isinstance(node, dict):
        return {
            key: strip_illustrations(value, in_properties=key == "properties" and not in_properties)
            for key, value in node.items()
            if in_properties or key not in ILLUSTRATIONS
        }
    if isinstance(node, list):
        return [strip_illustrations(item) for item in node]
    return node


def references(node: Any) -> set[str]:
    """Every ``$ref`` target inside node."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def subset(description: dict[str, Any], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, template in OPERATIONS:
        path_item = description["paths"].get(template)
        if path_item is None or method not in path_item:
            raise SystemExit(f"{method.upper()} {template} is not in {PACKAGE}@{version}: update OPERATIONS and the double")
        operation = {key: value for key, value in path_item[method].items() if key not in OPERATION_PROSE}
        target = paths.setdefault(template, {key: value for key, value in path_item.items() if key == "parameters"})
        target[method] = strip_illustrations(operation)

    # Follow $refs breadth-first: a component may reference others (schemas nest schemas).
    components: dict[str, dict[str, Any]] = {}
    pending = references(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        parts = ref.split("/")
        if len(parts) != 4 or parts[:2] != ["#", "components"]:
            raise SystemExit(f"unexpected $ref {ref}: only '#/components/<section>/<name>' is handled")
        section, name = parts[2], parts[3]
        component = strip_illustrations(description["components"][section][name])
        components.setdefault(section, {})[name] = component
        pending |= references(component) - seen

    return {
        "openapi": description["openapi"],
        "info": {"title": description["info"]["title"], "version": description["info"]["version"]},
        "x-source": {
            "package": PACKAGE,
            "version": version,
            "file": SOURCE_FILE,
            "generator": "tests/github_double/make_openapi_subset.py",
            "note": "Subset of GitHub's REST API description for the test double; examples and prose removed.",
        },
        "servers": description.get("servers", []),
        "paths": dict(sorted(paths.items())),
        "components": {section: dict(sorted(entries.items())) for section, entries in sorted(components.items())},
    }


def main(argv: list[str]) -> int:
    version = argv[1] if len(argv) > 1 else ""
    with tempfile.TemporaryDirectory() as workdir:
        description, packed_version = download(version, Path(workdir))
    result = subset(description, packed_version)
    OUTPUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = {section: len(entries) for section, entries in result["components"].items()}
    operations = sum(len([key for key in item if key != "parameters"]) for item in result["paths"].values())
    print(f"wrote {OUTPUT.name}: {PACKAGE}@{packed_version}, {operations} operations, components {counts}, {OUTPUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
