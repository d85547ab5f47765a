"""A new user connects each tracker (GitHub, Linear, Trello, Azure DevOps, GitLab) against its fake server,
from the CLI and from Slack's `/flow connect` modal, and gets the metrics of the history seeded there.

The story seeded in every fake is in tests/connectors/trackers.py: 4 items, 2 finished, 1 in progress.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.slack import ids
from bot.slack.blocks.onboarding import CONNECTOR_BLOCK, NAME_BLOCK, field_block
from bot.store.models import Board
from tests.connectors.trackers import ASOF, ITEMS, THROUGHPUT, TRACKERS, WIP, Tracker
from tests.slack.conftest import FLOW_CHANNEL, RunningApp, slack, sqlite_url, start_app  # noqa: F401
from tests.slack.modals import opened, submit, updated

SECRET_ENV = "FLOWCOACH_TEST_TRACKER_TOKEN"


@pytest.fixture(params=sorted(TRACKERS))
def tracker(request: pytest.FixtureRequest) -> Tracker:
    return TRACKERS[request.param]


@pytest.fixture
def fake(tracker: Tracker) -> Iterator[Any]:
    """The tracker's fake on 127.0.0.1, seeded with the common story."""
    with tracker.make() as server:
        tracker.seed(server)
        yield server


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A fresh SQLite store and a secret key, as an operator sets them up."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("FLOWCOACH_SECRET_KEY", "a long enough passphrase for tests")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def board_add(capsys, tracker: Tracker, fake: Any) -> tuple[int, str, str]:
    sets = [arg for key, value in tracker.settings(fake).items() for arg in ("--set", f"{key}={value}")]
    return run(
        capsys, "board", "add", "Team", "--connector", tracker.name, *sets,
        "--set-env", f"{tracker.secret}={SECRET_ENV}",
    )  # fmt: skip


def test_cli_connect_propose_sync_and_measure(capsys, cli_env, monkeypatch, tracker, fake):
    """`board add` without --workflow proposes one naming the tracker's statuses; `sync` stores the 4 items;
    `metrics --format json` gives throughput 2 and WIP 1, as seeded."""
    monkeypatch.setenv(SECRET_ENV, tracker.token(fake))
    code, out, err = board_add(capsys, tracker, fake)
    assert code == 0, err
    assert "connected: " in out and "Proposed workflow" in out
    for status in tracker.statuses:
        assert f"# {status}\n" in out, f"{status} missing from the proposal:\n{out}"
    assert "added board 'Team'" in out and tracker.token(fake) not in out + err

    code, out, err = run(capsys, "sync", "Team")
    assert code == 0, out + err
    assert f"{ITEMS} items seen" in out, out

    code, out, err = run(capsys, "metrics", "--board", "Team", "--format", "json", "--asof", ASOF.isoformat())
    assert code == 0, err
    metrics = json.loads(out)
    assert metrics["throughput"]["total"] == THROUGHPUT
    assert metrics["wip"]["total"] == WIP
    assert sum(day["count"] for day in metrics["throughput"]["daily"]) == THROUGHPUT

    code, out, _ = run(capsys, "sync", "Team")
    assert code == 0 and out.startswith("Team: 0 new events"), out


def test_cli_wrong_token_is_one_line_without_the_token(capsys, cli_env, monkeypatch, tracker, fake):
    """A token the tracker refuses: exit 1, a single `flowcoach: error:` line, the token nowhere, no board."""
    wrong = "wrong-Zq81-token-4711"
    monkeypatch.setenv(SECRET_ENV, wrong)
    code, out, err = board_add(capsys, tracker, fake)
    assert code == 1
    assert err.startswith("flowcoach: error: ") and err.count("\n") == 1, err
    assert wrong not in out + err and "Traceback" not in err
    code, out, _ = run(capsys, "boards")
    assert code == 0 and "Team" not in out


# -- Slack: `/flow connect` ------------------------------------------------------------------------------


def slack_connect(running: RunningApp, tracker: Tracker, fake: Any) -> dict[str, Any]:
    """Steps 1–3 of the connect modal as a user fills them; the view after the credentials were checked."""
    running.sender.slash_command("connect", channel_id=FLOW_CHANNEL)
    first = opened(running.slack, ids.CONNECT_CHOOSE)
    step2 = updated(first, submit(running, first, {CONNECTOR_BLOCK: tracker.name, NAME_BLOCK: "Team"}))
    assert step2["callback_id"] == ids.CONNECT_CREDENTIALS
    values = tracker.settings(fake) | {tracker.secret: tracker.token(fake)}
    before = len(running.slack.calls_to("views.update"))
    answer = submit(running, step2, {field_block(name): value for name, value in values.items()})
    assert updated(step2, answer)["callback_id"] == ids.CONNECT_CHECKING
    running.slack.wait_for("views.update", count=before + 1)
    return running.slack.views[step2["id"]]


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_slack_connect_creates_syncs_and_reports_status(start_app, sqlite_url, name):  # noqa: F811
    """Through `/flow connect`: credentials checked against the fake, the proposed mapping saved as is, the
    first sync announced with 4 items, and `/flow status` shows the 1 item in progress."""
    tracker = TRACKERS[name]
    running = start_app(sqlite_url, clock=lambda: ASOF)
    with tracker.make() as server:
        tracker.seed(server)
        mapping = slack_connect(running, tracker, server)
        assert mapping["callback_id"] == ids.CONNECT_MAPPING, json.dumps(mapping["blocks"])[:2000]
        assert submit(running, mapping) == {"response_action": "clear"}
        ready = running.slack.wait_for(
            "chat.postMessage", predicate=lambda call: call.params["channel"] == FLOW_CHANNEL
        )[0].params
        assert f"{ITEMS} items" in json.dumps(ready["blocks"]), ready
    with running.sessions() as session:
        board = session.scalar(select(Board).where(Board.name == "Team"))
        assert board is not None and board.connector == name and board.channel_id == FLOW_CHANNEL
        assert board.connector_secrets and tracker.secret not in board.connector_settings
    sent = running.sender.slash_command("status", channel_id=FLOW_CHANNEL)
    assert sent.status_code == 200 and sent.text == ""
    body = running.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body
    shown = json.dumps(body["blocks"], ensure_ascii=False)
    assert "Team — flow status" in shown
    # Seeded with WIP 1 and throughput 2: one item, in the singular (it used to read "1 items in progress").
    assert (WIP, THROUGHPUT) == (1, 2)
    assert "*1 item in progress*" in shown and "Throughput: 2 items in 30 days" in shown
    assert tracker.token(server) not in json.dumps([call.params for call in running.slack.calls])
