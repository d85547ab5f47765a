"""`/flow` through the running app: signed slash commands in, Web API calls and response-URL posts out."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.slack import ids
from bot.store.models import Board, ChannelSnooze
from tests.slack.conftest import FLOW_CHANNEL, USER, RunningApp, add_sample_board

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def texts_of(blocks: list[dict]) -> str:
    """All the text a reader sees in a list of blocks, for assertions."""
    return json.dumps(blocks, ensure_ascii=False)


def answer(app: RunningApp, text: str, **kwargs: object) -> dict:
    """Send `/flow text`; the acknowledgement is empty and the answer arrives at the response URL."""
    sent = app.sender.slash_command(text, **kwargs)
    assert sent.status_code == 200
    assert sent.text == ""
    return app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body


def test_help_is_the_acknowledgement_itself(app):
    """`/flow help` answers in the acknowledgement, listing every subcommand, the coach's included."""
    sent = app.sender.slash_command("help")
    assert sent.status_code == 200
    body = json.loads(sent.text)
    assert body["response_type"] == "ephemeral"
    shown = texts_of(body["blocks"])
    for subcommand in ("status", "aging", "cycle", "throughput", "cfd", "forecast", "limits", "connect"):
        assert f"/flow {subcommand}" in shown
    assert "/flow health" in shown
    assert "/flow digest" in shown


def test_an_empty_command_shows_help(app):
    """`/flow` alone is a request for help."""
    assert "/flow status" in app.sender.slash_command("").text


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("forecast soon", "/flow forecast 20"),
        ("cycle yesterday", "/flow cycle [30d]"),
        ("limits Review many", "/flow limits"),
        ("snooze forever", "/flow snooze"),
        ("status now", "/flow status"),
    ],
)
def test_bad_arguments_get_that_subcommands_usage(app, text, usage):
    """A malformed subcommand is answered at once with the problem and that subcommand's usage."""
    sent = app.sender.slash_command(text)
    assert sent.status_code == 200
    body = json.loads(sent.text)
    assert body["response_type"] == "ephemeral"
    assert "Usage:" in body["text"] and usage in body["text"]


def test_an_unknown_subcommand_lists_the_subcommands(app):
    """A word that is neither a subcommand nor followed by one gets the list and a pointer to help."""
    body = json.loads(app.sender.slash_command("dance").text)
    assert "unknown subcommand 'dance'" in body["text"] and "/flow help" in body["text"]


def test_status_answers_through_the_response_url(sample_app):
    """`/flow status` is acknowledged empty; WIP by stage vs limits follows, visible only to the asker."""
    body = answer(sample_app, "status")
    assert body["response_type"] == "ephemeral"
    shown = texts_of(body["blocks"])
    for stage in ("Ready", "Development", "Review", "Test"):
        assert stage in shown
    assert "Payments" in shown


def test_share_posts_the_status_in_the_channel(sample_app):
    """`share` anywhere in the text makes the answer visible to the channel."""
    assert answer(sample_app, "status share")["response_type"] == "in_channel"


@pytest.mark.parametrize("chart", ["aging", "cycle 30d", "throughput 12w", "cfd"])
def test_a_private_chart_is_sent_as_a_png_in_a_direct_message(sample_app, chart):
    """Files are public where they land, so an ephemeral chart goes to the asker's DM with the bot."""
    body = answer(sample_app, chart)
    assert body["response_type"] == "ephemeral"
    assert "direct message" in texts_of(body["blocks"])
    sample_app.slack.wait_for("files.completeUploadExternal")
    upload = sample_app.slack.uploads[-1]
    assert upload.channel_id == sample_app.slack.dm_id("T0000TEAM1", USER)
    assert upload.content.startswith(PNG_MAGIC) and len(upload.content) > 10_000
    assert upload.filename.endswith(".png")


def test_a_shared_chart_is_uploaded_into_the_channel(sample_app):
    """`cfd share` uploads the diagram into the channel with who shared it."""
    body = answer(sample_app, "cfd share")
    assert body["response_type"] == "in_channel"
    sample_app.slack.wait_for("files.completeUploadExternal")
    upload = sample_app.slack.uploads[-1]
    assert upload.channel_id == FLOW_CHANNEL
    assert upload.content.startswith(PNG_MAGIC)
    assert f"<@{USER}>" in (upload.initial_comment or "")


def test_forecast_when_gives_three_confidence_levels(sample_app):
    """`forecast 20` answers when 20 items will be done at 50, 85 and 95 %."""
    shown = texts_of(answer(sample_app, "forecast 20")["blocks"])
    for level in ("50%", "85%", "95%"):
        assert level in shown


