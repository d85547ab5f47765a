"""`/flow connect`: the modal that connects a board, and its first sync.

The user sees: (1) source, channel, name → (2) credentials and scope → "Checking the connection…" → (3) the
status → stage mapping, pre-filled from the source's categories → the modal closes, and the board's channel
gets a message when the first sync has loaded its items.

Slack waits 3 s for the answer to a submission and a source may be slower, so step 2 is answered at once
with the "checking" view, and a lazy listener asks the source, then replaces that view (``views.update``).
The work between steps is in ``onboarding_flow`` and ``onboarding_mapping``, the first sync in
``first_sync``, the builders in ``bot.slack.blocks.onboarding`` and ``bot.slack.blocks.onboarding_mapping``.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.connectors.mapping import stage_statuses, unmapped_statuses
from bot.connectors.registry import connector_kind
from bot.errors import FlowcoachError
from bot.slack import ids, texts
from bot.slack.blocks.onboarding import (
    MAX_OPTIONS,
    NAME_BLOCK,
    checking_view,
    choose_view,
    credentials_view,
    source_name,
)
from bot.slack.blocks.onboarding_mapping import (
    MAX_INPUT_TEXT,
    connected_blocks,
    drafts_of,
    mapping_fits,
    mapping_view,
    mapping_yaml_view,
    status_choices,
)
from bot.slack.errors import reported
from bot.slack.first_sync import announce_first_sync
from bot.slack.onboarding_editor import register_stage_editing
from bot.slack.onboarding_flow import (
    ConnectState,
    Credentials,
    FormErrors,
    SourceFacts,
    ask_source,
    board_name_taken,
    checked_state,
    chosen_source,
    problem_text,
    read_credentials,
    seal,
    secret_key,
    slack_connectors,
)
from bot.slack.onboarding_mapping import mapped_workflow, workflow_yaml
from bot.slack.reply_to import nowhere
from bot.slack.runtime import Runtime
from bot.store.boards import add_board
from bot.store.crypto import SecretKey

log = logging.getLogger("flowcoach.slack")

# Slack applies the "checking" view from our HTTP answer; an update sent before that would be overwritten.
MIN_CHECKING_SECONDS = 0.5


def open_connect_modal(
    runtime: Runtime, client: WebClient, trigger_id: str, *, channel_id: str | None
) -> None:
    """Open step 1; the trigger is valid for 3 s after the user's click or command."""
    view = choose_view(channel_id=channel_id, connectors=slack_connectors(runtime))
    client.views_open(trigger_id=trigger_id, view=view)


