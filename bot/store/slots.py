"""The ledger of digest and review slots (``JobSlot``): recorded once, taken for a while, finished once.

Every step is one statement whose outcome the database decides (a conditional UPDATE, an INSERT that a
primary key lets win once), so any number of schedulers and workers, on SQLite or PostgreSQL, agree on who
hands a slot over and who delivers it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import JobSlot, utcnow

DUE: Final = "due"
TAKEN: Final = "taken"
POSTING: Final = "posting"  # its holder was sending it to Slack: if the holder died, it may have arrived
DELIVERED: Final = "delivered"
MISSED: Final = "missed"
OPEN_STATES: Final = (DUE, TAKEN, POSTING)
CHUNK = 500  # slots per INSERT: 8 parameters each, well under every database's limit on bound parameters


@dataclass(frozen=True, order=True)
class SlotKey:
    kind: str
    board_id: int
    slot: str  # the board-local scheduled time, ISO 8601 with its offset

    @property
    def due_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.slot).astimezone(dt.UTC)

    def __str__(self) -> str:
        return f"{self.kind}:{self.board_id}:{self.slot}"


def record_due(
    sessions: sessionmaker[Session], keys: Sequence[SlotKey], *, now: dt.datetime | None = None
) -> list[SlotKey]:
    """Record the slots not recorded yet as due; the ones this call recorded (and so must hand over).

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per chunk on PostgreSQL and SQLite: the database
    says which rows were new, atomically, however many schedulers record the same slots at once.
    """
    now = now or utcnow()
    insert = postgresql_insert if sessions.kw["bind"].dialect.name == "postgresql" else sqlite_insert
    # The executemany form: SQLAlchemy compiles the statement once (cached) and sends the rows in batches
    # ("insertmanyvalues"), far cheaper than compiling a 500-row VALUES clause every time.
    statement = (
        insert(JobSlot).on_conflict_do_nothing().returning(JobSlot.kind, JobSlot.board_id, JobSlot.slot)
    )
    fresh: list[SlotKey] = []
    unique = sorted(set(keys))
    for start in range(0, len(unique), CHUNK):
        rows = [_due_values(key, now) for key in unique[start : start + CHUNK]]
        with sessions.begin() as session:
            result = session.connection().execute(statement, rows)
            fresh.extend(SlotKey(kind, board_id, slot) for kind, board_id, slot in result)
    return sorted(fresh)


def _due_values(key: SlotKey, now: dt.datetime) -> dict[str, Any]:
    """A slot's row as it is first recorded: due, handed over once."""
    return {
        "kind": key.kind,
        "board_id": key.board_id,
        "slot": key.slot,
        "due_at": key.due_at,
        "state": DUE,
        "dispatched_at": now,
        "dispatches": 1,
        "parts_done": 0,
    }


def take(
    sessions: sessionmaker[Session],
    key: SlotKey,
    holder: str,
    *,
    hold_for: dt.timedelta,
    now: dt.datetime | None = None,
) -> str | None:
    """Take the slot to deliver it: for one holder at a time, never once it is finished. None when not
    taken; else the state it was taken from: ``POSTING`` says a holder died while sending it (it may be in
    the channel already: check before sending again), anything else that it was never sent.

    A slot is free to take when it is due, when its holder's time ran out (that worker died or hung), or
    when ``holder`` took it before (the same job retried after its worker died).
    """
    now = now or utcnow()
    free = or_(JobSlot.taken_until < now, JobSlot.taken_by == holder)
    taking = {"state": TAKEN, "taken_by": holder, "taken_at": now, "taken_until": now + hold_for}
    if _set(sessions, key, or_(JobSlot.state == DUE, and_(JobSlot.state == TAKEN, free)), **taking):
        return TAKEN
    # Taken from a holder that died while posting: it stays marked so until it is finished, so that if
    # this holder dies too, the next one still checks the channel first.
    if _set(sessions, key, and_(JobSlot.state == POSTING, free), **(taking | {"state": POSTING})):
        return POSTING
    try:  # handed over without being recorded (run by hand, or recorded by nobody): record it taken
        with sessions.begin() as session:
            row = JobSlot(**_due_values(key, now))
            row.state, row.taken_by, row.taken_at, row.taken_until = TAKEN, holder, now, now + hold_for
            session.add(row)
        return TAKEN
    except IntegrityError:  # recorded in between: the updates above decide
        if _set(sessions, key, or_(JobSlot.state == DUE, and_(JobSlot.state == TAKEN, free)), **taking):
            return TAKEN
        return None


def progress_of(sessions: sessionmaker[Session], key: SlotKey) -> tuple[str | None, int]:
    """How far the slot's delivery got: its parent message's ts (None: not posted) and parts after it."""
    with sessions() as session:
        row = session.execute(select(JobSlot.posted_ts, JobSlot.parts_done).where(_is(key))).one_or_none()
    return (None, 0) if row is None else (row.posted_ts, int(row.parts_done or 0))


def record_progress(
    sessions: sessionmaker[Session],
    key: SlotKey,
    holder: str,
    posted_ts: str,
    parts_done: int,
    *,
    hold_for: dt.timedelta,
) -> bool:
    """Note what ``holder`` has posted so far, and hold the slot ``hold_for`` longer; only the holder can
    (False: its hold ran out and another took the slot over)."""
    return _set(
        sessions,
        key,
        _held_by(holder),
        posted_ts=posted_ts,
        parts_done=parts_done,
        taken_until=utcnow() + hold_for,
    )


def hold_on(sessions: sessionmaker[Session], key: SlotKey, holder: str, *, hold_for: dt.timedelta) -> bool:
    """Hold the slot ``hold_for`` longer before sending the next part; False when another took it over."""
    return _set(sessions, key, _held_by(holder), taken_until=utcnow() + hold_for)


