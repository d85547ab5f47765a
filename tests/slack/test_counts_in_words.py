"""Slack's sentences count in English: one item, one day, one more board (texts, no app needed)."""

from __future__ import annotations

import datetime as dt

from bot.slack import texts


def test_one_of_anything_is_singular():
    """Each of these read "1 items" or "1 days" before."""
    assert texts.wip_total(1, None) == "*1 item in progress* (no board limit)"
    assert texts.throughput_summary(1, 1, 7.0) == "Throughput: 1 item in 1 day (7.0 per week)"
    assert texts.sle_summary(85, None, 1) == "SLE: nothing finished in the last 1 day"
    assert (
        texts.aging_comment(1, "PAY-1", "3.0 d") == "1 item past 70% pace; the oldest, PAY-1, is 3.0 d old."
    )
    assert texts.cycle_basis(1, 1, "2.0 d") == "1 item finished in the last 1 day; the longest took 2.0 d."
    assert texts.cycle_comment("2.0 d", 1, 1).endswith("over the last 1 day (1 item).")
    assert texts.throughput_comment(1, 1, 7.0) == "1 item finished in the last 1 day: 7.0 per week."
    assert texts.home_more_boards(1) == "*1 more board*" and texts.home_more_boards(2) == "*2 more boards*"
    assert texts.digest_unmapped([("Triage", 1)]).endswith("Triage (1 item).")
    assert texts.CONNECT_READY_TEXT.format(board="B", items="1 item") == "B is connected: 1 item loaded."


def test_dates_have_no_leading_zero():
    assert texts.short_date(dt.date(2026, 12, 2)) == "Wed 2 Dec 2026"
