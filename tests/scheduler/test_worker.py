"""Workers in threads on one database: one schedules, each slot runs once, failover, restarts, misfires."""

from __future__ import annotations

import datetime as dt
import logging
import math
import pickle
import time
from collections import Counter
from dataclasses import replace

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot.scheduler.jobs import CHECK, DIGEST, SYNC
from bot.scheduler.lease import current_holder
from bot.scheduler.planner import BoardCalendar, PlannedTrigger
from bot.services.jobs import claimed
from bot.store.boards import remove_board
from bot.store.models import APSCHEDULER_JOBS, Board
from tests.scheduler.conftest import (
    ANCHOR,
    Recorder,
    RecordingBodies,
    add_test_board,
    every,
    fast_options,
    wait_for,
)

UTC = dt.UTC


def duplicates(recorder: Recorder, kind: str = DIGEST) -> list[tuple[int, str | None]]:
    return [slot for slot, count in Counter(recorder.slots(kind)).items() if count > 1]


def test_two_workers_one_schedules_each_slot_runs_once_and_the_standby_takes_over(sessions, start_worker):
    """Only the lease holder runs jobs; when it dies without releasing, the standby goes on within the TTL."""
    boards = [add_test_board(sessions, "A"), add_test_board(sessions, "B")]
    recorder = Recorder()
    killable = fast_options(release_on_stop=False)  # stopping one is killing it: its lease is left to expire
    one = start_worker(RecordingBodies(recorder, "one"), replace(killable, holder="one"))
    two = start_worker(RecordingBodies(recorder, "two"), replace(killable, holder="two"))

    wait_for(lambda: current_holder(sessions, "scheduler") is not None, 5, "a leader")
    leader, standby = (one, two) if current_holder(sessions, "scheduler") == "one" else (two, one)
    wait_for(lambda: all(len(recorder.of(DIGEST, b)) >= 2 for b in boards), 6, "two digests per board")
    assert {call.worker for call in recorder.calls} == {leader.holder}
    assert duplicates(recorder) == []

    leader.stop()
    killed_at = time.monotonic()
    wait_for(
        lambda: all(recorder.of(DIGEST, b, worker=standby.holder) for b in boards), 8, "the standby's digests"
    )
    assert time.monotonic() - killed_at < killable.lease_ttl_s + 2
    assert current_holder(sessions, "scheduler") == standby.holder
    assert duplicates(recorder) == []


def test_a_restart_posts_nothing_twice_and_claimed_slots_are_skipped(sessions, start_worker):
    """Stop and start again: no slot runs twice; a slot claimed elsewhere (e.g. before a crash) never runs."""
    board = add_test_board(sessions, "A")
    recorder = Recorder()
    first = start_worker(RecordingBodies(recorder, "first"))
    wait_for(lambda: len(recorder.of(DIGEST)) >= 2, 5, "two digests")
    first.stop()  # a clean restart: the lease is released, so the next worker leads at once

    # The next two slots, claimed as if a previous run had posted them and crashed before noting it.
    next_slot = math.ceil(time.time() * 2) / 2
    upcoming = [dt.datetime.fromtimestamp(next_slot + 0.5 * k, UTC).isoformat() for k in (0, 1)]
    assert all(claimed(sessions, DIGEST, board, slot) for slot in upcoming)
    second = start_worker(RecordingBodies(recorder, "second"))
    wait_for(lambda: any(slot > upcoming[-1] for _, slot in recorder.slots() if slot), 5, "a later digest")
    second.stop()
    assert duplicates(recorder) == []
    assert not set(upcoming) & {slot for _, slot in recorder.slots()}
    assert {call.worker for call in recorder.calls} == {"first", "second"}


def test_a_failing_board_does_not_stop_the_others(sessions, start_worker, caplog):
    """Board A's sync raises every time; B and C keep syncing, and the error is logged with A's id."""
    broken, *healthy = (add_test_board(sessions, name) for name in "ABC")
    recorder = Recorder()
    caplog.set_level(logging.WARNING, logger="flowcoach.scheduler")
    start_worker(
        RecordingBodies(recorder, "w", failing=frozenset({broken})), fast_options(triggers=every(0.5, SYNC))
    )
    wait_for(lambda: all(len(recorder.of(SYNC, b)) >= 3 for b in healthy), 6, "three syncs of B and C")
    assert recorder.of(SYNC, broken) == []
    # The check after a sync is the sync job's own: the scheduler never adds a second one.
    assert recorder.of(CHECK) == []
    failures = [
        r for r in caplog.records if r.levelno == logging.ERROR and getattr(r, "board_id", None) == broken
    ]
    assert failures and f"job=sync board={broken} failed" in failures[0].getMessage()


