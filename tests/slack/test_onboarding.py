"""`/flow connect`: the modal's steps through the running app, against the fake Jira and a real file."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.sample import SAMPLE_EVENTS_PATH
from bot.slack import ids
from bot.slack.blocks.onboarding import CHANNEL_BLOCK, CONNECTOR_BLOCK, NAME_BLOCK, field_block
from bot.slack.blocks.onboarding_mapping import YAML_BLOCK, stage_block
from bot.slack.runtime import settings_key
from bot.store.models import Board
from tests.fakes.jira import FakeJira, FakeStatus
from tests.slack.conftest import FLOW_CHANNEL, RunningApp, add_sample_board
from tests.slack.connect_steps import (
    SAMPLE_PROPOSAL,
    TOKEN,
    choose,
    credentials,
    file_step3,
    jira_values,
    proposed,
    ready_message,
    stored_stages,
)
from tests.slack.modals import block, current, initial_values, opened, shown, submit

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud", token=TOKEN) as fake:
        for n in range(5):
            created = START + dt.timedelta(days=n)
            moves = [(created + dt.timedelta(hours=2), "In Progress")]
            if n < 2:
                moves.append((created + dt.timedelta(days=1), "Done"))
            fake.add_issue(created, moves)
        yield fake


def test_connect_opens_the_first_step(app: RunningApp):
    """`/flow connect` opens the modal at step 1, the channel it was typed in already chosen."""
    app.sender.slash_command("connect", channel_id=FLOW_CHANNEL)
    view = opened(app.slack, ids.CONNECT_CHOOSE)
    assert block(view, CHANNEL_BLOCK)["element"]["initial_conversation"] == FLOW_CHANNEL
    options = [o["value"] for o in block(view, CONNECTOR_BLOCK)["element"]["options"]]
    assert options == ["file", "jira", "jira-dc", "github", "linear", "trello", "azure-devops", "gitlab"]


def test_jira_cloud_end_to_end(app: RunningApp, jira: FakeJira, caplog: pytest.LogCaptureFixture):
    """Jira Cloud: credentials checked, mapping pre-filled, board stored encrypted, first sync announced."""
    caplog.set_level(logging.DEBUG)
    step2 = choose(app, "jira")
    assert step2["callback_id"] == ids.CONNECT_CREDENTIALS
    step3 = credentials(app, step2, jira_values(jira))
    assert step3["callback_id"] == ids.CONNECT_MAPPING
    prefilled = initial_values(step3)
    assert prefilled[stage_block(0, "name")]["value"] == "Backlog"
    assert prefilled[stage_block(1, "statuses")]["value"] == ["3", "10001"]
    assert prefilled[stage_block(2, "kind")]["value"] == "done"
    assert ids.CONNECT_ADD_STAGE in shown(step3)  # stages are added with a button, not empty groups
    assert submit(app, step3, {stage_block(1, "wip"): "3"}) == {"response_action": "clear"}

    message = ready_message(app)
    assert "5 items" in json.dumps(message["blocks"]) and "/flow status" in json.dumps(message["blocks"])
    with app.sessions() as session:
        board = session.scalar(select(Board).where(Board.name == "Team"))
        assert board.channel_id == FLOW_CHANNEL and board.connector == "jira"
        assert board.connector_settings["project"] == "PAY" and "token" not in board.connector_settings
        assert board.connector_secrets and "wip_limit: 3" in board.workflow_yaml
        assert '"10001"  # In Review' in board.workflow_yaml
    database = Path(app.runtime.settings.database_url.removeprefix("sqlite:///")).parent
    assert all(TOKEN.encode() not in path.read_bytes() for path in database.iterdir() if path.is_file())
    assert TOKEN not in json.dumps([call.params for call in app.slack.calls])
    logged = "\n".join(record.getMessage() + str(record.exc_text or "") for record in caplog.records)
    assert TOKEN not in logged


def test_refused_credentials_bring_back_step_two(app: RunningApp, jira: FakeJira):
    """A token Jira refuses (401): step 2 again, saying so, with the non-secret values kept."""
    step2 = choose(app, "jira")
    again = credentials(app, step2, jira_values(jira, token="not-the-token"))
    assert again["callback_id"] == ids.CONNECT_CREDENTIALS
    assert "refused the e-mail and API token" in shown(again)
    kept = initial_values(again)
    assert kept[field_block("url")]["value"] == jira.url
    assert kept[field_block("email")]["value"] == jira.email
    assert kept[field_block("project")]["value"] == "PAY"
    assert field_block("token") not in kept and "not-the-token" not in json.dumps(again)


def test_projects_are_offered_when_none_is_given(app: RunningApp, jira: FakeJira):
    """Without project or JQL, the account's projects (paged from Jira) become a menu to choose from."""
    jira.projects |= {f"P{n:02d}": f"Project {n}" for n in range(60)}
    step2 = choose(app, "jira")
    again = credentials(app, step2, jira_values(jira, project=""))
    menu = block(again, field_block("project"))["element"]
    assert menu["type"] == "static_select" and len(menu["options"]) == 61
    assert jira.count("/rest/api/3/project/search") == 2
    step3 = credentials(app, again, {"project": "PAY", "token": ""})  # the token entered before is kept
    assert step3["callback_id"] == ids.CONNECT_MAPPING


