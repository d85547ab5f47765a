"""Talking to the Slack Web API: the client with its retry policy, chart uploads.

Rate limits (429) are always retried after ``Retry-After``: Slack did not act on the request. A connection
error is retried only when it cannot have reached Slack (the connection was refused) or when the method is
safe to repeat; a reset after a ``chat.postMessage`` was sent may mean the message exists, and a duplicate
in the channel is worse than one lost retry.
"""

from __future__ import annotations

import logging
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

log = logging.getLogger("flowcoach.slack")

# Methods whose repetition creates something new; everything else we call is idempotent.
NOT_REPEATABLE = ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal", "oauth.v2.access")
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
    client: WebClient, channel_id: str, png: bytes, *, filename: str, title: str, comment: str | None = None
) -> None:
    """Upload a chart as a PNG file into a channel (or a direct message), with an optional comment."""
    client.files_upload_v2(
        channel=channel_id, content=png, filename=filename, title=title, initial_comment=comment
    )


def direct_message_channel(client: WebClient, user_id: str) -> str:
    """The id of the bot's direct-message channel with a user (opened if needed)."""
    response = client.conversations_open(users=user_id)
    channel = response["channel"]
    return str(channel["id"])
