"""Every refusal a Slack user can meet says what is wrong in a team member's words, with a next step that
works in Slack: never a command-line flag, a `flowcoach` command, an exception's name or a traceback.

Each path runs through the running app with signed requests; where the reply suggests a `/flow` command, that
command is sent too and must be answered.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import delete, select

from bot.sample import SAMPLE_ASOF
from bot.slack import ids, texts
from bot.slack.errors import known_message
from bot.store.models import AlertState, Board
from tests.slack.conftest import FLOW_CHANNEL, USER, RunningApp, add_sample_board
from tests.slack.test_coach_in_slack import button_value, click, posted_alerts, run_check

# What a Slack user must never read: the command line's words, or the machinery's.
NOT_FOR_SLACK = ("flowcoach board", "--", "Traceback", "CannotForecast", "ValueError", "went wrong")


def assert_in_slacks_words(text: str) -> None:
    for words in NOT_FOR_SLACK:
        assert words not in text, f"{words!r} shown in Slack: {text}"


def answered(app: RunningApp, text: str, **kwargs: object) -> dict:
    """`/flow text`: the acknowledgement when it answers, else what arrives at the response URL."""
    sent = app.sender.slash_command(text, **kwargs)
    assert sent.status_code == 200
    if sent.text:
        return json.loads(sent.text)
    return app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body


def suggested(text: str) -> str:
    """The `/flow …` command a reply suggests (the last one it quotes), without `/flow`."""
    commands = re.findall(r"`/flow ([^`]+)`", text)
    assert commands, f"no /flow command suggested in: {text}"
    return commands[-1]


def test_a_forecast_too_far_ahead_says_why_and_suggests_one_that_works(sample_app: RunningApp):
    """`/flow forecast 10000` used to apologise for "something" (a CannotForecast traceback in the log):
    now it says the 10,000 items are too far ahead at the recent pace, and offers a smaller number that is
    answered."""
    text = answered(sample_app, "forecast 10000")["text"]
    assert_in_slacks_words(text)
    assert text.startswith("I can't forecast 10,000 items") and "items a week" in text
    retry = suggested(text)
    assert re.fullmatch(r"forecast \d+", retry)
    assert "85%" in json.dumps(answered(sample_app, retry)["blocks"])


def test_a_forecast_to_a_past_date_names_the_start_and_a_date_that_works(sample_app: RunningApp):
    """`/flow forecast by 2020-01-01` used to answer "--by: … must be after …", a flag of the command line."""
    text = answered(sample_app, "forecast by 2020-01-01")["text"]
    assert_in_slacks_words(text)
    assert "I can't forecast up to Wed 1 Jan 2020" in text and "Fri 20 Nov 2026" in text
    retry = suggested(text)
    assert retry == "forecast by 2027-02-19"
    assert "at least" in json.dumps(answered(sample_app, retry)["blocks"])


def test_a_forecast_more_than_a_year_ahead_offers_the_furthest_date_that_works(sample_app: RunningApp):
    """`/flow forecast by 9999-12-31` used to answer "at least 4,659,382 items"."""
    text = answered(sample_app, "forecast by 9999-12-31")["text"]
    assert_in_slacks_words(text)
    assert text.startswith("I can't forecast as far as Fri 31 Dec 9999: more than a year out")
    retry = suggested(text)
    assert retry == "forecast by 2027-11-20"
    assert "at least" in json.dumps(answered(sample_app, retry)["blocks"])


def test_a_forecast_with_nothing_finished_lately_points_to_the_history(start_app, sqlite_url):
    """A year after the sample's export nothing finished in the last 30 days: no pace, said so, and the
    suggested `/flow throughput` is answered."""
    later = SAMPLE_ASOF + dt.timedelta(days=365)
    app = start_app(sqlite_url, clock=lambda: later)
    add_sample_board(app)
    text = answered(app, "forecast 20")["text"]
    assert_in_slacks_words(text)
    assert "no item was finished in the last 30 days" in text
    assert suggested(text) == "throughput"
    assert answered(app, "throughput")["text"].startswith("Payments")


def test_a_named_board_keeps_its_name_in_the_suggestion(sample_app: RunningApp):
    """Asked from a channel without a board, the suggestion names the board, so it works there too."""
    add_sample_board(sample_app, name="Team Two", channel_id=None)
    text = answered(sample_app, '"Team Two" forecast 10000', channel_id="C0000GENRL")["text"]
    retry = suggested(text)
    assert retry.startswith('"Team Two" forecast ')
    assert "85%" in json.dumps(answered(sample_app, retry, channel_id="C0000GENRL")["blocks"])


def test_an_unknown_board_lists_the_boards_and_how_to_name_one(sample_app: RunningApp):
    """`/flow Billing status` used to end "add one with: flowcoach board add"."""
    text = answered(sample_app, "Billing status")["text"]
    assert_in_slacks_words(text)
    assert "no board named 'Billing'" in text and "Payments" in text
    assert suggested(text) == "Payments status"
    assert "Development" in json.dumps(answered(sample_app, "Payments status")["blocks"])


def test_an_unknown_board_in_a_workspace_without_boards_offers_to_connect(app: RunningApp):
    text = answered(app, "Billing status")["text"]
    assert_in_slacks_words(text)
    assert "/flow connect" in text


@pytest.mark.parametrize(
    "asked",
    [
        "dance",
        "forecast soon",
        "forecast 0",
        "forecast 10001",
        "forecast by tomorrow",
        "cycle 1y",
        "limits Review many",
        "limits Deploy 3",
        "snooze forever",
        'status "unclosed',
        "help dance",
        "Payments",
    ],
)
def test_every_misunderstood_command_is_answered_in_slacks_words(sample_app: RunningApp, asked: str):
    """Usage replies and refusals of `/flow`: none shows a flag, a CLI command or a traceback."""
    text = answered(sample_app, asked)["text"]
    assert_in_slacks_words(text)
    assert "/flow" in text or "stages:" in text


def test_several_boards_here_quote_a_name_with_spaces(sample_app: RunningApp):
    """The example in the reply is a command the grammar reads: a name with a space is quoted."""
    add_sample_board(sample_app, name="A Team")
    text = answered(sample_app, "status")["text"]
    assert suggested(text) == '"A Team" status'
    assert "Development" in json.dumps(answered(sample_app, suggested(text))["blocks"])


def test_each_known_failure_has_its_words():
    """Slack's errors about a message that is gone are told as such, not as "something went wrong"."""
    for code in ("message_not_found", "cant_update_message"):
        response = SlackResponse(
            client=None, http_verb="POST", api_url="", req_args={}, data={"ok": False, "error": code},
            headers={}, status_code=200,
        )  # fmt: skip
        assert known_message(SlackApiError("refused", response)) == texts.MESSAGE_GONE


