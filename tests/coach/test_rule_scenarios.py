"""Each rule on a small board, with time travel: fires at the first evaluation after the condition holds,
never before; clears; respects quiet hours across a DST change. Runs through replay, as live does."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bot.coach.replay import Nudge, replay
from bot.store.board_settings import Thresholds
from tests.analytics.builders import events, finishing_board, workflow

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


def six_hour_items(count: int) -> list[tuple[str, ...]]:
    """``count`` items started at 09:00 and finished at 15:00 on consecutive October days."""
    rows = [(f"Q-{n}", f"2026-10-{n + 1:02d}T09:00", "In Progress") for n in range(count)]
    return rows + [(f"Q-{n}", f"2026-10-{n + 1:02d}T15:00", "Done") for n in range(count)]


def test_an_item_past_the_sle_fires_once_and_clears_when_it_finishes():
    """With an SLE from ten finished items (6 h each), an older WIP item fires once, clears on finishing."""
    rows = [*six_hour_items(10), ("PAY-4", "2026-10-20T09:00", "In Progress")]
    rows += [("PAY-4", "2026-11-18T10:00", "Done")]
    [nudge] = only(nudges(rows, "2026-11-16T09:00", "2026-11-18T12:00"), "item_aging")
    assert nudge.alert.subject == "PAY-4" and nudge.alert.detected_at == local("2026-11-16T09:00")
    assert nudge.alert.resolved_at == local("2026-11-18T10:00")


def test_no_item_past_a_provisional_sle():
    """Nine finished items: the first to finish on a young board are the quick ones, so an SLE from fewer
    than ten flags most work as late. Nothing is said against it."""
    rows = [*six_hour_items(9), ("PAY-4", "2026-10-20T09:00", "In Progress")]
    assert not only(nudges(rows, "2026-11-16T09:00", "2026-11-18T12:00"), "item_aging")


def history(items: int, first_day: str = "2026-10-01") -> list[tuple[str, ...]]:
    """``items`` finished items, one started a day: a day in Ready, a day in Development, a day in Review.

    Every exit age is the same: Ready 1 day, Development 2, Review 3 (= the SLE, 3 days of cycle time).
    """
    rows: list[tuple[str, ...]] = []
    for n in range(items):
        day = pd.Timestamp(first_day) + pd.Timedelta(days=n)
        for offset, status in enumerate(("Selected", "In Progress", "In Review", "Done")):
            rows.append((f"H-{n}", (day + pd.Timedelta(days=offset)).strftime("%Y-%m-%dT09:00"), status))
    return rows


def test_an_item_at_risk_fires_past_its_stage_p85_and_clears_when_it_moves_on():
    """Ten items left Ready by an age of 1 day; PAY-1, in Ready since Monday 09:00, passes that at Tuesday
    09:00: detected and posted at 09:15, long before the 3-day SLE; moving on at 11:00 clears it."""
    rows = [
        *history(10),
        ("PAY-1", "2026-11-16T09:00", "Selected"),
        ("PAY-1", "2026-11-17T11:00", "In Progress"),
    ]
    found = nudges(rows, "2026-11-16T09:00", "2026-11-17T12:00")
    [nudge] = only(found, "item_at_risk")
    assert nudge.alert.subject == "PAY-1" and nudge.alert.items == ("PAY-1",)
    assert nudge.alert.detected_at == local("2026-11-17T09:15")
    assert nudge.alert.posted_at == local("2026-11-17T09:15")
    assert nudge.alert.resolved_at == local("2026-11-17T11:00")
    assert nudge.text is not None and "still in Ready" in nudge.text and "by 1.0 days" in nudge.text
    assert not only(found, "item_aging")


def test_an_item_at_risk_clears_when_it_is_discarded():
    rows = [
        *history(10),
        ("PAY-1", "2026-11-16T09:00", "Selected"),
        ("PAY-1", "2026-11-17T10:00", "Won't Do"),
    ]
    [nudge] = only(nudges(rows, "2026-11-16T09:00", "2026-11-17T12:00"), "item_at_risk")
    assert nudge.alert.resolved_at == local("2026-11-17T10:00")


def test_no_item_at_risk_from_fewer_than_ten_exits():
    """Nine items left Ready: their p85 is provisional, too shaky to nudge on."""
    rows = [*history(9), ("PAY-1", "2026-11-16T09:00", "Selected")]
    assert not only(nudges(rows, "2026-11-16T09:00", "2026-11-17T12:00"), "item_at_risk")


def test_no_item_at_risk_below_the_stage_p85():
    """PAY-1 leaves Ready at an age of 23 hours, under the 1-day p85: nothing to say."""
    rows = [
        *history(10),
        ("PAY-1", "2026-11-16T09:00", "Selected"),
        ("PAY-1", "2026-11-17T08:00", "In Progress"),
    ]
    assert not only(nudges(rows, "2026-11-16T09:00", "2026-11-17T12:00"), "item_at_risk")


def test_a_steady_board_draws_no_nudge_at_all():
    """An item a day enters Ready and spends a day in each stage: no limit, queue, starving, risk or age."""
    rows = history(49)  # the last ones are still in progress on 18 November
    rows = [row for row in rows if row[1] <= "2026-11-18T09:00"]
    assert nudges(rows, "2026-11-16T09:00", "2026-11-18T12:00") == []


def uneven_history(review_days: list[int]) -> list[tuple[str, ...]]:
    """Items started a day apart: a day in Ready, a day in Development, then ``review_days[n]`` in Review."""
    rows: list[tuple[str, ...]] = []
    for n, days in enumerate(review_days):
        start = pd.Timestamp("2026-10-01T09:00") + pd.Timedelta(days=n)
        for offset, status in ((0, "Selected"), (1, "In Progress"), (2, "In Review"), (2 + days, "Done")):
            rows.append((f"U-{n}", (start + pd.Timedelta(days=offset)).strftime("%Y-%m-%dT%H:%M"), status))
    return rows


def test_an_item_in_the_last_stage_is_warned_a_working_day_before_it_breaches_the_sle():
    """Cycle times 3,3,3,3,3,3,4,4,5,6 days: SLE (p85) 4.65 days, which is also Review's exit-age p85, so a
    stage-p85 warning would come with the breach. Review's p70 is 4.0 days: PAY-1 (started Monday 09:00, in
    Review from Wednesday) is older than that from Friday 09:00 and breaches at Saturday 00:36, 9 working
    hours later: warned at Friday 09:15; the breach itself is posted on Monday morning."""
    rows = [
        *uneven_history([1, 1, 1, 1, 1, 1, 2, 2, 3, 4]),
        ("PAY-1", "2026-11-16T09:00", "Selected"),
        ("PAY-1", "2026-11-17T09:00", "In Progress"),
        ("PAY-1", "2026-11-18T09:00", "In Review"),
    ]
    found = nudges(rows, "2026-11-19T09:00", "2026-11-23T12:00")
    [risk] = only(found, "item_at_risk")
    assert risk.alert.detected_at == local("2026-11-20T09:15") == risk.alert.posted_at
    assert risk.text is not None and "passes the SLE of 4.6 days in 9 working hours" in risk.text
    [breach] = only(found, "item_aging")
    assert breach.alert.posted_at == local("2026-11-23T09:00")


def test_a_steady_board_draws_no_warning_ahead_of_the_sle_either():
    """Every item leaves Review at the SLE's age: an item a day from the SLE in Review is normal, not late."""
    rows = [
        *history(10),
        ("PAY-1", "2026-11-16T09:00", "Selected"),
        ("PAY-1", "2026-11-17T09:00", "In Progress"),
    ]
    rows += [("PAY-1", "2026-11-18T09:00", "In Review"), ("PAY-1", "2026-11-19T08:59", "Done")]
    assert not only(nudges(rows, "2026-11-16T09:00", "2026-11-19T12:00"), "item_at_risk")


