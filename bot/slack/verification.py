"""The gate in front of Bolt: a request to the events endpoint is read only once Slack's signature checks out.

Bolt verifies signatures too, but a malformed ``X-Slack-Request-Timestamp`` (``abc``, ``1e9``, empty) makes
slack_sdk's verifier raise; Bolt then answered 500, logged the whole body and ran the app's error handler,
which posted to the ``response_url`` found in that unverified body: anyone could make the server send a
request anywhere. Here every malformed or wrongly signed request gets 401 before anything reads its body,
and the log says only that a request was refused.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("flowcoach.slack")

MAX_AGE_S = 60 * 5  # Slack's own rule: a request older than five minutes is refused (replays)
MAX_BODY_BYTES = 1 << 20  # Slack's payloads are far smaller; a larger body is not Slack's
WsgiApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]


def is_signed_by_slack(
    body: bytes, timestamp: str | None, signature: str | None, secret: str, now: float
) -> bool:
    """Slack's v0 signature over ``v0:{timestamp}:{body}``, with a whole-number timestamp at most five
    minutes from ``now``; anything malformed is simply not signed."""
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit() or not signature:
        return False
    if abs(now - int(timestamp)) > MAX_AGE_S:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def verified_only(inner: WsgiApp, secret: str, clock: Callable[[], float] = time.time) -> WsgiApp:
    """``inner`` behind the signature check: refused requests get 401 and never reach it.

    A correctly signed request stays valid for five minutes; that a repeat of one changes nothing is the
    app's to ensure (``bot.slack.once``).
    """

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ)
        signed = body is not None and is_signed_by_slack(
            body,
            environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
            environ.get("HTTP_X_SLACK_SIGNATURE"),
            secret,
            clock(),
        )
        if not signed or body is None:
            log.warning("refused a request that is not signed by Slack")  # never what it said
            start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return inner(environ, start_response)

    return application


def _read_body(environ: WSGIEnvironment) -> bytes | None:
    """The request body, or None when its length is missing, malformed or beyond any Slack payload."""
    length = str(environ.get("CONTENT_LENGTH") or "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return None
    return environ["wsgi.input"].read(int(length)) if int(length) else b""
