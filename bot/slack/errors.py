"""The one place that turns an error into what the user reads in Slack: friendly, never a traceback."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.errors import FlowcoachError
from bot.slack import texts
from bot.slack.lookup import NoBoardHere, SeveralBoardsHere

log = logging.getLogger("flowcoach.slack")

NOT_IN_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


class Misunderstood(FlowcoachError):
    """A command that could not be read; ``str(error)`` is the whole reply: the problem, then the usage."""


def friendly_message(error: BaseException) -> str:
    """The message for a failed request; unknown errors are logged here with their traceback."""
    if isinstance(error, Misunderstood):
        return str(error)
    if isinstance(error, NoBoardHere):
        return texts.NO_BOARD_HERE
    if isinstance(error, SeveralBoardsHere):
        return texts.SEVERAL_BOARDS_HERE.format(names=", ".join(error.names), first=error.names[0])
    if isinstance(error, FlowcoachError):
        return texts.SOMETHING_FAILED.format(problem=str(error))
    if isinstance(error, SlackApiError) and error.response.get("error") in NOT_IN_CHANNEL_ERRORS:
        return texts.NOT_IN_CHANNEL
    log.error("request failed", exc_info=error)
    return texts.INTERNAL_ERROR
