"""`@flowcoach status`, `@flowcoach forecast 20`, `@flowcoach help`: answered in the mention's thread."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.services.metrics import metrics_now, sync_info
from bot.services.reports import board_review
from bot.slack import texts
from bot.slack.blocks.forecast import forecast_blocks, forecast_text
from bot.slack.blocks.replies import help_blocks, help_text, no_board_blocks
from bot.slack.blocks.review import review_blocks, review_text
from bot.slack.blocks.status import status_blocks, status_text
from bot.slack.delivery import post_message
from bot.slack.errors import friendly_message
from bot.slack.forecasts import FORECAST_WINDOW_DAYS, forecast_for
from bot.slack.grammar import CommandError, parse_flow
from bot.slack.lookup import NoBoardHere, resolve_board
from bot.slack.runtime import Runtime
from bot.store.claims import claim

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
MENTION_SUBCOMMANDS = frozenset({"help", "status", "forecast", "health"})


def register_mentions(app: App, runtime: Runtime) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    def on_mention(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        # Slack re-delivers an event it thinks we missed; answer each mention once.
        if not claim(runtime.sessions, f"event:{body.get('event_id') or event.get('ts')}"):
            return
        channel, thread = event["channel"], event.get("thread_ts") or event["ts"]
        try:
            blocks, text = answer_mention(runtime, context.get("team_id"), channel, event.get("text", ""))
        except NoBoardHere:
            blocks, text = no_board_blocks(), texts.NO_BOARD_HERE
        except Exception as error:
            blocks, text = [], friendly_message(error)
        post_message(client, channel, text=text, blocks=blocks, thread_ts=thread)

    app.event("app_mention")(ack=ack_now, lazy=[on_mention])


def answer_mention(runtime: Runtime, team_id: str | None, channel: str, text: str) -> tuple[list[Any], str]:
    """The blocks and fallback text answering a mention's text."""
    command = parse_flow(MENTION.sub(" ", text).strip())
    if command.name not in MENTION_SUBCOMMANDS:
        raise CommandError(f"in a mention I answer {', '.join(sorted(MENTION_SUBCOMMANDS))}")
    if command.name == "help":
        return help_blocks(command.help_topic), help_text()
    now = runtime.clock()
    with runtime.sessions() as session:
        board = resolve_board(session, runtime.workspace_key(team_id), channel, command.board)
        if command.name == "health":
            review = board_review(session, board, now)
            blocks = review_blocks(review.diagnosis, review.trends, review.metrics)
            return blocks, review_text(review.diagnosis, review.metrics)
        window = FORECAST_WINDOW_DAYS if command.name == "forecast" else 30
        metrics = metrics_now(session, board, now, window, runtime.metrics_cache)
        sync = sync_info(session, board, now)
    if command.name == "status":
        return status_blocks(metrics, sync), status_text(metrics)
    result = forecast_for(metrics, command)
    return forecast_blocks(result), forecast_text(result)
