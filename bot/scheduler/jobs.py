"""What the scheduler runs (the job bodies, behind a protocol) and the claim that makes a slot run once.

The scheduler only decides *when*; the bodies decide *what*, and are plain objects callable from commands and
tests too. A digest or weekly review is a slot (one scheduled time of one board): the scheduler claims it in
the database before calling the body, so a failover, a restart or a second scheduler never runs it twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Final, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.store.claims import claim

SYNC: Final = "sync"
CHECK: Final = "check"
DIGEST: Final = "digest"
WEEKLY_REVIEW: Final = "weekly_review"
JOB_KINDS: Final = (SYNC, CHECK, DIGEST, WEEKLY_REVIEW)
SLOTTED_KINDS: Final = frozenset({DIGEST, WEEKLY_REVIEW})  # claimed per slot before they run


class JobBodies(Protocol):
    """The work behind each scheduled job, for one board. Exceptions are logged by the scheduler.

    ``slot`` identifies one scheduled run: the scheduled time in the board's time zone, ISO 8601
    (``2026-03-30T09:30:00+02:00``). When the scheduler calls ``digest`` or ``weekly_review`` it has already
    claimed the slot; a body calling ``claimed()`` for the same slot from inside that run gets True.
    """

    def sync(self, board_id: int) -> None: ...

    def check(self, board_id: int, at: dt.datetime) -> None: ...

    def digest(self, board_id: int, slot: str) -> None: ...

    def weekly_review(self, board_id: int, slot: str) -> None: ...


_held = threading.local()  # the claims the job running on this thread holds


def claim_key(job: str, board_id: int, slot: str) -> str:
    return f"{job}:{board_id}:{slot}"


def claimed(sessions: sessionmaker[Session], job: str, board_id: int, slot: str) -> bool:
    """True for the one caller allowed to run ``job`` of ``board_id`` for ``slot``; False for all others.

    The first caller records the claim (``delivery_claims``); later callers, in any process, get False. The
    run that holds the claim (on this thread) gets True again, so a body may check for itself whether it was
    claimed without refusing the scheduler's own claim.
    """
    key = claim_key(job, board_id, slot)
    if key in _held_keys():
        return True
    return claim(sessions, key)


@contextlib.contextmanager
def holding(key: str) -> Iterator[None]:
    """Mark ``key`` as held by the code running on this thread for the duration of the block."""
    keys = _held_keys()
    keys.add(key)
    try:
        yield
    finally:
        keys.discard(key)


def _held_keys() -> set[str]:
    keys: set[str] | None = getattr(_held, "keys", None)
    if keys is None:
        keys = _held.keys = set()
    return keys
