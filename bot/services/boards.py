"""A stored board's data as the analytics and the coach take it: workflow, thresholds and event log."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from analytics.workflow import Workflow
from bot.store.board_settings import Thresholds, load_board_settings
from bot.store.boards import board_workflow
from bot.store.eventstore import load_events
from bot.store.models import Board


@dataclass(frozen=True)
class BoardData:
    """``name`` is the name the board was registered under, which may differ from its workflow's."""

    name: str
    workflow: Workflow
    thresholds: Thresholds
    events: pd.DataFrame


def board_data(session: Session, board: Board) -> BoardData:
    """The board's effective workflow (its file with Slack's settings applied), thresholds and events."""
    workflow = board_workflow(board)
    thresholds = load_board_settings(board.coaching_settings).thresholds
    return BoardData(board.name, workflow, thresholds, load_events(session, board.id, workflow))
