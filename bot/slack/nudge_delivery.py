"""Sending the coach's outbox (``bot/store/nudge_outbox.py``) to Slack: each board's entries in order, each
exactly once.

An entry is marked ``posting`` before its post goes out and ``sent`` with the message's ts after; the post
carries the entry in its message metadata. So a worker killed in between leaves an entry that the next
sender checks against the channel (``conversations.history`` / ``conversations.replies``) before posting
again. When Slack refuses for now (429 after the client's own retries, 5xx, no connection), the entry waits
(at least the ``Retry-After`` Slack asked for) until a later check of the board, and the board's later
entries wait behind it: a repost never goes out before the message it replies to. A message is drawn from
its alerts as they stand when it is sent: one whose alerts all cleared while it waited is not posted.
Nothing here raises into the job.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from http.client import HTTPException
from typing import Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.coach.alert_store import to_alert
from bot.formatting import count_of
from bot.services.coaching import daily_budget, message_view, overflow_thread_of_day
from bot.services.locks import BoardLocks
from bot.slack import texts
from bot.slack.blocks.common import escape
from bot.slack.blocks.nudges import message_blocks, message_text, worse_text
from bot.slack.delivery import delivery_metadata, find_delivery, find_reply, post_message, update_message
from bot.store import nudge_outbox
from bot.store.models import AlertState, Board
from bot.store.nudge_outbox import MESSAGE, POSTING, REDRAW, REPOST, OutboxEntry

log = logging.getLogger("flowcoach.slack")

# Slack's answers that mean "not now" rather than "never": the entry waits and is tried again.
TRY_AGAIN_ERRORS: Final = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
GIVE_UP_AFTER = dt.timedelta(hours=24)  # a nudge a day late no longer describes the board
FIRST_WAIT = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(minutes=15)
CLOCK_SKEW = dt.timedelta(minutes=10)  # how far before its entry a message may be stamped and still be it

_sending = BoardLocks()


def deliver_waiting(
    sessions: sessionmaker[Session], client: WebClient, board_id: int, now: dt.datetime
) -> None:
    """Send the board's waiting entries, oldest first, until one has to wait."""
    with _sending.of(board_id):  # two jobs of one board in this process (a sync's check and a check)
        sent = False
        for entry in nudge_outbox.waiting(sessions, board_id):
            if entry.next_attempt_at is not None and entry.next_attempt_at > now:
                return  # Slack asked for time: this one and everything after it wait
            if now - entry.created_at > GIVE_UP_AFTER:
                nudge_outbox.drop(sessions, entry.id, "not delivered within 24 hours", now=now)
                log.warning("board %s: a nudge waited over 24 hours for Slack and was dropped", board_id)
                continue
            if not _attempt(sessions, client, entry, now):
                return
            sent = True
        if sent:
            nudge_outbox.forget_finished(sessions, board_id, now=now)


def _attempt(
    sessions: sessionmaker[Session], client: WebClient, entry: OutboxEntry, now: dt.datetime
) -> bool:
    """Send one entry; False when it must wait (and the entries after it with it)."""
    try:
        _send(sessions, client, entry, now)
    except SlackApiError as refused:
        error = str(refused.response.get("error") or "")
        if (
            refused.response.status_code == 429
            or refused.response.status_code >= 500
            or error in TRY_AGAIN_ERRORS
        ):
            wait = _wait(entry, refused)
            nudge_outbox.retry_later(
                sessions, entry.id, at=now + wait, note=f"Slack answered {error}", maybe_posted=False
            )
            log.warning(
                "board %s: Slack answered %s to a nudge; trying again in %d s or later",
                entry.board_id,
                error or refused.response.status_code,
                wait.total_seconds(),
            )
            return False
        nudge_outbox.drop(sessions, entry.id, f"Slack refused it: {error}", now=now)
        log.warning("board %s: Slack refused a nudge (%s); it is dropped", entry.board_id, error)
        return True
    except (
        OSError,
        HTTPException,
    ) as error:  # no answer (connection lost, timeout): it may be in the channel
        wait = _wait(entry, None)
        nudge_outbox.retry_later(
            sessions,
            entry.id,
            at=now + wait,
            note=f"no answer from Slack: {type(error).__name__}",
            maybe_posted=True,
        )
        log.warning(
            "board %s: no answer from Slack to a nudge (%s); the channel is checked before trying again",
            entry.board_id,
            type(error).__name__,
        )
        return False
    except Exception as error:  # a fault of ours: kept (and checked against the channel), tried again later
        nudge_outbox.retry_later(
            sessions, entry.id, at=now + _wait(entry, None), note=f"failed: {error!r}", maybe_posted=True
        )
        log.exception("board %s: could not send nudge %s; it is tried again later", entry.board_id, entry.id)
        return False
    return True


def _wait(entry: OutboxEntry, refused: SlackApiError | None) -> dt.timedelta:
    """Doubling from ``FIRST_WAIT`` with each failed attempt, up to ``LONGEST_WAIT``, and never less than
    the ``Retry-After`` Slack gave."""
    backoff: dt.timedelta = min(FIRST_WAIT * 2 ** min(entry.attempts, 10), LONGEST_WAIT)
    asked = 0.0
    if refused is not None:
        try:
            asked = float((refused.response.headers or {}).get("Retry-After") or 0)
        except (TypeError, ValueError):
            asked = 0.0
    return max(backoff, dt.timedelta(seconds=asked))


