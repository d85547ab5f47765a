"""Generate the bundled sample board with a small discrete-time simulation of a Kanban system.

    python -m bot.sample.generate

rewrites ``events.csv`` and ``workflow.yml`` next to this module, byte-identical on every run (a fixed seed,
no clock, no hash-ordered iteration). Edit this file, not the generated ones.

The story: items arrive in the backlog from 13 April 2026, the team starts pulling on 18 May, the export
ends at ``SAMPLE_ASOF`` (Friday 20 November 2026, 17:00). Time advances in quarter hours; people work on
weekdays 08:30-18:30, only now and then outside. Three mornings a week the product owner triages, drops or
deprioritises a few items and refills Ready. Four developers pull while fewer than four unblocked items are
in Development (blocked ones do not count, so the limit is mostly, not always, kept); three seniors review
between their own work; two testers take what reaches Test. Durations are lognormal. Review and Test send
some items back, a few finished items are reopened, some are blocked for a while. From 17 August Anna is on
holiday and from 24 August Luca is on an incident: reviews become scarce, Review grows week after week far
past its limit and the testers get less and less (Test never quite starves: its queue, Review, holds
work), until the developers swarm on reviews from 28 September (Test then gets
the wave). Nina is off sick in the last week; three long blockers leave old items in progress at the end;
a few bugs are filed in "Triage", a status the workflow does not map.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.eventlog import EVENT_COLUMNS
from analytics.workflow import parse_workflow
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_TIMEZONE, SAMPLE_WORKFLOW_PATH
from bot.sample.scenario import (
    ARRIVALS_PER_DAY,
    AWAY,
    BACKLOG,
    DEV,
    DEV_BLOCKERS,
    DEV_HOURS,
    DEVELOPERS,
    DONE,
    DROPPED,
    FIRST_DAY,
    HOLIDAYS,
    HOURS_PER_TICK,
    METHODS,
    NOT_REVIEWING,
    READY,
    REVIEW,
    SCRIPTED_BLOCKS,
    SEED,
    SENIORS,
    STAGES,
    STATUSES,
    SWARM,
    TEAM_START,
    TEST,
    TEST_BLOCKERS,
    TESTERS,
    TICK,
    TITLES,
    TRIAGE,
    TYPE_SHARES,
    TYPES,
    TZ,
    WIP_LIMITS,
)

Event = tuple[int, dt.datetime, str, str, str, str, str]  # number, at, event, from, to, assignee, reason


@dataclass
class Item:
    """One work item and what the simulation needs to know about it."""

    number: int
    kind: str
    title: str
    priority: float  # lower is pulled first
    since: dt.datetime  # when it entered its current stage: queues are first in, first out
    stage: int = BACKLOG
    status: str = ""
    who: str = ""  # the assignee
    dev: str = ""  # the developer who owns rework
    work: float = 0.0  # hours left in the current stage
    rework: bool = False
    block_at: float = -1.0  # gets blocked when `work` falls to this (-1: never)
    block_hours: float = 0.0
    blocked_until: dt.datetime | None = None
    reopen_at: dt.datetime | None = None
    last: dt.datetime | None = None


class Board:
    """The simulated team and board. Every draw of the simulation goes through ``rng`` in a fixed order;
    titles have their own generator, so that editing the vocabulary does not change the flow."""

    def __init__(self, seed: int) -> None:
        self.rng, self.words = np.random.default_rng(seed), np.random.default_rng(seed + 1)
        self.items: list[Item] = []
        self.open: list[Item] = []  # items not finished for good: the only ones a tick looks at
        self.events: list[Event] = []
        self.scripted = list(SCRIPTED_BLOCKS)
        self.titles: set[str] = set()  # only asked for membership and counts, so its order never matters

    def lognormal(self, median: float, sigma: float) -> float:
        """A duration in hours, at most 8 × the median: a team splits anything bigger."""
        return float(median * min(np.exp(sigma * self.rng.standard_normal()), 8.0))

    def stage_items(self, stage: int) -> list[Item]:
        return sorted((item for item in self.open if item.stage == stage), key=lambda item: item.since)

    def emit(self, item: Item, at: dt.datetime, event: str, to: str = "", reason: str = "") -> None:
        stamp = at + dt.timedelta(seconds=int(self.rng.integers(0, 900)))
        if item.last is not None and stamp <= item.last:
            stamp = item.last + dt.timedelta(seconds=int(self.rng.integers(30, 240)))
        item.last = stamp
        from_status = item.status if event == "status" else ""
        self.events.append((item.number, stamp, event, from_status, to, item.who, reason))
        item.status = to or item.status

    def move(self, item: Item, stage: int, at: dt.datetime) -> None:
        self.emit(item, at, "status", STATUSES[item.kind][stage])
        item.stage, item.since = stage, at
        if stage in (DONE, DROPPED) and item.reopen_at is None:
            self.open.remove(item)

    def block(self, item: Item, at: dt.datetime, reasons: Sequence[str]) -> None:
        item.block_at, item.blocked_until = -1.0, at + dt.timedelta(hours=item.block_hours)
        self.emit(item, at, "blocked", reason=reasons[int(self.rng.integers(len(reasons)))])

    def arrive(self, at: dt.datetime, weight: float) -> None:
        for _ in range(int(self.rng.poisson(ARRIVALS_PER_DAY / 40 * weight))):
            kind = TYPES[int(self.rng.choice(3, p=TYPE_SHARES))]
            bump = 6 if kind == "Bug" else 0  # bugs jump the queue by about a week
            priority = (at.date() - FIRST_DAY).days - bump + 5 * self.rng.standard_normal()
            item = Item(len(self.items) + 1, kind, self.title(kind), priority, at)
            self.items.append(item)
            triage = kind == "Bug" and self.rng.random() < 0.06
            self.emit(item, at, "created", "Triage" if triage else STATUSES[kind][BACKLOG])
            item.stage = TRIAGE if triage else BACKLOG
            self.open.append(item)

    def title(self, kind: str) -> str:
        for _ in range(40):
            template = TITLES[kind][int(self.words.integers(len(TITLES[kind])))]
            title = template.format(m=METHODS[int(self.words.integers(len(METHODS)))])
            if title not in self.titles:
                break
        else:
            title = f"{title} (part {sum(1 for known in self.titles if known.startswith(title)) + 1})"
        self.titles.add(title)
        return title

    def step(self, at: dt.datetime) -> None:
        """One quarter hour of work: blockers end, reopens, replenishment, then develop, review, test."""
        for item in list(self.open):
            if item.blocked_until is not None and item.blocked_until <= at:
                item.blocked_until = None
                self.emit(item, at, "unblocked")
            if item.stage == DONE and item.reopen_at is not None and item.reopen_at <= at:
                item.reopen_at, item.rework, item.who = None, True, item.dev
                item.work = self.lognormal(4, 0.6)
                self.move(item, DEV, at)
        if at.weekday() in (0, 2, 4) and (at.hour, at.minute) == (10, 0):
            self.replenish(at)
        for scripted in [block for block in self.scripted if block[0] <= at.date()]:
            target = next((item for item in self.stage_items(scripted[1]) if not item.blocked_until), None)
            if target is not None:  # else the next tick tries again
                self.scripted.remove(scripted)
                target.block_hours = 24.0 * scripted[3]
                self.block(target, at, (scripted[2],))
        self.develop(at)
        self.review(at)
        self.test(at)

    def replenish(self, at: dt.datetime) -> None:
        for item in list(self.open):
            chance = self.rng.random()
            if item.stage == TRIAGE:
                self.move(item, BACKLOG, at)
            elif (item.stage == BACKLOG and chance < 0.005) or (item.stage == READY and chance < 0.01):
                self.move(item, DROPPED, at)
            elif item.stage == READY and chance < 0.04:
                item.priority += 25
                self.move(item, BACKLOG, at)
        self.refill(at, WIP_LIMITS[READY] - len(self.stage_items(READY)))

    def refill(self, at: dt.datetime, count: int) -> None:
        for item in sorted(self.stage_items(BACKLOG), key=lambda item: item.priority)[: max(count, 0)]:
            self.move(item, READY, at)

    def develop(self, at: dt.datetime) -> None:
        in_dev = self.stage_items(DEV)
        present = [dev for dev in DEVELOPERS if not _away(AWAY, dev, at.date())]
        for item in in_dev:  # whoever goes away hands their items over
            if item.who not in present:
                item.who = item.dev = min(present, key=lambda dev: sum(i.who == dev for i in in_dev))
        for dev in DEVELOPERS:
            if _away(AWAY, dev, at.date()) or self.rng.random() > 0.85:
                continue
            mine = [i for i in in_dev if i.stage == DEV and i.who == dev and not i.blocked_until]
            if not mine:
                self.start(dev, at, in_dev)
                continue
            item = min(mine, key=lambda item: (not item.rework, item.since))
            item.work -= HOURS_PER_TICK
            if item.block_at >= 0 and item.work <= item.block_at:
                self.block(item, at, DEV_BLOCKERS)
            elif item.work <= 0:
                item.rework, item.work = False, self.lognormal(1.0, 0.6)
                self.move(item, REVIEW, at)

    def start(self, dev: str, at: dt.datetime, in_dev: list[Item]) -> None:
        """An idle developer pulls the oldest Ready item, unless the unblocked ones already fill the limit."""
        if sum(item.stage == DEV and not item.blocked_until for item in in_dev) >= WIP_LIMITS[DEV]:
            return
        ready = self.stage_items(READY)
        if not ready:
            if self.rng.random() < 0.1:  # the product owner answers the call for work
                self.refill(at, 1)
            return
        item = ready[0]
        item.who = item.dev = dev
        item.work = self.lognormal(DEV_HOURS[item.kind], 0.8)
        if self.rng.random() < 0.15:
            item.block_at, item.block_hours = item.work * self.rng.uniform(0.2, 0.8), self.lognormal(30, 1.1)
        self.move(item, DEV, at)
        in_dev.append(item)

    def review(self, at: dt.datetime) -> None:
        day = at.date()
        swarm = SWARM[0] <= day <= SWARM[1]
        reviewers = DEVELOPERS if swarm else tuple(s for s in SENIORS if not _away(NOT_REVIEWING, s, day))
        # Alone, the last reviewer also covers the incident's on-call, so reviews less often.
        chance = 0.25 if swarm else 0.2 if len(reviewers) > 1 else 0.18
        slots = int((self.rng.random(len(reviewers)) < chance).sum())
        for item in [item for item in self.stage_items(REVIEW) if item.blocked_until is None][:slots]:
            item.work -= HOURS_PER_TICK
            if item.work > 0:
                continue
            if self.rng.random() < 0.2:  # changes requested
                item.rework, item.work = True, self.lognormal(3, 0.7)
                self.move(item, DEV, at)
            else:
                item.work = self.lognormal(1.5, 0.7)
                self.move(item, TEST, at)

    def test(self, at: dt.datetime) -> None:
        in_test = self.stage_items(TEST)
        for tester in TESTERS:
            if _away(AWAY, tester, at.date()) or self.rng.random() > 0.5:
                continue
            in_hand = [item for item in in_test if item.stage == TEST and not item.blocked_until]
            mine = [item for item in in_hand if item.who == tester]
            if not mine:
                waiting = [item for item in in_test if item.stage == TEST and item.who not in TESTERS]
                if waiting:
                    first = waiting[0]
                    first.who = tester
                    if self.rng.random() < 0.06:
                        first.block_at, first.block_hours = first.work / 2, self.lognormal(6, 0.8)
                continue
            item = mine[0]
            item.work -= HOURS_PER_TICK
            if item.block_at >= 0 and item.work <= item.block_at:
                self.block(item, at, TEST_BLOCKERS)
            elif item.work <= 0 and self.rng.random() < 0.12:  # the test failed
                item.rework, item.who, item.work = True, item.dev, self.lognormal(4, 0.7)
                self.move(item, DEV, at)
            elif item.work <= 0:
                if self.rng.random() < 0.04:
                    item.reopen_at = at + dt.timedelta(days=float(self.rng.uniform(1, 14)))
                self.move(item, DONE, at)


def _away(schedule: dict[str, tuple[dt.date, dt.date]], person: str, day: dt.date) -> bool:
    first, last = schedule.get(person, (dt.date.max, dt.date.min))
    return first <= day <= last


def _ticks() -> Iterator[tuple[dt.datetime, float]]:
    """Every quarter hour from 07:00 to 21:45 local time, with the chance that the team is at work then."""
    day = FIRST_DAY
    while day <= SAMPLE_ASOF.date():
        for quarter in range(28, 88):
            at = dt.datetime.combine(day, dt.time(quarter // 4, 15 * (quarter % 4)), TZ)
            if at + TICK > SAMPLE_ASOF:
                return
            minutes = 60 * at.hour + at.minute
            if day.weekday() >= 5 or day in HOLIDAYS:
                yield at, (0.02 if 540 <= minutes < 1080 else 0.0)
            else:
                yield at, (1.0 if 510 <= minutes < 1110 else 0.05)
        day += dt.timedelta(days=1)


def simulate(seed: int = SEED) -> Board:
    """Run the simulation from ``FIRST_DAY`` to ``SAMPLE_ASOF``; the board holds every item and event."""
    board = Board(seed)
    for at, weight in _ticks():
        board.arrive(at, weight)
        if at.date() >= TEAM_START and board.rng.random() < weight:
            board.step(at)
    return board


def workflow_yaml() -> str:
    """The sample's workflow file: each stage lists the statuses every issue type uses for it."""
    lines = [
        "# The sample board's workflow, written by `python -m bot.sample.generate`.",
        "name: Payments",
        f"timezone: {SAMPLE_TIMEZONE}",
        "working_days: [mon, tue, wed, thu, fri]",
        'working_hours: ["08:30", "18:30"]',
        "stages:",
    ]
    for stage, (name, kind) in enumerate(STAGES):
        used = dict.fromkeys(STATUSES[kind_][stage] for kind_ in TYPES)
        statuses = ", ".join(json.dumps(status) for status in used)
        lines += [f"  - name: {name}", f"    statuses: [{statuses}]", f"    kind: {kind}"]
        lines += [f"    wip_limit: {WIP_LIMITS[stage]}"] if stage in WIP_LIMITS else []
    lines += [f"wip_limit: {sum(WIP_LIMITS.values())}", "start: Ready"]
    lines += ["sle: {percentile: 85, window_days: 90}"]
    return "\n".join(lines) + "\n"


