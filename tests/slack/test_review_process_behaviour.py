"""The weekly review states a signal of weekly throughput's XmR chart in plain words, and says in one calm
line when the weeks it covers hold none."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.diagnosis import diagnose, weekly_trends
from analytics.measures import compute_metrics
from analytics.timeline import build_timeline
from analytics.workhours import WorkCalendar
from bot.services.reports import DIGEST_WINDOW_DAYS, throughput_verdict
from bot.slack.blocks.review import review_blocks
from tests.analytics.builders import events, finishing_board, workflow
from tests.slack.test_blocks import texts_of

ZONE = "Europe/Zurich"
HALVED, RESTORED = dt.date(2026, 5, 27), dt.date(2026, 6, 8)


def weekly_19_21(day: dt.date) -> int:
    if day.weekday() == 4:
        return 3 if day.isocalendar().week % 2 else 5
    return 4


ROWS = finishing_board(
    lambda day: 2 if HALVED <= day < RESTORED else weekly_19_21(day), "2026-01-05", "2026-07-31"
)


def review_text(now: str) -> str:
    """The review's words at ``now`` (board-local), measured as the review job measures."""
    board = workflow(ZONE)
    asof = pd.Timestamp(now).tz_localize(ZONE)
    timeline = build_timeline(events(ROWS, ZONE), board, asof)
    metrics = compute_metrics(timeline, window_days=DIGEST_WINDOW_DAYS)
    diagnosis = diagnose(timeline, asof=asof, weeks=4, calendar=WorkCalendar.of(board))
    return texts_of(review_blocks(diagnosis, weekly_trends(timeline, asof=asof, weeks=4), metrics))


def test_a_signal_last_week_is_stated_with_its_limit_and_what_to_do():
    """Monday after the halving: last week's 14 is under the lower limit of 14.68."""
    text = review_text("2026-06-01T09:30")
    assert (
        "• *Throughput last week, 14, is below the lower limit of 14.7* — a real change, not noise: "
        "look for its cause." in text
    )


def test_a_signal_in_an_earlier_week_of_the_review_is_dated():
    """Three weeks on, throughput is back (21 and 19); the newest signal is the week of 1 June (10)."""
    text = review_text("2026-06-22T09:30")
    assert "• *Throughput in the week of 1 Jun, 10, was below the lower limit of 14.7* — a real" in text
    assert "last week, " not in text


def test_steady_weeks_get_one_calm_line_with_the_limits():
    """Before the change: the four weeks of the review lie within 14.7 to 25.3: nothing to chase."""
    text = review_text("2026-05-25T09:30")
    assert (
        "• Throughput's process behaviour: the last 4 weeks all lie within the natural limits of 14.7 to "
        "25.3 a week — no signal of a real change." in text
    )
    assert "real change, not noise" not in text


def test_a_board_without_limits_says_nothing_about_them():
    """Five weeks of history: too few for limits, so the review keeps quiet about process behaviour."""
    board = workflow(ZONE)
    asof = pd.Timestamp("2026-02-09T09:30").tz_localize(ZONE)
    metrics = compute_metrics(build_timeline(events(ROWS, ZONE), board, asof), window_days=30)
    assert throughput_verdict(metrics) is None
