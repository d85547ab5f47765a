"""The vendors' schemas as fixtures, parsed once per process; a missing one skips its tests, saying which.

Under CI a schema missing from a ``shared/contracts`` folder that exists fails instead: someone meant to
provide the schemas there, and a silent skip would hide that one is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from graphql import GraphQLSchema

from tests.contracts.fakes_check import AZURE_DEVOPS, GITHUB, JIRA_CLOUD, LINEAR
from tests.contracts.schemas import ROOT, SchemaMissing, graphql_schema, openapi
from tests.postgres import running_in_ci

T = TypeVar("T")


def _loaded(load: Callable[[str], T], name: str) -> T:
    try:
        return load(name)
    except SchemaMissing as missing:
        if running_in_ci() and (ROOT.parent / "shared" / "contracts").is_dir():
            pytest.fail(str(missing), pytrace=False)
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def github_schema() -> GraphQLSchema:
    return _loaded(graphql_schema, GITHUB)


@pytest.fixture(scope="session")
def linear_schema() -> GraphQLSchema:
    return _loaded(graphql_schema, LINEAR)


@pytest.fixture(scope="session")
def jira_cloud_spec() -> dict[str, Any]:
    return _loaded(openapi, JIRA_CLOUD)


@pytest.fixture(scope="session")
def azure_devops_specs() -> list[dict[str, Any]]:
    return [_loaded(openapi, name) for name in AZURE_DEVOPS]