HALVED = dt.date(2026, 5, 27)  # a Wednesday, 20 weeks after the board's first full week
RESTORED = dt.date(2026, 6, 8)


def weekly_19_21(day: dt.date) -> int:
    """Four items a weekday, Fridays 3 or 5 by the ISO week's parity: 19, 21, 19, 21 a week (limits 20 ±
    2.66 × 2, so 14.68 to 25.32)."""
    if day.weekday() == 4:
        return 3 if day.isocalendar().week % 2 else 5
    return 4


def halving_board() -> list[tuple[str, ...]]:
    """19/21 a week from 5 January, two a weekday from Wednesday 27 May, 19/21 again from 8 June."""
    return finishing_board(
        lambda day: 2 if HALVED <= day < RESTORED else weekly_19_21(day), "2026-01-05", "2026-06-19"
    )


def test_throughput_halving_on_a_known_day_fires_within_two_weeks():
    """Halved from Wednesday 27 May: the week of 25 May ends with 14 (under 14.68) and at Monday 00:00 the
    shift is detected, posted at 09:00 when work starts, 5 days after the change, saying what changed."""
    found = nudges(halving_board(), "2026-05-27T09:00", "2026-06-10T09:00")
    [nudge] = only(found, "throughput_shift")
    assert nudge.alert.subject == "Throughput" and nudge.items == ()
    assert nudge.alert.detected_at == local("2026-06-01T00:00")
    assert nudge.alert.posted_at == local("2026-06-01T09:00") and nudge.alert.held == "quiet_hours"
    assert nudge.alert.resolved_at is None  # the week of 1 June (10) is still below: the same shift
    assert nudge.text is not None
    assert nudge.text.startswith("Throughput last week (25–31 May), 14, is below the lower limit of 14.7")
    assert "the 12 weeks from 9 Feb to 3 May averaged 20.0 a week" in nudge.text


def test_throughput_shift_clears_at_the_first_week_back_within_the_limits():
    """Back to 19/21 from 8 June: on Sunday evening the week of 1 June (10) is the last, still a shift;
    from Monday 15 June 00:00 the last week (21) is inside the limits and the alert clears."""
    [nudge] = only(nudges(halving_board(), "2026-06-14T20:00", "2026-06-15T01:00"), "throughput_shift")
    assert nudge.alert.detected_at == local("2026-06-14T20:00")
    assert nudge.alert.resolved_at == local("2026-06-15T00:00")
    assert nudge.alert.posted_at is None  # it was Sunday: it cleared before anyone was at work


def test_a_steady_week_draws_no_throughput_shift():
    """The Monday before the change: the week just ended (19) is one like the others."""
    assert not only(nudges(halving_board(), "2026-05-18T00:00", "2026-05-18T12:00"), "throughput_shift")
