"""Synthetic boards for benchmarks: a realistic-looking event log of any size, generated without loops.

Usage: ``python benchmarks/synthetic.py --items 50000 --out /tmp/board50k [--events-per-item 8] [--seed 0]``
writes ``events.csv`` and ``workflow.yml`` into the folder. From code: :func:`make_board` returns the event
frame and the workflow YAML text, :func:`write_board` writes both files.

Items arrive evenly over two years of working time ending at ``end``. Each follows one template of up to 20
steps (created in the backlog, Ready, Development, Review, Test, Done) in which optional groups of steps are
switched on at random: a return to the backlog, a blocked/unblocked pair, rework sent back from Review or
from Test, a reopen after Done; ``events_per_item`` scales how often. About 6 % of the items are dropped on
the way (from the backlog, Ready or Development) and 0.3 % are created in "Triage", a status the workflow
does not map. Gaps between steps are lognormal in working time (weekdays 08:30-18:30, Europe/Zurich), so
every event falls in working hours; steps after ``end`` never happen, which leaves the newest items in
progress or still in the backlog. Everything is a numpy operation over items × steps, so 200,000 items take
seconds; loops run only over the template's 20 steps and the ~520 working days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

TIMEZONE = "Europe/Zurich"
DEFAULT_END = dt.datetime(2026, 11, 20, 17, 0, tzinfo=zoneinfo.ZoneInfo(TIMEZONE))
SPAN_WEEKS = 104
DAY_START = 8 * 3600 + 1800  # 08:30 local, in seconds after midnight
WORKDAY = 10 * 3600  # working seconds per weekday
COLUMNS = (
    "item_id",
    "timestamp",
    "event",
    "from_status",
    "to_status",
    "title",
    "type",
    "url",
    "assignee",
    "reason",
)
URL = "https://example.atlassian.net/browse/"

BACKLOG, READY, DEV, REVIEW, TEST, DONE, DROPPED, NO_STAGE = range(8)
STAGES = (
    ("Backlog", "backlog"),
    ("Ready", "queue"),
    ("Development", "active"),
    ("Review", "queue"),
    ("Test", "active"),
    ("Done", "done"),
    ("Dropped", "discarded"),
)
TYPES, TYPE_SHARES = ("Story", "Bug", "Task"), (0.55, 0.3, 0.15)
# The tracker status of each stage, by issue type (each type has its own tracker workflow, as in Jira).
STATUSES = (
    ("Backlog", "To Do", "To Do"),
    ("Selected for Development", "Ready for Dev", "Selected for Development"),
    ("In Development", "In Progress", "In Progress"),
    ("In Review", "Code Review", "Code Review"),
    ("In Test", "QA", "In Test"),
    ("Done", "Closed", "Done"),
    ("Won't Do", "Won't Do", "Cancelled"),
)
UNMAPPED, UNMAPPED_SHARE = "Triage", 0.003
# The template, in order: (stage entered or NO_STAGE, event, median gap before it in working days, sigma,
# optional group or ""). A gap runs from the item's previous step that happens.
STEPS = (
    (BACKLOG, "created", 0.0, 0.0, ""),
    (READY, "status", 6.0, 1.2, ""),
    (BACKLOG, "status", 3.0, 1.0, "return"),
    (READY, "status", 10.0, 1.0, "return"),
    (DEV, "status", 1.0, 1.0, ""),
    (NO_STAGE, "blocked", 0.8, 0.8, "block"),
    (NO_STAGE, "unblocked", 1.5, 1.2, "block"),
    (REVIEW, "status", 2.0, 0.8, ""),
    (DEV, "status", 0.5, 1.0, "review rework"),
    (REVIEW, "status", 0.6, 0.8, "review rework"),
    (TEST, "status", 0.5, 1.0, ""),
    (DEV, "status", 0.8, 0.8, "test rework"),
    (REVIEW, "status", 0.6, 0.8, "test rework"),
    (TEST, "status", 0.3, 1.0, "test rework"),
    (DONE, "status", 0.8, 0.8, ""),
    (DEV, "status", 5.0, 1.0, "reopen"),
    (REVIEW, "status", 0.8, 0.8, "reopen"),
    (TEST, "status", 0.4, 1.0, "reopen"),
    (DONE, "status", 0.6, 0.8, "reopen"),
    (DROPPED, "status", 4.0, 1.0, "drop"),
)
# Chance of each optional group per unit of scale; the scale is solved from events_per_item.
OPTION_WEIGHTS = {"return": 0.04, "block": 0.25, "review rework": 0.15, "test rework": 0.07, "reopen": 0.03}
DROP_SHARE = 0.06
DROP_POINTS, DROP_POINT_SHARES = (0, 3, 6), (0.6, 0.25, 0.15)  # last step kept: backlog, Ready, Development
DEVELOPERS = ("Anna", "Luca", "Sofia", "Jonas", "Mia", "Noah", "Elena", "David", "Lea", "Marco", "Sara")
TESTERS = ("Nina", "Jan", "Laura", "Felix")
REASONS = (
    "Waiting for PSP sandbox credentials",
    "Waiting on the security review",
    "Staging environment is down",
    "Needs a product decision",
    "Depends on another team",
)
VERBS = ("Add", "Fix", "Support", "Show", "Export", "Migrate", "Refactor", "Validate", "Remove", "Document")
SUBJECTS = (
    "card checkout",
    "refunds",
    "payouts",
    "the merchant dashboard",
    "SEPA mandates",
    "3-D Secure",
    "webhook retries",
    "settlement reports",
    "currency rounding",
    "fraud rules",
    "the TWINT flow",
    "invoice e-mails",
    "API keys",
    "recurring payments",
    "the mobile wallet",
)

STATUS_WORDS = ("", *dict.fromkeys(status for row in STATUSES for status in row), UNMAPPED)
EVENTS = ("created", "status", "blocked", "unblocked")
NAMES, REASON_WORDS = ("", *DEVELOPERS, *TESTERS), ("", *REASONS)

IntArray = npt.NDArray[np.int64]
TextArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class _Board:
    """A generated board as codes: one entry per event row (``item`` is the item's position), the text
    columns as indexes into the small vocabularies above, and the per-item texts."""

    item: IntArray
    timestamp: TextArray
    event: IntArray  # into EVENTS
    from_status: IntArray  # into STATUS_WORDS
    to_status: IntArray
    assignee: IntArray  # into NAMES
    reason: IntArray  # into REASON_WORDS
    ids: TextArray
    titles: TextArray
    types: TextArray
    workflow: str

    @property
    def created(self) -> npt.NDArray[np.bool_]:
        created: npt.NDArray[np.bool_] = self.event == 0
        return created


def make_board(
    n_items: int, *, events_per_item: float = 8, seed: int = 0, end: dt.datetime | None = None
) -> tuple[pd.DataFrame, str]:
    """A synthetic board: the event frame in the raw file form (``COLUMNS``, all text, ``""`` for missing,
    timestamps ISO 8601 with offset, rows item by item in time order) and its workflow YAML.

    ``events_per_item`` is the mean before ``end`` cuts the newest items short, so the result is a little
    lower (about 3 % at 2 years); reachable values are about 5.8 to 18. ``end`` (default ``DEFAULT_END``)
    must be timezone-aware.
    """
    board = _generate(n_items, events_per_item, seed, end)
    blank = np.full(len(board.item), "", dtype=object)
    frame = pd.DataFrame(
        {
            "item_id": board.ids[board.item],
            "timestamp": board.timestamp,
            "event": _words(EVENTS)[board.event],
            "from_status": _words(STATUS_WORDS)[board.from_status],
            "to_status": _words(STATUS_WORDS)[board.to_status],
            "title": np.where(board.created, board.titles[board.item], blank),
            "type": np.where(board.created, board.types[board.item], blank),
            "url": np.where(board.created, URL + board.ids[board.item], blank),
            "assignee": _words(NAMES)[board.assignee],
            "reason": _words(REASON_WORDS)[board.reason],
        }
    )
    return frame, board.workflow


def write_board(
    directory: str | Path,
    n_items: int,
    *,
    events_per_item: float = 8,
    seed: int = 0,
    end: dt.datetime | None = None,
) -> tuple[Path, Path]:
    """Write the board of :func:`make_board` (same arguments, same rows) as ``events.csv`` and
    ``workflow.yml`` into ``directory``, created if needed; returns the two paths.

    The CSV is assembled from the codes with a handful of whole-array string concatenations, several times
    faster than ``DataFrame.to_csv``; no generated value holds a comma, a quote or a line break, so nothing
    needs quoting.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    board = _generate(n_items, events_per_item, seed, end)
    middles = np.array(
        [
            [[f",{event},{before},{after}" for after in STATUS_WORDS] for before in STATUS_WORDS]
            for event in EVENTS
        ],
        dtype=object,
    )
    tails = np.array([[f",{name},{reason}" for reason in REASON_WORDS] for name in NAMES], dtype=object)
    attributes = "," + board.titles + "," + board.types + "," + URL + board.ids
    lines = (
        (board.ids + ",")[board.item]
        + board.timestamp
        + middles[board.event, board.from_status, board.to_status]
        + np.where(board.created, attributes[board.item], ",,,")
        + tails[board.assignee, board.reason]
    )
    events_path, workflow_path = folder / "events.csv", folder / "workflow.yml"
    with events_path.open("w", encoding="utf-8", newline="") as file:
        file.write(",".join(COLUMNS) + "\n")
        file.write("\n".join(lines.tolist()))
        file.write("\n" if len(lines) else "")
    workflow_path.write_text(board.workflow, encoding="utf-8")
    return events_path, workflow_path


def _generate(n_items: int, events_per_item: float, seed: int, end: dt.datetime | None) -> _Board:
    """Draw the board: an items × steps mask of the steps that happen and their times, flattened to rows."""
    rng = np.random.default_rng(seed)
    tz = zoneinfo.ZoneInfo(TIMEZONE)
    end_local = (end or DEFAULT_END).astimezone(tz)
    base = end_local.date() - dt.timedelta(days=end_local.weekday() + 7 * SPAN_WEEKS)  # a Monday
    w_end = _working_seconds(base, end_local)
    n_steps = len(STEPS)
    stage = np.array([step[0] for step in STEPS])
    group = np.array([step[4] for step in STEPS])

    kind = rng.choice(len(TYPES), size=n_items, p=TYPE_SHARES)
    mask = np.broadcast_to(group == "", (n_items, n_steps)).copy()
    scale = _option_scale(events_per_item)
    for name, weight in OPTION_WEIGHTS.items():
        chosen = rng.random(n_items) < min(1.0, weight * scale)
        mask[:, group == name] = chosen[:, None]
    dropped = rng.random(n_items) < DROP_SHARE
    drop_point = np.asarray(DROP_POINTS)[rng.choice(len(DROP_POINTS), size=n_items, p=DROP_POINT_SHARES)]
    mask[dropped[:, None] & (np.arange(n_steps) > drop_point[:, None])] = False
    mask[:, -1] = dropped

    medians = np.array([step[2] for step in STEPS]) * WORKDAY
    sigmas = np.array([step[3] for step in STEPS])
    gaps = medians * np.exp(sigmas * rng.standard_normal((n_items, n_steps)))
    gaps = np.clip(gaps, 60, 20 * medians + 60).astype(np.int64)
    gaps[:, 0] = np.sort(rng.integers(0, w_end, n_items))  # created; item numbers follow creation order
    # + step index: strictly increasing times within an item, so file order and time order agree
    times = np.cumsum(np.where(mask, gaps, 0), axis=1) + np.arange(n_steps)
    happened = mask & (times < w_end)
    item, step = np.nonzero(happened)  # row-major: item by item, steps in time order
    to_stage = stage[step]

    codes = np.array([[STATUS_WORDS.index(status) for status in row] for row in STATUSES] + [[0, 0, 0]])
    to_status = codes[to_stage, kind[item]]
    to_status[(step == 0) & (rng.random(len(item)) < UNMAPPED_SHARE)] = len(STATUS_WORDS) - 1
    # from_status: the to_status of the item's previous status row (blocked rows have neither)
    status_rows = np.flatnonzero(to_stage != NO_STAGE)
    follows = np.r_[False, item[status_rows[1:]] == item[status_rows[:-1]]][: len(status_rows)]
    from_status = np.zeros(len(item), dtype=np.int64)
    from_status[status_rows[follows]] = to_status[status_rows[:-1][follows[1:]]]

    developer = rng.integers(len(DEVELOPERS), size=n_items) + 1
    tester = rng.integers(len(TESTERS), size=n_items) + 1 + len(DEVELOPERS)
    assignee = np.where(np.isin(to_stage, (TEST, DONE)), tester[item], developer[item])
    assignee[np.isin(to_stage, (BACKLOG, READY, DROPPED))] = 0
    event = np.array([EVENTS.index(s[1]) for s in STEPS])[step]
    reason = np.where(event == EVENTS.index("blocked"), rng.integers(len(REASONS), size=len(item)) + 1, 0)
    ids = ("SYN-" + pd.Series(np.arange(1, n_items + 1)).astype(str)).to_numpy(dtype=object)
    return _Board(
        item=item,
        timestamp=_timestamps(times[happened], base, tz),
        event=event,
        from_status=from_status,
        to_status=to_status,
        assignee=assignee,
        reason=reason,
        ids=ids,
        titles=_pick(VERBS, rng, n_items) + " " + _pick(SUBJECTS, rng, n_items),
        types=_words(TYPES)[kind],
        workflow=workflow_yaml(n_items, w_end / WORKDAY),
    )


def workflow_yaml(n_items: int, working_days: float) -> str:
    """The synthetic board's workflow: WIP limits scale with the arrival rate, so they mean something."""
    per_day = n_items / max(working_days, 1.0)
    limits = {READY: 3 * per_day, DEV: 4 * per_day, REVIEW: 1 * per_day, TEST: 1.5 * per_day}
    lines = [
        f"name: Synthetic board ({n_items:,} items)",
        f"timezone: {TIMEZONE}",
        "working_days: [mon, tue, wed, thu, fri]",
        'working_hours: ["08:30", "18:30"]',
        "stages:",
    ]
    for index, (name, kind) in enumerate(STAGES):
        statuses = ", ".join(f'"{status}"' for status in dict.fromkeys(STATUSES[index]))
        lines += [f"  - name: {name}", f"    statuses: [{statuses}]", f"    kind: {kind}"]
        if index in limits:
            lines.append(f"    wip_limit: {max(1, round(limits[index]))}")
    lines += [
        f"wip_limit: {max(1, round(sum(limits.values())))}",
        "start: Ready",
        "sle: {percentile: 85, window_days: 90}",
    ]
    return "\n".join(lines) + "\n"


def _option_scale(events_per_item: float) -> float:
    """Solve the expected events per item (before ``end`` cuts any short) for the options' scale."""
    sizes = {name: sum(step[4] == name for step in STEPS) for name in OPTION_WEIGHTS}

    def expected(scale: float) -> float:
        chance = {name: min(1.0, weight * scale) for name, weight in OPTION_WEIGHTS.items()}
        kept = 6 + sum(sizes[name] * chance[name] for name in OPTION_WEIGHTS)
        by_point = (2.0, 3 + 2 * chance["return"], 4 + 2 * chance["return"] + 2 * chance["block"])
        dropped = sum(share * size for share, size in zip(DROP_POINT_SHARES, by_point, strict=True))
        return (1 - DROP_SHARE) * kept + DROP_SHARE * dropped

    low, high = 0.0, 1.0 / min(OPTION_WEIGHTS.values())  # at `high` every option is always on
    for _ in range(50):
        middle = (low + high) / 2
        low, high = (middle, high) if expected(middle) < events_per_item else (low, middle)
    return low


def _working_seconds(base: dt.date, moment: dt.datetime) -> int:
    """Working seconds from ``base`` (a Monday, local) to ``moment`` (local), clamped into working hours."""
    days = (moment.date() - base).days
    weeks, weekday = divmod(days, 7)
    if weekday >= 5:
        return (weeks * 5 + 5) * WORKDAY
    since_midnight = moment.hour * 3600 + moment.minute * 60 + moment.second
    return (weeks * 5 + weekday) * WORKDAY + min(max(since_midnight - DAY_START, 0), WORKDAY)


def _timestamps(working: IntArray, base: dt.date, tz: zoneinfo.ZoneInfo) -> TextArray:
    """ISO 8601 local times with offset, from working seconds after ``base``. Built from two small tables
    (the date and offset of each working day, the time of each working second) so that the 10^6 values cost
    one fancy index and one string concatenation each."""
    if not len(working):
        return np.array([], dtype=object)
    day, second = np.divmod(working, WORKDAY)
    n_days = int(day.max()) + 1
    dates = [base + dt.timedelta(days=7 * (d // 5) + d % 5) for d in range(n_days)]
    offsets = [dt.datetime.combine(d, dt.time(12), tz).strftime("%z") for d in dates]
    kinds = sorted(set(offsets))
    offset_index = np.array([kinds.index(offset) for offset in offsets], dtype=np.int64)
    prefixes = np.array([f"{d.isoformat()}T" for d in dates], dtype=object)
    seconds = np.arange(WORKDAY) + DAY_START
    two = np.array([f"{i:02d}" for i in range(60)], dtype=object)
    clock = two[seconds // 3600] + ":" + two[seconds // 60 % 60] + ":" + two[seconds % 60]
    times = np.array([clock + f"{offset[:3]}:{offset[3:]}" for offset in kinds])
    result: TextArray = prefixes[day] + times[offset_index[day], second]
    return result


def _words(words: tuple[str, ...]) -> TextArray:
    return np.array(words, dtype=object)


def _pick(words: tuple[str, ...], rng: np.random.Generator, size: int) -> TextArray:
    result: TextArray = _words(words)[rng.integers(len(words), size=size)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for events.csv and workflow.yml")
    parser.add_argument("--events-per-item", type=float, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    events_path, workflow_path = write_board(
        args.out, args.items, events_per_item=args.events_per_item, seed=args.seed
    )
    with events_path.open(encoding="utf-8") as file:
        rows = sum(1 for _ in file) - 1
    print(
        f"wrote {rows:,} events of {args.items:,} items to {events_path} and {workflow_path} "
        f"in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
