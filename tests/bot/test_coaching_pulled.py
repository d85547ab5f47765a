"""A WIP nudge names the item just pulled in only when it entered the stage since the previous evaluation
(``spec/coaching.md``), live (the board remembers its last evaluation, migration 0005) and in replay."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from bot.coach.replay import replay
from bot.connectors.file import FileConnector, FileSettings
from bot.services.coaching import evaluate_board
from bot.services.sync import sync_board
from bot.store.board_settings import Thresholds
from bot.store.boards import LOCAL_WORKSPACE, add_board, board_workflow
from bot.store.db import open_store
from bot.store.models import AlertState, Board
from tests.analytics.builders import WORKFLOW_YAML, events, workflow

ZONE = "Europe/Zurich"  # 2026-11-16 is a Monday; working hours 09:00–18:00
FOUR = [(f"PAY-{n}", f"2026-11-02T09:0{n}", "In Progress") for n in range(1, 5)]


def local(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(ZONE)


def wip_nudges(rows: list[tuple[str, ...]], since: str, until: str):
    result = replay(events(rows, ZONE), workflow(ZONE), Thresholds(), since=local(since), until=local(until))
    return [
        n for n in result.nudges if n.alert.rule == "wip_limit_exceeded" and n.alert.subject != "Whole board"
    ]


def test_replay_does_not_name_a_move_days_old():
    """Development went over its limit when PAY-5 came in 12 days before the replay starts: the nudge at the
    first evaluation says 5/4 without calling PAY-5 "just pulled in"."""
    rows = [*FOUR, ("PAY-5", "2026-11-04T10:00", "In Progress")]
    [nudge] = wip_nudges(rows, "2026-11-16T09:00", "2026-11-16T10:00")
    assert nudge.items == () and "just pulled in" not in (nudge.text or "")
    assert "5/4" in (nudge.text or "")


def test_replay_names_an_item_pulled_since_the_previous_evaluation():
    """PAY-5 comes in at 10:07, between the 10:00 and 10:15 evaluations: named at 10:15."""
    rows = [*FOUR, ("PAY-5", "2026-11-16T10:07", "In Progress")]
    [nudge] = wip_nudges(rows, "2026-11-16T09:00", "2026-11-16T11:00")
    assert nudge.alert.detected_at == local("2026-11-16T10:15") and nudge.items == ("PAY-5",)
    assert "PAY-5 was just pulled in" in (nudge.text or "")


def test_live_measures_just_pulled_in_from_the_board_s_previous_evaluation(tmp_path: Path):
    """Live, the board remembers its last evaluation. Evaluated at 10:00 and next at 10:45 (the worker was
    down): PAY-5, pulled in at 10:07, is named, though it is older than one 15-minute interval. At 10:50 the
    previous evaluation (10:45) had seen it: the open alert no longer names it. Remembering the evaluation
    leaves ``updated_at`` (the metrics cache's version) alone."""
    rows = [*FOUR, ("PAY-5", "2026-11-16T10:07", "In Progress")]
    log = tmp_path / "events.csv"
    frame = events(rows, ZONE)
    frame.assign(timestamp=frame["timestamp"].map(pd.Timestamp.isoformat)).to_csv(log, index=False)
    with open_store(f"sqlite:///{tmp_path / 'flow.db'}") as sessions:
        with sessions.begin() as session:
            board = add_board(
                session,
                "Payments",
                connector="file",
                settings={"path": str(log)},
                encrypted_secrets=None,
                workflow_yaml=WORKFLOW_YAML.format(timezone=ZONE),
                channel_id="C0FLOW",
                team_id=LOCAL_WORKSPACE,
            )
            board_id, board_flow = board.id, board_workflow(board)
        sync_board(sessions, board_id, FileConnector(FileSettings(path=str(log)), board_flow))
        with sessions() as session:
            updated = session.get_one(Board, board_id).updated_at

        def named(text: str) -> list[str] | None:
            evaluate_board(sessions, board_id, local(text).to_pydatetime())
            with sessions() as session:
                query = select(AlertState).where(AlertState.subject == "Development")
                row = session.scalars(query).one_or_none()
                return None if row is None else list(row.details["items"])

        assert named("2026-11-16T10:00") is None
        assert named("2026-11-16T10:45") == ["PAY-5"]
        assert named("2026-11-16T10:50") == []
        with sessions() as session:
            stored = session.get_one(Board, board_id)
            assert stored.last_evaluated_at == local("2026-11-16T10:50").to_pydatetime()
            assert stored.updated_at == updated
