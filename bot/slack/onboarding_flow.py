"""What `/flow connect` does between its modal steps: read and check the entries, ask the source, carry the
state to the next step. The listeners in ``bot.slack.onboarding`` call these.

State travels between steps in the view's ``private_metadata`` (compact JSON that Slack hands back with every
submission). Secrets never travel in clear: they are encrypted with ``FLOWCOACH_SECRET_KEY`` — the same
Fernet form the store keeps, so the ciphertext becomes the board's stored credentials as it is — which also
means any process of a multi-process web tier can take the next step, with nothing kept in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from analytics.workflow import Stage, StageKind, Workflow
from bot.connectors.base import SourceStatus
from bot.connectors.guard import AddressPolicy
from bot.connectors.http import HttpOptions
from bot.connectors.jira_projects import JiraProject
from bot.connectors.registry import CONNECTORS, ConnectorKind, connector_kind
from bot.errors import FlowcoachError
from bot.services.proposal import StatusFacts, status_facts
from bot.slack import texts
from bot.slack.blocks.inputs import input_value
from bot.slack.blocks.onboarding import (
    CHANNEL_BLOCK,
    CONNECTOR_BLOCK,
    NAME_BLOCK,
    can_list_projects,
    field_block,
)
from bot.slack.runtime import Runtime
from bot.store.boards import list_boards
from bot.store.crypto import SecretKey, SecretKeyError, decrypt_secrets, encrypt_secrets

log = logging.getLogger("flowcoach.slack")

# A Jira board needs a project or JQL to be built; listing the account's projects uses neither.
LISTING_PLACEHOLDER = "_"


class FormErrors(Exception):
    """Problems to show next to the inputs of a submitted view, keyed by block id."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class ConnectState:
    """What the steps so far decided; ``sealed``: the secrets encrypted; ``plain``: the checked settings."""

    connector: str
    channel: str | None
    name: str
    timezone: str = "UTC"
    plain: dict[str, Any] = field(default_factory=dict)
    sealed: str | None = None
    # The mapping form's stage keys in display order (none: the YAML form), and the key a new stage takes.
    stages: tuple[int, ...] = ()
    next_key: int = 0

    def metadata(self) -> str:
        data = {
            "connector": self.connector,
            "channel": self.channel,
            "name": self.name,
            "tz": self.timezone,
            "plain": self.plain,
            "sealed": self.sealed,
            "stages": list(self.stages),
            "next": self.next_key,
        }
        return json.dumps({k: v for k, v in data.items() if v}, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, text: str) -> ConnectState:
        data = json.loads(text or "{}")
        return cls(
            connector=str(data["connector"]),
            channel=data.get("channel"),
            name=str(data.get("name", "")),
            timezone=str(data.get("tz") or "UTC"),
            plain=dict(data.get("plain") or {}),
            sealed=data.get("sealed"),
            # "groups": a form opened before stages could be edited, its keys 0 … groups - 1.
            stages=tuple(int(key) for key in data.get("stages") or range(int(data.get("groups") or 0))),
            next_key=int(data.get("next") or data.get("groups") or 0),
        )


def secret_key(runtime: Runtime) -> SecretKey | None:
    return runtime.secret_key()


def board_name_taken(runtime: Runtime, workspace: str, name: str) -> bool:
    with runtime.sessions() as session:
        return any(board.name.casefold() == name.casefold() for board in list_boards(session, workspace))


def slack_connectors(runtime: Runtime) -> list[str]:
    """The sources Slack may connect: every tracker; files only from the operator's import folder.

    A file path typed in Slack is read by the server, so without a folder to confine it to, any member of
    the workspace could read any file the server can.
    """
    return [name for name in CONNECTORS if name != "file" or runtime.settings.import_dir is not None]


def confined_path(text: str, import_dir: Path | None) -> str:
    """The absolute path of ``text`` (relative to the import folder, or absolute inside it)."""
    if import_dir is None:
        raise FormErrors({field_block("path"): texts.CONNECT_CONNECTOR_UNAVAILABLE})
    root = import_dir.resolve()
    path = (root / text).resolve()
    if not path.is_relative_to(root):
        raise FormErrors({field_block("path"): texts.CONNECT_FILE_OUTSIDE.format(folder=root)})
    return str(path)


def chosen_source(runtime: Runtime, workspace: str, values: Mapping[str, Any]) -> ConnectState:
    """Step 1's answers: the connector, the channel and a board name not yet used in the workspace."""
    name = input_value(values, NAME_BLOCK) or ""
    if not name:
        raise FormErrors({NAME_BLOCK: texts.CONNECT_NAME_BLANK})
    if board_name_taken(runtime, workspace, name):
        raise FormErrors({NAME_BLOCK: texts.CONNECT_NAME_TAKEN.format(name=name)})
    chosen = str(input_value(values, CONNECTOR_BLOCK))
    if chosen not in slack_connectors(runtime):  # the menu never offers it; a forged payload might
        raise FormErrors({CONNECTOR_BLOCK: texts.CONNECT_CONNECTOR_UNAVAILABLE})
    connector = connector_kind(chosen)
    return ConnectState(connector.name, input_value(values, CHANNEL_BLOCK), name)


