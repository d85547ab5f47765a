"""Which jobs each board gets, and when, read from the database (``spec/coaching.md``).

Every board is synced every ``sync_minutes`` (default 15) and checked every 15 minutes; a board with a channel
gets its digest at ``digest_time`` on its working days and its weekly review on Mondays at the same time, both
in the board's time zone. Cron triggers in the board's zone keep 09:30 at 09:30 across DST changes.

The scheduling worker re-plans every minute, incrementally (``IncrementalPlanner``): only boards added,
removed or updated since it last looked. Each job carries a ``definition``: a text of everything its trigger
was built from, so an unchanged job (kept, with its next run time) is told from a changed one (rescheduled)
without comparing trigger objects.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.jobs import CHECK, DIGEST, SYNC, WEEKLY_REVIEW
from bot.store.board_settings import load_board_settings
from bot.store.boards import board_workflow
from bot.store.models import Board

log = logging.getLogger("flowcoach.scheduler")

DEFAULT_SYNC_MINUTES = 15
CHECK_MINUTES = 15
SYNC_MINUTES_KEY = "sync_minutes"  # in Board.coaching_settings
# Interval jobs count from a fixed instant rather than from when a worker started, so that a restart or a
# failover keeps every board on the same times; each board is offset within the interval so that hundreds
# of boards do not all sync in the same second.
INTERVAL_ANCHOR = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class BoardCalendar:
    """What the schedule of one board depends on."""

    board_id: int
    timezone: str
    working_days: tuple[str, ...]
    digest_time: dt.time
    sync_minutes: int = DEFAULT_SYNC_MINUTES
    has_channel: bool = True


@dataclass(frozen=True)
class PlannedTrigger:
    """A trigger and the text of what it was built from (equal texts: the same schedule)."""

    trigger: BaseTrigger
    definition: str


@dataclass(frozen=True)
class PlannedJob:
    job_id: str
    kind: str
    board_id: int
    trigger: BaseTrigger
    definition: str


@dataclass(frozen=True)
class Plan:
    """The jobs every board should have, and the boards whose schedule could not be read this time."""

    jobs: tuple[PlannedJob, ...]
    unreadable: frozenset[int] = field(default_factory=frozenset)


TriggerPlan = Callable[[BoardCalendar], dict[str, PlannedTrigger]]


def job_id(kind: str, board_id: int) -> str:
    return f"{kind}:{board_id}"


def calendar_triggers(board: BoardCalendar) -> dict[str, PlannedTrigger]:
    """The production schedule of one board: interval syncs and checks, calendar digests and reviews."""
    zone = ZoneInfo(board.timezone)
    at = board.digest_time
    triggers = {
        SYNC: _every(board.board_id, board.sync_minutes),
        CHECK: _every(board.board_id, CHECK_MINUTES),
    }
    if board.has_channel:
        days = ",".join(board.working_days)
        triggers[DIGEST] = PlannedTrigger(
            CronTrigger(day_of_week=days, hour=at.hour, minute=at.minute, timezone=zone),
            f"cron {days} {at:%H:%M} {board.timezone}",
        )
        triggers[WEEKLY_REVIEW] = PlannedTrigger(
            CronTrigger(day_of_week="mon", hour=at.hour, minute=at.minute, timezone=zone),
            f"cron mon {at:%H:%M} {board.timezone}",
        )
    return triggers


def _every(board_id: int, minutes: int) -> PlannedTrigger:
    # crc32 rather than hash(): the offset must be the same in every process, or the definitions would differ.
    offset = dt.timedelta(seconds=zlib.crc32(str(board_id).encode()) % (minutes * 60))
    return PlannedTrigger(
        IntervalTrigger(minutes=minutes, start_date=INTERVAL_ANCHOR + offset, timezone=dt.UTC),
        f"every {minutes} min from +{int(offset.total_seconds())} s",
    )


def board_calendar(board: Board) -> BoardCalendar:
    """The board's effective calendar: its workflow file with the settings made in Slack applied."""
    workflow = board_workflow(board)
    settings = load_board_settings(board.coaching_settings)
    return BoardCalendar(
        board_id=board.id,
        timezone=workflow.timezone,
        working_days=workflow.working_days,
        digest_time=settings.digest_time,
        sync_minutes=_sync_minutes(board),
        has_channel=board.channel_id is not None,
    )


def _sync_minutes(board: Board) -> int:
    value = (board.coaching_settings or {}).get(SYNC_MINUTES_KEY, DEFAULT_SYNC_MINUTES)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 24 * 60:
        return value
    log.warning(
        "board=%s: %s=%r is not a whole number of minutes from 1 to 1440; syncing every %d",
        board.id,
        SYNC_MINUTES_KEY,
        value,
        DEFAULT_SYNC_MINUTES,
        extra={"board_id": board.id},
    )
    return DEFAULT_SYNC_MINUTES


