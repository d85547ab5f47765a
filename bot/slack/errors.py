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

from slack_bolt import Args, Respond
from slack_sdk.models.blocks import Block

from bot.errors import FlowcoachError
from bot.slack import texts
from bot.slack.blocks.common import escape
from bot.slack.blocks.replies import no_board_blocks
from bot.slack.delivery import is_not_in_channel
from bot.slack.lookup import NoBoardHere, SeveralBoardsHere
from bot.slack.reply_to import ReplyTo, response_url_of

log = logging.getLogger("flowcoach.slack")

# What Bolt can hand a listener by name (the ``args`` object has one attribute for each).
BOLT_ARGUMENTS = frozenset(Args.__annotations__)

Listener = Callable[..., None]
Where = Callable[[Args], ReplyTo | None]


class Misunderstood(FlowcoachError):
    """A command that could not be read; ``str(error)`` is the whole reply: the problem, then the usage."""


def known_message(error: BaseException) -> str | None:
    """The wording of an error the user can act on; ``None`` for an unexpected one."""
    if isinstance(error, Misunderstood):
        return str(error)
    if isinstance(error, NoBoardHere):
        return texts.NO_BOARD_HERE
    if isinstance(error, SeveralBoardsHere):
        return texts.SEVERAL_BOARDS_HERE.format(names=", ".join(error.names), first=error.names[0])
    if isinstance(error, FlowcoachError):
        return texts.SOMETHING_FAILED.format(problem=escape(str(error)))  # it may quote what a user typed
    if is_not_in_channel(error):
        return texts.NOT_IN_CHANNEL
    return None


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


def report_error(error: Exception, body: dict[str, Any], respond: Respond | None = None) -> None:
    """Bolt's error handler, for listeners that fail before acknowledging (buttons, modal submissions).

    It takes ``body`` and ``respond`` rather than ``args``: Bolt cannot build ``args`` for an error handler.
    """
    reply_to = response_url_of(body, respond)
    message = friendly_message(error)
    if reply_to is not None:
        reply_to(text=message)


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
