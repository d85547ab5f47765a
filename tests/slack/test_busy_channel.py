"""A busy channel: modals open while charts are drawn (triggers held to Slack's 3 s), no half answers."""

from __future__ import annotations

import time

from bot.slack import ids
from tests.slack.conftest import FLOW_CHANNEL, RunningApp
from tests.slack.modals import opened

QUEUED_CHARTS = 24


def test_a_trigger_older_than_three_seconds_is_refused_by_the_emulator(sample_app: RunningApp):
    """The emulator is as strict as Slack: a command's trigger id expires 3 s after the command."""
    sample_app.slack.trigger_lifetime = 0.0
    sent = sample_app.sender.slash_command("connect", channel_id=FLOW_CHANNEL)
    assert sent.status_code == 200
    assert [call.error for call in sample_app.slack.wait_for("views.open")] == ["expired_trigger_id"]


def test_modals_open_while_two_dozen_charts_are_being_drawn(sample_app: RunningApp):
    """`/flow connect` and `/flow settings` open their modal at once, however many charts are queued."""
    for _ in range(QUEUED_CHARTS):
        assert sample_app.sender.slash_command("cycle", channel_id=FLOW_CHANNEL).status_code == 200
    started = time.perf_counter()
    connect = sample_app.sender.slash_command("connect", channel_id=FLOW_CHANNEL)
    settings = sample_app.sender.slash_command("settings", channel_id=FLOW_CHANNEL)
    acknowledged = time.perf_counter() - started
    assert connect.status_code == settings.status_code == 200
    assert acknowledged < 3
    assert opened(sample_app.slack, ids.CONNECT_CHOOSE)
    assert opened(sample_app.slack, ids.SETTINGS)
    # The charts were still queued behind one another: the modals did not wait for them.
    assert len(sample_app.slack.uploads) < QUEUED_CHARTS
    assert [call.error for call in sample_app.slack.calls_to("views.open")] == [None, None]
    # And every chart was answered in the end.
    sample_app.slack.wait_for("files.completeUploadExternal", count=QUEUED_CHARTS, timeout=60)


def test_settings_for_a_channel_without_a_board_is_told_in_the_acknowledgement(app: RunningApp):
    """A modal command that cannot open its modal says why at once, with the button that connects a board."""
    sent = app.sender.slash_command("settings", channel_id=FLOW_CHANNEL)
    assert sent.status_code == 200
    answer = sent.json()
    assert answer["response_type"] == "ephemeral"
    assert "connect" in answer["text"].lower()
    assert any(block.get("type") == "actions" for block in answer.get("blocks") or [])
    assert app.slack.calls_to("views.open") == []


OUTSIDE = "C0000OUTSD"


def outside_channel(app: RunningApp) -> str:
    """A public channel the bot was never invited to (it may post there, through chat:write.public)."""
    app.slack.add_channel("T0000TEAM1", OUTSIDE, "outside", is_member=False)
    return OUTSIDE


def test_a_chart_shared_where_the_bot_is_not_posts_nothing_and_says_how_to_invite_it(
    sample_app: RunningApp,
):
    """`aging share` in a channel without the bot: no summary without its chart; the user learns to invite."""
    channel = outside_channel(sample_app)
    sent = sample_app.sender.slash_command("Payments aging share", channel_id=channel)
    assert sent.status_code == 200
    reply = sample_app.slack.wait_for_response()[0]
    assert reply.body["response_type"] == "ephemeral"
    assert "/invite @flowcoach" in reply.body["text"]
    assert len(sample_app.slack.wait_for_response()) == 1  # nothing else, in_channel or not
    assert sample_app.slack.uploads == [] and sample_app.slack.messages(channel) == []


def test_a_shared_chart_whose_summary_cannot_be_posted_is_taken_back(sample_app: RunningApp):
    """Both or neither: when the summary fails after the chart was shared, the chart is deleted again."""
    sample_app.slack.fail_next_response(status=500, times=10)
    sent = sample_app.sender.slash_command("cycle share", channel_id=FLOW_CHANNEL)
    assert sent.status_code == 200
    sample_app.slack.wait_for("files.delete", timeout=20)
    assert sample_app.slack.uploads == []
    assert [m for m in sample_app.slack.messages(FLOW_CHANNEL) if m.get("files")] == []


def test_the_weekly_review_where_the_bot_is_not_says_the_charts_need_it(app: RunningApp):
    """A review posted (chat:write.public) in a channel the bot is not in: its thread says why no charts."""
    from tests.slack.conftest import add_sample_board
    from tests.slack.test_coach_in_slack import SLOT, board_jobs

    board_id = add_sample_board(app, channel_id=outside_channel(app))
    board_jobs(app).weekly_review(board_id, SLOT, "job:1/0")
    parent, note = app.slack.wait_for("chat.postMessage", count=2)
    assert note.params["thread_ts"] == parent.response["ts"]
    assert "/invite @flowcoach" in note.params["text"]
    assert app.slack.uploads == []
