"""Where a reply goes: the response URL of a command or button, or the thread of a mention.

An answer says what to show and whether the whole channel may see it; a :class:`ReplyTo` knows how to get it
there. The functions taking Bolt's ``args`` find that place for a listener, so that its failure is told where
its answer would have gone (``bot.slack.errors.reported``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from slack_bolt import Args, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.slack.delivery import post_message


class ReplyRefused(Exception):
    """Slack did not take a reply (the response URL answered an error, e.g. after its 30 minutes)."""


class ReplyTo(Protocol):
    def __call__(self, *, text: str, blocks: Sequence[Block] | None = None, in_channel: bool = False) -> None:
        """Show ``text`` (the notification line) and ``blocks``; only to the asker unless ``in_channel``."""


def response_url(respond: Respond) -> ReplyTo:
    """Through a response URL: ephemeral unless ``in_channel``."""

    def reply(*, text: str, blocks: Sequence[Block] | None = None, in_channel: bool = False) -> None:
        answer = respond(text=text, blocks=blocks, response_type="in_channel" if in_channel else "ephemeral")
        if answer.status_code >= 300:  # the webhook client reports a refusal, it does not raise it
            raise ReplyRefused(f"the response URL answered HTTP {answer.status_code}")

    return reply


def mention_thread(client: WebClient, event: dict[str, Any]) -> ReplyTo:
    """In the mention's thread (started under the mention if it was in none); a thread is never private."""
    channel, thread_ts = event["channel"], event.get("thread_ts") or event["ts"]

    def reply(*, text: str, blocks: Sequence[Block] | None = None, in_channel: bool = False) -> None:
        post_message(client, channel, text=text, blocks=blocks, thread_ts=thread_ts)

    return reply


def at_response_url(args: Args) -> ReplyTo | None:
    """A command's or a button's response URL; App Home buttons have none."""
    return response_url_of(args.body, args.respond)


def response_url_of(body: dict[str, Any], respond: Respond | None) -> ReplyTo | None:
    if respond is None or not body.get("response_url"):
        return None
    return response_url(respond)


def in_mention_thread(args: Args) -> ReplyTo | None:
    return mention_thread(args.client, args.event) if args.event else None


def nowhere(args: Args) -> ReplyTo | None:
    """For listeners with no one to answer (App Home opened, a modal being checked): the log only."""
    return None
