"""The live coach as a use case: evaluate a stored board now, store its alerts, and say what to deliver.

``evaluate_board`` returns ``Decision``s (post, fold, repost, reopen, resolve) once the alerts are committed;
delivering them is the edge's job (``bot/slack/notifier.py``), which records where each message went with
``remember_message``. Alerts are committed before anything is delivered, so a crash, a retry or a second
worker never decides the same post twice.

Two evaluations of one board at once would both insert the same new alerts; they are serialised per board:
by a lock in this process and, on PostgreSQL, by locking the board's row for the transaction.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from analytics.signals import board_signals
from analytics.timeline import build_timeline
from bot.coach.alert_store import load_alerts, posts_in_channel_since, save_alert, to_alert
from bot.coach.engine import Coach, evaluate_at
from bot.coach.lifecycle import Action, Alert
from bot.store.board_settings import load_board_settings
from bot.store.boards import board_workflow
from bot.store.eventstore import load_events
from bot.store.models import AlertState, Board, ChannelSnooze

_board_locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
_board_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Decision:
    """One action on one alert, with what delivering it needs: the alert's row and where it was said."""

    action: Action
    alert_id: int
    board_id: int
    board: str
    channel: str
    message_ts: str | None

    @property
    def kind(self) -> str:
        return self.action.kind

    @property
    def alert(self) -> Alert:
        return self.action.alert

    @property
    def life(self) -> str:
        """This alert's life (board, rule, subject, detection): a key for claims that must hold once."""
        alert = self.action.alert
        return f"{self.board_id}:{alert.rule}:{alert.subject}:{pd.Timestamp(alert.detected_at).isoformat()}"


def evaluate_board(sessions: sessionmaker[Session], board_id: int, now: dt.datetime) -> list[Decision]:
    """Evaluate the board's rules at ``now`` and commit its alerts; what to deliver, in order."""
    with _lock_of(board_id), sessions.begin() as session:
        board = session.scalars(select(Board).where(Board.id == board_id).with_for_update()).one()
        if board.channel_id is None:
            return []  # nowhere to speak yet
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
        previous = None if board.last_evaluated_at is None else pd.Timestamp(board.last_evaluated_at)
        actions = evaluate_at(coach, signals, alerts, policy, previous)
        _remember_evaluation(session, board, now)
        folded = {id(action.alert) for action in actions if action.kind == "fold"}
        saved = {
            key: save_alert(session, board_id, alert, rows.get(key), folded=id(alert) in folded)
            for key, alert in alerts.items()
        }
        session.flush()
        return [
            Decision(
                action,
                alert_id=saved[action.alert.key].id,
                board_id=board_id,
                board=board.name,
                channel=board.channel_id,
                message_ts=saved[action.alert.key].message_ts,
            )
            for action in actions
        ]


def _remember_evaluation(session: Session, board: Board, now: dt.datetime) -> None:
    """Store this evaluation's instant for the next one, keeping ``updated_at``: it versions the metrics
    cache, and an evaluation changes no metrics. Never moves back (a late retry of an older instant)."""
    if board.last_evaluated_at is not None and board.last_evaluated_at >= now:
        return
    session.execute(
        update(Board)
        .where(Board.id == board.id)
        .values(last_evaluated_at=now, updated_at=Board.updated_at)
        .execution_options(synchronize_session=False)
    )


def _lock_of(board_id: int) -> threading.Lock:
    with _board_locks_guard:
        return _board_locks[board_id]


def _channel_snooze(session: Session, board: Board) -> pd.Timestamp | None:
    until = session.scalar(
        select(ChannelSnooze.until).where(
            ChannelSnooze.workspace_id == board.workspace_id, ChannelSnooze.channel_id == board.channel_id
        )
    )
    return None if until is None else pd.Timestamp(until)


def remember_message(
    sessions: sessionmaker[Session], alert_id: int, channel: str, ts: str, thread_ts: str | None = None
) -> None:
    """Record where an alert's message went, so it can be updated when the alert changes or clears."""
    with sessions.begin() as session:
        row = session.get_one(AlertState, alert_id)
        row.channel_id, row.message_ts = channel, ts
        if thread_ts:
            row.details = {**(row.details or {}), "thread_ts": thread_ts}


def overflow_thread_of_day(sessions: sessionmaker[Session], channel: str, now: dt.datetime) -> str | None:
    """Today's "more flow signals" thread in the channel, if an alert over the budget started one."""
    day = now.date().isoformat()
    with sessions() as session:
        for row in session.scalars(select(AlertState).where(AlertState.channel_id == channel)):
            thread = (row.details or {}).get("thread_ts")
            if thread and row.posted_at is not None and row.posted_at.date().isoformat() == day:
                return str(thread)
    return None


def daily_budget(sessions: sessionmaker[Session], board_id: int) -> int:
    """How many nudges the board's channel may get in a day before the rest fold into a thread."""
    with sessions() as session:
        board = session.get_one(Board, board_id)
        return load_board_settings(board.coaching_settings).thresholds.max_alerts_per_day


def alert_for_button(session: Session, alert_id: object) -> tuple[AlertState, Alert] | None:
    """The alert a button names, with its row (None when it is gone)."""
    try:
        row = session.get(AlertState, int(str(alert_id)))
    except ValueError:
        return None
    return None if row is None else (row, to_alert(row))
