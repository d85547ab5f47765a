"""`/flow forecast` refuses thin history in words, and never states a date more than a year out."""

from __future__ import annotations

from pathlib import Path

from bot.connectors.file import FileConnector, FileSettings
from bot.services.sync import sync_board
from bot.store.boards import LOCAL_WORKSPACE, add_board, board_workflow
from tests.slack.conftest import FLOW_CHANNEL, RunningApp

WORKFLOW = """\
name: Thin
timezone: Europe/Zurich
stages:
  - {name: Doing, kind: active, statuses: [Doing]}
  - {name: Done, kind: done, statuses: [Done]}
"""


def thin_board(app: RunningApp, tmp_path: Path, finished_days: list[int]) -> None:
    rows = ["item_id,timestamp,event,to_status"]
    for n, day in enumerate(finished_days):
        rows += [f"T-{n},2026-11-{day:02d}T09:00:00+01:00,status,Doing",
                 f"T-{n},2026-11-{day:02d}T15:00:00+01:00,status,Done"]  # fmt: skip
    events = tmp_path / "thin.csv"
    events.write_text("\n".join(rows) + "\n")
    with app.runtime.sessions.begin() as session:
        board = add_board(session, "Thin", connector="file", settings={"path": str(events)},
                          encrypted_secrets=None, workflow_yaml=WORKFLOW, channel_id=FLOW_CHANNEL,
                          team_id=LOCAL_WORKSPACE)  # fmt: skip
        board_id, workflow = board.id, board_workflow(board)
    sync_board(app.runtime.sessions, board_id, FileConnector(FileSettings(path=str(events)), workflow))


def answer_to(app: RunningApp, text: str) -> str:
    sent = app.sender.slash_command(text, channel_id=FLOW_CHANNEL)
    assert sent.status_code == 200
    body = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body
    return str(body.get("text")) + str(body.get("blocks") or "")


def test_thin_history_is_refused_with_what_is_missing(app: RunningApp, tmp_path: Path):
    thin_board(app, tmp_path, [2, 3, 4])
    text = answer_to(app, "forecast 5")
    assert "3 items finished, on 3 days" in text and "at least 10 items" in text
    assert "/flow throughput" in text and "went wrong" not in text


def test_a_date_beyond_a_year_is_more_than_a_year(app: RunningApp, tmp_path: Path):
    thin_board(app, tmp_path, list(range(2, 20)))
    text = answer_to(app, "forecast 2000")
    assert "2,000 items" in text and "more than a year" in text
