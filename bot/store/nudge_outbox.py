"""The coach's outbox (``NudgeOutboxEntry``): what an evaluation decided to say, stored in its transaction,
then sent in order and marked once.

Each step is one short transaction, so whatever stops a delivery (Slack refusing for minutes, a worker
killed) leaves an entry that says how far it got: ``pending`` (nothing out), ``posting`` (a post may be out:
ask the channel before posting again), ``sent`` or ``dropped``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import AlertState, NudgeOutboxEntry, utcnow

PENDING: Final = "pending"
POSTING: Final = "posting"
SENT: Final = "sent"
DROPPED: Final = "dropped"
WAITING: Final = (PENDING, POSTING)

MESSAGE: Final = "message"  # the alerts one evaluation posts (or folds into the day's thread)
REPOST: Final = "repost"  # materially worse: said again in the thread of its alert's message
REDRAW: Final = "redraw"  # a posted message drawn again after one of its alerts resolved or reopened

KEPT_FOR = dt.timedelta(days=30)  # finished entries are history for `flowcoach jobs`, then deleted


@dataclass(frozen=True)
class OutboxEntry:
    """A waiting entry as its sender sees it (a snapshot: the row may change behind it)."""

    id: int
    board_id: int
    channel: str
    kind: str
    alert_ids: tuple[int, ...]
    fold: bool
    first: bool
    target_ts: str | None
    state: str
    created_at: dt.datetime
    attempts: int
    next_attempt_at: dt.datetime | None
    thread_ts: str | None

    @property
    def key(self) -> str:
        """What its message carries in its metadata, so the channel can be asked whether it went out."""
        return f"nudge:{self.id}"

    @property
    def thread_key(self) -> str:
        """The same for the "more flow signals" thread this entry started."""
        return f"nudge-thread:{self.id}"


def add_message(
    session: Session,
    board_id: int,
    channel: str,
    alert_ids: Sequence[int],
    *,
    fold: bool,
    first: bool,
    now: dt.datetime,
) -> None:
    """Store one evaluation's alerts as one message to send (in the caller's transaction)."""
    session.add(
        NudgeOutboxEntry(
            board_id=board_id,
            channel_id=channel,
            kind=MESSAGE,
            alert_ids=list(alert_ids),
            fold=fold,
            first=first,
            state=PENDING,
            created_at=now,
        )
    )


def add_repost(session: Session, board_id: int, channel: str, alert_id: int, *, now: dt.datetime) -> None:
    """Store a repost of an alert, said in its message's thread (in the caller's transaction)."""
    session.add(
        NudgeOutboxEntry(
            board_id=board_id,
            channel_id=channel,
            kind=REPOST,
            alert_ids=[alert_id],
            state=PENDING,
            created_at=now,
        )
    )


def add_redraw(session: Session, board_id: int, channel: str, ts: str, *, now: dt.datetime) -> None:
    """Store that the message at ``ts`` must be drawn again, unless that is waiting already."""
    waiting = session.scalar(
        select(NudgeOutboxEntry.id).where(
            NudgeOutboxEntry.board_id == board_id,
            NudgeOutboxEntry.kind == REDRAW,
            NudgeOutboxEntry.channel_id == channel,
            NudgeOutboxEntry.target_ts == ts,
            NudgeOutboxEntry.state.in_(WAITING),
        )
    )
    if waiting is None:
        session.add(
            NudgeOutboxEntry(
                board_id=board_id,
                channel_id=channel,
                kind=REDRAW,
                target_ts=ts,
                state=PENDING,
                created_at=now,
            )
        )


def waiting(sessions: sessionmaker[Session], board_id: int) -> list[OutboxEntry]:
    """The board's entries still to send, oldest first."""
    with sessions() as session:
        rows = session.scalars(
            select(NudgeOutboxEntry)
            .where(NudgeOutboxEntry.board_id == board_id, NudgeOutboxEntry.state.in_(WAITING))
            .order_by(NudgeOutboxEntry.id)
        ).all()
        return [_snapshot(row) for row in rows]


def has_waiting(sessions: sessionmaker[Session], board_id: int) -> bool:
    """Whether the board has anything to send (most checks decide nothing: nothing to look up then)."""
    with sessions() as session:
        return (
            session.scalar(
                select(NudgeOutboxEntry.id)
                .where(NudgeOutboxEntry.board_id == board_id, NudgeOutboxEntry.state.in_(WAITING))
                .limit(1)
            )
            is not None
        )


def _snapshot(row: NudgeOutboxEntry) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        board_id=row.board_id,
        channel=row.channel_id,
        kind=row.kind,
        alert_ids=tuple(row.alert_ids or ()),
        fold=row.fold,
        first=row.first,
        target_ts=row.target_ts,
        state=row.state,
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        thread_ts=row.thread_ts,
    )


