"""`flowcoach backtest`: how often the board's forecasts came true (``spec/metrics.md``, "Forecast
backtest")."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli import arguments
from bot.errors import UsageError

if TYPE_CHECKING:  # pandas, and the store behind the forecast record, load when the backtest runs
    from analytics.backtest import Backtest

HEADLINE_LEVEL = 85


def add_backtest_command(commands: Any, common: argparse.ArgumentParser, add_source: Any) -> None:
    backtest = commands.add_parser(
        "backtest",
        parents=[common],
        help="how often the board's forecasts came true",
        description="Walk forward over history: at each origin, forecast how many items the next --horizon "
        "days bring, exactly as `forecast` would have then, and compare with what happened. Prints the hit "
        "rate of each confidence level: a calibrated 85 % forecast comes true about 85 % of the time "
        "(docs/metrics.md).",
    )
    add_source(backtest)
    period = backtest.add_argument_group("period")
    period.add_argument("--since", metavar="DATE", help="first origin (YYYY-MM-DD; default 26 weeks back)")
    period.add_argument("--until", metavar="TIME", help="what is known up to (ISO 8601; default now)")
    days = arguments.days
    period.add_argument("--every", type=days, default=1, metavar="DAYS", help="days between origins (1)")
    backtest.add_argument("--horizon", type=days, default=14, metavar="DAYS", help="forecast days (14)")
    backtest.add_argument("--window", type=days, default=30, metavar="DAYS", help="history window (30)")
    backtest.add_argument(
        "--trials",
        type=arguments.backtest_trials,
        default=10_000,
        metavar="N",
        help=f"default 10000, at most {arguments.MAX_BACKTEST_TRIALS:,}",
    )
    backtest.add_argument(
        "--seed", type=arguments.seed, metavar="S", help="random seed, for repeatable numbers"
    )
    backtest.add_argument("--format", choices=("text", "json"), default="text", help="default text")
    backtest.set_defaults(handler=run_backtest)


def run_backtest(args: argparse.Namespace, out: TextIO) -> int:
    import json

    from bot.cli.main import load_board
    from bot.cli.timeargs import now_utc, parse_date, parse_instant
    from bot.services.forecast_record import BacktestTooShort, forecast_backtest

    board = load_board(args)
    board.warn()
    zone = board.workflow.timezone
    until = parse_instant(args.until, zone, option="--until") if args.until else now_utc()
    since = parse_date(args.since, option="--since") if args.since else None
    if since is not None and (until.tz_convert(zone).date() - since).days > arguments.MAX_WINDOW_DAYS:
        raise UsageError(f"--since: a backtest covers at most {arguments.MAX_WINDOW_DAYS} days (ten years)")
    try:
        result = forecast_backtest(
            board.log.events,
            board.workflow,
            until=until,
            since=since,
            horizon_days=args.horizon,
            window_days=args.window,
            every_days=args.every,
            trials=args.trials,
            seed=args.seed,
        )
    except BacktestTooShort as error:
        raise UsageError(f"--since: {error}; go further back or shorten --horizon") from None
    name = board.name or board.workflow.name
    if args.format == "json":
        out.write(json.dumps(backtest_document(name, zone, result), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(backtest_text(name, result))
    return 0


def backtest_document(board: str, timezone: str, result: Backtest) -> dict[str, Any]:
    """The ``--format json`` document of the spec."""
    from analytics.calendar import day_start, to_local_iso

    def midnight(date: dt.date) -> str:
        return to_local_iso(day_start(date, timezone), timezone)

    return {
        "board": board,
        "horizon_days": result.horizon_days,
        "window_days": result.window_days,
        "every_days": result.every_days,
        "origins": [
            {
                "asof": midnight(origin.date),
                "forecast": None
                if origin.forecast is None
                else {str(level): count for level, count in origin.forecast.items()},
                "actual": origin.actual,
                **({"refused": origin.refused} if origin.refused else {}),
            }
            for origin in result.origins
        ],
        "hit_rate": {
            str(level): None if rate is None else round(rate, 4) for level, rate in result.hit_rate.items()
        },
        "count": result.count,
    }


def backtest_text(board: str, result: Backtest) -> str:
    """The track record in a sentence a team lead reads in five seconds, then the levels and the caveats."""
    from bot.formatting import count_of, day_label
    from bot.services.forecast_record import POOR_HIT_RATE

    rates = result.hit_rate
    if not result.origins:
        return f"{board}: no origin to test in this period.\n"
    first, last = result.origins[0].date, result.origins[-1].date
    weeks = max(1, round(((last - first).days + result.horizon_days) / 7))
    origins = count_of(len(result.origins), "origin")
    lines = [f"{board}: how many items in {count_of(result.horizon_days, 'day')}, forecast from the "
             f"previous {count_of(result.window_days, 'day')}, tested at {origins} "
             f"from {day_label(first)} to {day_label(last)}."]  # fmt: skip
    headline, low = rates.get(HEADLINE_LEVEL), rates.get(min(result.levels))
    if headline is None or low is None:
        lines.append("No forecast could be made at any origin: " + _refusals(result) + ".")
        return "\n".join(lines) + "\n"
    lines.append(
        f"Over the last {count_of(weeks, 'week')}, our {HEADLINE_LEVEL} % forecasts came true "
        f"{_percent(headline)} of the time; the {min(result.levels)} % ones {_percent(low)}."
    )
    lines.append("")
    for level in result.levels:
        rate = rates[level]
        assert rate is not None
        lines.append(f"  {level:>2} % forecasts came true {_percent(rate):>5} of the time")
    skipped = len(result.origins) - result.count
    if skipped:
        lines.append(f"  ({count_of(skipped, 'origin')} without a forecast: {_refusals(result)})")
    if headline < POOR_HIT_RATE:
        lines += [
            "",
            f"Poor track record: an {HEADLINE_LEVEL} % forecast should come true about {HEADLINE_LEVEL} % of "
            "the time. Either throughput changed during the period (the recent past no longer predicts the "
            "near future: look for what changed), or the window is too short to hold the team's usual "
            "variation: try --window 60 or 90.",
        ]
    return "\n".join(lines) + "\n"


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _refusals(result: Backtest) -> str:
    reasons = [origin.refused for origin in result.origins if origin.refused]
    return "; ".join(sorted(set(reasons))) or "none"
