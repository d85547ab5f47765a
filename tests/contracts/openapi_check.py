"""Checks a REST request against an OpenAPI 3 or Swagger 2 document: its path, query parameters and body.

A request is matched to the spec path whose template fits it with the most literal text (so
``/search/jql`` wins over ``/search/{id}``). Its query parameters must all be ones the operation declares,
with the required ones present; a JSON body's fields must be properties of the operation's body schema, at
every level where the schema lists properties and allows no others. An operation the spec marks deprecated
is a problem in itself: the vendor is retiring it (as Jira did ``/search``, which now answers 410).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

Spec = Mapping[str, Any]


def request_problems(
    spec: Spec, method: str, path: str, query: Collection[str], body: Any = None
) -> list[str]:
    """What the spec finds wrong with one request (empty when it keeps to the spec)."""
    found = _operation(spec, method.lower(), path)
    if found is None:
        return [f"{method} {path}: no such operation in the spec"]
    template, operation, shared = found
    where = f"{method} {template}"
    if operation.get("deprecated"):
        return [f"{where}: deprecated in the spec (the vendor is retiring it)"]
    parameters = [_resolve(spec, p) for p in [*shared, *operation.get("parameters", [])]]
    declared = {p["name"] for p in parameters if p.get("in") == "query"}
    problems = [
        f"{where}: query parameter {name!r} is not in the spec" for name in sorted(set(query) - declared)
    ]
    problems += [
        f"{where}: required query parameter {p['name']!r} is missing"
        for p in parameters
        if p.get("in") == "query" and p.get("required") and p["name"] not in query
    ]
    if body is not None:
        schema = _body_schema(spec, operation, parameters)
        if schema is None:
            problems.append(f"{where}: the spec takes no JSON body")
        else:
            problems += [f"{where}: {problem}" for problem in _body(spec, schema, body, "body")]
    return problems


def covers(spec: Spec, method: str, path: str) -> bool:
    """Whether the spec has an operation for this request."""
    return _operation(spec, method.lower(), path) is not None


def query_parameters(spec: Spec, method: str, template: str) -> set[str]:
    """The query parameters a spec path's operation declares."""
    operations = spec["paths"][template]
    parameters = [*operations.get("parameters", []), *operations[method.lower()].get("parameters", [])]
    return {p["name"] for p in map(functools.partial(_resolve, spec), parameters) if p.get("in") == "query"}


def _operation(spec: Spec, method: str, path: str) -> tuple[str, Mapping[str, Any], list[Any]] | None:
    best: tuple[int, str] | None = None
    for template, operations in spec["paths"].items():
        if method in operations and _pattern(template).fullmatch(path):
            literal = len(re.sub(r"\{[^}]*\}", "", template))
            if best is None or literal > best[0]:
                best = (literal, template)
    if best is None:
        return None
    operations = spec["paths"][best[1]]
    return best[1], operations[method], list(operations.get("parameters", []))


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]*\})", template.rstrip("/"))
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "/?")


def _resolve(spec: Spec, node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _body_schema(spec: Spec, operation: Mapping[str, Any], parameters: list[Any]) -> Any:
    content = (_resolve(spec, operation.get("requestBody")) or {}).get("content") or {}
    if "application/json" in content:
        return content["application/json"].get("schema")
    return next((p.get("schema") for p in parameters if p.get("in") == "body"), None)


def _body(spec: Spec, schema: Any, value: Any, path: str) -> Iterator[str]:
    schema = _resolve(spec, schema) or {}
    properties = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        properties |= _resolve(spec, part).get("properties") or {}
    if isinstance(value, Mapping) and properties:
        for key, item in value.items():
            if key in properties:
                yield from _body(spec, properties[key], item, f"{path}.{key}")
            elif not schema.get("additionalProperties"):
                yield f"{path}.{key} is not a field of the spec's request body"
    elif isinstance(value, list) and schema.get("items"):
        for n, item in enumerate(value):
            yield from _body(spec, schema["items"], item, f"{path}[{n}]")
