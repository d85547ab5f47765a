"""The mapping step of `/flow connect` edited in place: move, add and remove stages, or switch to YAML.

A click in a modal is a ``block_actions`` request carrying the view with everything typed so far
(``view.state.values``). The listener rebuilds the form from those values with the stage list changed and
replaces the view (``views.update``), so nothing typed is lost. The view's ``hash`` goes with the update:
when two clicks race, Slack refuses the one built from the older view instead of undoing the other.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.slack import ids, texts
from bot.slack.blocks.inputs import input_value
from bot.slack.blocks.onboarding import NAME_BLOCK
from bot.slack.blocks.onboarding_mapping import (
    MAX_INPUT_TEXT,
    MAX_STAGE_GROUPS,
    STAGE_OPS,
    lead_blocks,
    mapping_view,
    mapping_yaml_view,
    read_stage_drafts,
    shown_choices,
)
from bot.slack.onboarding_flow import ConnectState
from bot.slack.onboarding_mapping import drafts_yaml, edited_drafts

log = logging.getLogger("flowcoach.slack")


def edited_view(view: dict[str, Any], edit: str) -> View | None:
    """The mapping form after ``edit`` (``"<op>:<stage key>"``, or ``"add"`` to append); None if it is not
    one (a forged value, or a form that has become YAML)."""
    state = ConnectState.from_metadata(view.get("private_metadata", ""))
    op, _, key_text = edit.partition(":")
    if not state.stages or op not in STAGE_OPS or (key_text and not key_text.isdigit()):
        return None
    values = view["state"]["values"]
    drafts = read_stage_drafts(values, state.stages)
    if op == "add" and len(drafts) >= MAX_STAGE_GROUPS:
        return None
    edited = edited_drafts(drafts, op, int(key_text) if key_text else None, state.next_key)
    state = replace(
        state, stages=tuple(draft.key for draft in edited), next_key=state.next_key + (op == "add")
    )
    return mapping_view(
        state.metadata(),
        lead=lead_blocks(view["blocks"]),
        board_name=input_value(values, NAME_BLOCK) or "",
        choices=shown_choices(view["blocks"]),
        drafts=edited,
    )


def yaml_view(view: dict[str, Any]) -> View | None:
    """The mapping form as it stands, as workflow YAML to go on editing; None for a form already YAML."""
    state = ConnectState.from_metadata(view.get("private_metadata", ""))
    if not state.stages:
        return None
    values = view["state"]["values"]
    drafts = read_stage_drafts(values, state.stages)
    choices = shown_choices(view["blocks"])
    names = {choice.id: choice.label for choice in choices}
    board_name = input_value(values, NAME_BLOCK) or state.name
    text = drafts_yaml(board_name, state.timezone, drafts, names)
    if len(text) > MAX_INPUT_TEXT:
        text = drafts_yaml(board_name, state.timezone, drafts, {})
    mapped = {status for draft in drafts for status in draft.statuses}
    return mapping_yaml_view(
        replace(state, stages=()).metadata(),
        lead=lead_blocks(view["blocks"]),
        board_name=board_name,
        reason=texts.CONNECT_YAML_ASKED,
        workflow_yaml=text if len(text) <= MAX_INPUT_TEXT else None,
        unmapped=[choice.label for choice in choices if choice.id not in mapped],
        connector=state.connector,
    )


def register_stage_editing(app: App) -> None:
    """The ⋯ menu of each stage, "Add a stage" and "Edit as YAML"."""

    def edit(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        chosen = (action.get("selected_option") or {}).get("value") or action.get("value") or ""
        _replace_view(client, body["view"], edited_view(body["view"], chosen))

    def to_yaml(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        _replace_view(client, body["view"], yaml_view(body["view"]))

    app.action(ids.CONNECT_STAGE_MENU)(edit)
    app.action(ids.CONNECT_ADD_STAGE)(edit)
    app.action(ids.CONNECT_EDIT_YAML)(to_yaml)


def _replace_view(client: WebClient, shown: dict[str, Any], view: View | None) -> None:
    if view is None:
        return
    try:
        client.views_update(view_id=shown["id"], hash=shown.get("hash"), view=view)
    except SlackApiError as error:  # a faster click won, or the modal was closed meanwhile
        log.info("the connect modal changed before this edit (%s)", error.response.get("error"))
