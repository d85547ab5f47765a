"""Workers in threads on one database: one schedules, each slot runs once, failover, restarts, catching up.

Each test runs on SQLite (jobs on the scheduling worker's threads) and on PostgreSQL (jobs through the
procrastinate queue, run by every worker).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import time
from collections import Counter
from dataclasses import replace

from apscheduler.triggers.interval import IntervalTrigger

from bot.scheduler.jobs import CHECK, DIGEST, SYNC
from bot.scheduler.lease import current_holder
from bot.scheduler.planner import BoardCalendar, PlannedTrigger
from bot.store.boards import remove_board
from bot.store.models import Board, JobSlot
from bot.store.slots import DELIVERED, DUE, TAKEN, SlotKey, finish, record_due, take
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


def on_queue(sessions) -> bool:
    return sessions.kw["bind"].dialect.name == "postgresql"


def test_two_workers_one_schedules_each_slot_runs_once_and_the_standby_takes_over(sessions, start_worker):
    """One lease holder schedules; when it dies without releasing, the standby schedules within the TTL."""
    boards = [add_test_board(sessions, "A"), add_test_board(sessions, "B")]
    recorder = Recorder()
    killable = fast_options(release_on_stop=False)  # stopping one is killing it: its lease is left to expire
    one = start_worker(RecordingBodies(recorder, "one"), replace(killable, holder="one"))
    two = start_worker(RecordingBodies(recorder, "two"), replace(killable, holder="two"))

    wait_for(lambda: current_holder(sessions, "scheduler") is not None, 20, "a leader")
    leader, standby = (one, two) if current_holder(sessions, "scheduler") == "one" else (two, one)
    wait_for(lambda: all(len(recorder.of(DIGEST, b)) >= 4 for b in boards), 20, "four digests per board")
    if on_queue(sessions):  # both workers run jobs from the queue
        wait_for(lambda: {call.worker for call in recorder.calls} == {"one", "two"}, 20, "both to run jobs")
    else:  # the scheduling worker runs them on its threads
        assert {call.worker for call in recorder.calls} == {leader.holder}
    assert duplicates(recorder) == []

    leader.stop()
    before = len(recorder.calls)
    # The lease the dead leader left expires after its TTL; the standby, asking every 0.2 s, then holds it.
    took_over_s = wait_for(lambda: current_holder(sessions, "scheduler") == standby.holder, 20, "the standby")
    assert took_over_s < killable.lease_ttl_s + 3
    wait_for(lambda: len(recorder.calls) > before + 2, 20, "digests scheduled by the standby")
    assert current_holder(sessions, "scheduler") == standby.holder
    assert duplicates(recorder) == []


def test_a_restart_posts_nothing_twice_and_delivered_slots_are_skipped(sessions, start_worker):
    """Stop and start again: no slot runs twice; a slot delivered elsewhere (before a crash) never runs."""
    board = add_test_board(sessions, "A")
    recorder = Recorder()
    first = start_worker(RecordingBodies(recorder, "first"))
    wait_for(lambda: len(recorder.of(DIGEST)) >= 2, 20, "two digests")
    first.stop()  # a clean restart: the lease is released, so the next worker leads at once

    # The next two slots, delivered as if by a previous run that crashed before the scheduler knew.
    next_slot = math.ceil(time.time() * 2) / 2 + 0.5
    upcoming = [dt.datetime.fromtimestamp(next_slot + 0.5 * k, UTC).isoformat() for k in (0, 1)]
    for slot in upcoming:
        key = SlotKey(DIGEST, board, slot)
        assert take(sessions, key, "elsewhere", hold_for=dt.timedelta(minutes=1))
        assert finish(sessions, key, "elsewhere", DELIVERED)
    second = start_worker(RecordingBodies(recorder, "second"))
    wait_for(lambda: any(slot > upcoming[-1] for _, slot in recorder.slots() if slot), 20, "a later digest")
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
    wait_for(lambda: all(len(recorder.of(SYNC, b)) >= 3 for b in healthy), 20, "three syncs of B and C")
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
        # The default 15 minutes: every 0.5 s. Any other setting keeps its real length, so a board moved to
        # 1440 minutes syncs next at midnight UTC, not inside the test's few seconds of watching.
        seconds = 0.5 if board.sync_minutes == 15 else board.sync_minutes * 60
        trigger = IntervalTrigger(seconds=seconds, start_date=ANCHOR, timezone=UTC)
        return {SYNC: PlannedTrigger(trigger, f"every {seconds} s")}

    first = add_test_board(sessions, "A")
    recorder = Recorder()
    start_worker(RecordingBodies(recorder, "w"), fast_options(triggers=sync_by_setting))
    wait_for(lambda: len(recorder.of(SYNC, first)) >= 1, 20, "board A's sync")
    second = add_test_board(sessions, "B")
    wait_for(lambda: len(recorder.of(SYNC, second)) >= 1, 20, "the new board's sync")

    with sessions.begin() as session:
        remove_board(session, "A")
        session.get_one(Board, second).coaching_settings = {"sync_minutes": 1440}

    def counts() -> tuple[int, int]:
        return len(recorder.of(SYNC, first)), len(recorder.of(SYNC, second))

    # Re-planned within 0.25 s; jobs handed over before it (queued, on a busy machine) run out first.
    previous = [counts()]

    def settled() -> bool:
        time.sleep(1.0)
        previous.append(counts())
        return previous[-1] == previous[-2]

    wait_for(settled, 15, "the syncs handed over before the change to run out")
    time.sleep(1.5)
    assert counts() == previous[-1]


def test_a_digest_due_while_no_worker_ran_is_handed_over_late_once_and_older_ones_are_not(
    sessions, start_worker
):
    """On taking the lead, the scheduler hands over each board's latest slot that nobody recorded within
    the catch-up window (here 30 s): a slot 1 s late runs once; one 60 s late is beyond it."""
    late, old = add_test_board(sessions, "Late"), add_test_board(sessions, "Old")
    now = time.time()
    # Boards added two minutes ago (slots before a board existed are never caught up), so the slots can
    # lie in the past without the test waiting for them; the worker has 29 s to take the lead.
    with sessions.begin() as session:
        for board_id in (late, old):
            session.get_one(Board, board_id).created_at = dt.datetime.fromtimestamp(now - 120, UTC)
    due = {old: now - 60, late: now - 1}

    def hourly_from_due(board: BoardCalendar) -> dict[str, PlannedTrigger]:
        start = dt.datetime.fromtimestamp(due[board.board_id], UTC)
        trigger = IntervalTrigger(hours=1, start_date=start, timezone=UTC)
        return {DIGEST: PlannedTrigger(trigger, f"hourly from {start}")}

    recorder = Recorder()
    start_worker(RecordingBodies(recorder, "w"), fast_options(triggers=hourly_from_due, catch_up_s=30.0))
    wait_for(lambda: len(recorder.of(DIGEST, late)) >= 1, 25, "the late digest")
    time.sleep(0.5)
    assert [call.slot for call in recorder.of(DIGEST)] == [
        dt.datetime.fromtimestamp(due[late], UTC).isoformat()
    ]


def test_slots_whose_hand_over_was_lost_or_whose_worker_died_are_handed_over_again(sessions, start_worker):
    """A slot recorded due but never run (its hand-over lost) and one taken by a worker that died are both
    delivered once by the sweep; a slot a live worker holds is left alone."""
    board = add_test_board(sessions, "A")
    now = dt.datetime.now(UTC)
    lost, dead, alive = (
        SlotKey(DIGEST, board, (now - dt.timedelta(seconds=s)).isoformat()) for s in (9, 8, 7)
    )
    assert record_due(sessions, [lost, dead, alive], now=now - dt.timedelta(seconds=10)) == [
        lost,
        dead,
        alive,
    ]
    assert take(sessions, dead, "died", hold_for=dt.timedelta(seconds=1), now=now - dt.timedelta(seconds=5))
    assert take(sessions, alive, "alive", hold_for=dt.timedelta(minutes=5))

    recorder = Recorder()
    # No schedule of its own: only the sweep hands anything over.
    start_worker(RecordingBodies(recorder, "w"), fast_options(triggers=every(3600, SYNC)))
    wait_for(lambda: len(recorder.of(DIGEST)) >= 2, 20, "the two slots")
    time.sleep(1.0)
    assert sorted(recorder.slots()) == sorted([(board, lost.slot), (board, dead.slot)])
    with sessions() as session:
        states = {row.slot: (row.state, row.dispatches) for row in session.query(JobSlot)}
    assert states[lost.slot] == (DELIVERED, 2) and states[dead.slot] == (DELIVERED, 2)
    assert states[alive.slot] == (TAKEN, 1)
    assert DUE not in {state for state, _ in states.values()}


def test_one_job_of_a_board_runs_at_a_time(sessions, start_worker):
    """Syncs and checks of the same board every 0.2 s, each taking 0.15 s, on two workers: never overlapping
    (a lock per board), while different boards do run side by side."""
    boards = [add_test_board(sessions, name) for name in "ABC"]
    recorder = Recorder()
    options = fast_options(triggers=every(0.2, SYNC, CHECK))
    bodies = [RecordingBodies(recorder, name, seconds=0.15) for name in ("one", "two")]
    for body in bodies:
        start_worker(body, replace(options, holder=body.worker))
    wait_for(lambda: all(len(recorder.of(CHECK, b)) >= 4 for b in boards), 15, "four checks per board")
    spans = sorted(span for body in bodies for span in body.spans)
    for board in boards:
        own = sorted((start, end) for b, _, start, end in spans if b == board)
        overlaps = [(a, b) for a, b in itertools.pairwise(own) if b[0] < a[1]]
        assert overlaps == [], f"board {board}: jobs overlapped"
    everyone = sorted((start, end) for _, _, start, end in spans)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(everyone)), "nothing ran in parallel"
