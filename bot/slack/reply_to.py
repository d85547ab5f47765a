"""Where a reply goes: the response URL of a command, or the thread of a mention.

An answer says what to show and whether the whole channel may see it; a :class:`ReplyTo` knows how to get it
there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.slack.delivery import post_message


class ReplyTo(Protocol):
    def __call__(self, *, text: str, blocks: Sequence[Block] | None = None, in_channel: bool = False) -> None:
        """Show ``text`` (the notification line) and ``blocks``; only to the asker unless ``in_channel``."""


def response_url(respond: Respond) -> ReplyTo:
    """Through a response URL: ephemeral unless ``in_channel``."""

    def reply(*, text: str, blocks: Sequence[Block] | None = None, in_channel: bool = False) -> None:
        respond(text=text, blocks=blocks, response_type="in_channel" if in_channel else "ephemeral")

    return reply


def mention_thread(client: WebClient, event: dict[str, Any]) -> ReplyTo:
    """In the mention's thread (started under the mention if it was in none); a thread is never private."""
    channel, thread_ts = event["channel"], event.get("thread_ts") or event["ts"]

    def reply(*, text: str, blocks: Sequence[Block] | None = None, in_channel: bool = False) -> None:
        post_message(client, channel, text=text, blocks=blocks, thread_ts=thread_ts)

    return reply
