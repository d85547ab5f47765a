"""Handing due jobs over: a digest or review slot once, however many schedulers fire it; syncs each time."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from bot.scheduler.dispatch import hand_over
from bot.scheduler.jobs import CHECK, DIGEST, SYNC, WEEKLY_REVIEW, DueJob
from tests.scheduler.conftest import add_test_board


class Recording:
    def __init__(self) -> None:
        self.jobs: list[DueJob] = []
        self.lock = threading.Lock()

    def dispatch(self, jobs: Sequence[DueJob]) -> None:
        with self.lock:
            self.jobs.extend(jobs)

    def retry_stalled_jobs(self) -> int:
        return 0

    def close(self, timeout: float) -> int:
        return 0


def test_a_slot_is_handed_over_once_by_two_schedulers_firing_it_at_the_same_moment(sessions):
    """A failover while digests fall due: the old and the new leader both fire 300 slots (and syncs) at
    once, from two threads; each slot is handed over by exactly one of them, the syncs by both."""
    boards = [add_test_board(sessions, f"B{n}") for n in range(100)]
    slot = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC).isoformat()
    due = [DueJob(kind, board, slot) for board in boards for kind in (DIGEST, WEEKLY_REVIEW)]
    due += [
        DueJob(DIGEST, board, dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC).isoformat()) for board in boards
    ]
    due += [DueJob(SYNC, board) for board in boards[:10]] + [DueJob(CHECK, boards[0])]
    old, new = Recording(), Recording()
    start = threading.Barrier(2)

    def fire(dispatcher: Recording) -> None:
        start.wait()
        for chunk in range(0, len(due), 50):  # as the executor hands them over, in batches
            hand_over(sessions, dispatcher, due[chunk : chunk + 50])

    threads = [threading.Thread(target=fire, args=(d,)) for d in (old, new)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    slotted = [job for job in old.jobs + new.jobs if job.slot is not None]
    assert sorted(slotted) == sorted(job for job in due if job.slot is not None)
    unslotted = [job for job in old.jobs + new.jobs if job.slot is None]
    assert len(unslotted) == 2 * 11

    again = Recording()
    hand_over(sessions, again, due)  # a third scheduler, later: only the syncs and the check
    assert all(job.slot is None for job in again.jobs) and len(again.jobs) == 11
