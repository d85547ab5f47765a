"""App Home: every board of the workspace at a glance, with buttons to its settings and to post its status."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services.metrics import metrics_now, sync_info
from bot.slack.blocks.home import HomeBoard, home_view
from bot.slack.blocks.status import status_blocks, status_text
from bot.slack.delivery import post_message
from bot.slack.errors import friendly_message, reported
from bot.slack.ids import OPEN_CONNECT, OPEN_SETTINGS, POST_STATUS
from bot.slack.lookup import board_in_workspace
from bot.slack.onboarding import open_connect_modal
from bot.slack.reply_to import at_response_url, nowhere
from bot.slack.runtime import Runtime
from bot.slack.settings_modal import open_settings_modal
from bot.store.boards import list_boards

log = logging.getLogger("flowcoach.slack")


def home_boards(runtime: Runtime, workspace: str) -> list[HomeBoard]:
    """Each board with its current metrics; a board whose data cannot be read shows why instead."""
    now = runtime.clock()
    boards = []
    with runtime.sessions() as session:
        for board in list_boards(session, workspace):
            sync = sync_info(session, board, now)
            try:
                metrics, problem = metrics_now(session, board, now, cache=runtime.metrics_cache), None
            except Exception as error:
                metrics, problem = None, friendly_message(error)
            boards.append(HomeBoard(board.id, board.name, board.channel_id, metrics, sync, problem))
    return boards


def publish_home(runtime: Runtime, client: WebClient, team_id: str | None, user_id: str) -> None:
    boards = home_boards(runtime, runtime.workspace_key(team_id))
    client.views_publish(user_id=user_id, view=home_view(boards))


def register_home(app: App, runtime: Runtime) -> None:
    """App Home and its buttons (which also appear on other surfaces)."""

    def ack_now(ack: Ack) -> None:
        ack()

    @reported(nowhere)
    def on_home_opened(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        publish_home(runtime, client, context.get("team_id"), event["user"])

    app.event("app_home_opened")(ack=ack_now, lazy=[on_home_opened])

    @reported(at_response_url)
    def post_status(body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        now = runtime.clock()
        workspace = runtime.workspace_key(context.get("team_id"))
        with runtime.sessions() as session:
            board = board_in_workspace(session, workspace, body["actions"][0]["value"])
            metrics = metrics_now(session, board, now, cache=runtime.metrics_cache)
            sync = sync_info(session, board, now)
            channel = board.channel_id
        if channel is None:
            return
        post_message(client, channel, text=status_text(metrics), blocks=status_blocks(metrics, sync))

    def open_settings(ack: Ack, body: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        ack()
        workspace = runtime.workspace_key(context.get("team_id"))
        with runtime.sessions() as session:
            board = board_in_workspace(session, workspace, body["actions"][0]["value"])
            open_settings_modal(client, body["trigger_id"], board)

    def open_connect(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id")
        open_connect_modal(runtime, client, body["trigger_id"], channel_id=channel)

    # Opening a modal must use the trigger within 3 s: done in the listener itself, right after the ack.
    app.action(POST_STATUS)(ack=ack_now, lazy=[post_status])
    app.action(OPEN_SETTINGS)(open_settings)
    app.action(OPEN_CONNECT)(open_connect)
