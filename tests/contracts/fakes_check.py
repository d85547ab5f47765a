"""What a fake was asked and answered during a test, checked against the vendor's published schema.

Every connector test doubles as a contract test this way (tests/connectors/conftest.py calls
:func:`contract_problems` after each test for every fake it started): the GraphQL fakes' queries, variables
and answers against GitHub's and Linear's schemas, the REST requests to the Jira Cloud and Azure DevOps fakes
against their OpenAPI documents. A schema that is not there (see README.md) checks nothing here; the tests in
this folder say so by skipping.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tests.contracts import graphql_check, openapi_check
from tests.contracts.schemas import SchemaMissing, graphql_schema, openapi
from tests.fakes.azure_devops import FakeAzureDevOps
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira
from tests.fakes.linear import FakeLinear

GITHUB = "github/schema.graphql"
LINEAR = "linear/schema.graphql"
JIRA_CLOUD = "jira-cloud/swagger-v3.v3.json"
AZURE_DEVOPS = ("azure-devops/workItemTracking.json", "azure-devops/work.json", "azure-devops/core.json")
# Requests outside the documents at hand: Jira Software's agile API has its own spec, and Azure DevOps'
# connectionData (who the token is) is in none of the published ones.
UNCOVERED = ("/rest/agile/", "/_apis/connectionData")


def contract_problems(fake: object) -> list[str]:
    """Where what the fake was asked or answered departs from the vendor's schema (empty when none is)."""
    try:
        if isinstance(fake, FakeGitHub):
            return exchange_problems(GITHUB, fake.exchanges)
        if isinstance(fake, FakeLinear):
            return exchange_problems(LINEAR, fake.exchanges)
        if isinstance(fake, FakeJira) and fake.flavour == "cloud":
            spec = openapi(JIRA_CLOUD)
            requests = [(r.method, r.path, set(r.query), r.body) for r in fake.requests]
            return rest_problems(
                lambda method, path: spec if path.startswith("/rest/api/3/") else None, requests
            )
        if isinstance(fake, FakeAzureDevOps):
            specs = [openapi(name) for name in AZURE_DEVOPS]
            requests = [("GET", r.path, set(r.query), None) for r in fake.requests]
            return rest_problems(lambda method, path: _azure_spec(specs, method, path), requests)
    except SchemaMissing:
        return []
    return []


def exchange_problems(
    schema_name: str, exchanges: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any]]]
) -> list[str]:
    """Each GraphQL exchange's document, variables and answer against the schema."""
    schema = graphql_schema(schema_name)
    problems: list[str] = []
    for query, variables, answer in exchanges:
        operation = query.split("(", 1)[0].split("{", 1)[0].split()[-1]
        found = list(_document_problems(schema_name, query))
        found += graphql_check.variable_problems(schema, query, variables)
        found += [] if found else graphql_check.answer_problems(schema, query, answer)
        problems += [f"{schema_name} {operation}: {problem}" for problem in found]
    return sorted(set(problems))


def rest_problems(
    spec_for: Callable[[str, str], Mapping[str, Any] | None],
    requests: Iterable[tuple[str, str, set[str], Any]],
) -> list[str]:
    """Each REST request against the spec that covers its path (requests no spec covers are left out)."""
    problems: list[str] = []
    for method, path, query, body in requests:
        spec = spec_for(method, path)
        if spec is not None and not any(part in path for part in UNCOVERED):
            problems += openapi_check.request_problems(spec, method, path, query, body)
    return sorted(set(problems))


@functools.cache
def _document_problems(schema_name: str, query: str) -> tuple[str, ...]:
    """A document is validated once per process, however many exchanges send it."""
    return tuple(graphql_check.document_problems(graphql_schema(schema_name), query))


def _azure_spec(specs: list[Mapping[str, Any]], method: str, path: str) -> Mapping[str, Any] | None:
    """The Azure DevOps spec (work item tracking, work, core) that has the path; the first if none has."""
    return next((spec for spec in specs if openapi_check.covers(spec, method, path)), specs[0])
