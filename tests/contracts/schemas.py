"""Where the vendors' published schemas are found, and each loaded once per process.

The files are the vendors' own (see README.md in this folder for sources, versions and licences) and are not
kept in this repository: they are looked for, in order, in ``$FLOWCOACH_CONTRACT_SCHEMAS``, in
``tests/contracts/schemas`` and in ``shared/contracts`` beside the checkout (where CI has ``shared/``). A file
that is present must be the version :data:`MANIFEST` names, by its SHA-256: the contract is against a known
schema, and moving to a newer one is a reviewed change of this manifest. A file that is absent makes its
contract tests skip, saying which file and where to put it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema

ROOT = Path(__file__).resolve().parents[2]

# relative path → SHA-256 of the version the contract tests were written against (README.md says whence).
MANIFEST = {
    "github/schema.graphql": "3fe99df917d6c36ab8851bc6b04dc779e9b20dae9cce4b8e1ba023dfdb32862a",
    "linear/schema.graphql": "b00d24d8d252a306f5e2088267b1a17dd6e4442f8b793928410b8d4673a7081d",
    "jira-cloud/swagger-v3.v3.json": "1f0911c58a45c712ba748f6b2b71bad688a0d28283296e6d24c7b2cc0d304624",
    "azure-devops/workItemTracking.json": "08e2a20ff9337f06a714066be91e12fccf68ee0ee6e2ae917ee2cae08cd18025",
    "azure-devops/work.json": "5306a1670b4a9f8bab215f408fffb3074af0e945a585470e5cd1e9e128d6654c",
    "azure-devops/core.json": "88ddabd07847e1659aef94f887afeb7ea4428db1b8ea4114155bfb962e8caf76",
}


class SchemaMissing(LookupError):
    """A schema file is in none of the places looked in; the message says where to put it."""


def folders() -> list[Path]:
    """Where schema files are looked for, first match wins."""
    found = (
        [Path(os.environ["FLOWCOACH_CONTRACT_SCHEMAS"])]
        if os.environ.get("FLOWCOACH_CONTRACT_SCHEMAS")
        else []
    )
    return [*found, ROOT / "tests" / "contracts" / "schemas", ROOT.parent / "shared" / "contracts"]


@functools.cache
def schema_file(name: str) -> Path:
    """The file ``name`` of :data:`MANIFEST`, checked against its SHA-256."""
    for folder in folders():
        path = folder / name
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != MANIFEST[name]:
                raise AssertionError(
                    f"{path} is not the version the contract tests know (SHA-256 {digest}, expected "
                    f"{MANIFEST[name]}): moving to another version means updating MANIFEST and README.md in "
                    "tests/contracts after reviewing what changed"
                )
            return path
    places = ", ".join(str(folder) for folder in folders())
    raise SchemaMissing(f"{name} is in none of {places} (tests/contracts/README.md says where to get it)")


@functools.cache
def graphql_schema(name: str) -> GraphQLSchema:
    """A GraphQL SDL file as a schema, parsed once per process (GitHub's takes about a second).

    ``assume_valid``: GitHub's schema breaks a rule newer GraphQL validators enforce (a deprecated field
    implementing an interface field that is not), which its own server accepts; the documents and answers
    are what is checked here, not GitHub's schema.
    """
    return build_schema(
        schema_file(name).read_text(encoding="utf-8"), assume_valid=True, assume_valid_sdl=True
    )


@functools.cache
def openapi(name: str) -> dict[str, Any]:
    """An OpenAPI (or Swagger 2) JSON document; Microsoft's start with a byte-order mark."""
    document: dict[str, Any] = json.loads(schema_file(name).read_text(encoding="utf-8-sig"))
    return document