def plan_jobs(calendars: Sequence[BoardCalendar], triggers: TriggerPlan = calendar_triggers) -> Plan:
    """Every job of every board; a board whose triggers cannot be built is reported, not fatal."""
    jobs: list[PlannedJob] = []
    unreadable: set[int] = set()
    for board in calendars:
        try:
            planned = triggers(board)
        except Exception:
            log.exception("board=%s: cannot schedule it", board.board_id, extra={"board_id": board.board_id})
            unreadable.add(board.board_id)
            continue
        jobs.extend(
            PlannedJob(job_id(kind, board.board_id), kind, board.board_id, p.trigger, p.definition)
            for kind, p in sorted(planned.items())
        )
    return Plan(tuple(jobs), frozenset(unreadable))


@dataclass(frozen=True)
class PlanChange:
    """What changed since the previous reading: jobs to add or reschedule, jobs to remove."""

    upserts: tuple[PlannedJob, ...]
    removals: tuple[str, ...]
    unreadable: frozenset[int]
    created: dict[int, dt.datetime] = field(default_factory=dict)  # board → when it was added


class IncrementalPlanner:
    """Re-plans only the boards that changed since it last looked (scaling to many boards).

    Each reading costs one narrow query (board ids and ``updated_at``); only boards new or updated since are
    loaded and their calendars rebuilt, and only jobs whose definition changed are returned. A sync updates a
    board too, so an updated board whose calendar reads the same yields nothing.
    """

    def __init__(self, sessions: sessionmaker[Session], triggers: TriggerPlan = calendar_triggers) -> None:
        self._sessions = sessions
        self._triggers = triggers
        self._seen: dict[int, dt.datetime] = {}  # board → updated_at when last read
        self._definitions: dict[str, str] = {}  # job id → definition, as last returned
        self._jobs_of: dict[int, set[str]] = {}  # board → its job ids
        self.created: dict[int, dt.datetime] = {}

    def changes(self, chunk: int = 500) -> Iterator[PlanChange]:
        """The changes since the last call, board by board in chunks (the first call: every board)."""
        with self._sessions() as session:
            rows = session.execute(select(Board.id, Board.updated_at))
            current: dict[int, dt.datetime] = {board_id: updated for board_id, updated in rows}  # noqa: C416
        gone = sorted(
            board_id for board_id in self._seen.keys() | self._jobs_of.keys() if board_id not in current
        )
        if gone:
            removals = [job for board_id in gone for job in sorted(self._jobs_of.pop(board_id, ()))]
            for board_id in gone:
                self._seen.pop(board_id, None)
                self.created.pop(board_id, None)
            for job in removals:
                self._definitions.pop(job, None)
            yield PlanChange((), tuple(removals), frozenset())
        changed = sorted(
            board_id for board_id, updated in current.items() if self._seen.get(board_id) != updated
        )
        for start in range(0, len(changed), chunk):
            ids = changed[start : start + chunk]
            with self._sessions() as session:
                boards = list(session.scalars(select(Board).where(Board.id.in_(ids))))
                calendars: list[BoardCalendar] = []
                unreadable: set[int] = set()
                for board in boards:
                    self.created[board.id] = board.created_at
                    try:
                        calendars.append(board_calendar(board))
                    except Exception as error:  # an invalid workflow must not unschedule every other board
                        log.warning(
                            "board=%s: cannot read its calendar: %s",
                            board.id,
                            error,
                            extra={"board_id": board.id},
                        )
                        unreadable.add(board.id)
                    else:
                        self._seen[board.id] = current[board.id]
            plan = plan_jobs(calendars, self._triggers)
            unreadable |= plan.unreadable
            for board_id in unreadable:
                self._seen.pop(board_id, None)  # read again next time; its jobs stay as they were
            upserts, dropped = self._diff(plan, calendars, unreadable)
            if upserts or dropped or unreadable:
                yield PlanChange(
                    upserts, dropped, frozenset(unreadable), {b.id: b.created_at for b in boards}
                )

    def _diff(
        self, plan: Plan, calendars: Sequence[BoardCalendar], unreadable: set[int]
    ) -> tuple[tuple[PlannedJob, ...], tuple[str, ...]]:
        planned: dict[int, set[str]] = {calendar.board_id: set() for calendar in calendars}
        upserts: list[PlannedJob] = []
        for job in plan.jobs:
            planned.setdefault(job.board_id, set()).add(job.job_id)
            if self._definitions.get(job.job_id) != job.definition:
                self._definitions[job.job_id] = job.definition
                upserts.append(job)
        removals: list[str] = []
        for board_id, job_ids in planned.items():
            if board_id in unreadable:
                continue
            for gone in sorted(self._jobs_of.get(board_id, set()) - job_ids):
                self._definitions.pop(gone, None)
                removals.append(gone)
            self._jobs_of[board_id] = job_ids
        return tuple(upserts), tuple(removals)
