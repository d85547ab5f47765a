"""The one place that turns an error into what the user reads in Slack: friendly, never a traceback.

``friendly_message`` is the mapping of known errors to their wording. ``reported`` runs a lazy listener (the
work after the acknowledgement, where Bolt would only log a one-line error and the user would wait in vain)
so that a failure is logged once, with its traceback when it was unexpected, and told where the listener's
answer would have gone. ``report_error`` does the same for the listeners Bolt runs before acknowledging.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Args, BoltResponse, Respond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.errors import FlowcoachError
from bot.slack import texts
from bot.slack.blocks.common import escape
from bot.slack.blocks.replies import no_board_blocks
from bot.slack.delivery import is_not_in_channel
from bot.slack.lookup import NoBoardHere, SeveralBoardsHere, UnknownBoard
from bot.slack.reply_to import ReplyTo

log = logging.getLogger("flowcoach.slack")

# What chat.update answers for a message that was deleted (or that is no longer the app's to edit)...
MESSAGE_NOT_FOUND_ERRORS = frozenset({"message_not_found", "cant_update_message"})
# ... and for one whose channel was archived or deleted: to a button on it, the message is gone all the same.
MESSAGE_GONE_ERRORS = MESSAGE_NOT_FOUND_ERRORS | {"channel_not_found", "is_archived"}

# What Bolt can hand a listener by name (the ``args`` object has one attribute for each).
BOLT_ARGUMENTS = frozenset(Args.__annotations__)

Listener = Callable[..., None]
Where = Callable[[Args], ReplyTo | None]


class Refused(FlowcoachError):
    """A question with no answer, already in Slack's words with a next step that works in Slack;
    ``str(error)`` is the whole reply. Where a service's error carries facts rather than a sentence (a
    forecast that cannot be given), the answer words it and raises this."""


class Misunderstood(Refused):
    """A command that could not be read; ``str(error)`` is the whole reply: the problem, then the usage."""


def known_message(error: BaseException) -> str | None:
    """The wording of an error the user can act on; ``None`` for an unexpected one."""
    if isinstance(error, Refused):
        return str(error)
    if isinstance(error, NoBoardHere):
        return texts.NO_BOARD_HERE
    if isinstance(error, SeveralBoardsHere):
        return texts.SEVERAL_BOARDS_HERE.format(
            names=_names(error.names), example=texts.flow_command(escape(error.names[0]), "status")
        )
    if isinstance(error, UnknownBoard):
        if not error.names:
            return texts.UNKNOWN_BOARD_NONE_YET.format(name=escape(error.name))
        example = texts.flow_command(escape(error.names[0]), "status")
        return texts.UNKNOWN_BOARD.format(name=escape(error.name), names=_names(error.names), example=example)
    if isinstance(error, FlowcoachError):
        return texts.SOMETHING_FAILED.format(problem=escape(str(error)))  # it may quote what a user typed
    if isinstance(error, SlackApiError) and error.response.get("error") in MESSAGE_NOT_FOUND_ERRORS:
        return texts.MESSAGE_GONE
    if is_not_in_channel(error):
        return texts.NOT_IN_CHANNEL
    return None


def _names(names: list[str]) -> str:
    return ", ".join(escape(name) for name in names)  # boards are named by whoever connected them


def friendly_message(error: BaseException) -> str:
    """The message for a failed request; unknown errors are logged here with their traceback."""
    message = known_message(error)
    if message is None:
        log.error("request failed", exc_info=error)
        return texts.INTERNAL_ERROR
    return message


def error_reply(error: BaseException) -> dict[str, Any]:
    """The ``text`` (and, for a channel without a board, the ``blocks`` with the button that connects one)
    telling the user about a failed request."""
    return {"text": friendly_message(error), "blocks": _blocks_for(error)}


def _blocks_for(error: BaseException) -> list[Block] | None:
    return no_board_blocks() if isinstance(error, NoBoardHere) else None


def reported(where: Where) -> Callable[[Listener], Callable[[Args], None]]:
    """Decorate a lazy listener so that its failure is logged once and told through ``where`` (e.g.
    :func:`~bot.slack.reply_to.at_response_url`): the same words as every other failure, and for a channel
    without a board the button that connects one.

    The listener keeps taking what it needs by keyword. The wrapper itself takes Bolt's ``args``, because
    ``where`` may need more than the listener does (a response URL, the mention's thread).
    """

    def decorate(listener: Listener) -> Callable[[Args], None]:
        names = list(inspect.signature(listener).parameters)
        unknown = set(names) - BOLT_ARGUMENTS
        if unknown:
            raise TypeError(f"{listener.__qualname__} takes {sorted(unknown)}, which Bolt does not provide")

        def run(args: Args) -> None:
            try:
                listener(**{name: getattr(args, name) for name in names})
            except Exception as error:
                _report(error, where(args), listener.__name__)

        # Not functools.wraps: Bolt follows __wrapped__ to decide what to inject, and this takes ``args``.
        run.__name__, run.__qualname__ = listener.__name__, listener.__qualname__
        run.__doc__ = listener.__doc__
        return run

    return decorate


def report_error(
    error: Exception, body: dict[str, Any], respond: Respond | None = None
) -> BoltResponse | None:
    """Bolt's error handler, for listeners that run before acknowledging or in the request (buttons, modal
    submissions).

    It takes ``body`` and ``respond`` rather than ``args``: Bolt cannot build ``args`` for an error handler.
    A button is answered 200 even so: the user is told here, through the response URL, and a 500 would only
    add Slack's own warning on the button (or, for a click acknowledged already, contradict the ack).
    """
    message = friendly_message(error)
    if respond is not None and body.get("response_url"):
        try:
            # Not in place of the message the button is on (a response URL's default for a click there).
            respond(text=message, response_type="ephemeral", replace_original=False)
        except Exception:
            log.exception("could not report a failure")
    if body.get("type") == "block_actions":
        return BoltResponse(status=200, body="")
    return None


def _report(error: Exception, reply_to: ReplyTo | None, listener: str) -> None:
    known = known_message(error)
    if known is None:
        log.error("%s failed", listener, exc_info=error)
    if reply_to is None:
        if known is not None:  # a problem the user could fix, with no one to tell
            log.info("%s: %s", listener, known)
        return
    try:
        reply_to(text=texts.INTERNAL_ERROR if known is None else known, blocks=_blocks_for(error))
    except Exception:
        log.exception("%s: could not report its failure", listener)