# --- buttons on messages or alerts that are gone --------------------------------------------------------


def first_alert(app: RunningApp, with_button: str = ids.ALERT_ACKNOWLEDGE) -> dict:
    """The first nudge the sample board draws that has ``with_button``."""
    board_id = add_sample_board(app)
    run_check(app, board_id)
    return next(message for message in posted_alerts(app) if with_button in json.dumps(message["blocks"]))


@pytest.mark.parametrize("action_id", [ids.ALERT_ACKNOWLEDGE, ids.ALERT_SNOOZE_HOUR])
def test_a_button_on_a_deleted_message_answers_200_and_says_the_message_is_gone(
    app: RunningApp, action_id: str
):
    """The nudge was deleted while its buttons were still on the clicker's screen: chat.update answers
    message_not_found. The click is answered 200 (it used to be 500), the choice is recorded, and the
    clicker reads, only for them, that the message is gone."""
    message = first_alert(app, action_id)
    app.slack.fail_next("chat.update", status=200, error="message_not_found", retry_after=None)
    sent = click(app, message, action_id)
    assert sent.status_code == 200
    [told] = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])
    assert told.body["response_type"] == "ephemeral" and told.body["replace_original"] is False
    assert told.body["text"].startswith("That message is gone") and f"<@{USER}>" in told.body["text"]
    assert_in_slacks_words(told.body["text"])
    with app.sessions() as session:
        row = session.get_one(AlertState, int(button_value(message, action_id).split(",")[0]))
        assert row.state in ("acknowledged", "snoozed") and row.acted_by == USER


@pytest.mark.parametrize("action_id", [ids.ALERT_ACKNOWLEDGE, ids.ALERT_SNOOZE_WEEK, ids.ALERT_SHOW_ITEMS])
def test_a_button_of_an_alert_that_is_gone_says_so(app: RunningApp, action_id: str):
    """The alert's row is gone (its board was removed): the click says so instead of doing nothing."""
    message = first_alert(app, action_id)
    with app.runtime.sessions.begin() as session:
        session.execute(delete(AlertState))
    sent = click(app, message, action_id)
    assert sent.status_code == 200
    [told] = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])
    assert told.body["text"] == texts.NUDGE_GONE and told.body["response_type"] == "ephemeral"
    assert_in_slacks_words(told.body["text"])


def test_an_unexpected_failure_behind_a_button_is_200_and_told_once(app: RunningApp):
    """Slack failing the update for another reason: still 200 (no warning sign on the button), the apology
    only for the clicker, beside the message rather than in place of it."""
    message = first_alert(app)
    app.slack.fail_next("chat.update", status=200, error="fatal_error", retry_after=None)
    sent = click(app, message, ids.ALERT_ACKNOWLEDGE)
    assert sent.status_code == 200
    [told] = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])
    assert told.body == {
        "text": texts.INTERNAL_ERROR,
        "response_type": "ephemeral",
        "replace_original": False,
    }


def test_a_button_naming_a_removed_board_is_200(sample_app: RunningApp):
    """App Home's settings button for a board removed meanwhile: 200, nothing opened."""
    board_id = sample_app.runtime.sessions().scalar(select(Board.id))
    sample_app.sender.app_home_opened(USER)
    home = sample_app.slack.wait_for("views.publish")[-1].params["view"] | {"id": "VHOME0001"}
    with sample_app.runtime.sessions.begin() as session:
        session.execute(delete(Board))
    sent = sample_app.sender.block_action(ids.OPEN_SETTINGS, str(board_id), user_id=USER, view=home)
    assert sent.status_code == 200
    assert sample_app.slack.calls_to("views.open") == []
    assert sample_app.slack.messages(FLOW_CHANNEL) == []
