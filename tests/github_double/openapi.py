"""Check HTTP calls against GitHub's own OpenAPI description (the committed subset).

``openapi_subset.json`` is the part of ``@octokit/openapi`` (GitHub's published REST description)
that the double implements; ``make_openapi_subset.py`` regenerates it. :func:`check` takes one call as
the double served it and returns what does not match GitHub's contract: an operation GitHub does not
have, an undocumented query parameter, a request body or a response body that breaks its schema, or a
status code the operation does not document.

The description is OpenAPI 3.0, whose schemas are not quite JSON Schema: ``nullable: true`` stands for
a type union with null. :func:`to_json_schema` rewrites that, then ``jsonschema``'s Draft 4 validator
checks instances (OpenAPI 3.0 schemas are a Draft 4/5 dialect: boolean ``exclusiveMaximum``, ``$ref``
siblings ignored). Every ``$ref`` resolves inside the one converted document through a ``referencing``
registry, so the subset needs no inlining.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import referencing
import referencing.jsonschema
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

SUBSET_PATH = Path(__file__).with_name("openapi_subset.json")
# Where the converted document lives in the registry; it never leaves this process.
DOCUMENT_URI = "https://github-double.invalid/openapi_subset.json"
# GitHub serves release asset uploads from another host (uploads.github.com; HOSTNAME/api/uploads on Enterprise
# Server): the description marks those operations with this server. They match only paths sent to the double's
# uploads host, the others only paths sent to its API (``uploads`` below), whatever prefix each host strips first.
UPLOADS_SERVER = "https://uploads.github.com"

# Statuses that GitHub's REST docs say any endpoint can answer ("Troubleshooting the REST API",
# "Rate limits for the REST API"): bad JSON, bad or missing credentials, a resource the token cannot
# see (404, never 403, for private repositories), rate limits, and server faults. The description
# lists them on some operations only, so where an operation omits one, its body is held to GitHub's
# basic error shape instead of being reported as undocumented.
ANY_ENDPOINT_STATUSES = frozenset({400, 401, 403, 404, 429, 500, 502, 503, 504})
BASIC_ERROR_POINTER = "/components/schemas/basic-error"
# Statuses GitHub is seen to answer on an operation whose description omits them, each with where it was
# seen. Like ANY_ENDPOINT_STATUSES, their bodies are held to the basic error shape.
OBSERVED_STATUSES: dict[tuple[str, str], dict[int, str]] = {
    ("PATCH", "/repos/{owner}/{repo}/releases/{release_id}"): {
        422: "Validation Failed: body too long (scikit-build/github-release#65), tag_name taken",
    },
    ("DELETE", "/repos/{owner}/{repo}/releases/assets/{asset_id}"): {
        422: "Cannot delete asset from an immutable release (uutils/coreutils#13839)",
    },
    ("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"): {
        422: "No ref found for (convictional/trigger-workflow-and-wait#44), no workflow_dispatch trigger (benc-uk/workflow-dispatch#46), "
        "Unexpected inputs provided (backstage/backstage#20023), Required input not provided (backstage/backstage#18511)",
    },
}
# At most this many schema errors per body: one wrong object often breaks many rules.
MAX_ERRORS_PER_BODY = 8

RFC3339_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(RFC3339_DATE_TIME.fullmatch(value))


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    # GitHub sends "" for URL fields that were never set (a deployment status's target_url), although the
    # description says format: uri; anything else must be absolute, with a scheme and a host.
    if not isinstance(value, str) or value == "":
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects → JSON Schema: ``nullable: true`` becomes a union with null.

    Applied to the whole document: only schema objects carry a boolean ``nullable`` (a property *named*
    nullable would map to a schema object, not to ``True``).
    """
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items()}
    nullable = converted.get("nullable")
    if not isinstance(nullable, bool):
        return converted
    del converted["nullable"]
    if not nullable:
        return converted
    if any(key in converted for key in ("allOf", "anyOf", "oneOf", "$ref")):
        # A union inside allOf/oneOf would still reject null: wrap the whole schema instead.
        return {"anyOf": [{"type": "null"}, converted]}
    if isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted


def _pointer(*segments: str) -> str:
    """A JSON pointer (RFC 6901) from raw segments."""
    return "".join("/" + segment.replace("~", "~0").replace("/", "~1") for segment in segments)


@dataclass(frozen=True)
class Operation:
    """One documented method on one path template, ready to match concrete paths."""

    method: str  # upper case, as on the wire
    template: str  # as in the description, e.g. /repos/{owner}/{repo}/releases/{release_id}
    pointer: str  # JSON pointer to the operation object in the document
    pattern: re.Pattern[str]
    literal_length: int  # characters outside {params}: the more, the more specific the template
    uploads: bool  # served by uploads.github.com, not by the API's host

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.template