def test_a_board_name_in_use_is_refused(sample_app: RunningApp):
    """Step 1 with the name of an existing board gets an error on the name."""
    sample_app.sender.slash_command("connect")
    first = opened(sample_app.slack, ids.CONNECT_CHOOSE)
    answer = submit(sample_app, first, {CONNECTOR_BLOCK: "file", NAME_BLOCK: "payments"})
    assert answer["response_action"] == "errors" and NAME_BLOCK in answer["errors"]


@pytest.fixture
def file_mapping(app: RunningApp) -> dict[str, Any]:
    """Step 3 for the bundled sample event log."""
    return file_step3(app)


def test_the_file_proposal_follows_the_history(app: RunningApp, file_mapping: dict[str, Any]):
    """The sample event log has no categories: names and the order items went through the statuses give
    the sample's own seven stages (Triage, which its workflow leaves out, joins the backlog)."""
    assert proposed(file_mapping) == SAMPLE_PROPOSAL
    assert "order items went through the statuses" in shown(file_mapping)
    assert "Every status is mapped" in shown(file_mapping)
    options = block(file_mapping, stage_block(0, "statuses"))["element"]["options"]
    assert [o["value"] for o in options][:4] == ["Backlog", "To Do", "Triage", "Selected for Development"]


def test_the_file_connector_end_to_end(app: RunningApp, file_mapping: dict[str, Any]):
    """A file board submitted as proposed: stored with the proposed workflow, synced and announced."""
    assert submit(app, file_mapping) == {"response_action": "clear"}
    assert "events loaded from Event-log file" in json.dumps(ready_message(app)["blocks"])
    assert [stage[:3] for stage in stored_stages(app, "Sample")] == SAMPLE_PROPOSAL
    with app.sessions() as session:
        board = session.scalar(select(Board).where(Board.name == "Sample"))
        imported = app.runtime.settings.import_dir / "events.csv"
        assert board.connector_settings == {"path": str(imported.resolve())}
        assert board.connector_secrets is None


def test_a_workflow_without_a_done_stage_is_refused(app: RunningApp, file_mapping: dict[str, Any]):
    """The done stage turned into an active one: the form asks for a done stage, next to the last kind."""
    answer = submit(app, file_mapping, {stage_block(5, "kind"): "active"})
    assert answer["response_action"] == "errors"
    assert "Done" in answer["errors"][stage_block(6, "kind")]


def test_a_failed_first_sync_is_explained_in_the_channel(app: RunningApp):
    """The file vanishes after the check: the board is kept, and its channel hears why the sync failed."""
    events = app.runtime.settings.import_dir / "gone.csv"
    events.write_bytes(SAMPLE_EVENTS_PATH.read_bytes())
    step3 = credentials(app, choose(app, "file", name="Gone"), {"path": "gone.csv"})
    events.unlink()
    assert submit(app, step3) == {"response_action": "clear"}
    shown_text = json.dumps(ready_message(app)["blocks"])
    assert "first sync failed" in shown_text and "no such file" in shown_text
    assert "connect it again with `/flow connect`" in shown_text and "flowcoach board" not in shown_text


