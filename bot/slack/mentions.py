"""`@flowcoach what's our cycle time?`, `@flowcoach how are we doing`, `@flowcoach forecast 20`: answered in
the mention's thread.

A mention is a sentence, not a command line: ``bot.slack.mention_words`` reads the question in it (among the
subcommands the registry lets mentions ask, and the workspace's board names), and the answer is the one
`/flow` gives, in a thread instead of through a response URL. What cannot be read is answered with what
can be asked.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.slack import texts
from bot.slack.answers import Ask
from bot.slack.errors import Misunderstood, reported
from bot.slack.mention_words import EXAMPLES, read_mention
from bot.slack.reply_to import in_mention_thread, mention_thread
from bot.slack.runtime import Runtime
from bot.slack.subcommands import Subcommands
from bot.store.boards import list_boards
from bot.store.claims import claim

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def mention_help(subcommands: Subcommands) -> str:
    """What a mention may ask, one example each (a subcommand without one is asked by its name)."""
    return texts.mention_help(
        [
            texts.mention_example(EXAMPLES.get(name, (name,)), subcommands.named(name).meaning)
            for name in subcommands.mention_names
        ]
    )


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
        team_id = context.get("team_id")
        with runtime.sessions() as session:
            boards = [board.name for board in list_boards(session, runtime.workspace_key(team_id))]
        asked = read_mention(MENTION.sub(" ", event.get("text", "")), subcommands.mention_names, boards)
        if asked is None:
            raise Misunderstood(mention_help(subcommands))
        command = subcommands.parse(asked.command_text)
        if command.name not in subcommands.mention_names or command.sets_limit:  # never, by construction
            raise Misunderstood(mention_help(subcommands))
        thread = mention_thread(client, event)
        ask = Ask(
            # A thread is seen by the channel anyway: answers (charts too) go there, not to a DM.
            command=dataclasses.replace(command, board=asked.board, share=True),
            team_id=team_id,
            channel_id=event["channel"],
            user_id=event.get("user", ""),
            client=client,
            reply_to=thread,
            thread_ts=event.get("thread_ts") or event["ts"],
        )
        subcommands.answer(runtime, ask)

    app.event("app_mention")(ack=ack_now, lazy=[on_mention])
