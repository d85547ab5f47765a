"""The plan: which jobs each board gets and when, in the board's time zone, across DST, read from the DB."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from bot.scheduler.dispatch import due_job_of
from bot.scheduler.jobs import CHECK, DIGEST, SYNC, WEEKLY_REVIEW, DueJob
from bot.scheduler.planner import BoardCalendar, IncrementalPlanner, Plan, calendar_triggers, plan_jobs
from bot.store.models import Board
from tests.scheduler.conftest import add_test_board

UTC = dt.UTC
ZURICH = ZoneInfo("Europe/Zurich")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def read_plan(sessions) -> Plan:
    """Every board's plan, as a worker's first reading gives it."""
    changes = list(IncrementalPlanner(sessions).changes())
    jobs = tuple(job for change in changes for job in change.upserts)
    return Plan(jobs, frozenset().union(*(change.unreadable for change in changes)))


def fire_times(trigger, start: dt.datetime, count: int) -> list[dt.datetime]:
    times, fire = [], trigger.get_next_fire_time(None, start)
    while len(times) < count:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
    return times


def zurich_board(**changes) -> BoardCalendar:
    values = {
        "board_id": 7,
        "timezone": "Europe/Zurich",
        "working_days": WEEKDAYS,
        "digest_time": dt.time(9, 30),
    }
    return BoardCalendar(**(values | changes))


def test_digest_runs_at_0930_zurich_on_working_days_and_shifts_in_utc_across_dst():
    """Thu 26 and Fri 27 March 2026 at 08:30 UTC (CET); the weekend skipped; Mon 30 at 07:30 UTC (CEST)."""
    digest = calendar_triggers(zurich_board())[DIGEST].trigger
    times = fire_times(digest, dt.datetime(2026, 3, 26, tzinfo=UTC), 4)
    assert [t.astimezone(UTC) for t in times] == [
        dt.datetime(2026, 3, 26, 8, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 27, 8, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 30, 7, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 31, 7, 30, tzinfo=UTC),
    ]
    assert {t.astimezone(ZURICH).time() for t in times} == {dt.time(9, 30)}


def test_weekly_review_is_on_mondays_at_digest_time_in_the_autumn_dst_change_too():
    """Mondays 09:30 Zurich: 07:30 UTC before the end of DST (25 Oct 2026), 08:30 UTC after."""
    review = calendar_triggers(zurich_board())[WEEKLY_REVIEW].trigger
    times = fire_times(review, dt.datetime(2026, 10, 13, tzinfo=UTC), 2)
    assert [t.astimezone(UTC) for t in times] == [
        dt.datetime(2026, 10, 19, 7, 30, tzinfo=UTC),
        dt.datetime(2026, 10, 26, 8, 30, tzinfo=UTC),
    ]


def test_working_days_and_digest_time_come_from_the_calendar():
    """A Sunday-to-Thursday team at 08:15 gets its digest on Sunday, not on Friday."""
    board = zurich_board(working_days=("sun", "mon", "tue", "wed", "thu"), digest_time=dt.time(8, 15))
    digest = calendar_triggers(board)[DIGEST].trigger
    times = fire_times(digest, dt.datetime(2026, 3, 26, tzinfo=UTC), 3)  # a Thursday
    assert [(t.strftime("%a"), t.strftime("%H:%M")) for t in times] == [
        ("Thu", "08:15"),
        ("Sun", "08:15"),
        ("Mon", "08:15"),
    ]


def test_syncs_and_checks_repeat_on_fixed_times_spread_across_boards():
    """Every 15 minutes by default, anchored so a restart keeps the times; two boards at different offsets."""
    one, two = calendar_triggers(zurich_board(board_id=1)), calendar_triggers(zurich_board(board_id=2))
    start = dt.datetime(2026, 3, 26, 12, 0, tzinfo=UTC)
    syncs = fire_times(one[SYNC].trigger, start, 3)
    assert [b - a for a, b in itertools.pairwise(syncs)] == [dt.timedelta(minutes=15)] * 2
    assert fire_times(one[CHECK].trigger, start, 1) != fire_times(two[CHECK].trigger, start, 1)
    assert calendar_triggers(zurich_board(board_id=1))[SYNC].definition == one[SYNC].definition


def test_sync_minutes_setting_and_boards_without_a_channel(sessions):
    """`sync_minutes` from the board's settings (bad values fall back to 15); no channel: no digest."""
    quick = add_test_board(sessions, "Quick", coaching={"sync_minutes": 5})
    silent = add_test_board(sessions, "Silent", channel=None, coaching={"sync_minutes": "soon"})
    plan = read_plan(sessions)
    jobs = {job.job_id: job for job in plan.jobs}
    assert sorted(jobs) == sorted(
        [f"{kind}:{quick}" for kind in (SYNC, CHECK, DIGEST, WEEKLY_REVIEW)]
        + [f"sync:{silent}", f"check:{silent}"]
    )
    assert jobs[f"sync:{quick}"].definition.startswith("every 5 min")
    assert jobs[f"sync:{silent}"].definition.startswith("every 15 min")
    assert plan.unreadable == frozenset()


