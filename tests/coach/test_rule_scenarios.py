"""Each rule on a small board, with time travel: fires at the first evaluation after the condition holds,
never before; clears; respects quiet hours across a DST change. Runs through replay, as live does."""

from __future__ import annotations

import pandas as pd

from bot.coach.replay import Nudge, replay
from bot.store.board_settings import Thresholds
from tests.analytics.builders import events, workflow

ZONE = "Europe/Zurich"


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(ZONE)


def nudges(rows: list[tuple[str, ...]], since: str, until: str, **thresholds: float) -> list[Nudge]:
    result = replay(
        events(rows, ZONE),
        workflow(ZONE),
        Thresholds(**thresholds),  # type: ignore[arg-type]
        since=local(since),
        until=local(until),
    )
    return list(result.nudges)


def only(found: list[Nudge], rule: str) -> list[Nudge]:
    return [nudge for nudge in found if nudge.alert.rule == rule]


def four_in_development(day: str) -> list[tuple[str, ...]]:
    return [(f"PAY-{n}", f"{day}T09:0{n}", "In Progress") for n in range(1, 5)]


def test_wip_limit_fires_at_the_first_evaluation_after_the_fifth_item_and_names_it():
    """Development (limit 4) gets a fifth item at 10:07: detected and posted at 10:15, naming PAY-5."""
    rows = [*four_in_development("2026-11-16"), ("PAY-5", "2026-11-16T10:07", "In Progress")]
    rows.append(("PAY-1", "2026-11-16T11:02", "In Review"))
    [nudge] = only(nudges(rows, "2026-11-16T09:00", "2026-11-16T12:00"), "wip_limit_exceeded")
    assert nudge.alert.subject == "Development" and nudge.items == ("PAY-5",)  # as posted
    assert nudge.alert.detected_at == local("2026-11-16T10:15")
    assert nudge.alert.posted_at == local("2026-11-16T10:15")
    assert nudge.alert.resolved_at == local("2026-11-16T11:15")
    assert "5/4" in (nudge.text or "") and "PAY-5" in (nudge.text or "")


def test_a_limit_exceeded_in_the_evening_is_posted_next_working_morning():
    """Pulled in at 19:30 on a Monday: detected at 19:30, posted at 09:00 on Tuesday, held for quiet hours."""
    rows = [*four_in_development("2026-11-16"), ("PAY-5", "2026-11-16T19:30", "In Progress")]
    [nudge] = only(nudges(rows, "2026-11-16T18:00", "2026-11-17T10:00"), "wip_limit_exceeded")
    assert nudge.alert.detected_at == local("2026-11-16T19:30")
    assert nudge.alert.posted_at == local("2026-11-17T09:00") and nudge.alert.held == "quiet_hours"


def test_quiet_hours_follow_the_local_clock_across_the_dst_change():
    """Detected on the Saturday before clocks go forward; posted Monday 09:00 local, which is 07:00 UTC."""
    rows = [*four_in_development("2026-03-27"), ("PAY-5", "2026-03-28T11:00", "In Progress")]
    [nudge] = only(nudges(rows, "2026-03-28T10:00", "2026-03-30T10:00"), "wip_limit_exceeded")
    assert nudge.alert.posted_at == pd.Timestamp("2026-03-30T07:00", tz="UTC")
    assert nudge.alert.held == "quiet_hours"


def test_a_blocked_item_fires_after_sixteen_working_hours_not_sixteen_hours():
    """Blocked Friday 16:00: 2 h Friday + 9 h Monday + 5 h Tuesday = 16 working hours at Tuesday 14:00."""
    rows = [("PAY-1", "2026-11-12T10:00", "In Progress"), ("PAY-1", "2026-11-13T16:00", "blocked")]
    rows.append(("PAY-1", "2026-11-18T10:00", "unblocked"))
    [nudge] = only(nudges(rows, "2026-11-13T09:00", "2026-11-18T12:00"), "item_blocked")
    assert nudge.alert.detected_at == local("2026-11-17T14:00")
    assert nudge.alert.resolved_at == local("2026-11-18T10:00")


def test_a_growing_queue_fires_when_three_more_arrived_than_left():
    """Review takes in 3 items and releases none within the window: fires at the third arrival."""
    rows = [(f"PAY-{n}", "2026-11-16T09:00", "In Progress") for n in range(1, 4)]
    rows += [("PAY-1", "2026-11-16T10:00", "In Review"), ("PAY-2", "2026-11-16T11:00", "In Review")]
    rows += [("PAY-3", "2026-11-16T12:05", "In Review")]
    rows += [(f"PAY-{n}", f"2026-11-17T10:0{n}", "Done") for n in range(1, 4)]
    [nudge] = only(nudges(rows, "2026-11-16T09:00", "2026-11-17T12:00"), "queue_growing")
    assert nudge.alert.subject == "Review"
    assert nudge.alert.detected_at == local("2026-11-16T12:15")
    assert nudge.alert.resolved_at == local("2026-11-17T10:15")


def test_an_item_past_the_sle_fires_once_and_clears_when_it_finishes():
    """With an SLE from finished items, an older WIP item fires once and clears on finishing."""
    rows = [(f"PAY-{n}", f"2026-10-0{n}T09:00", "In Progress") for n in range(1, 5)]
    rows += [(f"PAY-{n}", f"2026-10-0{n}T15:00", "Done") for n in range(1, 4)]  # ~6 h cycle times
    rows += [("PAY-4", "2026-11-18T10:00", "Done")]
    [nudge] = only(nudges(rows, "2026-11-16T09:00", "2026-11-18T12:00"), "item_aging")
    assert nudge.alert.subject == "PAY-4" and nudge.alert.detected_at == local("2026-11-16T09:00")
    assert nudge.alert.resolved_at == local("2026-11-18T10:00")
