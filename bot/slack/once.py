"""A request that changes something is answered once, however often it is sent.

A correctly signed request stays valid for Slack's five minutes, so a captured one could be sent again: to
set `/flow limits Review 1` back after the team chose 3, to post the digest or a shared chart again, to
press a button or submit a form twice. Slack itself never sends the same signature twice: its retries are
signed afresh and carry ``X-Slack-Retry-Num`` (and mentions are de-duplicated by event id besides). So the
signature of every request that acts (a command that changes something or speaks to the channel, a button,
a form) is claimed in the database, where every server process sees it; a repeat gets an empty 200 and
runs nothing. Read-only commands are not claimed: a repeat only answers the same question again, and their
acknowledgement stays free of database writes.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.slack.runtime import Runtime
from bot.slack.subcommands import Subcommands
from bot.slack.verification import MAX_AGE_S
from bot.store.claims import claim, forget_claims

log = logging.getLogger("flowcoach.slack")

REQUEST_CLAIM = "request:"
# Kept while Slack's window could still accept the request, with room for clocks that disagree.
REQUEST_CLAIM_AGE = dt.timedelta(seconds=MAX_AGE_S * 2)
PRUNE_EVERY_S = 60
INTERACTIONS_THAT_ACT = frozenset({"block_actions", "view_submission"})

Middleware = Callable[..., Any]


def each_action_once(runtime: Runtime, subcommands: Subcommands) -> Middleware:
    """Bolt middleware letting each signed request that acts through once."""
    pruned_at = [0.0]

    def first_time(signature: str) -> bool:
        now = time.monotonic()
        try:
            if now - pruned_at[0] > PRUNE_EVERY_S:
                pruned_at[0] = now
                forget_claims(runtime.sessions, REQUEST_CLAIM, older_than=REQUEST_CLAIM_AGE)
            return claim(runtime.sessions, REQUEST_CLAIM + signature)
        except SQLAlchemyError:
            # Without the database a repeat can change nothing (every state lives there); the request then
            # fails on its own, with its own words.
            log.warning("could not record a request signature: the database does not answer")
            return True

    def middleware(req: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]) -> Any:
        signature = _header(req, "x-slack-signature")
        if signature and _acts(body, subcommands) and not first_time(signature):
            log.warning("ignored a repeated request (the same signature was answered already)")
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def _acts(body: dict[str, Any], subcommands: Subcommands) -> bool:
    if "command" in body:
        return subcommands.acts(str(body.get("text") or ""))
    return body.get("type") in INTERACTIONS_THAT_ACT


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return str(values[0]) if values else None
