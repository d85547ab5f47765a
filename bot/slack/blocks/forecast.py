"""The answer to ``/flow forecast``: the question, three confidence levels as dates or counts, the basis.

Three levels (50, 85, 95 %) rather than all four the simulation reports: a coin flip, a safe commitment and a
near-certain one are what people plan with; more lines only slow the reading down.
"""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import Block

from bot.formatting import local_time
from bot.services.forecasting import ForecastResult
from bot.slack import texts
from bot.slack.blocks.common import context, header, section

SHOWN_LEVELS = (50, 85, 95)


def forecast_blocks(result: ForecastResult, auto_example: str | None = None) -> list[Block]:
    """The forecast as a header (the question), one line per confidence level, the track record, and the
    basis in grey. ``auto_example`` is the same question with an ``auto`` window: a poor record's way out."""
    metrics = result.metrics
    if result.when is not None:
        question = texts.forecast_when_question(metrics.board, result.when.items)
        lines = [
            texts.forecast_when_line(level, result.start_date + dt.timedelta(days=within), within)
            for level, within in result.when.within_days.items()
            if level in SHOWN_LEVELS
        ]
    elif result.how_many is not None and result.by_date is not None:
        question = texts.forecast_how_many_question(metrics.board, result.by_date)
        lines = [
            texts.forecast_how_many_line(level, count, result.how_many.days)
            for level, count in result.how_many.at_least.items()
            if level in SHOWN_LEVELS
        ]
    else:  # a result without an answer is a caller's bug; show the board rather than fail in Slack
        question, lines = metrics.board, []
    blocks: list[Block] = [header(question)]
    if lines:
        blocks.append(section("\n".join(lines)))
    basis = texts.forecast_basis(
        result.trials,
        metrics.window.days,
        metrics.throughput_total,
        local_time(metrics.asof, metrics.timezone),
    )
    record, choice = result.track_record, result.window_choice
    if record is not None:
        line = texts.forecast_track_record(
            record, auto_example if choice is None else None, result.throughput_shift
        )
        blocks.append(section(line) if record.poor else context(line))  # a warning is read, not greyed out
    if choice is not None:
        basis += " " + texts.forecast_window_choice(choice)
    blocks.append(context(basis))
    return blocks


def forecast_text(result: ForecastResult) -> str:
    """The plain-text fallback (notifications, screen readers): the question the blocks answer."""
    if result.when is not None:
        return texts.forecast_when_question(result.metrics.board, result.when.items)
    if result.how_many is not None and result.by_date is not None:
        return texts.forecast_how_many_question(result.metrics.board, result.by_date)
    return result.metrics.board