def test_a_status_in_two_stages_and_a_name_taken_meanwhile(app: RunningApp, file_mapping: dict[str, Any]):
    """Errors land on the offending inputs: a status mapped twice, a board name another user just took."""
    twice = {stage_block(0, "statuses"): ["Backlog", "To Do", "Triage", "Closed"]}
    answer = submit(app, file_mapping, twice)
    assert "Closed is already in stage Backlog" in answer["errors"][stage_block(5, "statuses")]
    add_sample_board(app, name="Sample")
    answer = submit(app, file_mapping)
    assert list(answer["errors"]) == [NAME_BLOCK]


def test_many_statuses_fall_back_to_yaml(app: RunningApp):
    """A source with more statuses than a menu lists: the proposed workflow is edited as YAML instead."""
    statuses = [FakeStatus(str(20_000 + n), f"Step {n}", "indeterminate") for n in range(101)]
    statuses += [FakeStatus("1", "To Do", "new"), FakeStatus("2", "Done", "done")]
    with FakeJira("dc", statuses=statuses, token=TOKEN) as fake:
        step2 = choose(app, "jira-dc")
        step3 = credentials(app, step2, {"url": fake.url, "token": TOKEN, "project": "PAY"})
        assert "103 statuses" in shown(step3)
        text = initial_values(step3)[YAML_BLOCK]["value"]
        assert '"20000"' in text
        assert submit(app, step3) == {"response_action": "clear"}
        assert "0 items" in json.dumps(ready_message(app)["blocks"])  # the first sync, while Jira is up
    with app.sessions() as session:
        assert session.scalar(select(Board.connector).where(Board.name == "Team")) == "jira-dc"


def test_without_a_secret_key_credentials_are_refused(
    start_app: Callable[..., RunningApp], sqlite_url: str, jira: FakeJira
):
    """With FLOWCOACH_SECRET_KEY unset, step 2 says so and its submission is refused naming the variable."""
    app = start_app(sqlite_url, FLOWCOACH_SECRET_KEY=None)
    step2 = choose(app, "jira")
    assert "FLOWCOACH_SECRET_KEY" in shown(step2)
    answer = submit(app, step2, {field_block(k): v for k, v in jira_values(jira).items()})
    assert "FLOWCOACH_SECRET_KEY" in answer["errors"][field_block("token")]
    assert current(app.slack, ids.CONNECT_CHOOSE)["id"] == step2["id"]


def test_a_file_outside_the_import_folder_is_refused(app: RunningApp):
    """Slack reads event logs only from the import folder: `..` and absolute paths elsewhere are refused."""
    for outside in ("../../etc/passwd", "/etc/passwd", str(SAMPLE_EVENTS_PATH)):
        step2 = choose(app, "file", name="Sneaky")
        answer = submit(app, step2, {field_block("path"): outside})
        assert answer["response_action"] == "errors"
        assert "import folder" in answer["errors"][field_block("path")]


def test_without_an_import_folder_slack_offers_no_file_boards(start_app, sqlite_url):
    """Unless the operator names an import folder, the file source is not offered, nor accepted if forged."""
    app = start_app(sqlite_url, FLOWCOACH_IMPORT_DIR=None)
    app.sender.slash_command("connect", channel_id=FLOW_CHANNEL)
    first = opened(app.slack, ids.CONNECT_CHOOSE)
    offered = [o["value"] for o in block(first, CONNECTOR_BLOCK)["element"]["options"]]
    assert offered == ["jira", "jira-dc", "github", "linear", "trello", "azure-devops", "gitlab"]
    answer = submit(app, first, {CONNECTOR_BLOCK: "file", NAME_BLOCK: "Forged"})
    assert answer["response_action"] == "errors" and CONNECTOR_BLOCK in answer["errors"]


