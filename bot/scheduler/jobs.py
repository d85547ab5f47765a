"""What the scheduler hands over for a board (a ``DueJob``), and the contract of the object that runs it.

The scheduler only decides *when*; ``bot.services.jobs.BoardJobs`` decides *what* (and takes each digest and
review slot in the slot ledger before delivering it). Tests hand the scheduler a recording stand-in instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.services.jobs import CHECK, DIGEST, JOB_KINDS, SLOTTED_KINDS, SYNC, WEEKLY_REVIEW

__all__ = [
    "CHECK",
    "DIGEST",
    "JOB_KINDS",
    "SLOTTED_KINDS",
    "SYNC",
    "WEEKLY_REVIEW",
    "DueJob",
    "JobBodies",
]


@dataclass(frozen=True, order=True)
class DueJob:
    """One job to run now: ``kind`` of ``board_id``, and for a digest or review the slot it delivers."""

    kind: str
    board_id: int
    slot: str | None = None  # the board-local scheduled time, ISO 8601 (digests and reviews only)

    @property
    def queueing_lock(self) -> str:
        """At most one such job waits at a time: a late sync is not piled on by the next one. A digest or
        review is one job per slot: two slots of a board (a late one and today's) are both delivered."""
        if self.slot is not None:
            return f"{self.kind}:{self.board_id}:{self.slot}"
        return f"{self.kind}:{self.board_id}"

    @property
    def board_lock(self) -> str:
        """One job of a board runs at a time: a sync and a check never overlap."""
        return f"board:{self.board_id}"


class JobBodies(Protocol):
    """The work behind each job, for one board. Exceptions are logged (and, on the queue, retried).

    ``sync`` includes the check that follows it; ``digest`` and ``weekly_review`` take their slot as
    ``holder`` (a retry of the same job passes the same holder) before delivering it.
    """

    def sync(self, board_id: int) -> None: ...

    def check(self, board_id: int, at: dt.datetime) -> object: ...

    def digest(self, board_id: int, slot: str, holder: str) -> None: ...

    def weekly_review(self, board_id: int, slot: str, holder: str) -> None: ...