def test_boards_added_removed_or_changed_while_running_are_picked_up(sessions, start_worker):
    """Re-planning from the database: a new board gets jobs, a removed one loses them, a changed one moves."""

    def sync_by_setting(board: BoardCalendar) -> dict[str, PlannedTrigger]:
        seconds = board.sync_minutes / 30  # the default 15 minutes: every 0.5 s; 1440: every 48 s
        trigger = IntervalTrigger(seconds=seconds, start_date=ANCHOR, timezone=UTC)
        return {SYNC: PlannedTrigger(trigger, f"every {seconds} s")}

    first = add_test_board(sessions, "A")
    recorder = Recorder()
    start_worker(RecordingBodies(recorder, "w"), fast_options(triggers=sync_by_setting))
    wait_for(lambda: len(recorder.of(SYNC, first)) >= 1, 3, "board A's sync")
    second = add_test_board(sessions, "B")
    wait_for(lambda: len(recorder.of(SYNC, second)) >= 1, 3, "the new board's sync")

    with sessions.begin() as session:
        remove_board(session, "A")
        session.get_one(Board, second).coaching_settings = {"sync_minutes": 1440}
    wait_for(lambda: stored_jobs(sessions) == {f"sync:{second}": 48.0}, 3, "A's job gone, B's rescheduled")
    counts = len(recorder.of(SYNC, first)), len(recorder.of(SYNC, second))
    time.sleep(0.6)
    assert (len(recorder.of(SYNC, first)), len(recorder.of(SYNC, second))) == counts


def stored_jobs(sessions) -> dict[str, float]:
    """The job store's jobs: id → the interval of its trigger in seconds, as the worker stored it."""
    with sessions() as session:
        rows = session.execute(select(APSCHEDULER_JOBS.c.id, APSCHEDULER_JOBS.c.job_state)).all()
    return {job_id: pickle.loads(state)["trigger"].interval.total_seconds() for job_id, state in rows}


def test_a_run_missed_while_no_worker_ran_runs_once_within_the_grace_time_and_is_skipped_beyond(
    sessions, start_worker, caplog
):
    """Jobs persist: after downtime, a slot 0.3 s late runs once; one later than the grace time is skipped."""
    caplog.set_level(logging.WARNING, logger="flowcoach.scheduler")
    late, missed = add_test_board(sessions, "Late"), add_test_board(sessions, "Missed")
    started = time.time()
    due = {missed: started + 1.0, late: started + 2.2}  # both after the first worker has stopped

    def hourly_from_due(board: BoardCalendar) -> dict[str, PlannedTrigger]:
        start = dt.datetime.fromtimestamp(due[board.board_id], UTC)
        trigger = IntervalTrigger(hours=1, start_date=start, timezone=UTC)
        return {DIGEST: PlannedTrigger(trigger, f"hourly from {start}")}

    options = fast_options(triggers=hourly_from_due, misfire_grace_s=1)
    recorder = Recorder()
    first = start_worker(RecordingBodies(recorder, "first"), options)
    wait_for(lambda: current_holder(sessions, "scheduler") == first.holder, 1, "the first worker to lead")
    time.sleep(0.2)  # it has planned and stored both jobs
    first.stop()
    assert time.time() < due[missed] - 0.2, "the first worker ran too long for this test's timing"

    time.sleep(due[late] + 0.3 - time.time())  # "missed" is now 1.5 s late, "late" 0.3 s
    start_worker(RecordingBodies(recorder, "second"), options)
    wait_for(lambda: len(recorder.of(DIGEST, late)) >= 1, 2, "the late digest")
    time.sleep(0.3)
    assert [(c.worker, c.slot) for c in recorder.of(DIGEST)] == [
        ("second", dt.datetime.fromtimestamp(due[late], UTC).isoformat())
    ]
    skipped = [r.getMessage() for r in caplog.records if r.name == "flowcoach.scheduler"]
    assert any(f"job=digest board={missed} skipped the run due at" in message for message in skipped)
