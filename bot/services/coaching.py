"""The live coach as a use case: evaluate a stored board now, store its alerts, and say what to deliver.

``evaluate_board`` returns ``Decision``s (post, fold, repost, reopen, resolve) once the alerts are committed,
and commits with them, in the same transaction, what to say in Slack to the board's outbox
(``bot/store/nudge_outbox.py``): the posts (or folds) of one evaluation as one message, each repost, and a
redraw of each posted message with an alert that resolved or reopened. Sending it is the edge's job
(``bot/slack/nudge_delivery.py``); ``message_view`` gives a message's alerts back to draw it again
(resolved, acknowledged, snoozed). So a crash, a retry or a second worker never decides the same post twice,
and a decided post is never lost: it waits in the outbox until Slack takes it.

Two evaluations of one board at once would both insert the same new alerts; they are serialised per board:
by a lock in this process and, on PostgreSQL, by locking the board's row for the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from analytics.calendar import day_start
from analytics.signals import board_signals
from analytics.timeline import build_timeline
from bot.coach.alert_store import last_message_at, load_alerts, messages_since, save_alert, to_alert
from bot.coach.engine import Coach, evaluate_at
from bot.coach.lifecycle import Action, Alert
from bot.services.locks import BoardLocks
from bot.store import nudge_outbox
from bot.store.board_settings import load_board_settings
from bot.store.boards import board_workflow
from bot.store.eventstore import load_events
from bot.store.models import AlertState, Board, ChannelSnooze, DeliveryClaim

_evaluating = BoardLocks()


@dataclass(frozen=True)
class Decision:
    """One action on one alert, with what delivering it needs: the alert's row and where it was said."""

    action: Action
    alert_id: int
    board_id: int
    board: str
    channel: str
    message_ts: str | None
    first: bool = False  # a post of the board's first message: "what I see now"

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
    with _evaluating.of(board_id), sessions.begin() as session:
        board = session.scalars(select(Board).where(Board.id == board_id).with_for_update()).one()
        if board.channel_id is None:
            return []  # nowhere to speak yet
        workflow = board_workflow(board)
        settings = load_board_settings(board.coaching_settings)
        coach = Coach.of(workflow, settings.thresholds)
        moment = pd.Timestamp(now)
        stale_after = dt.timedelta(hours=settings.thresholds.stale_after_hours)
        stale = board.last_synced_at is None or now - board.last_synced_at > stale_after
        midnight = day_start(moment.tz_convert(workflow.timezone).date(), workflow.timezone).to_pydatetime()
        policy = coach.policy(
            moment,
            stale=stale,
            posts_today=messages_since(session, board_id, board.channel_id, midnight),
            channel_snoozed_until=_channel_snooze(session, board),
            last_message_at=last_message_at(session, board_id, board.channel_id, moment),
        )
        alerts, rows = load_alerts(session, board_id)
        timeline = build_timeline(load_events(session, board_id, workflow), workflow, moment)
        signals = board_signals(timeline, moment, coach.window_start(moment))
        previous = None if board.last_evaluated_at is None else pd.Timestamp(board.last_evaluated_at)
        spoke_before = any(alert.posted_at is not None for alert in alerts.values())
        actions = evaluate_at(coach, signals, alerts, policy, previous)
        _remember_evaluation(session, board, now)
        first = any(a.kind == "post" for a in actions) and _introduces(session, board_id, spoke_before)
        folded = {id(action.alert) for action in actions if action.kind == "fold"}
        saved = {
            key: save_alert(session, board_id, alert, rows.get(key), folded=id(alert) in folded)
            for key, alert in alerts.items()
        }
        session.flush()
        decisions = [
            Decision(
                action,
                alert_id=saved[action.alert.key].id,
                board_id=board_id,
                board=board.name,
                channel=board.channel_id,
                message_ts=saved[action.alert.key].message_ts,
                first=first and action.kind == "post",
            )
            for action in actions
        ]
        _to_outbox(session, decisions, now)
        return decisions


