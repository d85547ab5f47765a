"""The REST side: the fakes take only query parameters the vendors' specs define, and the request checker
(which every connector test runs over the requests it made, see fakes_check) catches a parameter or body
field the spec does not have."""

from __future__ import annotations

from tests.contracts.openapi_check import query_parameters, request_problems
from tests.fakes.azure_devops import QUERY_PARAMETERS

REVISIONS = "/{organization}/{project}/_apis/wit/reporting/workitemrevisions"


def test_each_query_parameter_the_azure_devops_fake_takes_is_in_the_spec(azure_devops_specs):
    """The fake refuses what it does not list; what it lists must be what Azure DevOps defines."""
    for template, taken in QUERY_PARAMETERS.items():
        if template.endswith("/connectionData"):
            continue  # in no published spec
        spec = next(spec for spec in azure_devops_specs if "get" in spec["paths"].get(template, {}))
        assert taken <= query_parameters(spec, "GET", template), template


def test_a_parameter_the_spec_does_not_define_is_caught(azure_devops_specs):
    spec = azure_devops_specs[0]
    path = "/acme/Payments/_apis/wit/reporting/workitemrevisions"
    assert request_problems(spec, "GET", path, {"api-version", "$maxPageSize"}) == []
    assert request_problems(spec, "GET", path, {"api-version", "maxPageSize"}) == [
        f"GET {REVISIONS}: query parameter 'maxPageSize' is not in the spec"
    ]


def test_jira_cloud_requests_are_checked_for_path_parameters_and_body_fields(jira_cloud_spec):
    search = {"jql": "project = PAY", "fields": ["status"], "maxResults": 100, "nextPageToken": None}
    assert request_problems(jira_cloud_spec, "POST", "/rest/api/3/search/jql", set(), search) == []
    assert request_problems(
        jira_cloud_spec, "POST", "/rest/api/3/search/jql", set(), search | {"startAt": 0}
    ) == ["POST /rest/api/3/search/jql: body.startAt is not a field of the spec's request body"]
    assert request_problems(
        jira_cloud_spec, "GET", "/rest/api/3/issue/PAY-1/changelog", {"startAt", "limit"}
    ) == ["GET /rest/api/3/issue/{issueIdOrKey}/changelog: query parameter 'limit' is not in the spec"]
    assert request_problems(jira_cloud_spec, "GET", "/rest/api/3/search", {"jql"}) == [
        "GET /rest/api/3/search: deprecated in the spec (the vendor is retiring it)"
    ]