def _send(sessions: sessionmaker[Session], client: WebClient, entry: OutboxEntry, now: dt.datetime) -> None:
    if entry.kind == REDRAW:
        assert entry.target_ts is not None
        redraw_message(sessions, client, entry.channel, entry.target_ts)
        nudge_outbox.mark_sent(sessions, entry, entry.target_ts, now=now)
    elif entry.kind == REPOST:
        _send_repost(sessions, client, entry, now)
    elif entry.kind == MESSAGE:
        _send_message(sessions, client, entry, now)
    else:
        nudge_outbox.drop(sessions, entry.id, f"unknown kind {entry.kind!r}", now=now)


def _send_message(
    sessions: sessionmaker[Session], client: WebClient, entry: OutboxEntry, now: dt.datetime
) -> None:
    """The alerts of one evaluation as one message: at the top of the channel, or in the board's "more
    flow signals" thread of the day once its budget of messages is spent."""
    with sessions() as session:
        board = session.get(Board, entry.board_id)
        rows = [session.get(AlertState, alert_id) for alert_id in entry.alert_ids]
        open_alerts = [(row.id, to_alert(row)) for row in rows if row is not None and row.state != "resolved"]
    if board is None:
        nudge_outbox.drop(sessions, entry.id, "its board is gone", now=now)
        return
    thread = entry.thread_ts
    if entry.state == POSTING and (thread is not None or not entry.fold):
        found = _find(client, entry, thread)
        if found:
            nudge_outbox.mark_sent(
                sessions, entry, found, alert_ids=entry.alert_ids, note="found in the channel", now=now
            )
            redraw_message(sessions, client, entry.channel, found)  # as its alerts stand now
            return
    if not open_alerts:
        nudge_outbox.drop(sessions, entry.id, "every alert cleared before it could be posted", now=now)
        return
    if entry.fold and thread is None:
        thread = _overflow_thread(sessions, client, entry, board.name, now)
    nudge_outbox.posting(sessions, entry.id)
    ts = post_message(
        client,
        entry.channel,
        text=message_text(board.name, open_alerts, first=entry.first),
        blocks=message_blocks(board.name, open_alerts, first=entry.first),
        thread_ts=thread,
        metadata=delivery_metadata(entry.key),
    )
    posted = replace(entry, thread_ts=thread)
    nudge_outbox.mark_sent(sessions, posted, ts, alert_ids=[alert_id for alert_id, _ in open_alerts], now=now)


def _overflow_thread(
    sessions: sessionmaker[Session], client: WebClient, entry: OutboxEntry, board: str, now: dt.datetime
) -> str:
    """The board's "more flow signals" thread of the day in its channel, started by its first message over
    the budget (each board in a channel has its own), and noted on the entry before its message goes out."""
    thread = overflow_thread_of_day(sessions, entry.board_id, entry.channel, now)
    if thread is None and entry.state == POSTING:  # this entry may have started it before it was cut short
        thread = find_delivery(client, entry.channel, entry.thread_key, _since(entry)) or None
    if thread is None:
        budget = daily_budget(sessions, entry.board_id)
        nudge_outbox.posting(sessions, entry.id)
        thread = post_message(
            client,
            entry.channel,
            text=texts.NUDGE_OVERFLOW.format(board=escape(board), budget=count_of(budget, "message")),
            metadata=delivery_metadata(entry.thread_key),
        )
    nudge_outbox.started_thread(sessions, entry.id, thread)
    return thread


def _send_repost(
    sessions: sessionmaker[Session], client: WebClient, entry: OutboxEntry, now: dt.datetime
) -> None:
    """Materially worse after the cooldown: said again in the thread of the message that first said it."""
    with sessions() as session:
        row = session.get(AlertState, entry.alert_ids[0]) if entry.alert_ids else None
        alert = None if row is None else to_alert(row)
        thread = None if row is None else row.message_ts
    if alert is None or thread is None:
        nudge_outbox.drop(sessions, entry.id, "its alert's message was never posted", now=now)
        return
    if entry.state == POSTING:
        found = _find(client, entry, thread)
        if found:
            nudge_outbox.mark_sent(sessions, entry, found, note="found in the channel", now=now)
            return
    nudge_outbox.posting(sessions, entry.id)
    ts = post_message(
        client, entry.channel, text=worse_text(alert), thread_ts=thread, metadata=delivery_metadata(entry.key)
    )
    nudge_outbox.mark_sent(sessions, entry, ts, now=now)


def _find(client: WebClient, entry: OutboxEntry, thread: str | None) -> str | None:
    """The ts of the entry's message if an earlier, interrupted attempt posted it; None when it is not in
    the channel, or when the channel cannot be read (then it is posted again: at least once)."""
    if thread is None:
        found = find_delivery(client, entry.channel, entry.key, _since(entry))
    else:
        found = find_reply(client, entry.channel, thread, entry.key)
    if found is None:
        log.warning(
            "board %s: cannot read channel %s to see whether an interrupted nudge went out (the app needs "
            "channels:history / groups:history); posting it again",
            entry.board_id,
            entry.channel,
        )
    return found or None


def _since(entry: OutboxEntry) -> float:
    return (entry.created_at - CLOCK_SKEW).timestamp()


def redraw_message(sessions: sessionmaker[Session], client: WebClient, channel: str, ts: str) -> None:
    """Draw a posted message again from all its alerts as they stand (resolved ones marked so)."""
    with sessions() as session:
        view = message_view(session, channel, ts)
    if view is None:
        return
    update_message(
        client,
        channel,
        ts,
        text=message_text(view.board, view.alerts, first=view.first),
        blocks=message_blocks(view.board, view.alerts, first=view.first),
    )
