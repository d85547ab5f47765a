"""Boards: registering, finding and removing them, within one workspace at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.workflow import Workflow, parse_workflow
from bot.errors import FlowcoachError
from bot.store.board_settings import apply_settings, load_board_settings
from bot.store.models import Board, Event, SyncRun, WorkItem, Workspace

LOCAL_WORKSPACE = "local"  # boards added from the command line, before any Slack workspace claims them


class BoardNotFound(FlowcoachError):
    """No board of that name in the workspace."""


def workspace(session: Session, team_id: str = LOCAL_WORKSPACE, name: str = "") -> Workspace:
    """The workspace for a Slack team id, created on first use."""
    found = session.scalar(select(Workspace).where(Workspace.slack_team_id == team_id))
    if found is None:
        found = Workspace(slack_team_id=team_id, name=name or team_id)
        session.add(found)
        session.flush()
    return found


def add_board(
    session: Session,
    name: str,
    *,
    connector: str,
    settings: Mapping[str, Any],
    encrypted_secrets: str | None,
    workflow_yaml: str,
    channel_id: str | None = None,
    team_id: str = LOCAL_WORKSPACE,
    connected_in_slack: bool = False,
) -> Board:
    """Register a board; the name must be new in the workspace and the workflow valid.

    ``connected_in_slack``: its settings (the tracker's address) were typed by a Slack member, so every
    later sync is held to the operator's address rules too.
    """
    parse_workflow(workflow_yaml, source=f"workflow of board '{name}'")
    # Said here rather than by the database, which would refuse them with a SQL statement (PostgreSQL).
    checked = (("board name", name, Board.name), ("channel id", channel_id, Board.channel_id))
    for what, value, column in checked:
        longest = column.type.length
        if value is not None and ("\x00" in value or (longest is not None and len(value) > longest)):
            raise FlowcoachError(f"a {what} must be at most {longest} characters, without NUL characters")
    space = workspace(session, team_id)
    if session.scalar(select(Board.id).where(Board.workspace_id == space.id, Board.name == name)) is not None:
        raise FlowcoachError(f"a board named '{name}' already exists (see: flowcoach board list)")
    board = Board(
        workspace_id=space.id,
        name=name,
        connector=connector,
        connector_settings=dict(settings),
        connector_secrets=encrypted_secrets,
        workflow_yaml=workflow_yaml,
        channel_id=channel_id,
        connected_in_slack=connected_in_slack,
    )
    session.add(board)
    session.flush()
    return board


def get_board(session: Session, name: str, team_id: str = LOCAL_WORKSPACE) -> Board:
    board = session.scalar(
        select(Board).join(Workspace).where(Workspace.slack_team_id == team_id, Board.name == name)
    )
    if board is None:
        known = ", ".join(b.name for b in list_boards(session, team_id)) or "none yet"
        raise BoardNotFound(f"no board named '{name}' (boards: {known}; add one with: flowcoach board add)")
    return board


def list_boards(session: Session, team_id: str = LOCAL_WORKSPACE) -> list[Board]:
    return list(
        session.scalars(
            select(Board).join(Workspace).where(Workspace.slack_team_id == team_id).order_by(Board.name)
        )
    )


def remove_board(session: Session, name: str, team_id: str = LOCAL_WORKSPACE) -> None:
    """Delete a board with its items, events, sync runs and alert state."""
    session.delete(get_board(session, name, team_id))


def board_workflow(board: Board) -> Workflow:
    """The board's workflow file with the settings changed from Slack (limits, calendar) applied."""
    workflow = parse_workflow(board.workflow_yaml, source=f"workflow of board '{board.name}'")
    return apply_settings(workflow, load_board_settings(board.coaching_settings))


def board_counts(session: Session, board_id: int) -> dict[str, int]:
    """Items (present), events and sync runs of a board."""
    items = session.scalar(
        select(func.count())
        .select_from(WorkItem)
        .where(WorkItem.board_id == board_id, WorkItem.removed_at.is_(None))
    )
    events = session.scalar(select(func.count()).select_from(Event).where(Event.board_id == board_id))
    runs = session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.board_id == board_id))
    return {"items": int(items or 0), "events": int(events or 0), "sync_runs": int(runs or 0)}


def last_sync_run(session: Session, board_id: int) -> SyncRun | None:
    runs = last_sync_runs(session, board_id, 1)
    return runs[0] if runs else None


def last_sync_runs(session: Session, board_id: int, count: int) -> list[SyncRun]:
    """The board's latest ``count`` sync runs, newest first."""
    return list(
        session.scalars(
            select(SyncRun)
            .where(SyncRun.board_id == board_id)
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
            .limit(count)
        )
    )
