"""A lease in the database that lets exactly one worker process run the scheduler at a time.

APScheduler 3 has no coordination of its own: two schedulers on one job store both fire every job. So a worker
schedules only while it holds this lease, renews it well before it expires, and a standby takes it over once
a holder stops renewing (it died, hung or lost the database). Every step is one conditional statement whose
outcome the database decides, so it is atomic on SQLite and PostgreSQL alike, without advisory locks or
dialect-specific upserts.

Expiry is judged by the workers' clocks, so hosts must keep them synchronised (NTP); the default TTL leaves
tens of seconds of slack for that.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.models import SchedulerLease, utcnow

SCHEDULER_LEASE = "scheduler"
DEFAULT_TTL_S = 45.0
DEFAULT_RENEW_EVERY_S = 15.0  # three renewals per TTL: one slow or failed renewal does not lose the lease


def holder_id() -> str:
    """``host:pid:uuid``: which process holds the lease, unique even when a pid is reused after a restart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def acquire_or_renew(
    sessions: sessionmaker[Session],
    name: str,
    holder: str,
    ttl: float = DEFAULT_TTL_S,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Take the lease ``name`` (free or expired) or extend it if ``holder`` has it; True when held now.

    The guarded UPDATE is the whole decision when the row exists: of two contenders for an expired lease, the
    database lets one UPDATE match and the other re-evaluates its WHERE on the winner's row and matches
    nothing. When no row exists yet, the primary key lets one INSERT win.
    """
    now = now or utcnow()
    expires_at = now + dt.timedelta(seconds=ttl)
    with sessions.begin() as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == name,
                    (SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now),
                )
                .values(holder=holder, expires_at=expires_at, renewed_at=now)
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount == 1:
            return True
    # A separate read, then a separate insert: a read followed by a write in one SQLite transaction fails
    # outright (instead of waiting) when another connection wrote in between.
    with sessions() as session:
        if session.scalar(select(SchedulerLease.name).where(SchedulerLease.name == name)) is not None:
            return False  # held by someone else and not expired
    try:
        with sessions.begin() as session:
            session.add(SchedulerLease(name=name, holder=holder, expires_at=expires_at, renewed_at=now))
    except IntegrityError:
        return False  # another process inserted it first
    return True


def release(
    sessions: sessionmaker[Session], name: str, holder: str, *, now: dt.datetime | None = None
) -> bool:
    """Give the lease up at once (a clean shutdown), so a standby need not wait for it to expire.

    Only the holder can release it; the row stays, expired, to show who held it last. True if it was held.
    """
    now = now or utcnow()
    with sessions.begin() as session:
        result = cast(
            CursorResult[Any],
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
                .values(expires_at=now)
                .execution_options(synchronize_session=False)
            ),
        )
        return result.rowcount == 1


def current_holder(
    sessions: sessionmaker[Session], name: str, *, now: dt.datetime | None = None
) -> str | None:
    """Who holds the lease now, or None when it is free or expired."""
    now = now or utcnow()
    with sessions() as session:
        lease = session.get(SchedulerLease, name)
        return lease.holder if lease is not None and lease.expires_at >= now else None
