"""`/flow settings`: the modal opens pre-filled, saves valid values, and refuses bad ones and other teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.slack import ids
from bot.slack.blocks.settings import (
    CHANNEL_BLOCK,
    DAYS_BLOCK,
    DIGEST_BLOCK,
    END_BLOCK,
    START_BLOCK,
    TIMEZONE_BLOCK,
    threshold_block,
)
from bot.store.boards import add_board, board_workflow
from bot.store.models import Board
from tests.slack.conftest import FLOW_CHANNEL, USER, RunningApp
from tests.slack.modals import initial_values, opened, submit

WORKFLOW = """
name: Other
stages:
  - {name: Doing, statuses: [Doing], kind: active}
  - {name: Done, statuses: [Done], kind: done}
"""


def settings_modal(app: RunningApp) -> dict[str, Any]:
    app.sender.slash_command("settings", channel_id=FLOW_CHANNEL)
    return opened(app.slack, ids.SETTINGS)


def stored(app: RunningApp, name: str = "Payments") -> tuple[str | None, dict[str, Any]]:
    with app.sessions() as session:
        board = session.scalar(select(Board).where(Board.name == name))
        return board.channel_id, dict(board.coaching_settings)


def test_the_modal_opens_with_the_boards_current_settings(sample_app: RunningApp):
    """`/flow settings` opens with the board's channel, the workflow's calendar, the default thresholds."""
    values = initial_values(settings_modal(sample_app))
    assert values[CHANNEL_BLOCK]["value"] == FLOW_CHANNEL
    assert values[TIMEZONE_BLOCK]["value"] == "Europe/Zurich"
    assert values[DAYS_BLOCK]["value"] == ["mon", "tue", "wed", "thu", "fri"]
    assert (values[START_BLOCK]["value"], values[END_BLOCK]["value"]) == ("08:30", "18:30")
    assert values[DIGEST_BLOCK]["value"] == "09:30"
    assert values[threshold_block("blocked_after_hours")]["value"] == "16"


def test_app_home_opens_the_same_modal(sample_app: RunningApp):
    """The settings button on App Home opens the modal for its board."""
    sample_app.sender.app_home_opened(USER)
    home = sample_app.slack.wait_for("views.publish")[0].params["view"] | {"id": "VHOME"}
    with sample_app.sessions() as session:
        board_id = session.scalar(select(Board.id))
    sample_app.sender.block_action(ids.OPEN_SETTINGS, str(board_id), view=home)
    assert opened(sample_app.slack, ids.SETTINGS)["private_metadata"] == str(board_id)


def test_valid_settings_are_saved_and_confirmed(sample_app: RunningApp):
    """New calendar and thresholds are stored over the workflow, confirmed to the user; App Home refreshed."""
    answer = submit(
        sample_app,
        settings_modal(sample_app),
        {
            TIMEZONE_BLOCK: "America/New_York",
            DAYS_BLOCK: ["mon", "tue", "wed", "thu"],
            END_BLOCK: "17:00",
            DIGEST_BLOCK: "10:15",
            threshold_block("blocked_after_hours"): "24",
        },
    )
    assert answer == {"response_action": "clear"}
    channel, settings = stored(sample_app)
    assert channel == FLOW_CHANNEL
    assert settings["timezone"] == "America/New_York"
    assert settings["working_days"] == ["mon", "tue", "wed", "thu"]
    assert settings["working_hours"] == ["08:30:00", "17:00:00"] and settings["digest_time"] == "10:15:00"
    assert settings["thresholds"]["blocked_after_hours"] == 24
    with sample_app.sessions() as session:
        assert board_workflow(session.scalar(select(Board))).timezone == "America/New_York"
    confirmation = sample_app.slack.wait_for("chat.postEphemeral")[0].params
    assert confirmation["channel"] == FLOW_CHANNEL and confirmation["user"] == USER
    assert "Time zone: Europe/Zurich → America/New_York" in confirmation["text"]
    assert "Working hours: 08:30–18:30 → 08:30–17:00" in confirmation["text"]
    sample_app.slack.wait_for("views.publish", predicate=lambda call: call.params["user_id"] == USER)


def test_a_bad_time_zone_is_refused(sample_app: RunningApp):
    """A time zone that is not an IANA name gets an error on that field, and nothing is saved."""
    answer = submit(sample_app, settings_modal(sample_app), {TIMEZONE_BLOCK: "Mars/Olympus"})
    assert answer["response_action"] == "errors"
    assert "Mars/Olympus" in answer["errors"][TIMEZONE_BLOCK]
    assert stored(sample_app)[1] == {}


def test_a_working_day_ending_before_it_starts_is_refused(sample_app: RunningApp):
    """Start at or after the end gets an error on the end time, and nothing is saved."""
    answer = submit(sample_app, settings_modal(sample_app), {START_BLOCK: "18:00", END_BLOCK: "09:00"})
    assert list(answer["errors"]) == [END_BLOCK]
    assert stored(sample_app)[1] == {}


def test_another_team_cannot_change_the_settings(sample_app: RunningApp):
    """A submission from another team's install is refused by the single-workspace app: nothing changes."""
    # Bolt takes the team from the view's installing team: here the other team's, as its own modal says.
    modal = settings_modal(sample_app) | {"team_id": "T0000TEAM2", "app_installed_team_id": "T0000TEAM2"}
    submit(sample_app, modal, {TIMEZONE_BLOCK: "Asia/Tokyo"}, team_id="T0000TEAM2")
    # Saving happens before the answer (the acknowledging listener), so a wrong change would be there now.
    assert stored(sample_app) == (FLOW_CHANNEL, {})


def test_a_board_of_another_workspace_is_refused(sample_app: RunningApp):
    """A board id from another workspace, submitted by this team, is refused and left unchanged."""
    with sample_app.runtime.sessions.begin() as session:
        other = add_board(
            session,
            "Other",
            connector="file",
            settings={"path": "x.csv"},
            encrypted_secrets=None,
            workflow_yaml=WORKFLOW,
            channel_id="C0000OTHER",
            team_id="T0000TEAM2",
        ).id
    modal = settings_modal(sample_app) | {"private_metadata": str(other)}
    answer = submit(sample_app, modal, {TIMEZONE_BLOCK: "Asia/Tokyo"})
    assert answer["response_action"] == "update" and "not one of this workspace" in str(answer["view"])
    assert stored(sample_app, "Other") == ("C0000OTHER", {})
    assert stored(sample_app) == (FLOW_CHANNEL, {})
