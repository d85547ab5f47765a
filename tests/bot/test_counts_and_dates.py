"""Counts and dates in words: one rule for plurals, one for articles, one date style everywhere."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics.words import with_article
from bot.formatting import count_of, day_label, local_time


@pytest.mark.parametrize(
    ("count", "noun", "plural", "expected"),
    [
        (1, "item", None, "1 item"),
        (0, "item", None, "0 items"),
        (2_000, "item", None, "2,000 items"),
        (1, "batch", "batches", "1 batch"),
        (3, "batch", "batches", "3 batches"),
        (1, "new event", None, "1 new event"),
    ],
)
def test_count_of(count, noun, plural, expected):
    assert count_of(count, noun, plural) == expected


def test_with_article():
    assert [with_article(kind) for kind in ("active", "queue", "Epic", "backlog")] == [
        "an active",
        "a queue",
        "an Epic",
        "a backlog",
    ]


def test_one_date_style_without_a_leading_zero():
    """ "Wed 2 Dec 2026", never "Wed 02 Dec": the style Slack already used, now the CLI's too."""
    assert day_label(dt.date(2026, 12, 2)) == "Wed 2 Dec 2026"
    assert day_label(dt.date(2026, 12, 2), year=False) == "Wed 2 Dec"
    moment = pd.Timestamp("2026-12-02T08:05Z")
    assert local_time(moment, "Europe/Zurich") == "Wed 2 Dec 2026 09:05"
    assert local_time(moment, "Europe/Zurich", year=False) == "Wed 2 Dec 09:05"