def posting(sessions: sessionmaker[Session], entry_id: int) -> bool:
    """Note that a post of the entry is about to go out: until it is marked, it may be in the channel."""
    return _set(
        sessions, entry_id, state=POSTING, attempts=NudgeOutboxEntry.attempts + 1, next_attempt_at=None
    )


def started_thread(sessions: sessionmaker[Session], entry_id: int, thread_ts: str) -> bool:
    """The day's "more flow signals" thread this fold goes in (started by it, or found)."""
    return _set(sessions, entry_id, thread_ts=thread_ts)


def retry_later(
    sessions: sessionmaker[Session], entry_id: int, *, at: dt.datetime, note: str, maybe_posted: bool
) -> bool:
    """Leave the entry for an attempt at ``at`` or later: ``pending`` when Slack said it did nothing,
    ``posting`` when its answer was lost (the channel is asked first next time)."""
    return _set(
        sessions, entry_id, state=POSTING if maybe_posted else PENDING, next_attempt_at=at, note=note[:200]
    )


def mark_sent(
    sessions: sessionmaker[Session],
    entry: OutboxEntry,
    ts: str,
    *,
    alert_ids: Sequence[int] = (),
    note: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Mark the entry sent at ``ts``; for a message, record where it went on each of ``alert_ids`` in the
    same transaction (so it is drawn again when one of them changes)."""
    with sessions.begin() as session:
        marked = _update(
            session,
            entry.id,
            state=SENT,
            posted_ts=ts,
            finished_at=now or utcnow(),
            next_attempt_at=None,
            note=note[:200] if note else None,
        )
        if marked and entry.kind == MESSAGE:
            for alert_id in alert_ids:
                row = session.get(AlertState, alert_id)
                if row is None:
                    continue
                row.channel_id, row.message_ts = entry.channel, ts
                details = dict(row.details or {})
                if entry.thread_ts:
                    details["thread_ts"] = entry.thread_ts
                if entry.first:
                    details["first_message"] = True
                row.details = details
        return marked


def drop(
    sessions: sessionmaker[Session], entry_id: int, note: str, *, now: dt.datetime | None = None
) -> bool:
    """Give the entry up, saying why (nothing of it is in the channel, or it no longer matters)."""
    return _set(sessions, entry_id, state=DROPPED, finished_at=now or utcnow(), note=note[:200])


def drop_waiting(sessions: sessionmaker[Session], board_id: int, note: str) -> int:
    """Give up every waiting entry of the board (it cannot speak any more); how many."""
    with sessions.begin() as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(NudgeOutboxEntry)
                .where(NudgeOutboxEntry.board_id == board_id, NudgeOutboxEntry.state.in_(WAITING))
                .values(state=DROPPED, finished_at=utcnow(), note=note[:200])
                .execution_options(synchronize_session=False)
            ),
        )
        return int(result.rowcount or 0)


def forget_finished(sessions: sessionmaker[Session], board_id: int, *, now: dt.datetime) -> None:
    """Delete the board's entries finished more than ``KEPT_FOR`` ago."""
    with sessions.begin() as session:
        session.execute(
            delete(NudgeOutboxEntry).where(
                NudgeOutboxEntry.board_id == board_id,
                NudgeOutboxEntry.state.in_((SENT, DROPPED)),
                NudgeOutboxEntry.finished_at < now - KEPT_FOR,
            )
        )


def thread_of_day(session: Session, board_id: int, channel: str, midnight: dt.datetime) -> str | None:
    """The "more flow signals" thread an entry of the board started in the channel since ``midnight``."""
    return session.scalar(
        select(NudgeOutboxEntry.thread_ts)
        .where(
            NudgeOutboxEntry.board_id == board_id,
            NudgeOutboxEntry.channel_id == channel,
            NudgeOutboxEntry.thread_ts.is_not(None),
            NudgeOutboxEntry.created_at >= midnight,
        )
        .order_by(NudgeOutboxEntry.id)
        .limit(1)
    )


def count_waiting(sessions: sessionmaker[Session]) -> tuple[int, dt.datetime | None]:
    """How many entries wait to be sent, over every board, and since when the oldest."""
    with sessions() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(NudgeOutboxEntry.created_at)).where(
                NudgeOutboxEntry.state.in_(WAITING)
            )
        ).one()
    return int(count), oldest


def _set(sessions: sessionmaker[Session], entry_id: int, **values: Any) -> bool:
    with sessions.begin() as session:
        return _update(session, entry_id, **values)


def _update(session: Session, entry_id: int, **values: Any) -> bool:
    """Change a waiting entry; False when it is finished already (another sender got there first)."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(NudgeOutboxEntry)
            .where(NudgeOutboxEntry.id == entry_id, NudgeOutboxEntry.state.in_(WAITING))
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1
