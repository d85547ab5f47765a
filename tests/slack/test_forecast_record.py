"""`/flow forecast` answers end with their track record; `auto` and `60d` choose the history window."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.slack.grammar import CommandError, FlowCommand, parse_flow
from bot.slack.subcommands import SUBCOMMANDS
from tests.slack.conftest import RunningApp
from tests.slack.test_commands import answer


def shown(app: RunningApp, text: str) -> str:
    return json.dumps(answer(app, text)["blocks"], ensure_ascii=False)


def test_a_forecast_ends_with_its_track_record(sample_app: RunningApp):
    """The sample's 85 % forecasts of 16 days from 30 days came true 75 % of the time (as the command line
    says for the same instant), over the 25 weeks it has forecasts for."""
    blocks = answer(sample_app, "forecast 20")["blocks"]
    record = json.dumps(blocks[-2], ensure_ascii=False)
    assert "Track record: over the last 25 weeks, 85% forecasts like this one came true *75%*" in record
    assert "last 30 days" in json.dumps(blocks[-1])


def test_auto_says_which_window_it_chose_and_why(sample_app: RunningApp):
    text = shown(sample_app, "forecast 20 auto")
    assert "last 90 days" in text
    assert "Window 90 days, chosen as the best calibrated: its 85% forecasts came true 85% of the" in text
    assert "30 days 75%, 60 days 87%" in text


def test_a_window_can_be_asked_for(sample_app: RunningApp):
    assert "last 60 days" in shown(sample_app, "forecast by 2026-12-31 60d")


def test_a_poor_record_warns_and_suggests_auto(sample_app: RunningApp):
    """A 7-day window is too short for the sample's ups and downs: its 85 % forecasts come true too seldom."""
    warning = answer(sample_app, "forecast 20 7d")["blocks"][-2]
    assert warning["type"] == "section"  # read, not greyed out as the record is when it is good
    text = warning["text"]["text"]
    assert ":warning:" in text and "That is poor" in text and "`/flow forecast 20 auto`" in text


def flow(text: str) -> FlowCommand:
    return parse_flow(text, {entry.name: entry.arguments for entry in SUBCOMMANDS.entries})


def test_the_grammar_reads_a_window_after_the_question():
    assert flow("forecast 20 12w").window_days == 84
    assert flow("forecast by 2026-12-31 auto").auto_window
    command = flow("Payments forecast by 2026-12-31 45d share")
    assert command.forecast_by == dt.date(2026, 12, 31) and command.window_days == 45 and command.share
    assert flow("forecast 20").window_days is None and not flow("forecast 20").auto_window


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("forecast 20 30", "`30` is not a window such as 60d, 12w or auto"),
        ("forecast 20 soon", "`soon` is not a window"),
        ("forecast 20 5000d", "between 1 and 730 days"),
        ("forecast by 2026-12-31 60d extra", "say how many items"),
    ],
)
def test_a_bad_window_names_the_problem(text: str, problem: str):
    with pytest.raises(CommandError, match=problem):
        flow(text)


def test_the_weekly_review_states_the_track_record_and_warns_when_it_is_poor():
    from bot.services.forecast_record import TrackRecord
    from bot.slack.texts import review_track_record

    good = review_track_record(TrackRecord(85, 0.83, 170, 26, 30, 14))
    assert good == (
        "Forecast track record: 85% forecasts of the next 14 days came true 83% of the time over the last "
        "26 weeks."
    )
    poor = review_track_record(TrackRecord(85, 0.61, 170, 26, 30, 14))
    assert poor.startswith(":warning:") and "`/flow forecast 20 auto`" in poor
    assert "too young" in review_track_record(TrackRecord(85, 1.0, 12, 2, 30, 14))


def test_a_poor_record_in_slack_names_the_throughput_signal():
    import datetime as dt

    from analytics.xmr import Limits
    from bot.coach.shift import Shift
    from bot.services.forecast_record import TrackRecord
    from bot.slack.texts import forecast_track_record

    shift = Shift(dt.date(2026, 10, 19), 7, "outside_limits", "below", Limits(28.0, 9.4, 46.6, 7.0), 2,
                  (dt.date(2026, 6, 1), dt.date(2026, 8, 23)), False)  # fmt: skip
    text = forecast_track_record(TrackRecord(85, 0.65, 170, 26, 90, 13), "/flow forecast 20 auto", shift)
    assert text.startswith(":warning: Track record:")
    assert "throughput changed: the week of 19 Oct finished 7 items, below the lower limit of 9.4" in text
    assert "auto" not in text