def pause(sessions: sessionmaker[Session], key: SlotKey, holder: str, *, note: str) -> bool:
    """Leave a delivery cut short (part of it posted) for the next attempt to resume at once."""
    return _set(
        sessions,
        key,
        and_(JobSlot.state == POSTING, JobSlot.taken_by == holder),
        taken_until=utcnow(),
        note=note[:200],
    )


def posting(sessions: sessionmaker[Session], key: SlotKey, holder: str) -> bool:
    """Note that ``holder`` is about to send the slot: from here until it is finished, it may be out."""
    return _set(sessions, key, _held_by(holder), state=POSTING)


def _set(sessions: sessionmaker[Session], key: SlotKey, condition: Any, **values: Any) -> bool:
    with sessions.begin() as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(JobSlot)
                .where(_is(key), condition)
                .values(**values)
                .execution_options(synchronize_session=False)
            ),
        )
        return result.rowcount == 1


def finish(
    sessions: sessionmaker[Session],
    key: SlotKey,
    holder: str,
    state: str,
    *,
    note: str | None = None,
    late_by: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Mark the slot ``delivered`` (``late_by`` when it was posted saying so) or ``missed`` (with why); only
    its holder can. True if it did."""
    assert state in (DELIVERED, MISSED), state
    finished = {
        "state": state,
        "finished_at": now or utcnow(),
        "taken_until": None,
        "note": _note(note),
        "late_by_s": None if late_by is None else int(late_by.total_seconds()),
    }
    return _set(sessions, key, _held_by(holder), **finished)


def give_back(sessions: sessionmaker[Session], key: SlotKey, holder: str, *, note: str | None = None) -> bool:
    """Return a taken slot to ``due`` (its delivery failed before anything was posted) to be tried again."""
    return _set(sessions, key, _held_by(holder), state=DUE, taken_by=None, taken_until=None, note=_note(note))


def _held_by(holder: str) -> Any:
    return and_(JobSlot.state.in_((TAKEN, POSTING)), JobSlot.taken_by == holder)


def _note(note: str | None) -> str | None:
    return note[:200] if note else None


def to_hand_over_again(
    sessions: sessionmaker[Session],
    *,
    due_for: dt.timedelta,
    now: dt.datetime | None = None,
    limit: int = 1000,
) -> list[SlotKey]:
    """The slots to hand over again, each marked so (another caller does not also get it).

    Those ``due`` and handed over more than ``due_for`` ago without anyone taking them (the hand-over was
    lost: a worker queue emptied, a process died before running it), and those ``taken`` past their
    holder's time (the holder died mid-delivery).
    """
    now = now or utcnow()
    stale = or_(
        and_(JobSlot.state == DUE, JobSlot.dispatched_at < now - due_for),
        and_(JobSlot.state == TAKEN, JobSlot.taken_until < now),
        # Handed over again, a posting slot's hold ends at that moment: not again until someone took it.
        and_(
            JobSlot.state == POSTING, JobSlot.taken_until < now, JobSlot.taken_until > JobSlot.dispatched_at
        ),
    )
    with sessions() as session:
        candidates = [
            SlotKey(kind, board_id, slot)
            for kind, board_id, slot in session.execute(
                select(JobSlot.kind, JobSlot.board_id, JobSlot.slot)
                .where(stale)
                .order_by(JobSlot.due_at)
                .limit(limit)
            )
        ]
    again: list[SlotKey] = []
    for key in candidates:
        with sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                session.execute(
                    update(JobSlot)
                    .where(_is(key), stale)
                    .values(
                        # A slot that was being posted stays so, its hold run out, for the next holder to
                        # check the channel before sending it again.
                        state=case((JobSlot.state == POSTING, POSTING), else_=DUE),
                        taken_until=case((JobSlot.state == POSTING, now), else_=None),
                        dispatched_at=now,
                        dispatches=JobSlot.dispatches + 1,
                    )
                    .execution_options(synchronize_session=False)
                ),
            )
        if result.rowcount == 1:
            again.append(key)
    return again


def recorded_since(sessions: sessionmaker[Session], kinds: Iterable[str], since: dt.datetime) -> set[SlotKey]:
    """Every slot of ``kinds`` due at or after ``since``, whatever its state."""
    with sessions() as session:
        rows = session.execute(
            select(JobSlot.kind, JobSlot.board_id, JobSlot.slot).where(
                JobSlot.kind.in_(list(kinds)), JobSlot.due_at >= since
            )
        )
        return {SlotKey(kind, board_id, slot) for kind, board_id, slot in rows}


def open_slots(sessions: sessionmaker[Session], limit: int = 1000) -> list[JobSlot]:
    with sessions() as session:
        return list(
            session.scalars(
                select(JobSlot).where(JobSlot.state.in_(OPEN_STATES)).order_by(JobSlot.due_at).limit(limit)
            )
        )


def count_by_state(sessions: sessionmaker[Session], since: dt.datetime) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(
            select(JobSlot.state, func.count()).where(JobSlot.due_at >= since).group_by(JobSlot.state)
        )
        return {state: int(count) for state, count in rows}


def missed_since(sessions: sessionmaker[Session], since: dt.datetime, limit: int = 50) -> list[JobSlot]:
    with sessions() as session:
        return list(
            session.scalars(
                select(JobSlot)
                .where(JobSlot.state == MISSED, JobSlot.due_at >= since)
                .order_by(JobSlot.due_at.desc())
                .limit(limit)
            )
        )


def _is(key: SlotKey) -> Any:
    return and_(JobSlot.kind == key.kind, JobSlot.board_id == key.board_id, JobSlot.slot == key.slot)