def test_forecast_by_a_date_answers_how_many(sample_app):
    """`forecast by DATE` answers how many items at least."""
    shown = texts_of(answer(sample_app, "forecast by 2026-12-31")["blocks"])
    assert "at least" in shown


def test_forecast_by_a_past_date_is_a_friendly_error(sample_app):
    """A date before today cannot be forecast: the reply says why, without a traceback."""
    body = answer(sample_app, "forecast by 2026-01-01")
    assert "forecasts start from" in body["text"] and "Traceback" not in body["text"]


def test_limits_are_shown_and_set_for_the_team(sample_app):
    """`limits` lists each stage's limit; `limits Review 5` changes it, says so in channel, and sticks."""
    shown = texts_of(answer(sample_app, "limits")["blocks"])
    assert "Review" in shown and "Whole board" in shown
    body = answer(sample_app, "limits review 5")
    assert body["response_type"] == "in_channel"
    assert "*Review*" in body["text"] and "*5*" in body["text"]
    with sample_app.sessions() as session:
        board = session.scalar(select(Board))
        assert board.coaching_settings["wip_limits"] == {"Review": 5}
    assert "5  (now" in texts_of(answer(sample_app, "limits")["blocks"])


def test_a_limit_on_an_unknown_stage_names_the_stages(sample_app):
    """`limits Deploy 3` on a board without Deploy lists the stages that exist."""
    body = answer(sample_app, "limits Deploy 3")
    assert "no WIP stage called 'Deploy'" in body["text"] and "Review" in body["text"]


def test_names_people_chose_cannot_ping_or_link_in_the_channel(app):
    """A board named `<!channel>` (any member may name one in /flow connect) and a stage typed as
    `<@U1>`: the in-channel limits notice and the error quote them as text, never as mentions."""
    add_sample_board(app, name="<!channel> & co")
    body = answer(app, '"<!channel> & co" limits review 4')
    assert body["response_type"] == "in_channel"
    assert "&lt;!channel&gt; &amp; co" in body["text"] and "<!channel>" not in body["text"]
    error = answer(app, "limits <@U0000USER1> 3")["text"]
    assert "&lt;@U0000USER1&gt;" in error and "<@U0000USER1>" not in error

def test_snooze_silences_the_channel_until_ended(sample_app):
    """`snooze 2h` records the silence, `snooze` shows it, `snooze off` ends it."""
    assert "snoozed until" in answer(sample_app, "snooze 2h")["text"]
    with sample_app.sessions() as session:
        snooze = session.scalar(select(ChannelSnooze))
        assert snooze.channel_id == FLOW_CHANNEL and snooze.snoozed_by == USER
    assert "snoozed until" in answer(sample_app, "snooze")["text"]
    assert "back on" in answer(sample_app, "snooze off")["text"]
    assert "are on" in answer(sample_app, "snooze")["text"]


def test_a_channel_without_a_board_is_guided_to_connect_one(app):
    """Without a board the answer explains `/flow connect` and offers a button that starts it."""
    body = answer(app, "status")
    assert "/flow connect" in texts_of(body["blocks"])
    actions = [block for block in body["blocks"] if block["type"] == "actions"]
    assert actions[0]["elements"][0]["action_id"] == ids.OPEN_CONNECT


def test_a_board_can_be_named_from_any_channel(sample_app):
    """`/flow Payments status` works in a channel that has no board of its own."""
    body = answer(sample_app, "Payments status", channel_id="C0000GENRL")
    assert "Development" in texts_of(body["blocks"])


def test_several_boards_in_a_channel_ask_which(sample_app):
    """With two boards in the channel and none named, the answer lists them."""
    add_sample_board(sample_app, name="Mobile")
    body = answer(sample_app, "status")
    assert "Mobile" in body["text"] and "Payments" in body["text"]


def test_an_unknown_board_lists_the_known_ones(sample_app):
    """A board name that does not exist gets the names that do."""
    body = answer(sample_app, "Billing status")
    assert "no board named 'Billing'" in body["text"] and "Payments" in body["text"]


def test_each_request_is_logged_with_its_id_team_user_and_command_not_its_text(sample_app, capsys):
    """With LOG_FORMAT=json, the acknowledgement of `/flow status` is one line with a request id, the team,
    the user and the subcommand; what the user typed after it is not logged."""
    from bot.logs import configure_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("INFO", "json")
        assert sample_app.sender.slash_command("status secret-words-here").status_code == 200
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    acknowledged = [line for line in lines if "acknowledged" in str(line["message"])]
    assert acknowledged, err
    assert acknowledged[0]["request"] == "/flow status" and len(str(acknowledged[0]["request_id"])) == 12
    assert acknowledged[0]["team"] == "T0000TEAM1" and acknowledged[0]["user"] == USER
    assert "secret-words-here" not in err
