"""Talking to the Slack Web API: the client with its retry policy, and the one place that posts, updates
and uploads (messages, threads, charts).

Rate limits (429) are always retried after ``Retry-After``: Slack did not act on the request. A connection
error is retried only when it cannot have reached Slack (the connection was refused) or when the method is
safe to repeat; a reset after a ``chat.postMessage`` was sent may mean the message exists, and a duplicate
in the channel is worse than one lost retry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.models.blocks import Block

if TYPE_CHECKING:
    from bot.services.jobs import Progress

log = logging.getLogger("flowcoach.slack")

# Methods whose repetition creates something new; everything else we call is idempotent.
NOT_REPEATABLE = ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal", "oauth.v2.access")
# What Slack answers a bot that is not in a channel, or cannot see it.
NOT_IN_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
RATE_LIMIT_RETRIES = 3
CONNECTION_RETRIES = 2


class SafeConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """Connection errors retried unless the request may already have been acted upon."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        if not request.url.rstrip("/").endswith(NOT_REPEATABLE):
            return True
        reason = error.reason if isinstance(error, URLError) else error
        return isinstance(reason, ConnectionRefusedError)


def web_client(base_url: str, token: str | None = None) -> WebClient:
    """A Web API client on ``base_url`` that retries what is safe to retry."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            SafeConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        ],
    )


def upload_png(
    client: WebClient,
    channel_id: str,
    png: bytes,
    *,
    filename: str,
    title: str,
    comment: str | None = None,
    thread_ts: str | None = None,
) -> str:
    """Upload a chart as a PNG file into a channel (or a direct message, or a thread), with an optional
    comment; returns the file's id.

    Sharing a file needs the bot in the channel (chat:write.public covers messages only): Slack answers
    ``not_in_channel`` otherwise, and nothing is shared.
    """
    uploaded = client.files_upload_v2(
        channel=channel_id,
        content=png,
        filename=filename,
        title=title,
        initial_comment=comment,
        thread_ts=thread_ts,
    )
    return str(uploaded["files"][0]["id"])


def delete_file(client: WebClient, file_id: str) -> None:
    """Take back a file the bot shared (and the message that shared it)."""
    client.files_delete(file=file_id)


def is_not_in_channel(error: BaseException) -> bool:
    """Whether Slack refused because the bot is not a member of the channel (or cannot see it)."""
    return isinstance(error, SlackApiError) and error.response.get("error") in NOT_IN_CHANNEL_ERRORS


def post_ephemeral(client: WebClient, channel: str, user: str, *, text: str) -> None:
    """A message only ``user`` sees, in ``channel``."""
    client.chat_postEphemeral(channel=channel, user=user, text=text)


def direct_message_channel(client: WebClient, user_id: str) -> str:
    """The id of the bot's direct-message channel with a user (opened if needed)."""
    response = client.conversations_open(users=user_id)
    channel = response["channel"]
    return str(channel["id"])