@dataclass(frozen=True)
class Credentials:
    """Step 2's answers, checked: the settings to build the connector with, or a project still to choose."""

    state: ConnectState
    kind: ConnectorKind
    entered: dict[str, str]  # the non-secret values as typed, to show again
    settings: BaseModel
    secrets: dict[str, str]
    list_projects: bool  # neither project nor JQL given: offer the account's projects first


def read_credentials(
    view: Mapping[str, Any],
    key: SecretKey | None,
    import_dir: Path | None,
    policy: AddressPolicy | None = None,
) -> Credentials:
    """The submitted step 2, validated field by field; secrets left empty come from the sealed copy.

    With ``policy``, an address typed in a field that the policy would refuse is an error on that field
    (connections are judged again when they open: this is for the person, not the defence).
    """
    state = ConnectState.from_metadata(view.get("private_metadata", ""))
    kind = connector_kind(state.connector)
    values = view.get("state", {}).get("values", {})
    entered = {name: input_value(values, field_block(name)) for name in kind.settings_model.model_fields}
    if kind.secret_fields and not key:
        raise FormErrors({field_block(kind.secret_fields[0]): texts.CONNECT_NO_KEY})
    kept: dict[str, str] = {}
    if state.sealed:
        try:
            kept = decrypt_secrets(state.sealed, key)
        except SecretKeyError:
            unreadable = {field_block(name): texts.CONNECT_KEPT_UNREADABLE for name in kind.secret_fields}
            raise FormErrors(unreadable) from None
    secrets = {name: entered.get(name) or kept.get(name) for name in kind.secret_fields}
    listing = can_list_projects(kind) and not entered.get("project") and not entered.get("jql")
    candidate = {name: value for name, value in (entered | secrets).items() if value is not None}
    if listing:
        candidate["project"] = LISTING_PLACEHOLDER
    if kind.name == "file" and candidate.get("path"):
        candidate["path"] = confined_path(candidate["path"], import_dir)
    try:
        settings = kind.settings_model.model_validate(candidate)
    except ValidationError as error:
        raise FormErrors(_field_errors(kind, error)) from None
    if policy is not None:
        refused = {
            field_block(name): problem
            for name, value in entered.items()
            if value and name not in kind.secret_fields and (problem := policy.url_problem(str(value)))
        }
        if refused:
            raise FormErrors(refused)
    plain = {name: str(value) for name, value in entered.items() if value and name not in kind.secret_fields}
    return Credentials(state, kind, plain, settings, {k: v for k, v in secrets.items() if v}, listing)


def _field_errors(kind: ConnectorKind, error: ValidationError) -> dict[str, str]:
    fields = list(kind.settings_model.model_fields)
    fallback = "project" if "project" in fields else fields[0]  # model-level rules are about the scope
    errors: dict[str, str] = {}
    for problem in error.errors():
        where = str(problem["loc"][0]) if problem["loc"] and problem["loc"][0] in fields else fallback
        errors.setdefault(field_block(where), problem["msg"].removeprefix("Value error, "))
    return errors


def seal(credentials: Credentials, key: SecretKey | None) -> str | None:
    return encrypt_secrets(credentials.secrets, key) if credentials.secrets else None


@dataclass(frozen=True)
class SourceFacts:
    """What the source said: who we are there, and its statuses (with columns and history if it has them)."""

    connected: str
    known: StatusFacts

    @property
    def statuses(self) -> list[SourceStatus]:
        return self.known.statuses


def provisional_workflow(name: str, timezone: str) -> Workflow:
    """A stand-in for the workflow still to be mapped: a file board reads naive timestamps in its zone."""
    return Workflow(name=name or "board", stages=(Stage("Done", (), StageKind.DONE),), timezone=timezone)


def ask_source(
    credentials: Credentials, timezone: str, http: HttpOptions | None = None
) -> SourceFacts | list[JiraProject]:
    """Check the credentials and read statuses (columns, history), or list the projects to choose from.

    Raises the connector's errors, whose messages say what to do (e.g. the token was refused).
    """
    workflow = provisional_workflow(credentials.state.name, timezone)
    connector = credentials.kind.connect(credentials.settings, workflow, http)
    try:
        if credentials.list_projects:
            projects: list[JiraProject] = connector.projects()  # type: ignore[attr-defined]
            return projects
        connected = connector.check()
        known = status_facts(connector)
    finally:
        connector.close()
    return SourceFacts(connected, known)


def checked_state(
    credentials: Credentials, key: SecretKey | None, timezone: str, stages: int
) -> ConnectState:
    """The state step 3 carries: the settings as the store keeps them, the secrets sealed."""
    plain, _ = credentials.kind.split(credentials.settings)
    return replace(
        credentials.state,
        timezone=timezone,
        plain={name: value for name, value in plain.items() if value is not None},
        sealed=seal(credentials, key),
        stages=tuple(range(stages)),
        next_key=stages,
    )


def problem_text(error: BaseException) -> str:
    """What to show for a failed step: the source's own explanation, or a pointer to the log."""
    if isinstance(error, FlowcoachError):
        return str(error)
    log.error("connecting a board failed", exc_info=error)
    return texts.CONNECT_UNEXPECTED
