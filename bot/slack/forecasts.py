"""A `forecast` subcommand's question, answered: the same for `/flow` and for mentions."""

from __future__ import annotations

from analytics.measures import BoardMetrics
from bot.services.forecasting import ForecastResult, forecast_how_many, forecast_when
from bot.slack.grammar import FlowCommand

FORECAST_WINDOW_DAYS = 30  # as the CLI: recent throughput predicts the near future best
FORECAST_TRIALS = 10_000


def forecast_for(metrics: BoardMetrics, command: FlowCommand) -> ForecastResult:
    """ "When will N items be done" or "how many by DATE", with a fresh random seed each time."""
    if command.forecast_items is not None:
        return forecast_when(metrics, command.forecast_items, trials=FORECAST_TRIALS, seed=None)
    if command.forecast_by is None:
        raise ValueError("a forecast command without a question")
    return forecast_how_many(metrics, command.forecast_by, trials=FORECAST_TRIALS, seed=None)
