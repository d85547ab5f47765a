"""A shift in weekly throughput, as the coach speaks of it: the nudge ``throughput_shift`` and the weekly
review read the same signal of the XmR chart (``analytics.process_behaviour``) through this one reading."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from analytics.process_behaviour import WeeklyThroughput
from analytics.xmr import Limits, Rule, Side


@dataclass(frozen=True)
class Shift:
    """Week ``week`` (its Monday) finished ``count`` items, a signal by ``rule`` on ``side`` of the centre;
    ``run``: how many weeks in a row up to it lay on that side; ``baseline``: the first Monday and last
    Sunday of the weeks the limits come from."""

    week: dt.date
    count: int
    rule: Rule
    side: Side
    limits: Limits
    run: int
    baseline: tuple[dt.date, dt.date]
    provisional: bool

    def facts(self) -> dict[str, object]:
        """As an alert keeps it (JSON: dates as ISO text)."""
        return {
            "week": self.week.isoformat(),
            "count": self.count,
            "rule": self.rule,
            "side": self.side,
            "centre": self.limits.centre,
            "lower": self.limits.lower,
            "upper": self.limits.upper,
            "run": self.run,
            "baseline_first": self.baseline[0].isoformat(),
            "baseline_last": self.baseline[1].isoformat(),
        }


def newest_shift(chart: WeeklyThroughput, since: int = 0) -> Shift | None:
    """The newest signal of the chart among its weeks from position ``since`` on; ``None`` when there is
    none or the chart has no limits."""
    limits, baseline = chart.limits, chart.weeks.baseline_dates
    found = [signal for signal in chart.signals if signal.index >= since]
    if limits is None or baseline is None or not found:
        return None
    signal = found[-1]
    counts = chart.counts[: signal.index + 1].tolist()
    run = 0
    for count in reversed(counts):  # a chart's few dozen weeks at most
        if not ((count > limits.centre) if signal.side == "above" else (count < limits.centre)):
            break
        run += 1
    return Shift(
        week=chart.weeks.mondays[signal.index],
        count=int(counts[-1]),
        rule=signal.rule,
        side=signal.side,
        limits=limits,
        run=run,
        baseline=baseline,
        provisional=chart.weeks.provisional,
    )


def shift_words(shift: Shift) -> str:
    """The signal in a few words, for sentences that explain something by it: "the week of 25 May
    finished 14 items, below the lower limit of 14.7", or "…, the 8th week in a row below the average of
    9.5"."""
    week = f"the week of {shift.week.day} {shift.week:%b}"
    items = f"{shift.count} item{'' if shift.count == 1 else 's'}"
    if shift.rule == "outside_limits":
        edge, limit = (
            ("lower", shift.limits.lower) if shift.side == "below" else ("upper", shift.limits.upper)
        )
        return f"{week} finished {items}, {shift.side} the {edge} limit of {round(limit, 1):g}"
    return f"{week} finished {items}, the {shift.run}th week in a row {shift.side} the average of " \
        f"{round(shift.limits.centre, 1):g}"  # fmt: skip