def test_settings_made_in_slack_change_the_definition(sessions):
    """A new digest time or time zone from `/flow settings` gives the job a new definition."""
    board_id = add_test_board(sessions, "Payments")
    before = {job.job_id: job.definition for job in read_plan(sessions).jobs}
    with sessions.begin() as session:
        session.get_one(Board, board_id).coaching_settings = {
            "digest_time": "10:00",
            "timezone": "Asia/Tokyo",
        }
    after = {job.job_id: job.definition for job in read_plan(sessions).jobs}
    assert (
        after[f"digest:{board_id}"]
        == "cron mon,tue,wed,thu,fri 10:00 Asia/Tokyo"
        != before[f"digest:{board_id}"]
    )
    assert after[f"sync:{board_id}"] == before[f"sync:{board_id}"]


def test_a_board_with_a_broken_workflow_is_reported_and_the_others_planned(sessions):
    """One unreadable board does not stop the plan of the others."""
    good = add_test_board(sessions, "Good")
    bad = add_test_board(sessions, "Bad")
    with sessions.begin() as session:
        session.get_one(Board, bad).workflow_yaml = "stages: nope"
    plan = read_plan(sessions)
    assert plan.unreadable == {bad}
    assert {job.board_id for job in plan.jobs} == {good}


def test_a_trigger_that_cannot_be_built_is_reported_not_fatal():
    """A board whose triggers raise is left out, the others planned."""

    def triggers(board: BoardCalendar):
        if board.board_id == 2:
            raise ValueError("no such zone")
        return calendar_triggers(board)

    plan = plan_jobs([zurich_board(board_id=1), zurich_board(board_id=2)], triggers)
    assert plan.unreadable == {2} and {job.board_id for job in plan.jobs} == {1}


def changed_jobs(planner: IncrementalPlanner) -> tuple[dict[str, str], set[str], set[int]]:
    upserts: dict[str, str] = {}
    removals: set[str] = set()
    unreadable: set[int] = set()
    for change in planner.changes(chunk=2):
        upserts |= {job.job_id: job.definition for job in change.upserts}
        removals |= set(change.removals)
        unreadable |= change.unreadable
    return upserts, removals, unreadable


def test_re_planning_touches_only_boards_whose_calendar_changed(sessions):
    """The first reading plans every board (in chunks); then a sync (the board's row updated, its calendar
    not) yields nothing, a new digest time one job, a removed channel two removals, a deleted board all of
    its jobs, a broken workflow nothing (its jobs stay) until it is mended."""
    ids = [add_test_board(sessions, name) for name in ("A", "B", "C")]
    planner = IncrementalPlanner(sessions)
    upserts, removals, unreadable = changed_jobs(planner)
    assert len(upserts) == 12 and removals == set() and unreadable == set()
    assert changed_jobs(planner) == ({}, set(), set())

    with sessions.begin() as session:
        session.get_one(Board, ids[0]).last_synced_at = dt.datetime.now(UTC)  # what every sync does
    assert changed_jobs(planner) == ({}, set(), set())

    with sessions.begin() as session:
        session.get_one(Board, ids[0]).coaching_settings = {"digest_time": "10:00"}
        session.get_one(Board, ids[1]).channel_id = None
    upserts, removals, _ = changed_jobs(planner)
    assert set(upserts) == {f"digest:{ids[0]}", f"weekly_review:{ids[0]}"}
    assert removals == {f"digest:{ids[1]}", f"weekly_review:{ids[1]}"}

    with sessions.begin() as session:
        session.get_one(Board, ids[2]).workflow_yaml = "stages: nope"
    assert changed_jobs(planner) == ({}, set(), {ids[2]})
    with sessions.begin() as session:
        session.delete(session.get_one(Board, ids[2]))
    assert changed_jobs(planner) == (
        {},
        {f"{kind}:{ids[2]}" for kind in (SYNC, CHECK, DIGEST, WEEKLY_REVIEW)},
        set(),
    )


def test_a_fired_digest_names_its_slot_by_the_scheduled_time_in_board_time():
    """However late APScheduler hands a run over, the slot is the trigger's fire time, in the board's zone."""
    digest = calendar_triggers(zurich_board())[DIGEST].trigger
    fire = digest.get_next_fire_time(None, dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    job = due_job_of((DIGEST, 7), fire)
    assert job == DueJob(DIGEST, 7, "2026-03-30T09:30:00+02:00")
    assert due_job_of((SYNC, 7), fire) == DueJob(SYNC, 7, None)
