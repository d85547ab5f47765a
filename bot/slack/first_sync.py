"""A new board's first sync, run in the background once the connect modal closed, and its announcement.

The first sync may take minutes on a large project, far beyond what a modal can wait for, so the board's
channel hears about it when it is done: what was loaded and the WIP now, or why the sync failed and what to
do. Nothing here raises: a failure to announce is logged, never lost in an executor's future.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.connectors.registry import connector_kind
from bot.errors import FlowcoachError
from bot.formatting import count_of
from bot.services.connections import board_connector
from bot.services.metrics import metrics_now
from bot.services.sync import sync_board
from bot.slack import texts
from bot.slack.blocks.common import context, escape
from bot.slack.blocks.onboarding import ready_blocks, source_name, sync_failed_blocks
from bot.slack.delivery import direct_message_channel, post_message
from bot.slack.onboarding_flow import secret_key
from bot.slack.runtime import Runtime
from bot.store.boards import board_counts
from bot.store.models import Board

log = logging.getLogger("flowcoach.slack")


def announce_first_sync(runtime: Runtime, client: WebClient, board_id: int, user_id: str) -> None:
    """Run the board's first sync, then say in its channel what was loaded, or why it failed."""
    try:
        with runtime.sessions() as session:
            board = session.get_one(Board, board_id)
            channel = board.channel_id
        blocks, text = first_sync_report(runtime, board_id)
        _post(client, channel, user_id, blocks, text)
    except Exception:
        log.exception("could not announce the first sync of board %s", board_id)


def first_sync_report(runtime: Runtime, board_id: int) -> tuple[list[Block], str]:
    """Sync the board; the message saying how it went (blocks and notification text)."""
    with runtime.sessions() as session:
        board = session.get_one(Board, board_id)
        name, source = board.name, source_name(connector_kind(board.connector))
    try:
        with runtime.sessions() as session:
            connector = board_connector(
                session.get_one(Board, board_id), secret_key(runtime), runtime.tracker_http()
            )
        try:
            result = sync_board(runtime.sessions, board_id, connector)
        finally:
            connector.close()
    except Exception as error:
        if not isinstance(error, FlowcoachError):
            log.error("the first sync of board %s failed", name, exc_info=error)
        problem = str(error) if isinstance(error, FlowcoachError) else texts.CONNECT_SYNC_FAILED_UNKNOWN
        return sync_failed_blocks(board=name, problem=problem), texts.CONNECT_SYNC_FAILED_TEXT.format(
            board=escape(name)
        )
    with runtime.sessions() as session:
        board = session.get_one(Board, board_id)
        items = board_counts(session, board_id)["items"]
        try:
            metrics = metrics_now(session, board, runtime.clock())
            wip, finished = metrics.wip_by_stage, metrics.throughput_total
        except Exception:  # the data is in; a summary that cannot be computed must not hide that
            log.exception("no summary for the first sync of board %s", name)
            wip, finished = None, None
    blocks = ready_blocks(
        board=name,
        source=source,
        items=items,
        events=result.events_added,
        wip_by_stage=wip,
        finished=finished,
    )
    return blocks, texts.CONNECT_READY_TEXT.format(board=escape(name), items=count_of(items, "item"))


def _post(client: WebClient, channel: str | None, user_id: str, blocks: list[Block], text: str) -> None:
    """In the board's channel; in a direct message to whoever connected it when the channel refuses."""
    if channel:
        try:
            post_message(client, channel, text=text, blocks=blocks)
            return
        except SlackApiError as error:
            log.warning("cannot post in the board's channel (%s)", error.response.get("error"))
        blocks = [*blocks, context(texts.CONNECT_POSTED_HERE_INSTEAD.format(channel=channel))]
    post_message(client, direct_message_channel(client, user_id), text=text, blocks=blocks)