def write_events(board: Board, path: Path, rng: np.random.Generator) -> int:
    """Write the events before ``SAMPLE_ASOF``, item by item in time order; returns how many. About 3 % of
    the timestamps are naive local times, as some exports write them."""
    events = sorted((e for e in board.events if e[1] < SAMPLE_ASOF), key=lambda e: (e[0], e[1]))
    naive = rng.random(len(events)) < 0.03
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(EVENT_COLUMNS)
        for (number, at, event, from_status, to_status, who, reason), bare in zip(events, naive, strict=True):
            item, stamp = board.items[number - 1], at.replace(tzinfo=None) if bare else at
            url = f"https://example.atlassian.net/browse/PAY-{number}"
            writer.writerow(
                (
                    f"PAY-{number}",
                    stamp.isoformat(),
                    event,
                    from_status,
                    to_status,
                    item.title,
                    item.kind,
                    url,
                    who,
                    reason,
                )
            )
    return len(events)


def main(argv: Sequence[str] | None = None) -> None:
    """Write ``events.csv`` and ``workflow.yml`` next to this module, or into ``--out DIR``."""
    parser = argparse.ArgumentParser(description="Regenerate the bundled sample board.")
    parser.add_argument("--out", type=Path, help="write into this folder instead of the package")
    args = parser.parse_args(argv)
    events_path = SAMPLE_EVENTS_PATH if args.out is None else args.out / SAMPLE_EVENTS_PATH.name
    workflow_path = SAMPLE_WORKFLOW_PATH if args.out is None else args.out / SAMPLE_WORKFLOW_PATH.name
    text = workflow_yaml()
    workflow = parse_workflow(text, source=str(workflow_path))  # raises if the file would be invalid
    unmapped = {s for statuses in STATUSES.values() for s in statuses} - set(workflow.status_to_stage_index())
    if unmapped:
        raise SystemExit(f"statuses the workflow does not map: {sorted(unmapped)}")
    board = simulate()
    workflow_path.parent.mkdir(parents=True, exist_ok=True)
    workflow_path.write_text(text, encoding="utf-8")
    count = write_events(board, events_path, np.random.default_rng(SEED + 2))
    sys.stdout.write(f"wrote {count} events of {len(board.items)} items to {events_path}\n")


if __name__ == "__main__":
    main()
