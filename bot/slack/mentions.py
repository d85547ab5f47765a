"""`@flowcoach status`, `@flowcoach forecast 20`, `@flowcoach help`: answered in the mention's thread.

A mention asks what `/flow` would, limited to the subcommands the registry lets mentions ask, and gets the
same answer, in a thread instead of through a response URL.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack.answers import Ask
from bot.slack.errors import reported
from bot.slack.reply_to import in_mention_thread, mention_thread
from bot.slack.runtime import Runtime
from bot.slack.subcommands import Subcommands
from bot.store.claims import claim

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def register_mentions(app: App, runtime: Runtime, subcommands: Subcommands) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    @reported(in_mention_thread)
    def on_mention(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        # Slack re-delivers an event it thinks we missed; answer each mention once.
        if not claim(runtime.sessions, f"event:{body.get('event_id') or event.get('ts')}"):
            return
        command = subcommands.parse(MENTION.sub(" ", event.get("text", "")).strip())
        if command.name not in subcommands.mention_names:
            asked = ", ".join(sorted(subcommands.mention_names))
            raise subcommands.misunderstood(f"in a mention I answer {asked}")
        ask = Ask(
            command=command,
            team_id=context.get("team_id"),
            channel_id=event["channel"],
            user_id=event.get("user", ""),
            client=client,
            reply_to=mention_thread(client, event),
        )
        subcommands.answer(runtime, ask)

    app.event("app_mention")(ack=ack_now, lazy=[on_mention])
