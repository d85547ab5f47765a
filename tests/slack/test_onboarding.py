"""`/flow connect`: the modal's steps through the running app, against the fake Jira and a real file."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.sample import SAMPLE_EVENTS_PATH
from bot.slack import ids
from bot.slack.blocks.onboarding import CHANNEL_BLOCK, CONNECTOR_BLOCK, NAME_BLOCK, field_block
from bot.slack.blocks.onboarding_mapping import YAML_BLOCK, stage_block
from bot.store.models import Board
from tests.fakes.jira import FakeJira, FakeStatus
from tests.slack.conftest import FLOW_CHANNEL, RunningApp, add_sample_board
from tests.slack.modals import block, current, initial_values, opened, shown, submit, updated

TOKEN = "tok-Zq81-do-not-leak-4711"
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


def choose(app: RunningApp, connector: str, name: str = "Team") -> dict[str, Any]:
    """Step 1 submitted: `/flow connect` in #team-flow, then the source and the board's name."""
    app.sender.slash_command("connect", channel_id=FLOW_CHANNEL)
    first = opened(app.slack, ids.CONNECT_CHOOSE)
    answer = submit(app, first, {CONNECTOR_BLOCK: connector, NAME_BLOCK: name})
    return updated(first, answer)


def credentials(app: RunningApp, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Step 2 submitted: answered at once with the "checking" view; the next step once the source answered."""
    before = len(app.slack.calls_to("views.update"))
    answer = submit(app, view, {field_block(name): value for name, value in values.items()})
    assert updated(view, answer)["callback_id"] == ids.CONNECT_CHECKING
    call = app.slack.wait_for("views.update", count=before + 1)[-1]
    assert call.params["view_id"] == view["id"]
    return app.slack.views[view["id"]]


def jira_values(jira: FakeJira, **changes: str) -> dict[str, str]:
    return {"url": jira.url, "email": jira.email, "token": TOKEN, "project": "PAY"} | changes


def ready_message(app: RunningApp) -> dict[str, Any]:
    calls = app.slack.wait_for("chat.postMessage", predicate=lambda c: c.params["channel"] == FLOW_CHANNEL)
    return calls[0].params


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
    assert stage_block(4, "name") in {b.get("block_id") for b in step3["blocks"]}  # two empty extra stages
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
    """The file connector's step 3 for the sample event log (no project step: the path is all it needs)."""
    step2 = choose(app, "file", name="Sample")
    assert [b["block_id"] for b in step2["blocks"] if b["type"] == "input"] == [field_block("path")]
    return credentials(app, step2, {"path": "events.csv"})


def test_a_workflow_without_a_done_stage_is_refused(app: RunningApp, file_mapping: dict[str, Any]):
    """A file has no status categories: submitting the single proposed stage asks for a done stage."""
    answer = submit(app, file_mapping)
    assert answer["response_action"] == "errors"
    assert "Done" in answer["errors"][stage_block(0, "kind")]


def test_the_file_connector_end_to_end(app: RunningApp, file_mapping: dict[str, Any]):
    """A file board: statuses split into a work stage and an added done stage, then synced and announced."""
    done = ["Done", "Closed"]
    statuses = initial_values(file_mapping)[stage_block(0, "statuses")]["value"]
    answer = submit(
        app,
        file_mapping,
        {
            stage_block(0, "name"): "Work",
            stage_block(0, "statuses"): [s for s in statuses if s not in done],
            stage_block(1, "name"): "Done",
            stage_block(1, "statuses"): done,
            stage_block(1, "kind"): "done",
        },
    )
    assert answer == {"response_action": "clear"}
    assert "events loaded from Event-log file" in json.dumps(ready_message(app)["blocks"])
    with app.sessions() as session:
        board = session.scalar(select(Board).where(Board.name == "Sample"))
        imported = app.runtime.settings.import_dir / "events.csv"
        assert board.connector_settings == {"path": str(imported.resolve())}
        assert board.connector_secrets is None


def test_a_failed_first_sync_is_explained_in_the_channel(app: RunningApp):
    """The file vanishes after the check: the board is kept, and its channel hears why the sync failed."""
    events = app.runtime.settings.import_dir / "gone.csv"
    events.write_bytes(SAMPLE_EVENTS_PATH.read_bytes())
    step3 = credentials(app, choose(app, "file", name="Gone"), {"path": "gone.csv"})
    events.unlink()
    done = {
        stage_block(1, "name"): "Done",
        stage_block(1, "statuses"): ["Done"],
        stage_block(1, "kind"): "done",
    }
    statuses = initial_values(step3)[stage_block(0, "statuses")]["value"]
    work = {stage_block(0, "statuses"): [s for s in statuses if s != "Done"]}
    assert submit(app, step3, done | work) == {"response_action": "clear"}
    shown_text = json.dumps(ready_message(app)["blocks"])
    assert "first sync failed" in shown_text and "no such file" in shown_text
    assert "connect it again with `/flow connect`" in shown_text and "flowcoach board" not in shown_text


def test_a_status_in_two_stages_and_a_name_taken_meanwhile(app: RunningApp, file_mapping: dict[str, Any]):
    """Errors land on the offending inputs: a status mapped twice, a board name another user just took."""
    twice = {
        stage_block(1, "name"): "Closed",
        stage_block(1, "statuses"): ["Closed"],
        stage_block(1, "kind"): "done",
    }
    answer = submit(app, file_mapping, twice)
    assert "already in stage" in answer["errors"][stage_block(1, "statuses")]
    add_sample_board(app, name="Sample")
    statuses = initial_values(file_mapping)[stage_block(0, "statuses")]["value"]
    fixed = twice | {stage_block(0, "statuses"): [s for s in statuses if s != "Closed"]}
    answer = submit(app, file_mapping, fixed)
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
    the operator's allow-list, loopback (by address or by a name resolving to it) is refused where the
    connection opens: not one request reaches the listener, and step 2 says why and what to do."""
    app = start_app(sqlite_url, FLOWCOACH_ALLOWED_HOSTS=None)
    url = address.format(url=jira.url, localhost=jira.url.replace("127.0.0.1", "localhost"))
    again = credentials(app, choose(app, "jira"), jira_values(jira, url=url))
    assert again["callback_id"] == ids.CONNECT_CREDENTIALS
    assert "FLOWCOACH_ALLOWED_HOSTS" in shown(again)
    assert jira.requests == []


def test_the_operators_allow_list_lets_an_intranet_tracker_through(start_app, sqlite_url, jira: FakeJira):
    """A network in FLOWCOACH_ALLOWED_HOSTS is reachable from Slack, plain http:// included."""
    app = start_app(sqlite_url, FLOWCOACH_ALLOWED_HOSTS="10.0.0.0/8, 127.0.0.0/8")
    step3 = credentials(app, choose(app, "jira"), jira_values(jira))
    assert step3["callback_id"] == ids.CONNECT_MAPPING
    assert jira.requests
