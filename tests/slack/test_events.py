"""Events and buttons: mentions answered in thread, App Home, its buttons, URL verification, rate limits."""

from __future__ import annotations

import json
import time

from bot.slack import ids
from tests.slack.conftest import FLOW_CHANNEL, USER, RunningApp


def test_url_verification_echoes_the_challenge(app: RunningApp):
    """Slack's URL check when the events URL is saved gets its challenge back."""
    sent = app.sender.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert sent.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in sent.text


def test_a_mention_asking_for_status_is_answered_in_its_thread(sample_app: RunningApp):
    """`@flowcoach status` replies in the mention's thread with the board's WIP."""
    sample_app.sender.app_mention("<@U0BOT0001> status", channel_id=FLOW_CHANNEL, ts="1764000000.000200")
    call = sample_app.slack.wait_for("chat.postMessage")[0]
    assert call.params["channel"] == FLOW_CHANNEL
    assert call.params["thread_ts"] == "1764000000.000200"
    assert "Development" in json.dumps(call.params["blocks"])


def test_a_mention_asking_for_a_forecast(sample_app: RunningApp):
    """`@flowcoach forecast 20` replies with the three confidence levels."""
    sample_app.sender.app_mention("<@U0BOT0001> forecast 20", channel_id=FLOW_CHANNEL)
    shown = json.dumps(sample_app.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "85%" in shown


def test_a_mention_asking_for_help(app: RunningApp):
    """`@flowcoach help` replies with the usage, even without a board."""
    app.sender.app_mention("<@U0BOT0001> help", channel_id=FLOW_CHANNEL)
    assert "/flow status" in json.dumps(app.slack.wait_for("chat.postMessage")[0].params["blocks"])


def test_a_redelivered_mention_is_answered_once(sample_app: RunningApp):
    """Slack's retry of the same event (same event id) does not produce a second answer."""
    sample_app.sender.app_mention("<@U0BOT0001> status", channel_id=FLOW_CHANNEL, event_id="Ev0001")
    sample_app.slack.wait_for("chat.postMessage")
    sample_app.sender.app_mention(
        "<@U0BOT0001> status", channel_id=FLOW_CHANNEL, event_id="Ev0001", retry_num=1
    )
    sample_app.sender.app_mention("<@U0BOT0001> help", channel_id=FLOW_CHANNEL, event_id="Ev0002")
    sample_app.slack.wait_for("chat.postMessage", count=2)
    posted = sample_app.slack.calls_to("chat.postMessage")
    assert len(posted) == 2 and "/flow status" in json.dumps(posted[1].params["blocks"])


def test_app_home_shows_each_board_with_its_buttons(sample_app: RunningApp):
    """Opening App Home publishes every board with WIP against limits and the settings/status buttons."""
    sample_app.sender.app_home_opened(USER)
    view = sample_app.slack.wait_for("views.publish")[0].params["view"]
    shown = json.dumps(view)
    assert view["type"] == "home" and "Payments" in shown and "Review" in shown
    action_ids = {
        element["action_id"]
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    assert {ids.OPEN_SETTINGS, ids.POST_STATUS} <= action_ids


def test_app_home_without_boards_offers_to_connect_one(app: RunningApp):
    """An empty workspace's App Home explains itself and offers the connect button."""
    app.sender.app_home_opened(USER)
    view = app.slack.wait_for("views.publish")[0].params["view"]
    assert ids.OPEN_CONNECT in json.dumps(view)


def test_the_post_status_button_posts_in_the_boards_channel(sample_app: RunningApp):
    """ "Post status in channel" on App Home posts the status message in the board's channel."""
    sent = sample_app.sender.block_action(
        ids.POST_STATUS, str(_board_id(sample_app)), user_id=USER, view=_home(sample_app)
    )
    assert sent.status_code == 200
    call = sample_app.slack.wait_for("chat.postMessage")[0]
    assert call.params["channel"] == FLOW_CHANNEL and "Development" in json.dumps(call.params["blocks"])


def test_a_rate_limited_post_is_retried_and_delivered_once(sample_app: RunningApp):
    """A 429 with Retry-After on chat.postMessage is waited out and the message appears exactly once."""
    sample_app.slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    home = _home(sample_app)
    sample_app.sender.block_action(ids.POST_STATUS, str(_board_id(sample_app)), user_id=USER, view=home)
    sample_app.slack.wait_for("chat.postMessage")
    attempts = sample_app.slack.calls_to("chat.postMessage")
    assert [call.failed for call in attempts] == [True, False]
    assert len(sample_app.slack.messages(FLOW_CHANNEL)) == 1


def test_the_settings_button_of_another_workspaces_board_does_nothing(sample_app: RunningApp):
    """A button payload naming a board id from a team the install does not serve opens nothing."""
    home = _home(sample_app)
    sent = sample_app.sender.block_action(
        ids.OPEN_SETTINGS, str(_board_id(sample_app)), user_id=USER, team_id="T0000TEAM2", view=home
    )
    assert sent.status_code == 200
    time.sleep(0.3)
    assert sample_app.slack.calls_to("views.open") == []


def _home(app: RunningApp) -> dict:
    """The App Home view as published for the user, to click its buttons."""
    app.sender.app_home_opened(USER)
    return app.slack.wait_for("views.publish")[-1].params["view"] | {"id": "VHOME0001"}


def _board_id(app: RunningApp) -> int:
    from sqlalchemy import select

    from bot.store.models import Board

    with app.sessions() as session:
        return int(session.scalar(select(Board.id)))


def test_a_dropped_connection_on_an_idempotent_call_is_retried(sample_app: RunningApp):
    """views.publish whose connection drops is sent again: publishing the same view twice is harmless."""
    sample_app.slack.drop_next("views.publish")
    sample_app.sender.app_home_opened(USER)
    sample_app.slack.wait_for("views.publish")
    assert [call.failed for call in sample_app.slack.calls_to("views.publish")] == [True, False]


def test_a_post_whose_fate_is_unknown_is_never_sent_twice(sample_app: RunningApp):
    """A connection lost after chat.postMessage was sent may have posted it: it is not repeated."""
    home = _home(sample_app)
    sample_app.slack.drop_next("chat.postMessage")
    sample_app.sender.block_action(ids.POST_STATUS, str(_board_id(sample_app)), user_id=USER, view=home)
    sample_app.slack.wait_for("chat.postMessage", include_failed=True)
    time.sleep(1.5)  # longer than the client's retry back-off
    assert len(sample_app.slack.calls_to("chat.postMessage")) == 1
