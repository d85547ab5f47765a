"""The live coach: evaluate a board now, store the alerts, then say in Slack what changed.

Alerts are committed before anything is posted, and every post is claimed in the database first
(``bot/store/claims.py``), so a crash, a retry or a second worker never posts the same alert twice; at worst
a message whose timestamp was not stored cannot be updated when the alert resolves.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pandas as pd
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from analytics.signals import board_signals
from analytics.timeline import build_timeline
from bot.coach.alert_store import load_alerts, posts_in_channel_since, save_alert
from bot.coach.engine import Coach, evaluate_at
from bot.coach.lifecycle import Action, Alert
from bot.coach.messages import local_when, nudge_blocks, nudge_text, resolved_blocks, worse_text
from bot.slack import texts
from bot.store.board_settings import load_board_settings
from bot.store.boards import board_workflow
from bot.store.claims import claim
from bot.store.eventstore import load_events
from bot.store.models import AlertState, Board, ChannelSnooze

log = logging.getLogger("flowcoach.coach")


@dataclass(frozen=True)
class Delivery:
    """One action with what delivering it needs: the alert's row id and where it was posted."""

    action: Action
    row_id: int
    channel: str
    message_ts: str | None
    thread_ts: str | None


def check_board(
    sessions: sessionmaker[Session], board_id: int, now: dt.datetime, client: WebClient | None
) -> list[Action]:
    """Evaluate the board's rules at ``now``, store the alerts, and carry out the actions in Slack."""
    deliveries, board_name = _evaluate_and_store(sessions, board_id, now)
    if client is None:
        return [delivery.action for delivery in deliveries]
    for delivery in deliveries:
        try:
            _deliver(sessions, client, board_id, board_name, delivery, now)
        except Exception:
            log.exception(
                "board %s: could not deliver %s of %s",
                board_id,
                delivery.action.kind,
                delivery.action.alert.key,
            )
    return [delivery.action for delivery in deliveries]


def _evaluate_and_store(
    sessions: sessionmaker[Session], board_id: int, now: dt.datetime
) -> tuple[list[Delivery], str]:
    with sessions.begin() as session:
        board = session.get_one(Board, board_id)
        if board.channel_id is None:
            return [], board.name  # nowhere to speak yet
        workflow = board_workflow(board)
        settings = load_board_settings(board.coaching_settings)
        coach = Coach.of(workflow, settings.thresholds)
        moment = pd.Timestamp(now)
        stale_after = dt.timedelta(hours=settings.thresholds.stale_after_hours)
        stale = board.last_synced_at is None or now - board.last_synced_at > stale_after
        midnight = moment.tz_convert(workflow.timezone).normalize().to_pydatetime()
        policy = coach.policy(
            moment,
            stale=stale,
            posts_today=posts_in_channel_since(session, board.channel_id, midnight),
            channel_snoozed_until=_channel_snooze(session, board),
        )
        alerts, rows = load_alerts(session, board_id)
        timeline = build_timeline(load_events(session, board_id, workflow), workflow, moment)
        signals = board_signals(timeline, moment, coach.window_start(moment))
        actions = evaluate_at(coach, signals, alerts, policy)
        folded = {id(action.alert) for action in actions if action.kind == "fold"}
        saved = {
            key: save_alert(session, board_id, alert, rows.get(key), folded=id(alert) in folded)
            for key, alert in alerts.items()
        }
        session.flush()
        deliveries = [
            Delivery(
                action, saved[action.alert.key].id, board.channel_id, saved[action.alert.key].message_ts, None
            )
            for action in actions
        ]
        return deliveries, board.name


def _channel_snooze(session: Session, board: Board) -> pd.Timestamp | None:
    until = session.scalar(
        select(ChannelSnooze.until).where(
            ChannelSnooze.workspace_id == board.workspace_id, ChannelSnooze.channel_id == board.channel_id
        )
    )
    return None if until is None else pd.Timestamp(until)


def _deliver(
    sessions: sessionmaker[Session],
    client: WebClient,
    board_id: int,
    board: str,
    delivery: Delivery,
    now: dt.datetime,
) -> None:
    alert, kind = delivery.action.alert, delivery.action.kind
    life = f"{board_id}:{alert.rule}:{alert.subject}:{pd.Timestamp(alert.detected_at).isoformat()}"
    if kind == "post":
        if not claim(sessions, f"alert-post:{life}"):
            return
        posted = client.chat_postMessage(
            channel=delivery.channel,
            blocks=nudge_blocks(alert, board, delivery.row_id),
            text=nudge_text(alert),
        )
        _remember_message(sessions, delivery.row_id, delivery.channel, str(posted["ts"]))
    elif kind == "fold":
        if not claim(sessions, f"alert-post:{life}"):
            return
        thread = _overflow_thread(sessions, client, delivery.channel, now, board_id)
        posted = client.chat_postMessage(
            channel=delivery.channel,
            thread_ts=thread,
            blocks=nudge_blocks(alert, board, delivery.row_id),
            text=nudge_text(alert),
        )
        _remember_message(sessions, delivery.row_id, delivery.channel, str(posted["ts"]), thread_ts=thread)
    elif kind == "repost":
        stamp = pd.Timestamp(alert.last_posted_at).isoformat() if alert.last_posted_at is not None else ""
        if delivery.message_ts and claim(sessions, f"alert-repost:{life}:{stamp}"):
            client.chat_postMessage(
                channel=delivery.channel, thread_ts=delivery.message_ts, text=worse_text(alert)
            )
    elif kind == "reopen" and delivery.message_ts:
        client.chat_update(
            channel=delivery.channel,
            ts=delivery.message_ts,
            blocks=nudge_blocks(alert, board, delivery.row_id),
            text=nudge_text(alert),
        )
    elif kind == "resolve" and delivery.message_ts:
        when = local_when(pd.Timestamp(alert.resolved_at or now))
        client.chat_update(
            channel=delivery.channel,
            ts=delivery.message_ts,
            blocks=resolved_blocks(alert, board, when),
            text=texts.NUDGE_RESOLVED.format(when=when, what=alert.subject),
        )


def _remember_message(
    sessions: sessionmaker[Session], row_id: int, channel: str, ts: str, thread_ts: str | None = None
) -> None:
    with sessions.begin() as session:
        row = session.get_one(AlertState, row_id)
        row.channel_id, row.message_ts = channel, ts
        if thread_ts:
            row.details = {**(row.details or {}), "thread_ts": thread_ts}


def _overflow_thread(
    sessions: sessionmaker[Session], client: WebClient, channel: str, now: dt.datetime, board_id: int
) -> str:
    """The day's "more flow signals" thread in the channel, started by the first alert over the budget."""
    day = now.date().isoformat()
    with sessions() as session:
        for row in session.scalars(select(AlertState).where(AlertState.channel_id == channel)):
            thread = (row.details or {}).get("thread_ts")
            if thread and row.posted_at is not None and row.posted_at.date().isoformat() == day:
                return str(thread)
    with sessions.begin() as session:
        budget = load_board_settings(
            session.get_one(Board, board_id).coaching_settings
        ).thresholds.max_alerts_per_day
    parent = client.chat_postMessage(channel=channel, text=texts.NUDGE_OVERFLOW.format(budget=budget))
    return str(parent["ts"])


def alert_for_button(session: Session, alert_id: object) -> tuple[AlertState, Alert] | None:
    """The alert a button names, with its row (None when it is gone)."""
    from bot.coach.alert_store import to_alert

    try:
        row = session.get(AlertState, int(str(alert_id)))
    except ValueError:
        return None
    return None if row is None else (row, to_alert(row))