def post_message(
    client: WebClient,
    channel: str,
    *,
    text: str,
    blocks: Sequence[Block | dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Post a message (in a thread when ``thread_ts`` is given); returns its timestamp."""
    posted = client.chat_postMessage(
        channel=channel,
        text=text,
        blocks=list(blocks) if blocks else None,
        thread_ts=thread_ts,
        metadata=metadata,
    )
    return str(posted["ts"])


def update_message(
    client: WebClient, channel: str, ts: str, *, text: str, blocks: Sequence[Block] | None = None
) -> None:
    """Replace a message the app posted earlier."""
    client.chat_update(channel=channel, ts=ts, text=text, blocks=list(blocks) if blocks else None)


def post_thread(
    client: WebClient,
    channel: str,
    *,
    text: str,
    parent: Sequence[Block],
    replies: Sequence[Sequence[Block]],
    metadata: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> str:
    """One parent message and its replies in its thread; returns the parent's timestamp.

    With ``progress`` (a scheduled digest) it resumes where an earlier attempt stopped, notes each part as
    it goes out, and raises when one cannot be posted (to be resumed later). Without, a reply that cannot
    be posted is logged and skipped: the parent is out, and raising would have it posted twice.
    """
    ts = _parent(client, channel, text=text, blocks=parent, metadata=metadata, progress=progress)
    for number, reply in enumerate(replies):
        if progress is not None:
            if number < progress.parts_done:
                continue
            progress.before_part()
            post_message(
                client, channel, text=text, blocks=reply, thread_ts=ts, metadata=_part(metadata, number + 1)
            )
            progress.part_posted()
            continue
        try:
            post_message(client, channel, text=text, blocks=reply, thread_ts=ts)
        except Exception as error:
            log.warning("a reply in thread %s of %s could not be posted: %s", ts, channel, error)
    return ts


def _parent(
    client: WebClient,
    channel: str,
    *,
    text: str,
    blocks: Sequence[Block],
    metadata: dict[str, Any] | None,
    progress: Progress | None,
) -> str:
    if progress is not None and progress.parent_ts is not None:
        return progress.parent_ts
    if progress is not None:
        progress.before_part()
    ts = post_message(client, channel, text=text, blocks=blocks, metadata=metadata)
    if progress is not None:
        progress.parent_posted(ts)
    return ts


def post_with_charts(
    client: WebClient,
    channel: str,
    *,
    text: str,
    blocks: Sequence[Block],
    charts: Sequence[Chart],
    charts_need_membership: str,
    metadata: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> str:
    """A message, then PNG charts as files in its thread; returns the message's timestamp.

    When the bot may post but not share files in the channel, ``charts_need_membership`` replaces the
    charts in the thread. ``progress`` as for :func:`post_thread`.
    """
    ts = _parent(client, channel, text=text, blocks=blocks, metadata=metadata, progress=progress)
    for number, chart in enumerate(charts):
        if progress is not None and number < progress.parts_done:
            continue
        if progress is not None:
            progress.before_part()
        try:
            client.files_upload_v2(
                channel=channel, thread_ts=ts, content=chart.png, filename=chart.filename, title=chart.title
            )
        except SlackApiError as refused:
            if is_not_in_channel(refused):
                # The message could go out (chat:write.public) but files need the bot in the channel: say
                # so once, where the charts would have been, rather than failing the whole message.
                post_message(client, channel, text=charts_need_membership, thread_ts=ts)
                break
            if progress is not None:
                raise
            log.warning("a chart in thread %s of %s could not be shared: %s", ts, channel, refused)
            continue
        if progress is not None:
            progress.part_posted()
    return ts


@dataclass(frozen=True)
class Chart:
    png: bytes
    filename: str
    title: str


DELIVERY_EVENT = "flowcoach_delivery"  # the metadata event type naming a scheduled message's slot


def delivery_metadata(key: str | None) -> dict[str, Any] | None:
    """Message metadata naming the slot a digest or review delivers, so the channel can be asked later."""
    return None if key is None else {"event_type": DELIVERY_EVENT, "event_payload": {"key": key}}


def find_delivery(
    client: WebClient, channel: str, key: str, since: float, pages: int = 5
) -> str | Literal[False] | None:
    """The ts of the channel's message for the slot ``key`` posted since ``since`` (epoch s); False when
    there is none; None when the app may not read the channel's history (no channels:history /
    groups:history, or not in it)."""
    cursor = None
    for _ in range(pages):
        try:
            page = client.conversations_history(
                channel=channel, oldest=f"{since:.6f}", include_all_metadata=True, limit=200, cursor=cursor
            )
        except SlackApiError as refused:
            log.warning(
                "cannot read %s's history to check a delivery: %s", channel, refused.response.get("error")
            )
            return None
        for message in page.get("messages") or []:
            if _payload(message).get("key") == key and "part" not in _payload(message):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return False
    return False


def _part(metadata: dict[str, Any] | None, part: int) -> dict[str, Any] | None:
    """A reply's metadata: its slot's, with the reply's number, so the thread can be asked what went out."""
    if metadata is None:
        return None
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"] | {"part": part}}


def find_parts(client: WebClient, channel: str, parent_ts: str, key: str) -> int | None:
    """The highest numbered reply of the slot ``key`` in the thread of ``parent_ts``; 0 when none; None when
    the thread cannot be read (no channels:history / groups:history)."""
    messages = _thread(client, channel, parent_ts)
    if messages is None:
        return None
    parts = [_payload(message).get("part") for message in messages if _payload(message).get("key") == key]
    return max((part for part in parts if isinstance(part, int)), default=0)


def find_reply(client: WebClient, channel: str, parent_ts: str, key: str) -> str | Literal[False] | None:
    """The ts of the reply carrying ``key`` in the thread of ``parent_ts``; False when there is none; None
    when the thread cannot be read."""
    messages = _thread(client, channel, parent_ts)
    if messages is None:
        return None
    return next(
        (
            str(message["ts"])
            for message in messages
            if message.get("ts") != parent_ts and _payload(message).get("key") == key
        ),
        False,
    )


def _payload(message: dict[str, Any]) -> dict[str, Any]:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != DELIVERY_EVENT:
        return {}
    return dict(metadata.get("event_payload") or {})


def _thread(client: WebClient, channel: str, parent_ts: str, pages: int = 5) -> list[dict[str, Any]] | None:
    """The messages of a thread (its parent first), or None when the app may not read it."""
    messages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(pages):
        try:
            page = client.conversations_replies(
                channel=channel, ts=parent_ts, include_all_metadata=True, limit=200, cursor=cursor
            )
        except SlackApiError as refused:
            log.warning(
                "cannot read a thread of %s to resume a delivery: %s", channel, refused.response.get("error")
            )
            return None
        messages.extend(page.get("messages") or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            break
    return messages
