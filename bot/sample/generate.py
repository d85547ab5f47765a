"""Generate the bundled sample board with a small discrete-time simulation of a Kanban system.

    python -m bot.sample.generate

rewrites ``events.csv`` and ``workflow.yml`` next to this module, byte-identical on every run (a fixed seed,
no clock, no hash-ordered iteration). Edit this file, not the generated ones.

The story: items arrive in the backlog from 27 April 2026; the team starts pulling on 18 May; the export ends
at ``SAMPLE_ASOF`` (Friday 20 November 2026, 17:00). Time advances in quarter hours; people work on weekdays
08:30-18:30 and only now and then outside. On Monday, Wednesday and Friday at 10:00 the product owner
triages, drops or deprioritises a few items and refills Ready from the prioritised backlog. Four developers
pull from Ready while fewer than four unblocked items are in Development (blocked items do not count, so the
limit is mostly, not always, kept); three seniors review between their own work; two testers take what
reaches Test. Work durations are lognormal. Review and Test send some items back to Development, a few
finished items are reopened, some items are blocked for a while. From 17 August Anna is on holiday and from
24 August Luca is on an incident: reviews become scarce, Review grows week after week far past its limit of 3
and Test starves. From 28 September the developers swarm on reviews until the queue is gone (Test then gets
the wave). Nina is off sick in the last week, and three long blockers leave old items in progress at the
end. A few bugs are filed in "Triage", a status the workflow does not map.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.eventlog import EVENT_COLUMNS
from analytics.workflow import parse_workflow
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_TIMEZONE, SAMPLE_WORKFLOW_PATH

SEED = 22  # picked among a few seeds as a typical run: ~300 items, a clear review queue, ~17 WIP at the end
TZ = zoneinfo.ZoneInfo(SAMPLE_TIMEZONE)
FIRST_DAY = dt.date(2026, 4, 27)  # the tracker project opens: items start arriving in the backlog
TEAM_START = dt.date(2026, 5, 18)  # the team starts pulling work, 26 weeks before SAMPLE_ASOF
HOLIDAYS = (dt.date(2026, 5, 25),)  # Whit Monday
TICK, HOURS_PER_TICK = dt.timedelta(minutes=15), 0.25
BACKLOG, READY, DEV, REVIEW, TEST, DONE, DROPPED = range(7)
TRIAGE = -1  # the item's status is one the workflow does not map
STAGES = (("Backlog", "backlog"), ("Ready", "queue"), ("Development", "active"), ("Review", "queue"),
          ("Test", "active"), ("Done", "done"), ("Dropped", "discarded"))
# Tracker statuses by issue type, one per stage: as in Jira, each issue type has its own tracker workflow.
STATUSES = {
    "Story": ("Backlog", "Selected for Development", "In Development", "In Review", "In Test", "Done", "Won't Do"),
    "Bug": ("To Do", "Ready for Dev", "In Progress", "Code Review", "QA", "Closed", "Won't Do"),
    "Task": ("To Do", "Selected for Development", "In Progress", "Code Review", "In Test", "Done", "Cancelled"),
}
TYPES, TYPE_SHARES = ("Story", "Bug", "Task"), (0.55, 0.3, 0.15)
DEV_HOURS = {"Story": 13.0, "Bug": 6.0, "Task": 5.0}  # median hands-on hours in Development
WIP_LIMITS = {READY: 6, DEV: 4, REVIEW: 3, TEST: 3}
ARRIVALS_PER_DAY = 2.1
DEVELOPERS, SENIORS, TESTERS = ("Anna", "Luca", "Sofia", "Jonas"), ("Anna", "Luca", "Sofia"), ("Nina", "Marco")
AWAY = {"Anna": (dt.date(2026, 8, 17), dt.date(2026, 9, 18)), "Nina": (dt.date(2026, 11, 12), dt.date(2026, 11, 20))}
NOT_REVIEWING = {**AWAY, "Luca": (dt.date(2026, 8, 24), dt.date(2026, 9, 25))}  # Luca is on an incident
SWARM = (dt.date(2026, 9, 28), dt.date(2026, 10, 9))  # every developer reviews until the queue is gone
# Long blockers that leave old items in progress at the end: (from day, stage, reason, days blocked).
SCRIPTED_BLOCKS = (
    (dt.date(2026, 10, 13), DEV, "Waiting for the acquirer's 3-D Secure certification", 60),
    (dt.date(2026, 10, 28), REVIEW, "Needs a security review of the new key storage", 40),
    (dt.date(2026, 11, 2), DEV, "Depends on the platform team's database migration", 9),
)
DEV_BLOCKERS = (
    "Waiting for PSP sandbox credentials", "Waiting on the security team's review", "Acquirer sandbox returns 500",
    "Needs a product decision on how fees are shown", "Depends on the platform team's database migration",
    "Waiting for legal to approve the new terms",
)
TEST_BLOCKERS = ("Staging environment is down", "Test cards expired in the acquirer sandbox")
METHODS = ("TWINT", "Apple Pay", "Google Pay", "PayPal", "SEPA Direct Debit", "Klarna", "PostFinance Card",
           "Visa", "Mastercard", "Amex", "iDEAL", "Bancontact")
TITLES = {
    "Story": (
        "Add {m} to the checkout", "Support partial refunds for {m}", "Show {m} payouts in the merchant dashboard",
        "Let merchants switch {m} on and off", "Save {m} as a payment method for returning customers",
        "Support recurring payments with {m}", "Export {m} settlements as CSV", "Show the fee of each {m} payment",
        "Add {m} to the mobile app", "Show pending {m} payments in the order history",
        "Send a receipt by e-mail after {m} payments", "Add 3-D Secure to card checkout",
        "Let customers split a payment between two cards", "Support CHF and EUR prices in one checkout",
    ),
    "Bug": (
        "Fix double charge when {m} times out", "Refund webhook for {m} is retried forever",
        "Checkout button stays disabled after {m} cancel on Safari", "Payout report misses {m} payments at month end",
        "Wrong fee shown for {m} refunds", "Duplicate notifications after a {m} retry",
        "{m} status polling times out under load", "Rounding error in EUR invoices",
        "3-D Secure pop-up blocked in the iOS app",
    ),
    "Task": (
        "Upgrade the {m} SDK", "Rotate the {m} API keys", "Add alerting for {m} webhook failures",
        "Load-test {m} checkout before Black Friday", "Write the {m} reconciliation runbook",
        "Remove the old {m} feature flag", "Add contract tests for the {m} client",
        "Move the settlement job to a Kubernetes CronJob", "Update the PCI DSS self-assessment",
    ),
}
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
    """The simulated team and board; every random draw goes through ``rng``, in a fixed order."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
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
        self.events.append((item.number, stamp, event, item.status if event == "status" else "", to, item.who, reason))
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
            priority = (at.date() - FIRST_DAY).days - (6 if kind == "Bug" else 0) + 5 * self.rng.standard_normal()
            item = Item(len(self.items) + 1, kind, self.title(kind), priority, at)
            self.items.append(item)
            triage = kind == "Bug" and self.rng.random() < 0.06
            self.emit(item, at, "created", "Triage" if triage else STATUSES[kind][BACKLOG])
            item.stage = TRIAGE if triage else BACKLOG
            self.open.append(item)

    def title(self, kind: str) -> str:
        for _ in range(40):
            template = TITLES[kind][int(self.rng.integers(len(TITLES[kind])))]
            title = template.format(m=METHODS[int(self.rng.integers(len(METHODS)))])
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
                item.reopen_at, item.rework, item.who, item.work = None, True, item.dev, self.lognormal(4, 0.6)
                self.move(item, DEV, at)
        if at.weekday() in (0, 2, 4) and (at.hour, at.minute) == (10, 0):
            self.replenish(at)
        for scripted in [block for block in self.scripted if block[0] <= at.date()]:
            item = next((item for item in self.stage_items(scripted[1]) if item.blocked_until is None), None)
            if item is not None:  # else the next tick tries again
                self.scripted.remove(scripted)
                item.block_hours = 24.0 * scripted[3]
                self.block(item, at, (scripted[2],))
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
            mine = [item for item in in_dev if item.stage == DEV and item.who == dev and item.blocked_until is None]
            if not mine:
                self.start(dev, at, in_dev)
                continue
            item = min(mine, key=lambda item: (not item.rework, item.since))
            item.work -= HOURS_PER_TICK
            if 0 <= item.block_at and item.work <= item.block_at:
                self.block(item, at, DEV_BLOCKERS)
            elif item.work <= 0:
                item.rework, item.work = False, self.lognormal(1.0, 0.6)
                self.move(item, REVIEW, at)

    def start(self, dev: str, at: dt.datetime, in_dev: list[Item]) -> None:
        """An idle developer pulls the oldest Ready item, unless the unblocked ones already fill the limit."""
        if sum(1 for item in in_dev if item.stage == DEV and item.blocked_until is None) >= WIP_LIMITS[DEV]:
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
            mine = [item for item in in_test if item.stage == TEST and item.who == tester and item.blocked_until is None]
            if not mine:
                waiting = [item for item in in_test if item.stage == TEST and item.who not in TESTERS]
                if waiting:
                    waiting[0].who = tester
                    if self.rng.random() < 0.06:
                        waiting[0].block_at, waiting[0].block_hours = waiting[0].work / 2, self.lognormal(6, 0.8)
                continue
            item = mine[0]
            item.work -= HOURS_PER_TICK
            if 0 <= item.block_at and item.work <= item.block_at:
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
    board = Board(np.random.default_rng(seed))
    for at, weight in _ticks():
        board.arrive(at, weight)
        if at.date() >= TEAM_START and board.rng.random() < weight:
            board.step(at)
    return board


