"""`/flow`: acknowledged at once, answered by a lazy listener through the response URL.

The acknowledgement parses the text and answers only what needs nothing else (help, usage errors), so it
stays far inside Slack's 3 seconds; everything that reads the database or draws runs afterwards, on the
answer pool. Subcommands that open a modal are the exception: Slack's trigger id expires 3 s after the
command, so they open it in the acknowledgement itself, never queued behind charts being drawn.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.slack.answers import Ask
from bot.slack.errors import error_reply, friendly_message, reported
from bot.slack.grammar import HELP, FlowCommand
from bot.slack.reply_to import at_response_url, response_url
from bot.slack.runtime import Runtime
from bot.slack.subcommands import Subcommands


def register_commands(app: App, runtime: Runtime, subcommands: Subcommands) -> None:
    """Attach `/flow` to the app, understanding ``subcommands``."""

    def acknowledge(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        try:
            parsed = subcommands.parse(command.get("text", ""))
        except Exception as error:  # a usage problem: the reply is the usage
            ack(text=friendly_message(error), response_type="ephemeral")
            return
        if parsed.name == HELP:  # it needs nothing but the registry
            blocks, text = subcommands.help_reply(parsed.help_topic)
            ack(blocks=blocks, text=text, response_type="in_channel" if parsed.share else "ephemeral")
            return
        if subcommands.named(parsed.name).opens_modal:
            try:
                subcommands.answer(runtime, _ask(parsed, command, client, respond))
            except Exception as error:  # told in the acknowledgement, as a usage problem would be
                ack(**error_reply(error), response_type="ephemeral")
                return
        ack()

    @reported(at_response_url)
    def answer(command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        try:
            parsed = subcommands.parse(command.get("text", ""))
        except Exception:
            return  # the acknowledgement already showed the usage
        if parsed.name == HELP or subcommands.named(parsed.name).opens_modal:
            return  # answered in the acknowledgement
        subcommands.answer(runtime, _ask(parsed, command, client, respond))

    app.command("/flow")(ack=acknowledge, lazy=[answer])


def _ask(parsed: FlowCommand, command: dict[str, Any], client: WebClient, respond: Respond) -> Ask:
    return Ask(
        command=parsed,
        team_id=command.get("team_id", ""),
        channel_id=command.get("channel_id", ""),
        user_id=command.get("user_id", ""),
        client=client,
        reply_to=response_url(respond),
        trigger_id=command.get("trigger_id", ""),
    )