@pytest.mark.parametrize("address", ["{url}", "{localhost}"])
def test_a_tracker_address_on_a_private_network_is_refused_from_slack(
    start_app, sqlite_url, jira: FakeJira, address: str
):
    """Any channel member could make the server fetch an internal address with `/flow connect`. Without
    the operator's allow-list, loopback (by address or by a name resolving to it) is refused: an error on
    the address field saying what to do, and not one request reaches the listener."""
    app = start_app(sqlite_url, FLOWCOACH_ALLOWED_HOSTS=None)
    url = address.format(url=jira.url, localhost=jira.url.replace("127.0.0.1", "localhost"))
    step2 = choose(app, "jira")
    answer = submit(app, step2, {field_block(k): v for k, v in jira_values(jira, url=url).items()})
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [field_block("url")]
    assert "FLOWCOACH_ALLOWED_HOSTS" in answer["errors"][field_block("url")]
    time.sleep(0.5)  # the check after the acknowledgement, if it (wrongly) ran, would have called by now
    assert jira.requests == []
    assert app.slack.calls_to("views.update") == []


def test_the_operators_allow_list_lets_an_intranet_tracker_through(start_app, sqlite_url, jira: FakeJira):
    """A network in FLOWCOACH_ALLOWED_HOSTS is reachable from Slack, plain http:// included."""
    app = start_app(sqlite_url, FLOWCOACH_ALLOWED_HOSTS="10.0.0.0/8, 127.0.0.0/8")
    step3 = credentials(app, choose(app, "jira"), jira_values(jira))
    assert step3["callback_id"] == ids.CONNECT_MAPPING
    assert jira.requests


def test_scheduled_syncs_of_a_board_connected_in_slack_keep_to_the_address_rules(
    app: RunningApp, jira: FakeJira
):
    """The worker checks a Slack-typed address on every sync: once the operator no longer allows the
    intranet tracker, its syncs are refused before any request, and the reason is kept; a board the
    operator added on the command line, at the same address, still syncs."""
    from bot.services.jobs import BoardJobs
    from bot.slack.notifier import SlackNotifier
    from bot.store.boards import add_board
    from bot.store.models import SyncRun
    from tests.slack.conftest import app_settings

    step3 = credentials(app, choose(app, "jira"), jira_values(jira))
    assert submit(app, step3) == {"response_action": "clear"}
    ready_message(app)
    with app.sessions() as session:
        slack_board = session.scalar(select(Board).where(Board.name == "Team"))
        assert slack_board.connected_in_slack
        copied = {
            "connector": slack_board.connector,
            "settings": slack_board.connector_settings,
            "encrypted_secrets": slack_board.connector_secrets,
            "workflow_yaml": slack_board.workflow_yaml,
        }
        slack_id = slack_board.id
    with app.runtime.sessions.begin() as session:
        operator_id = add_board(session, "Operator's", **copied).id

    strict = app_settings(app.runtime.settings.database_url, app.slack, FLOWCOACH_ALLOWED_HOSTS="")
    jobs = BoardJobs(
        app.runtime.sessions,
        SlackNotifier(strict, app.runtime.sessions),
        secret_key=settings_key(strict, app.runtime.sessions.kw["bind"]),
        slack_http=strict.slack_tracker_http,
    )
    jira.clear_requests()
    with pytest.raises(Exception, match=r"127\.0\.0\.1"):
        jobs.sync(slack_id)
    assert jira.requests == []
    jobs.sync(operator_id)
    assert jira.requests
    with app.sessions() as session:
        runs = {run.board_id: run for run in session.scalars(select(SyncRun))}
    assert runs[slack_id].status == "failed" and "127.0.0.1" in str(runs[slack_id].error)
    assert runs[operator_id].status == "ok"


@pytest.mark.parametrize(("zone", "expected"), [("America/New_York", "America/New_York"), (None, "UTC")])
def test_a_new_board_takes_the_time_zone_of_whoever_connects_it(app: RunningApp, zone, expected):
    """From `users.info`; Slack may leave `tz` out (the emulator does too, for such a user): then UTC."""
    app.slack.users["U0000USER1"].tz = zone
    assert submit(app, file_step3(app)) == {"response_action": "clear"}
    with app.sessions() as session:
        workflow = session.scalar(select(Board.workflow_yaml).where(Board.name == "Sample"))
    assert f"timezone: \"{expected}\"" in workflow
