"""A `forecast` subcommand's question, answered: the same for `/flow` and for mentions.

The forecasting service refuses a question with the facts of why (:class:`ForecastRefused`); here they become
a sentence a team member understands, with a `/flow` question that can be answered instead.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.services.forecast_record import Question, how_many_question, when_question
from bot.services.forecasting import (
    BeyondHorizon,
    DateBeyondYear,
    DateNotAhead,
    ForecastRefused,
    ForecastResult,
    ItemsNotPositive,
    NoThroughput,
    TooLittleHistory,
)
from bot.slack import texts
from bot.slack.blocks.common import escape
from bot.slack.errors import Refused
from bot.slack.grammar import FlowCommand

FORECAST_WINDOW_DAYS = 30  # as the CLI: recent throughput predicts the near future best
FORECAST_TRIALS = 10_000
EXAMPLE_ITEMS = 20

# Answers a question from a window (None: auto) for the board asked about.
ForecastAnswerer = Callable[[Question, int | None], ForecastResult]


def forecast_for(answer: ForecastAnswerer, command: FlowCommand) -> ForecastResult:
    """ "When will N items be done" or "how many by DATE", from the window asked (``auto``: the best
    calibrated), with a fresh random seed each time; a question that cannot be answered raises
    :class:`Refused` in Slack's words. ``answer`` computes it for the board (the service's
    :func:`~bot.services.forecast_record.stored_board_forecast`, bound to a session)."""
    if command.forecast_items is not None:
        question = when_question(command.forecast_items, trials=FORECAST_TRIALS, seed=None)
    elif command.forecast_by is not None:
        question = how_many_question(command.forecast_by, trials=FORECAST_TRIALS, seed=None)
    else:
        raise ValueError("a forecast command without a question")
    window = None if command.auto_window else command.window_days or FORECAST_WINDOW_DAYS
    try:
        return answer(question, window)
    except ForecastRefused as refused:
        raise Refused(refusal_text(refused, command.board)) from None


def auto_example(command: FlowCommand) -> str:
    """The same question with ``auto`` as its window, as the user would type it (a poor record's hint)."""
    asked = f"by {command.forecast_by.isoformat()}" if command.forecast_by else str(command.forecast_items)
    return texts.flow_command(
        None if command.board is None else escape(command.board), f"forecast {asked} auto"
    )


def refusal_text(refused: ForecastRefused, board: str | None = None) -> str:
    """Why the forecast cannot be given and what to ask instead, naming ``board`` as the question did."""

    def ask(words: str) -> str:
        return texts.flow_command(None if board is None else escape(board), words)

    if isinstance(refused, DateNotAhead):
        return texts.forecast_date_not_ahead(
            refused.by, refused.start, ask(f"forecast by {refused.suggested_by.isoformat()}")
        )
    if isinstance(refused, DateBeyondYear):
        return texts.forecast_date_beyond_year(
            refused.by, ask(f"forecast by {refused.latest_by.isoformat()}")
        )
    if isinstance(refused, NoThroughput):
        return texts.forecast_no_throughput(refused.window_days, ask("throughput"))
    if isinstance(refused, TooLittleHistory):
        return texts.forecast_too_little_history(
            refused.finished, refused.days_with_throughput, refused.window_days, ask("throughput")
        )
    if isinstance(refused, BeyondHorizon):
        suggested = refused.suggested_items
        return texts.forecast_beyond_horizon(
            refused.items,
            refused.per_week,
            refused.horizon_days // 365,
            None if suggested is None else ask(f"forecast {suggested}"),
        )
    if isinstance(refused, ItemsNotPositive):
        return texts.forecast_items_not_positive(ask(f"forecast {EXAMPLE_ITEMS}"))
    return texts.SOMETHING_FAILED.format(problem=escape(str(refused)))
