"""The explicit list of connectors: name → settings model and how to build one for a board."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from analytics.workflow import Workflow
from bot.connectors.azure_devops import AzureDevOpsConnector, AzureDevOpsSettings
from bot.connectors.base import Connector
from bot.connectors.file import FileConnector, FileSettings
from bot.connectors.github import GitHubConnector, GitHubSettings
from bot.connectors.gitlab import GitLabConnector, GitLabSettings
from bot.connectors.http import HttpOptions
from bot.connectors.jira_cloud import JiraCloudConnector, JiraCloudSettings
from bot.connectors.jira_dc import JiraDataCenterConnector, JiraDataCenterSettings
from bot.connectors.linear import LinearConnector, LinearSettings
from bot.connectors.trello import TrelloConnector, TrelloSettings
from bot.errors import FlowcoachError


@dataclass(frozen=True)
class ConnectorKind:
    """A connector as the CLI, the store and Slack onboarding see it."""

    name: str
    description: str
    settings_model: type[BaseModel]
    build: Callable[..., Connector]  # (settings, workflow, *, http=HttpOptions) → the connector
    proposes_workflow: bool = False  # the source has status categories to propose a first workflow from
    over_http: bool = True  # reads a web API (every source but files): takes ``http=`` options

    def connect(
        self, settings: BaseModel, workflow: Workflow | None, http: HttpOptions | None = None
    ) -> Connector:
        """The connector for ``settings``, with ``http`` options when given (guarded, from Slack)."""
        if http is None or not self.over_http:
            return self.build(settings, workflow)
        return self.build(settings, workflow, http=http)

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(
            name
            for name, field in self.settings_model.model_fields.items()
            if field.annotation in _SECRET_TYPES
        )

    def settings(self, values: Mapping[str, Any]) -> BaseModel:
        """Validate KEY=VALUE settings; errors name the key and list the allowed ones."""
        unknown = sorted(set(values) - set(self.settings_model.model_fields))
        if unknown:
            allowed = ", ".join(self.settings_model.model_fields)
            raise FlowcoachError(
                f"{self.name} connector: unknown setting(s) {', '.join(unknown)} (allowed: {allowed})"
            )
        try:
            return self.settings_model.model_validate(dict(values))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
            )
            raise FlowcoachError(f"{self.name} connector: {problems}") from None

    def split(self, settings: BaseModel) -> tuple[dict[str, Any], dict[str, str]]:
        """Plain settings to store as they are, and secrets to store encrypted."""
        plain = settings.model_dump(mode="json", exclude=set(self.secret_fields))
        secrets = {}
        for name in self.secret_fields:
            value = getattr(settings, name)
            if value is not None:
                secrets[name] = value.get_secret_value()
        return plain, secrets


_SECRET_TYPES = (SecretStr, SecretStr | None)

CONNECTORS: dict[str, ConnectorKind] = {
    "file": ConnectorKind(
        "file", "an event-log file (CSV, JSON Lines, wide CSV)", FileSettings, FileConnector, over_http=False
    ),
    "jira": ConnectorKind(
        "jira", "Jira Cloud", JiraCloudSettings, JiraCloudConnector, proposes_workflow=True
    ),
    "jira-dc": ConnectorKind(
        "jira-dc",
        "Jira Data Center / Server",
        JiraDataCenterSettings,
        JiraDataCenterConnector,
        proposes_workflow=True,
    ),
    "github": ConnectorKind(
        "github", "GitHub Projects (or issue labels)", GitHubSettings, GitHubConnector, proposes_workflow=True
    ),
    "linear": ConnectorKind("linear", "Linear", LinearSettings, LinearConnector, proposes_workflow=True),
    "trello": ConnectorKind("trello", "Trello", TrelloSettings, TrelloConnector, proposes_workflow=True),
    "azure-devops": ConnectorKind(
        "azure-devops",
        "Azure DevOps Boards",
        AzureDevOpsSettings,
        AzureDevOpsConnector,
        proposes_workflow=True,
    ),
    "gitlab": ConnectorKind(
        "gitlab",
        "GitLab issues (scoped workflow labels)",
        GitLabSettings,
        GitLabConnector,
        proposes_workflow=True,
    ),
}


def connector_kind(name: str) -> ConnectorKind:
    try:
        return CONNECTORS[name]
    except KeyError:
        raise FlowcoachError(
            f"unknown connector '{name}' (available: {', '.join(sorted(CONNECTORS))})"
        ) from None


def build_connector(
    name: str, values: Mapping[str, Any], workflow: Workflow, http: HttpOptions | None = None
) -> Connector:
    kind = connector_kind(name)
    return kind.connect(kind.settings(values), workflow, http)
