"""`/flow settings` and App Home's settings button: one board's channel, calendar, digest time, thresholds.

What Slack changes is stored in ``Board.coaching_settings`` as an overlay of the workflow file (see
``bot.store.board_settings``); a value equal to the file's is stored as "as the file says", so a later edit
of the file still takes effect. The board id in the modal came from the client: it is looked up again,
within the submitting team's workspace only, before anything is saved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from analytics.workflow import parse_workflow
from bot.slack import texts
from bot.slack.blocks.inputs import input_value
from bot.slack.blocks.settings import (
    CHANNEL_BLOCK,
    DAYS_BLOCK,
    DIGEST_BLOCK,
    END_BLOCK,
    START_BLOCK,
    TIMEZONE_BLOCK,
    SettingsForm,
    changes,
    confirmation_text,
    settings_notice_view,
    settings_view,
    threshold_block,
)
from bot.slack.delivery import direct_message_channel, post_ephemeral, post_message
from bot.slack.ids import SETTINGS
from bot.slack.lookup import NoBoardHere, board_in_workspace
from bot.slack.onboarding_flow import FormErrors
from bot.slack.runtime import Runtime
from bot.store.board_settings import BoardSettings, Thresholds, load_board_settings
from bot.store.boards import board_workflow
from bot.store.models import Board

log = logging.getLogger("flowcoach.slack")
# Where a problem with each setting is shown (the end time for "start before end": it is the one to move).
ERROR_BLOCKS = {
    "timezone": TIMEZONE_BLOCK,
    "working_days": DAYS_BLOCK,
    "working_hours": END_BLOCK,
    "digest_time": DIGEST_BLOCK,
}


def current_form(board: Board) -> SettingsForm:
    """The settings the board runs with now."""
    workflow = board_workflow(board)
    settings = load_board_settings(board.coaching_settings)
    return SettingsForm(
        board=board.name,
        channel_id=board.channel_id,
        timezone=workflow.timezone,
        working_days=workflow.working_days,
        working_hours=workflow.working_hours,
        digest_time=settings.digest_time,
        thresholds=settings.thresholds,
    )


def open_settings_modal(client: WebClient, trigger_id: str, board: Board) -> None:
    """Open the settings of a board already checked to be the requesting workspace's."""
    client.views_open(trigger_id=trigger_id, view=settings_view(board.id, current_form(board)))


@dataclass(frozen=True)
class SavedSettings:
    board: str
    channel_id: str | None
    changed: list[tuple[str, str, str]]


def updated_settings(board: Board, values: dict[str, Any]) -> BoardSettings:
    """The board's settings with the form's values, validated; :class:`FormErrors` by block otherwise."""
    file = parse_workflow(board.workflow_yaml, source=f"workflow of board '{board.name}'")
    data = load_board_settings(board.coaching_settings).to_json()
    days = tuple(input_value(values, DAYS_BLOCK) or ())
    hours = (input_value(values, START_BLOCK), input_value(values, END_BLOCK))
    timezone = input_value(values, TIMEZONE_BLOCK)
    if not days:
        raise FormErrors({DAYS_BLOCK: texts.SETTINGS_NO_DAYS})
    if None in hours:
        raise FormErrors({START_BLOCK if hours[0] is None else END_BLOCK: texts.SETTINGS_REQUIRED})
    file_hours = tuple(f"{time:%H:%M}" for time in file.working_hours)
    data |= {
        "timezone": None if timezone == file.timezone else timezone,
        "working_days": None if days == file.working_days else list(days),
        "working_hours": None if hours == file_hours else list(hours),
        "digest_time": input_value(values, DIGEST_BLOCK),
        "thresholds": {name: input_value(values, threshold_block(name)) for name in Thresholds.model_fields},
    }
    try:
        return BoardSettings.model_validate(data)
    except ValidationError as error:
        raise FormErrors(_errors(error)) from None


def _errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.errors():
        where = [str(part) for part in problem["loc"]]
        block = threshold_block(where[1]) if where[:1] == ["thresholds"] and len(where) > 1 else None
        block = block or ERROR_BLOCKS.get(where[0] if where else "", TIMEZONE_BLOCK)
        message = problem["msg"].removeprefix("Value error, ")
        if where[:1] == ["working_hours"]:
            message = texts.SETTINGS_END_BEFORE_START
        errors.setdefault(block, message)
    return errors


def save_settings(
    runtime: Runtime, team_id: str | None, board_ref: str, values: dict[str, Any]
) -> SavedSettings:
    """Validate and store the form for a board of the team's workspace; raises ``NoBoardHere`` otherwise."""
    workspace = runtime.workspace_key(team_id)
    with runtime.sessions.begin() as session:
        board = board_in_workspace(session, workspace, board_ref)
        before = current_form(board)
        settings = updated_settings(board, values)
        board.channel_id = input_value(values, CHANNEL_BLOCK)
        board.coaching_settings = settings.to_json()
        return SavedSettings(board.name, board.channel_id, changes(before, current_form(board)))


def register_settings(app: App, runtime: Runtime) -> None:
    """The settings modal's submission."""

    def save(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        view = body["view"]
        try:
            saved = save_settings(
                runtime, context.get("team_id"), view["private_metadata"], view["state"]["values"]
            )
        except FormErrors as problem:
            ack(response_action="errors", errors=problem.errors)
            return
        except NoBoardHere:
            log.warning("refused a settings change for a board outside the requesting workspace")
            ack(response_action="update", view=settings_notice_view(texts.SETTINGS_NOT_HERE))
            return
        ack(response_action="clear")
        runtime.background.submit(confirm, runtime, client, context.get("team_id"), body["user"]["id"], saved)

    app.view(SETTINGS)(save)


def confirm(
    runtime: Runtime, client: WebClient, team_id: str | None, user_id: str, saved: SavedSettings
) -> None:
    """Tell the user what changed (only them: a settings change is not news), then refresh their App Home."""
    from bot.slack.home import publish_home  # home imports this module for its settings button

    try:
        _tell(client, saved.channel_id, user_id, confirmation_text(saved.board, user_id, saved.changed))
        publish_home(runtime, client, team_id, user_id)
    except Exception:
        log.exception("could not confirm the settings of board %s", saved.board)


def _tell(client: WebClient, channel_id: str | None, user_id: str, text: str) -> None:
    """Ephemeral in the board's channel; a direct message when it has none or refuses (not a member)."""
    if channel_id is not None:
        try:
            post_ephemeral(client, channel_id, user_id, text=text)
            return
        except SlackApiError as error:
            log.info("settings confirmation goes to a DM (%s)", error.response.get("error"))
    post_message(client, direct_message_channel(client, user_id), text=text)
