"""The connectors' names, for the command line's choices without importing the connectors (HTTP clients,
pydantic models); ``registry.CONNECTORS`` has one entry per name (tests/cli/test_cli_imports.py checks it)."""

from __future__ import annotations

CONNECTOR_NAMES = ("azure-devops", "file", "github", "gitlab", "jira", "jira-dc", "linear", "trello")
