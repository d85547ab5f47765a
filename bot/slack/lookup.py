"""Which board a Slack request is about, always within the requesting team's workspace."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.errors import FlowcoachError
from bot.store.boards import list_boards
from bot.store.models import Board


class NoBoardHere(FlowcoachError):
    """The channel has no board and none was named: the reply guides to `/flow connect`."""


class UnknownBoard(FlowcoachError):
    """The board named is not one of the workspace's; ``names`` are those that are."""

    def __init__(self, name: str, names: list[str]) -> None:
        super().__init__(f"no board named '{name}'")
        self.name = name
        self.names = names


class SeveralBoardsHere(FlowcoachError):
    """The channel has several boards and none was named."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


def resolve_board(session: Session, workspace: str, channel_id: str | None, name: str | None) -> Board:
    """The board named (case-insensitive), else the channel's only board; never another workspace's."""
    boards = list_boards(session, workspace)
    if name is not None:
        for board in boards:
            if board.name.casefold() == name.casefold():
                return board
        raise UnknownBoard(name, [board.name for board in boards])
    here = [board for board in boards if board.channel_id == channel_id]
    if len(here) == 1:
        return here[0]
    if here:
        raise SeveralBoardsHere([board.name for board in here])
    if len(boards) == 1 and boards[0].channel_id is None:
        return boards[0]  # a board added from the command line, not yet given a channel
    raise NoBoardHere("no board in this channel")


def board_in_workspace(session: Session, workspace: str, board_id: object) -> Board:
    """The board with this id, only if it belongs to ``workspace`` (ids in buttons come from the client)."""
    try:
        wanted = int(str(board_id))
    except ValueError:
        raise NoBoardHere("no such board") from None
    for board in list_boards(session, workspace):
        if board.id == wanted:
            return board
    raise NoBoardHere("no such board in this workspace")
