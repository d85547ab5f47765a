"""Every GraphQL document a connector can send is valid against the vendor's published schema, and the
answer checker that keeps the fakes honest (see fakes_check) catches each kind of drift."""

from __future__ import annotations

import copy

import pytest

from bot.connectors.github import graphql_documents
from bot.connectors.linear_graphql import DOCUMENTS as LINEAR_DOCUMENTS
from tests.contracts.graphql_check import answer_problems, document_problems, variable_problems

GITHUB_DOCUMENTS = graphql_documents()


@pytest.mark.parametrize("name", sorted(GITHUB_DOCUMENTS))
def test_every_github_document_is_valid_against_githubs_schema(github_schema, name):
    assert document_problems(github_schema, GITHUB_DOCUMENTS[name]) == []


@pytest.mark.parametrize("name", sorted(LINEAR_DOCUMENTS))
def test_every_linear_document_is_valid_against_linears_schema(linear_schema, name):
    assert document_problems(linear_schema, LINEAR_DOCUMENTS[name]) == []


def test_a_field_or_argument_the_schema_lacks_is_caught(github_schema, linear_schema):
    """What a connector would send the day someone uses a field the vendor does not have."""
    items = GITHUB_DOCUMENTS["ProjectItems/organization"]
    assert document_problems(github_schema, items.replace("databaseId", "databaseIdentifier")) == [
        "Cannot query field 'databaseIdentifier' on type 'ProjectV2Item'. Did you mean 'databaseId'?"
    ]
    history = LINEAR_DOCUMENTS["IssueHistory"].replace("includeArchived", "withArchived")
    assert document_problems(linear_schema, history) == [
        "Unknown argument 'withArchived' on field 'Issue.history'."
    ]


def test_the_issue_filters_the_linear_connector_writes_fit_the_schema(linear_schema):
    """Linear's filters travel as variables, out of sight of document validation: checked here."""
    query = LINEAR_DOCUMENTS["Issues"]
    team = {"team": {"key": {"eq": "PAY"}}}
    for scope in (
        team,
        team
        | {"project": {"name": {"eqIgnoreCase": "Checkout"}}, "updatedAt": {"gte": "2026-01-05T09:00:00Z"}},
        team | {"project": {"id": {"eq": "x"}}, "id": {"in": ["a", "b"]}},
    ):
        variables = {"filter": scope, "first": 50, "after": None, "historyPage": 25}
        assert variable_problems(linear_schema, query, variables) == []
    wrong = {"filter": {"team": {"key": {"equals": "PAY"}}}, "first": 50, "historyPage": 25}
    assert variable_problems(linear_schema, query, wrong) != []


ITEMS_ANSWER = {
    "data": {
        "organization": {
            "projectV2": {
                "items": {
                    "totalCount": 1,
                    "pageInfo": {"hasNextPage": False, "endCursor": "Y3Vyc29yOnYyOjE="},
                    "nodes": [
                        {
                            "id": "PVTI_1",
                            "databaseId": 100001,
                            "type": "ISSUE",
                            "createdAt": "2026-01-05T09:00:00Z",
                            "updatedAt": "2026-01-05T10:00:00Z",
                            "fieldValueByName": {
                                "name": "Todo",
                                "optionId": "f75ad846",
                                "updatedAt": "2026-01-05T10:00:00Z",
                            },
                            "content": {
                                "__typename": "Issue",
                                "id": "I_1",
                                "number": 1,
                                "title": "One",
                                "url": "https://github.com/acme/web/issues/1",
                                "createdAt": "2026-01-05T09:00:00Z",
                                "repository": {"nameWithOwner": "acme/web"},
                                "assignees": {"nodes": []},
                            },
                        }
                    ],
                }
            }
        }
    }
}


def test_an_answer_shaped_like_githubs_passes(github_schema):
    assert answer_problems(github_schema, GITHUB_DOCUMENTS["ProjectItems/organization"], ITEMS_ANSWER) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda node: node.update(isArchived=False), "nodes[0].isArchived is in the answer but not selected"),
        (lambda node: node.pop("updatedAt"), "nodes[0].updatedAt is selected but missing from the answer"),
        (lambda node: node.update(type="ARCHIVED"), "nodes[0].type is 'ARCHIVED', not a value of enum"),
        (
            lambda node: node.update(createdAt=None),
            "nodes[0].createdAt is null, but the schema says DateTime!",
        ),
        (lambda node: node.update(databaseId="100001"), "nodes[0].databaseId is '100001', not an Int"),
        (
            lambda node: node["content"].update(__typename="Discussion"),
            "not a possible type of ProjectV2ItemContent",
        ),
        (lambda node: node["content"].pop("__typename"), "content.__typename is selected but missing"),
        (lambda node: node["content"].update(number="1"), "content.number is '1', not an Int"),
    ],
)
def test_the_answer_checker_catches_each_kind_of_drift(github_schema, change, problem):
    answer = copy.deepcopy(ITEMS_ANSWER)
    change(answer["data"]["organization"]["projectV2"]["items"]["nodes"][0])
    found = answer_problems(github_schema, GITHUB_DOCUMENTS["ProjectItems/organization"], answer)
    assert len(found) == 1 and problem in found[0]
