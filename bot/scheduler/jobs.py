"""What the scheduler runs for a board: the job kinds, and the contract of the object that runs them.

The scheduler only decides *when*; ``bot.services.jobs.BoardJobs`` decides *what* (and claims each digest
and review slot before delivering it). Tests hand the scheduler a recording stand-in instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from bot.services.jobs import CHECK, DIGEST, JOB_KINDS, SLOTTED_KINDS, SYNC, WEEKLY_REVIEW

__all__ = ["CHECK", "DIGEST", "JOB_KINDS", "SLOTTED_KINDS", "SYNC", "WEEKLY_REVIEW", "JobBodies"]


class JobBodies(Protocol):
    """The work behind each scheduled job, for one board. Exceptions are logged by the scheduler.

    ``sync`` includes the check that follows it; ``digest`` and ``weekly_review`` claim their slot.
    """

    def sync(self, board_id: int) -> None: ...

    def check(self, board_id: int, at: dt.datetime) -> object: ...

    def digest(self, board_id: int, slot: str) -> None: ...

    def weekly_review(self, board_id: int, slot: str) -> None: ...
