"""A failure after the acknowledgement is told once, in friendly words, where the answer would have gone,
and logged once with its traceback; a listener with no one to tell only logs it."""

from __future__ import annotations

import json
import logging
import time

import pytest
from sqlalchemy import text

from bot.slack import ids, texts
from bot.slack.errors import reported
from bot.slack.reply_to import nowhere
from tests.slack.conftest import FLOW_CHANNEL, USER, RunningApp


def failures_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def wait_for_failure_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    deadline = time.monotonic() + 10
    while not failures_logged(caplog) and time.monotonic() < deadline:
        time.sleep(0.05)
    return failures_logged(caplog)


def settle() -> None:
    """Long enough for a second report or log line, were there one, to arrive."""
    time.sleep(0.5)


def test_an_unexpected_error_answering_a_command_is_told_once_and_logged_with_its_traceback(
    sample_app: RunningApp, caplog: pytest.LogCaptureFixture
):
    """Slack refusing the DM for a private chart: the asker reads the friendly apology once, ephemerally,
    without a traceback; the log has the traceback, once."""
    caplog.set_level(logging.INFO)
    sample_app.slack.fail_next("conversations.open", status=200, error="fatal_error", retry_after=None)
    sent = sample_app.sender.slash_command("aging")
    key = sent.response_url.rsplit("/", 1)[-1]
    [told] = sample_app.slack.wait_for_response(key)
    settle()
    assert len(sample_app.slack.wait_for_response(key)) == 1
    assert told.body == {"text": texts.INTERNAL_ERROR, "response_type": "ephemeral"}
    [logged] = failures_logged(caplog)
    assert logged.getMessage() == "answer failed"
    assert logged.exc_info is not None and "fatal_error" in caplog.text and "Traceback" in caplog.text


def test_an_unexpected_error_answering_a_mention_is_told_once_in_its_thread(
    sample_app: RunningApp, caplog: pytest.LogCaptureFixture
):
    """Slack failing the answer to `@flowcoach status`: the thread gets the friendly apology once, and the
    log the traceback once."""
    caplog.set_level(logging.INFO)
    sample_app.slack.fail_next("chat.postMessage", status=200, error="fatal_error", retry_after=None)
    sample_app.sender.app_mention("<@U0BOT0001> status", channel_id=FLOW_CHANNEL, ts="1764000000.000500")
    [told] = sample_app.slack.wait_for("chat.postMessage")
    settle()
    assert len(sample_app.slack.wait_for("chat.postMessage")) == 1
    assert told.params["text"] == texts.INTERNAL_ERROR and told.params["thread_ts"] == "1764000000.000500"
    assert "blocks" not in told.params
    [logged] = failures_logged(caplog)
    assert logged.getMessage() == "on_mention failed" and logged.exc_info is not None
    assert "fatal_error" in caplog.text


def test_a_known_error_answering_a_mention_guides_instead_of_apologising(app: RunningApp):
    """A mention in a channel without a board gets the connect guide and its button, in the thread."""
    app.sender.app_mention("<@U0BOT0001> health", channel_id=FLOW_CHANNEL, ts="1764000000.000600")
    [told] = app.slack.wait_for("chat.postMessage")
    assert told.params["text"] == texts.NO_BOARD_HERE and told.params["thread_ts"] == "1764000000.000600"
    assert ids.OPEN_CONNECT in json.dumps(told.params["blocks"])


def test_a_failure_with_no_one_to_tell_is_only_logged(app: RunningApp, caplog: pytest.LogCaptureFixture):
    """App Home cannot be built when the database lost a table: nothing is published, the traceback is
    logged once."""
    caplog.set_level(logging.INFO)
    with app.runtime.sessions.begin() as session:
        session.execute(text("DROP TABLE boards"))
    app.sender.app_home_opened(USER)
    [logged] = wait_for_failure_logged(caplog)
    settle()
    assert failures_logged(caplog) == [logged]
    assert logged.getMessage() == "on_home_opened failed" and "no such table" in caplog.text
    assert app.slack.calls_to("views.publish") == []


def test_a_listener_asking_for_what_bolt_does_not_provide_is_refused_when_registered():
    """A typo in a listener's arguments fails at start-up, not as a None at the first request."""

    def on_something(event: dict, clinet: object) -> None:
        pass

    with pytest.raises(TypeError, match="clinet"):
        reported(nowhere)(on_something)