def _to_outbox(session: Session, decisions: Sequence[Decision], now: dt.datetime) -> None:
    """What the decisions say in Slack, stored to be sent: the posts (or folds) as one message, then each
    repost in its message's thread, then each posted message with an alert that changed, drawn again."""
    posts = [decision for decision in decisions if decision.kind in ("post", "fold")]
    if posts:
        head = posts[0]
        nudge_outbox.add_message(
            session,
            head.board_id,
            head.channel,
            [decision.alert_id for decision in posts],
            fold=head.kind == "fold",
            first=any(decision.first for decision in posts),
            now=now,
        )
    for decision in decisions:
        if decision.kind == "repost":
            nudge_outbox.add_repost(session, decision.board_id, decision.channel, decision.alert_id, now=now)
    changed = {
        (decision.channel, decision.message_ts): decision.board_id
        for decision in decisions
        if decision.kind in ("resolve", "reopen") and decision.message_ts
    }
    for (channel, ts), board_id in changed.items():
        assert ts is not None
        nudge_outbox.add_redraw(session, board_id, channel, ts, now=now)


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


def _channel_snooze(session: Session, board: Board) -> pd.Timestamp | None:
    until = session.scalar(
        select(ChannelSnooze.until).where(
            ChannelSnooze.workspace_id == board.workspace_id, ChannelSnooze.channel_id == board.channel_id
        )
    )
    return None if until is None else pd.Timestamp(until)


def _introduces(session: Session, board_id: int, spoke_before: bool) -> bool:
    """Whether this evaluation posts the board's first message (just connected: "what I see now").

    Recorded once per board, in the evaluation's transaction; a board that spoke before this was recorded
    (its alerts were posted) is not introduced again."""
    key = f"coach-first-message:{board_id}"
    if session.get(DeliveryClaim, key) is not None:
        return False
    session.add(DeliveryClaim(key=key))
    return not spoke_before


@dataclass(frozen=True)
class MessageView:
    """A posted message's alerts (with their ids), to draw it again as it stands now."""

    board: str
    first: bool
    alerts: tuple[tuple[int, Alert], ...]


def message_view(session: Session, channel: str, ts: str) -> MessageView | None:
    """Every alert the message at ``ts`` in ``channel`` carries (None when no alert remembers it)."""
    rows = session.scalars(
        select(AlertState)
        .where(AlertState.channel_id == channel, AlertState.message_ts == ts)
        .order_by(AlertState.id)
    ).all()
    if not rows:
        return None
    board = session.get_one(Board, rows[0].board_id)
    first = any((row.details or {}).get("first_message") for row in rows)
    return MessageView(board.name, first, tuple((row.id, to_alert(row)) for row in rows))


def overflow_thread_of_day(
    sessions: sessionmaker[Session], board_id: int, channel: str, now: dt.datetime
) -> str | None:
    """Today's "more flow signals" thread of the board in the channel, if a message over its budget
    started one (each board in a channel has its own budget and its own thread). "Today" is the board's
    local day, as the budget counts it: at 00:30 in Zurich the UTC date is still yesterday's."""
    with sessions() as session:
        zone = board_workflow(session.get_one(Board, board_id)).timezone
        midnight = pd.Timestamp(now).tz_convert(zone).normalize().to_pydatetime()
        started = nudge_outbox.thread_of_day(session, board_id, channel, midnight)
        if started is not None:  # by a fold whose own message may still be waiting to go out
            return started
        rows = session.scalars(
            select(AlertState).where(
                AlertState.board_id == board_id,
                AlertState.channel_id == channel,
                AlertState.posted_at >= midnight,
            )
        )
        for row in rows:
            thread = (row.details or {}).get("thread_ts")
            if thread:
                return str(thread)
    return None


def daily_budget(sessions: sessionmaker[Session], board_id: int) -> int:
    """How many nudges the board's channel may get in a day before the rest fold into a thread."""
    with sessions() as session:
        board = session.get_one(Board, board_id)
        return load_board_settings(board.coaching_settings).thresholds.max_alerts_per_day


def alerts_for_button(session: Session, value: object) -> list[tuple[AlertState, Alert]]:
    """The alerts a button names (an item's button names all of its reasons: "12,15"), with their rows;
    empty when they are gone. All belong to the board of the first one."""
    try:
        ids = [int(part) for part in str(value).split(",") if part.strip()]
    except ValueError:
        return []
    rows = [row for row in (session.get(AlertState, alert_id) for alert_id in ids) if row is not None]
    return [(row, to_alert(row)) for row in rows if row.board_id == rows[0].board_id]


def alert_for_button(session: Session, alert_id: object) -> tuple[AlertState, Alert] | None:
    """The (first) alert a button names, with its row (None when it is gone)."""
    found = alerts_for_button(session, alert_id)
    return found[0] if found else None
