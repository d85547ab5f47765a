"""Mentions are read as sentences: the question in the words people write, never a parser's complaint.

The reading is pure (a table of real phrasings); then signed `app_mention` events through the running app.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.slack import texts
from bot.slack.mention_words import EXAMPLES, MentionQuestion, read_mention
from bot.slack.mentions import mention_help
from bot.slack.subcommands import SUBCOMMANDS
from bot.store.models import Board
from tests.slack.conftest import FLOW_CHANNEL, RunningApp, add_sample_board

ASKABLE = SUBCOMMANDS.mention_names
BOARDS = ("Payments", "Mobile", "Mobile Web", "Status")


@pytest.mark.parametrize(
    ("said", "flow"),
    [
        ("<@U0BOT0001> what's our cycle time?", "cycle"),
        ("What’s our CYCLE TIME??", "cycle"),
        ("cycle time over the last 90 days", "cycle 90d"),
        ("how long does an item take, usually?", "cycle"),
        ("what's our lead time", "cycle"),
        ("how are we doing", "health"),
        ("How's it going, are we flowing?", "health"),
        ("are we push or pull?", "health"),
        ("health", "health"),
        ("when will 20 items be done?", "forecast 20"),
        ("When will the next 5 be finished", "forecast 5"),
        ("how long until 30 items are done", "forecast 30"),
        ("when will 10,000 items be done?", "forecast 10000"),
        ("how many by 2026-12-31", "forecast by 2026-12-31"),
        ("How many items will be done by 2027-03-01?", "forecast by 2027-03-01"),
        ("forecast 20", "forecast 20"),
        ("forecast by 2026-12-31", "forecast by 2026-12-31"),
        ("forecast", "forecast"),  # the grammar then says what to add
        ("status", "status"),
        ("what's going on?", "status"),
        ("is anything blocked?", "status"),
        ("what's in progress", "status"),
        ("<!channel> status please", "status"),
        ("which items are getting old?", "aging"),
        ("what's stuck", "aging"),
        ("ageing", "aging"),
        ("throughput", "throughput"),
        ("how many items did we finish per week?", "throughput"),
        ("what's our velocity over 12 weeks", "throughput 12w"),
        ("show the cumulative flow", "cfd"),
        ("CFD for 60 days", "cfd 60d"),
        ("what are our WIP limits?", "limits"),
        ("help", "help"),
        ("what can you do?", "help"),
        ("Payments status", "Payments status"),
        ("how is payments doing?", "Payments health"),
        ("how is Mobile Web doing?", "Mobile Web health"),
        ("Status status", "Status status"),  # a board called Status, asked for its status
        ("what's the status", "status"),  # ... and the word alone is the question
    ],
)
def test_a_mention_is_read_for_its_question(said: str, flow: str):
    asked = read_mention(said, ASKABLE, BOARDS)
    assert asked is not None and " ".join(filter(None, [asked.board, asked.command_text])) == flow
    if asked.arguments or asked.name != "forecast":  # a forecast needs its question: the grammar says so
        assert SUBCOMMANDS.parse(asked.command_text).name == asked.name


@pytest.mark.parametrize(
    "said",
    [
        "",
        "hello there",
        "bonjour 🙂",
        "thanks!",
        "set the Review limit to 3",
        "raise the WIP limits",
        "limits Review 3",  # changes are /flow's: a mention never sets a limit
        '"unclosed quote',
        "x" * 50_000,
    ],
)
def test_what_cannot_be_read_or_would_change_something_is_none(said: str):
    assert read_mention(said, ASKABLE, BOARDS) is None


def test_only_allowed_questions_are_read():
    """Asked what the registry does not let mentions ask, the reading finds nothing else to answer."""
    assert read_mention("what's our cycle time?", ["status", "help"]) is None
    assert read_mention("ping", ["status", "ping"]) == MentionQuestion("ping")


def test_every_example_in_the_mention_help_reads_as_its_subcommand():
    for name in ASKABLE:
        for example in EXAMPLES[name]:
            asked = read_mention(example, ASKABLE)
            assert asked is not None and asked.name == name, example


def test_mentions_may_ask_every_read_only_subcommand_and_nothing_that_changes_state():
    assert set(ASKABLE) == {
        "status",
        "aging",
        "cycle",
        "throughput",
        "cfd",
        "forecast",
        "health",
        "limits",
        "help",
    }


# --- through the app ------------------------------------------------------------------------------------


def mention(app: RunningApp, text: str, ts: str = "1764000000.000700") -> dict:
    app.sender.app_mention(f"<@U0BOT0001> {text}", channel_id=FLOW_CHANNEL, ts=ts)
    posted = app.slack.wait_for("chat.postMessage")[0].params
    assert posted["thread_ts"] == ts
    return posted


def test_whats_our_cycle_time_is_answered_with_the_chart_in_the_thread(sample_app: RunningApp):
    """It used to answer "a quote is not closed"; now the cycle-time answer and its chart, in the thread."""
    posted = mention(sample_app, "what's our cycle time?")
    assert "cycle time" in posted["text"] and "85%" in json.dumps(posted["blocks"])
    sample_app.slack.wait_for("files.completeUploadExternal")
    [upload] = sample_app.slack.uploads
    assert upload.channel_id == FLOW_CHANNEL and upload.thread_ts == "1764000000.000700"


def test_how_are_we_doing_is_answered_with_the_diagnosis(sample_app: RunningApp):
    posted = mention(sample_app, "how are we doing")
    assert "weekly flow review" in posted["text"] or "Push" in json.dumps(posted["blocks"])


def test_when_will_20_items_be_done_is_a_forecast(sample_app: RunningApp):
    posted = mention(sample_app, "when will 20 items be done?")
    assert "when will the next 20 items be done?" in posted["text"]
    assert "85%" in json.dumps(posted["blocks"])


def test_how_many_by_a_date_is_a_forecast(sample_app: RunningApp):
    posted = mention(sample_app, "how many by 2026-12-31")
    assert "how many items will be done by" in posted["text"]


def test_a_mention_naming_a_board_answers_about_it_from_any_channel(sample_app: RunningApp):
    sample_app.sender.app_mention("<@U0BOT0001> how is payments doing?", channel_id="C0000GENRL", ts="1.5")
    posted = sample_app.slack.wait_for("chat.postMessage")[0].params
    assert posted["channel"] == "C0000GENRL" and "Payments" in posted["text"]


def test_a_mention_it_cannot_read_gets_what_to_ask(app: RunningApp):
    """No parser error: a short list of what a mention may ask, the same for anything unreadable."""
    posted = mention(app, "tell me a joke")
    assert posted["text"] == mention_help(SUBCOMMANDS)
    assert "`@flowcoach what's our cycle time?`" in posted["text"] and "/flow help" in posted["text"]
    assert "quote" not in posted["text"] and "unknown subcommand" not in posted["text"]


def test_a_mention_asking_to_change_a_limit_changes_nothing(sample_app: RunningApp):
    posted = mention(sample_app, "limits Review 3")
    assert posted["text"] == mention_help(SUBCOMMANDS) and texts.MENTION_HELP_FOOTER in posted["text"]
    with sample_app.sessions() as session:
        assert session.scalar(select(Board)).coaching_settings in (None, {}, {"wip_limits": {}})


def test_a_mention_asking_for_the_limits_shows_them(sample_app: RunningApp):
    posted = mention(sample_app, "what are our WIP limits?")
    assert posted["text"] == "WIP limits of Payments" and "Review" in json.dumps(posted["blocks"])


def test_a_forecast_mention_without_a_number_says_what_to_add(sample_app: RunningApp):
    posted = mention(sample_app, "forecast please")
    assert "say how many items, or by which date" in posted["text"] and "/flow forecast 20" in posted["text"]


def test_an_empty_mention_gets_what_to_ask(app: RunningApp):
    assert mention(app, "")["text"] == mention_help(SUBCOMMANDS)


def test_a_mention_in_a_channel_with_two_boards_asks_which(sample_app: RunningApp):
    add_sample_board(sample_app, name="Mobile")
    posted = mention(sample_app, "status")
    assert "several boards" in posted["text"] and "Mobile" in posted["text"]
