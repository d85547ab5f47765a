"""How often the coach speaks, and how early it warns: the sample board replayed over its six months.

Usage: ``python benchmarks/coach.py [--events F --workflow W] [--since T] [--until T] [--steady-weeks 8]``

It runs ``flowcoach replay --format json`` as a user would (a real process, the bundled sample board by
default) and prints the three figures of ``spec/coaching.md``'s promises:

- **messages per channel per working day**: nudges posted together share a ``message`` id; a day's
  messages are the distinct ids posted that local working day (one board, one channel here);
- **nudges per board-week in the steady period**: posted nudges over the first ``--steady-weeks`` weeks
  after the first started work;
- **breaches warned a day ahead**: of the items whose age crossed the SLE (``item_aging``), the share for
  which ``item_at_risk`` was posted at least one working day (the board's working hours) before.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import pandas as pd

from analytics.workflow import parse_workflow
from analytics.workhours import WorkCalendar, working_seconds
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, default=SAMPLE_EVENTS_PATH)
    parser.add_argument("--workflow", type=Path, default=SAMPLE_WORKFLOW_PATH)
    parser.add_argument("--since", help="default: the first event")
    parser.add_argument("--until", help="default: the sample's export time")
    parser.add_argument("--steady-weeks", type=int, default=8)
    args = parser.parse_args()
    workflow = parse_workflow(args.workflow.read_text(), source=str(args.workflow))
    calendar = WorkCalendar.of(workflow)
    first_event = _first_event(args.events)
    since = args.since or first_event.isoformat()
    until = args.until or pd.Timestamp(SAMPLE_ASOF).isoformat()
    command = [sys.executable, "-m", "bot.cli", "replay", "--events", str(args.events)]
    command += ["--workflow", str(args.workflow), "--since", since, "--until", until, "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"replay failed ({done.returncode}): {done.stderr.strip()}")
    document = json.loads(done.stdout)
    nudges = document["nudges"]
    posted = [n for n in nudges if n.get("posted_at")]
    print(
        f"replay of {document['board']} from {since} to {until}: {len(nudges)} nudges, {len(posted)} posted"
    )
    print(f"  (the replay process took {took:.1f} s)")
    _messages_per_day(posted, calendar, pd.Timestamp(since), pd.Timestamp(until))
    _steady_nudges(posted, nudges, args.steady_weeks)
    _warned_ahead(nudges, calendar)


def _first_event(path: Path) -> pd.Timestamp:
    frame = pd.read_csv(path, usecols=["timestamp"])
    return pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601").min().floor("D")


def _local_day(stamp: str, calendar: WorkCalendar) -> dt.date:
    return pd.Timestamp(stamp).tz_convert(calendar.timezone).date()


def _messages_per_day(
    posted: list[dict[str, Any]], calendar: WorkCalendar, since: pd.Timestamp, until: pd.Timestamp
) -> None:
    per_day: dict[dt.date, set[str]] = defaultdict(set)
    for nudge in posted:
        message = str(nudge.get("message") or nudge["posted_at"])  # without ids: each nudge its own message
        per_day[_local_day(nudge["posted_at"], calendar)].add(message)
    zone = calendar.timezone
    days = pd.date_range(since.tz_convert(zone).normalize(), until.tz_convert(zone).normalize(), freq="D")
    working = [day.date() for day in days if day.strftime("%a").lower() in calendar.working_days]
    counts = [len(per_day.get(day, ())) for day in working]
    worst = max(counts, default=0)
    mean = sum(counts) / len(counts) if counts else 0.0
    busiest = max(per_day, key=lambda day: len(per_day[day]), default=None)
    print(f"messages per channel per working day: max {worst} (on {busiest}), mean {mean:.2f} "
          f"over {len(working)} working days (target: at most 3 on the worst day)")  # fmt: skip


def _steady_nudges(posted: list[dict[str, Any]], nudges: list[dict[str, Any]], weeks: int) -> None:
    if not nudges:
        print("nudges per board-week in the steady period: no nudges at all")
        return
    start = min(pd.Timestamp(n["detected_at"]) for n in nudges)
    end = start + pd.Timedelta(weeks=weeks)
    steady = [n for n in posted if start <= pd.Timestamp(n["posted_at"]) < end]
    by_rule = Counter(n["rule"] for n in steady)
    messages = {str(n.get("message") or n["posted_at"]) for n in steady if n.get("held") != "budget"}
    print(f"nudges per board-week over the first {weeks} weeks: {len(steady) / weeks:.2f} "
          f"({len(steady)} posted: {dict(by_rule)}) (target: at most 1)")  # fmt: skip
    print(f"  messages at the top of the channel per board-week over those weeks: "
          f"{len(messages) / weeks:.2f} ({len(messages)} messages)")  # fmt: skip


def _warned_ahead(nudges: list[dict[str, Any]], calendar: WorkCalendar) -> None:
    start, end = calendar.working_hours
    day_seconds = (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)).seconds
    breaches = [n for n in nudges if n["rule"] == "item_aging"]
    warnings: dict[str, list[pd.Timestamp]] = defaultdict(list)
    for nudge in nudges:
        if nudge["rule"] == "item_at_risk" and nudge.get("posted_at"):
            for item in nudge.get("items") or [nudge["subject"]]:
                warnings[item].append(pd.Timestamp(nudge["posted_at"]))
    ahead = 0
    for breach in breaches:
        crossed = pd.Timestamp(breach["detected_at"])
        items = breach.get("items") or [breach["subject"]]
        earliest = min((w for item in items for w in warnings.get(item, []) if w <= crossed), default=None)
        if earliest is not None and working_seconds(earliest, crossed, calendar) >= day_seconds:
            ahead += 1
    share = ahead / len(breaches) if breaches else 1.0
    print(f"SLE breaches warned at least one working day ahead: {ahead} of {len(breaches)} "
          f"({share:.0%}) (target: at least 80 %)")  # fmt: skip


if __name__ == "__main__":
    main()