def workflow_yaml() -> str:
    """The sample's workflow file: each stage lists the statuses every issue type uses for it."""
    lines = ["# The sample board's workflow, written by `python -m bot.sample.generate`.", "name: Payments",
             f"timezone: {SAMPLE_TIMEZONE}", "working_days: [mon, tue, wed, thu, fri]",
             'working_hours: ["08:30", "18:30"]', "stages:"]
    for stage, (name, kind) in enumerate(STAGES):
        statuses = ", ".join(json.dumps(status) for status in dict.fromkeys(STATUSES[t][stage] for t in TYPES))
        lines += [f"  - name: {name}", f"    statuses: [{statuses}]", f"    kind: {kind}"]
        lines += [f"    wip_limit: {WIP_LIMITS[stage]}"] if stage in WIP_LIMITS else []
    lines += [f"wip_limit: {sum(WIP_LIMITS.values())}", "start: Ready", "sle: {percentile: 85, window_days: 90}"]
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
            writer.writerow((f"PAY-{number}", stamp.isoformat(), event, from_status, to_status, item.title,
                             item.kind, url, who, reason))
    return len(events)


def main() -> None:
    text = workflow_yaml()
    workflow = parse_workflow(text, source=str(SAMPLE_WORKFLOW_PATH))  # raises if the file would be invalid
    unmapped = {s for statuses in STATUSES.values() for s in statuses} - set(workflow.status_to_stage_index())
    if unmapped:
        raise SystemExit(f"statuses the workflow does not map: {sorted(unmapped)}")
    board = simulate()
    SAMPLE_WORKFLOW_PATH.write_text(text, encoding="utf-8")
    count = write_events(board, SAMPLE_EVENTS_PATH, np.random.default_rng(SEED + 1))
    sys.stdout.write(f"wrote {count} events of {len(board.items)} items to {SAMPLE_EVENTS_PATH}\n")


if __name__ == "__main__":
    main()