class OpenAPISubset:
    """The subset document with path matching and schema checks."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = to_json_schema(copy.deepcopy(dict(document)))
        resource = referencing.Resource(contents=self.document, specification=referencing.jsonschema.DRAFT4)
        self._registry: referencing.Registry = referencing.Registry().with_resource(DOCUMENT_URI, resource)
        self.operations: tuple[Operation, ...] = tuple(self._operations())
        self._validators: dict[str, Draft4Validator] = {}

    @classmethod
    def load(cls, path: Path = SUBSET_PATH) -> OpenAPISubset:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @property
    def source(self) -> dict[str, Any]:
        """Where the subset came from: package, version and file (``x-source``)."""
        return dict(self.document.get("x-source", {}))

    # Looking things up in the document

    def resolve(self, node: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        """Follow a ``#/components/...`` ``$ref`` (one level, as responses and parameters use); return node and its pointer."""
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node, None
        target: Any = self.document
        for segment in ref.removeprefix("#/").split("/"):
            target = target[segment.replace("~1", "/").replace("~0", "~")]
        return target, ref.removeprefix("#")

    def documentation_url(self, operation: Operation) -> str | None:
        """The operation's page on docs.github.com (``externalDocs``), which GitHub's error bodies link."""
        url = self._node(operation.pointer).get("externalDocs", {}).get("url")
        return url if isinstance(url, str) else None

    def _parameters(self, operation: Operation) -> list[tuple[Mapping[str, Any], str]]:
        """The operation's parameters (path-level ones first) with a pointer to each one's schema."""
        found = []
        path_item_pointer = _pointer("paths", operation.template)
        path_item = self.document["paths"][operation.template]
        operation_parameters = self._node(operation.pointer).get("parameters", [])
        for parameters, owner in ((path_item.get("parameters", []), path_item_pointer), (operation_parameters, operation.pointer)):
            for index, parameter in enumerate(parameters):
                resolved, ref_pointer = self.resolve(parameter)
                found.append((resolved, (ref_pointer or f"{owner}/parameters/{index}") + "/schema"))
        return found

    def _node(self, pointer: str) -> Any:
        node: Any = self.document
        for segment in pointer.split("/")[1:]:
            key = segment.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node

    def _operations(self) -> Iterable[Operation]:
        for template, path_item in self.document["paths"].items():
            for method, operation in path_item.items():
                if method == "parameters":
                    continue
                uploads = any(server.get("url") == UPLOADS_SERVER for server in operation.get("servers", []))
                parameters = {}
                for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
                    resolved, _ = self.resolve(parameter)
                    if resolved.get("in") == "path":
                        parameters[resolved["name"]] = resolved
                yield Operation(
                    method=method.upper(),
                    template=template,
                    pointer=_pointer("paths", template, method),
                    pattern=self._path_pattern(template, parameters),
                    literal_length=len(re.sub(r"\{[^}]*\}", "", template)),
                    uploads=uploads,
                )

    @staticmethod
    def _path_pattern(template: str, parameters: Mapping[str, Mapping[str, Any]]) -> re.Pattern[str]:
        pattern = ""
        for literal, name in re.findall(r"([^{]*)(?:\{([^}]*)\})?", template):
            pattern += re.escape(literal)
            if not name:
                continue
            parameter = parameters.get(name, {})
            if parameter.get("x-multi-segment"):
                value = ".+"  # git refs, tags and BASE...HEAD may contain slashes (GitHub marks them so)
            elif parameter.get("schema", {}).get("type") == "integer":
                value = "[0-9]+"
            else:
                value = "[^/]+"
            pattern += f"(?P<{name}>{value})"
        return re.compile(pattern)

    # Matching

    def match(self, method: str, path: str, *, uploads: bool = False) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving ``method path`` (path without query, still percent-encoded, relative to the host's
        API root) and its path parameters: among the uploads host's operations when ``uploads``, else the API's."""
        candidates = [
            (operation, found.groupdict())
            for operation in self.operations
            if operation.uploads == uploads and operation.method == method.upper() and (found := operation.pattern.fullmatch(path))
        ]
        if not candidates:
            return None
        # A literal segment beats a parameter: /releases/latest is not /releases/{release_id}.
        return max(candidates, key=lambda candidate: candidate[0].literal_length)

    def templates_for(self, path: str, *, uploads: bool = False) -> list[str]:
        """Every documented template of the host matching path, whatever the method (to tell 'wrong method' from 'no such path')."""
        return sorted(
            {operation.template for operation in self.operations if operation.uploads == uploads and operation.pattern.fullmatch(path)}
        )

    # Checking

    def check(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        request_json: Any,
        status: int,
        response_json: Any,
        *,
        uploads: bool = False,
    ) -> list[str]:
        """What in this call does not match GitHub's description (empty when everything does).

        ``uploads``: the call reached the uploads host (``path`` relative to its root), not the API's.
        """
        found = self.match(method, path, uploads=uploads)
        if found is None:
            if self.match(method, path, uploads=not uploads) is not None:
                where = "the API's host" if uploads else "the uploads host (the release's upload_url)"
                return [f"{method} {path}: this operation is served by {where}, not by this one"]
            templates = self.templates_for(path, uploads=uploads)
            if templates:
                return [f"{method} {path}: method {method} is not documented for {', '.join(templates)}"]
            return [f"{method} {path}: no operation in the OpenAPI subset matches this path"]
        operation, _ = found
        problems = [
            *self.check_query(operation, query or {}),
            *self.check_request_body(operation, request_json),
            *self.check_response(operation, status, response_json),
        ]
        return [f"{operation.method} {operation.template} ({path}): {problem}" for problem in problems]

    def check_query(self, operation: Operation, query: Mapping[str, str]) -> list[str]:
        documented = {parameter["name"]: pointer for parameter, pointer in self._parameters(operation) if parameter.get("in") == "query"}
        problems = []
        for name, raw in query.items():
            if name not in documented:
                problems.append(f"query parameter {name!r} is not documented")
                continue
            schema = self._node(documented[name])
            value = _query_value(raw, schema.get("type"))
            problems += self._schema_errors(documented[name], value, f"query parameter {name!r}")
        return problems

    def check_request_body(self, operation: Operation, request_json: Any) -> list[str]:
        request_body = self._node(operation.pointer).get("requestBody")
        if request_body is None:
            return ["request has a JSON body, but the operation takes none"] if request_json is not None else []
        request_body, ref_pointer = self.resolve(request_body)
        if "application/json" not in request_body.get("content", {}):
            return []  # binary uploads: the body is the asset's bytes, nothing to validate as JSON
        if request_json is None:
            return ["request body is required"] if request_body.get("required") else []
        pointer = (ref_pointer or operation.pointer + "/requestBody") + _pointer("content", "application/json", "schema")
        return self._schema_errors(pointer, request_json, "request body")

    def check_response(self, operation: Operation, status: int, response_json: Any) -> list[str]:
        responses = self._node(operation.pointer)["responses"]
        documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if documented is None:
            if status not in ANY_ENDPOINT_STATUSES and status not in OBSERVED_STATUSES.get(operation.key, {}):
                return [f"status {status} is not documented (documented: {', '.join(sorted(responses))})"]
            if not isinstance(response_json, dict) or not isinstance(response_json.get("message"), str):
                return [f"status {status}: error body must be a JSON object with a 'message' string"]
            return self._schema_errors(BASIC_ERROR_POINTER, response_json, f"{status} response")
        response, ref_pointer = self.resolve(documented)
        if "application/json" not in response.get("content", {}):
            return []  # documented without a body (302, 204, some 4xx): nothing to hold the body to
        if response_json is None:
            return [f"status {status}: expected a JSON body"]
        key = next(key for key in responses if responses[key] is documented)
        pointer = (ref_pointer or operation.pointer + _pointer("responses", key)) + _pointer("content", "application/json", "schema")
        return self._schema_errors(pointer, response_json, f"{status} response")

    def _schema_errors(self, pointer: str, instance: Any, what: str) -> list[str]:
        errors = sorted(self._validator(pointer).iter_errors(instance), key=lambda error: [str(part) for part in error.absolute_path])
        return [f"{what}: {_describe(error)}" for error in errors[:MAX_ERRORS_PER_BODY]]

    def _validator(self, pointer: str) -> Draft4Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = Draft4Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=self._registry, format_checker=FORMATS)
            self._validators[pointer] = validator
        return validator


def _query_value(raw: str, declared_type: Any) -> Any:
    """Query strings are text: read them as the parameter's declared type so its schema applies."""
    if declared_type == "integer" and re.fullmatch(r"-?[0-9]+", raw):
        return int(raw)
    if declared_type == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _describe(error: ValidationError) -> str:
    """``$.path.to[0].field: message`` with the deepest cause of anyOf/oneOf failures, kept short."""
    if error.context:
        error = best_match(error.context) or error
    location = "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{location}: {message}"


@functools.cache
def default_subset() -> OpenAPISubset:
    """The committed subset, loaded once per process."""
    return OpenAPISubset.load()


def check(
    method: str, path: str, query: Mapping[str, str] | None, request_json: Any, status: int, response_json: Any, *, uploads: bool = False
) -> list[str]:
    """Problems with one call, checked against the committed subset (see :meth:`OpenAPISubset.check`)."""
    return default_subset().check(method, path, query, request_json, status, response_json, uploads=uploads)
