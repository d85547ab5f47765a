"""A nudge's words name items by id and title, say long durations in working days, and count in English."""

from __future__ import annotations

import pandas as pd

from bot.coach.lifecycle import Alert
from bot.coach.wording import next_step, what, why
from bot.formatting import item_title, working_time
from bot.slack.blocks.charts import piling_up
from bot.slack.blocks.nudges import SLACK_MARKUP

NOW = pd.Timestamp("2026-11-16T10:00Z")
LONG = "Add Mastercard & <Maestro> to the checkout, with 3-D Secure and the new fraud scoring from Risk"


def blocked(hours: float, title: str | None = LONG) -> Alert:
    facts = {"hours": hours, "day_hours": 9.0, "stage": "Review", "title": title, "url": "https://x/PAY-7"}
    return Alert("item_blocked", "PAY-7", NOW, hours, ("PAY-7",), facts)


def test_an_item_is_named_by_id_and_title_shortened_and_escaped_for_slack():
    """The title follows the linked id, cut at a word to at most 60 characters with an ellipsis; in Slack
    ``&``, ``<`` and ``>`` are escaped so a title cannot become a link or mention."""
    short = item_title(LONG)
    assert short is not None and len(short) <= 60 and short.endswith("…")
    assert short == "Add Mastercard & <Maestro> to the checkout, with 3-D…"
    slack = what(blocked(5), SLACK_MARKUP)
    assert slack.startswith("<https://x/PAY-7|PAY-7> “Add Mastercard &amp; &lt;Maestro&gt; to the checkout")
    assert what(blocked(5, title=None)).startswith("PAY-7 has been blocked")
    assert item_title("  ") is None and item_title("Fix login") == "Fix login"


def test_the_pulled_item_is_named_with_its_title():
    facts = {"wip": 5, "limit": 4, "pulled": "PAY-5", "pulled_url": None, "pulled_title": "Refunds API"}
    alert = Alert("wip_limit_exceeded", "Development", NOW, 1.0, ("PAY-5",), facts)
    assert what(alert) == "Development is at 5/4 WIP (PAY-5 “Refunds API” was just pulled in)."


def test_blocked_time_beyond_a_working_day_reads_in_working_days():
    """258 working hours on a 9-hour day read "28.7 working days"; under a day, whole hours."""
    assert "blocked for 28.7 working days in Review" in what(blocked(258))
    assert "blocked for 6 working hours in Review" in what(blocked(6))
    assert working_time(9, 9) == "1.0 working days" and working_time(8.6, None) == "9 working hours"


def test_starving_counts_one_item_in_the_singular():
    facts = {"hours": 12.0, "day_hours": 8.0, "upstream": "Development", "upstream_wip": 1}
    alert = Alert("stage_starving", "Test", NOW, 12.0, (), facts)
    assert what(alert) == "Test has had nothing to pull for 1.5 working days while Development holds 1 item."


def test_piling_up_needs_a_real_difference():
    """35 in and 34 out is noise; the coach's default queue_min_net (3) more in than out is piling up."""
    assert not piling_up(35, 34) and not piling_up(35, 33)
    assert piling_up(35, 32) and piling_up(3, 0)
    assert not piling_up(10, 12)


def shift(rule: str, side: str, count: int, run: int = 1, week: str = "2026-11-16") -> Alert:
    facts = {
        "week": week,
        "count": count,
        "rule": rule,
        "side": side,
        "centre": 9.5,
        "lower": 5.1,
        "upper": 18.44,
        "run": run,
        "baseline_first": "2026-07-27",
        "baseline_last": "2026-10-18",
    }
    return Alert("throughput_shift", "Throughput", NOW, abs(count - 9.5), (), facts)


def test_a_throughput_shift_says_what_changed_against_which_weeks():
    """Below the lower limit, above the upper one, or a run of weeks on one side: the count, the limit or
    the run, and the baseline it is judged against; the next step asks for the cause."""
    below = shift("outside_limits", "below", 3)
    assert what(below) == (
        "Throughput last week (16–22 Nov), 3, is below the lower limit of 5.1; "
        "the 12 weeks from 27 Jul to 18 Oct averaged 9.5 a week."
    )
    assert "a real change, not noise" in why(below).lower()
    assert next_step(below).startswith("Look for its cause") and "People away" in next_step(below)
    above = shift("outside_limits", "above", 21, week="2026-09-28")
    assert what(above).startswith(
        "Throughput last week (28 Sep – 4 Oct), 21, is above the upper limit of 18.4;"
    )
    assert "worth keeping" in next_step(above)
    run = shift("run_of_8", "below", 7, run=9)
    assert "7, makes 9 weeks in a row below the average; the 12 weeks" in what(run)
    assert "*9 weeks in a row*" in what(run, SLACK_MARKUP)


def test_one_working_day_and_one_working_hour_are_singular():
    """A queue watched over a 1-day window used to grow "over the last 1 working days"."""
    facts = {"arrivals": 3, "departures": 0, "days": 1, "wip_before": 1, "wip": 4}
    alert = Alert("queue_growing", "Review", NOW, 3.0, (), facts)
    assert what(alert) == "Review is growing: 3 in, 0 out over the last 1 working day (1 → 4 waiting)."
    assert "over the last 5 working days" in what(
        Alert("queue_growing", "Review", NOW, 3.0, (), facts | {"days": 5})
    )
    assert working_time(1.2, 9) == "1 working hour" and working_time(0.4, 9) == "0 working hours"