def register_onboarding(app: App, runtime: Runtime) -> None:
    """The three steps of the connect modal."""

    def choose(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        try:
            state = chosen_source(runtime, runtime.workspace_key(context.get("team_id")), _values(body))
        except FormErrors as problem:
            ack(response_action="errors", errors=problem.errors)
            return
        kind = connector_kind(state.connector)
        missing_key = bool(kind.secret_fields) and secret_key(runtime) is None
        view = credentials_view(kind, state.metadata(), secret_key_missing=missing_key)
        ack(response_action="update", view=view)

    def acknowledge_credentials(ack: Ack, body: dict[str, Any]) -> None:
        try:
            credentials = read_credentials(
                body["view"],
                secret_key(runtime),
                runtime.settings.import_dir,
                runtime.settings.address_policy,
            )
        except FormErrors as problem:
            ack(response_action="errors", errors=problem.errors)
            return
        ack(response_action="update", view=checking_view(credentials.kind))

    @reported(nowhere)
    def check_source(body: dict[str, Any], client: WebClient) -> None:
        started = time.monotonic()
        try:
            credentials = read_credentials(
                body["view"],
                secret_key(runtime),
                runtime.settings.import_dir,
                runtime.settings.address_policy,
            )
        except FormErrors:
            return  # the acknowledgement showed these errors; nothing was checked
        try:
            view = view_after_check(runtime, credentials, _user_timezone(client, body["user"]["id"]))
        except Exception as error:  # never leave the user looking at "Checking…"
            view = credentials_view(
                credentials.kind, credentials.state.metadata(), problem=problem_text(error)
            )
        time.sleep(max(0.0, MIN_CHECKING_SECONDS - (time.monotonic() - started)))
        try:
            # No hash: the "checking" view's hash is Slack's and never reaches us; it has no inputs to lose.
            client.views_update(view_id=body["view"]["id"], view=view)
        except SlackApiError as error:
            log.info("the connect modal was gone before the check ended (%s)", error.response.get("error"))

    def create(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        try:
            board_id = create_board(runtime, context.get("team_id"), body["view"])
        except FormErrors as problem:
            ack(response_action="errors", errors=problem.errors)
            return
        ack(response_action="clear")
        runtime.background.submit(announce_first_sync, runtime, client, board_id, body["user"]["id"])

    app.view(ids.CONNECT_CHOOSE)(choose)
    app.view(ids.CONNECT_CREDENTIALS)(ack=acknowledge_credentials, lazy=[check_source])
    app.view(ids.CONNECT_MAPPING)(create)
    register_stage_editing(app)


def _values(body: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = body["view"]["state"]["values"]
    return values


def _user_timezone(client: WebClient, user_id: str) -> str:
    """The user's Slack time zone, the new board's first one (`/flow settings` changes it)."""
    try:
        zone = str(client.users_info(user=user_id)["user"].get("tz") or "UTC")
        zoneinfo.ZoneInfo(zone)
    except (SlackApiError, KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        return "UTC"
    return zone


def view_after_check(runtime: Runtime, credentials: Credentials, timezone: str) -> View:
    """Step 3 when the source answered; else step 2 again, with its explanation or the projects to choose."""
    key = secret_key(runtime)
    again = replace(credentials.state, sealed=seal(credentials, key))  # nothing to type twice
    try:
        found = ask_source(credentials, timezone, runtime.tracker_http())
    except Exception as error:
        return credentials_view(
            credentials.kind,
            again.metadata(),
            values=credentials.entered,
            kept_secrets=bool(credentials.secrets),
            problem=problem_text(error),
        )
    if not isinstance(found, SourceFacts):
        notice = texts.CONNECT_PROJECTS_FOUND
        if not found:
            notice = texts.CONNECT_PROJECTS_NONE
        elif len(found) > MAX_OPTIONS:
            notice = texts.CONNECT_PROJECTS_TOO_MANY.format(count=len(found))
        projects = [(project.key, project.name) for project in found]
        return credentials_view(
            credentials.kind,
            again.metadata(),
            values=credentials.entered,
            kept_secrets=bool(credentials.secrets),
            notice=notice,
            projects=projects,
        )
    return mapping_step(credentials, found, key, timezone)


def mapping_step(credentials: Credentials, facts: SourceFacts, key: SecretKey | None, timezone: str) -> View:
    """Step 3: the proposed stages as a form to edit when they fit in one, else as workflow YAML."""
    stages = facts.known.proposed_stages()
    name, source = credentials.state.name, source_name(credentials.kind)
    lead = connected_blocks(facts.connected, facts.known.basis)
    # Menus list statuses in the proposal's flow order, the unmapped ones last.
    position = {
        status: (at, within)
        for at, stage in enumerate(stages)
        for within, status in enumerate(stage_statuses(stage))
    }
    statuses = sorted(facts.statuses, key=lambda status: position.get(status.id, (len(stages), 0)))
    if mapping_fits(statuses, len(stages)):
        state = checked_state(credentials, key, timezone, len(stages))
        return mapping_view(
            state.metadata(),
            lead=lead,
            board_name=name,
            choices=status_choices(statuses),
            drafts=drafts_of(stages),
        )
    state = checked_state(credentials, key, timezone, 0)
    names = {status.id: status.name for status in statuses}
    text = workflow_yaml(name, timezone, stages, names)
    if len(text) > MAX_INPUT_TEXT:
        text = workflow_yaml(name, timezone, stages, names, comments=False)
    reason = (
        texts.CONNECT_TOO_MANY_STATUSES.format(source=source, count=len(statuses))
        if len(statuses) > MAX_OPTIONS
        else texts.CONNECT_TOO_MANY_STAGES.format(count=len(stages))
    )
    return mapping_yaml_view(
        state.metadata(),
        lead=lead,
        board_name=name,
        reason=reason,
        workflow_yaml=text if len(text) <= MAX_INPUT_TEXT else None,
        unmapped=[status.name for status in unmapped_statuses(statuses, stages)],
        connector=credentials.kind.name,
    )


def create_board(runtime: Runtime, team_id: str | None, view: dict[str, Any]) -> int:
    """Store the board from the submitted step 3, its secrets still sealed; the board's id."""
    state = ConnectState.from_metadata(view.get("private_metadata", ""))
    name, workflow = mapped_workflow(view["state"]["values"], view.get("blocks") or [], state)
    workspace = runtime.workspace_key(team_id)
    if board_name_taken(runtime, workspace, name):
        raise FormErrors({NAME_BLOCK: texts.CONNECT_NAME_TAKEN.format(name=name)})
    try:
        with runtime.sessions.begin() as session:
            board = add_board(
                session,
                name,
                connector=state.connector,
                settings=state.plain,
                encrypted_secrets=state.sealed,
                workflow_yaml=workflow,
                channel_id=state.channel,
                team_id=workspace,
                connected_in_slack=True,
            )
            return board.id
    except FlowcoachError:  # another user took the name in the meantime
        raise FormErrors({NAME_BLOCK: texts.CONNECT_NAME_TAKEN.format(name=name)}) from None
