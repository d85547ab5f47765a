"""The ``flowcoach`` command: one entry point for every process and scriptable task (``spec/cli.md``)."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli import arguments
from bot.errors import FlowcoachError, UsageError
from bot.services.forecast_defaults import DEFAULT_TRIALS

# Building the parser (and so `--help`) imports nothing heavy: pandas, numpy, SQLAlchemy, Alembic, Slack and
# the connectors load inside the handler that needs them (tests/cli/test_cli_imports.py checks this).
if TYPE_CHECKING:
    import pandas as pd

    from analytics.eventlog import EventLog
    from analytics.measures import BoardMetrics
    from analytics.workflow import Workflow
    from bot.store.board_settings import Thresholds

DEFAULT_WINDOW_DAYS = 30
DEFAULT_CHART_WINDOW_DAYS = 90  # a scatterplot or CFD of one month is too sparse to read trends from
INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success or --help, 1 user error, 70 internal)."""
    parser = build_parser()
    try:
        args = parser.parse_command_line(argv)
    except SystemExit as stop:  # --help, or an argument error already said in one line
        return stop.code if isinstance(stop.code, int) else 1
    try:
        from bot.logs import configure_cli_logging  # after parsing: `--help` needs no logging

        configure_cli_logging(os.environ)  # serve and worker configure it again from their settings
        return int(args.handler(args, sys.stdout))
    except BrokenPipeError:
        return 0  # the reader went away (e.g. `| head`): nothing left to say
    except Exception as error:
        if args.debug:
            raise
        if is_user_error(error):
            sys.stderr.write(f"flowcoach: error: {error}\n")
            return 1
        sys.stderr.write(
            f"flowcoach: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in flowcoach; run again with --debug for the traceback and report it.\n"
        )
        return INTERNAL_ERROR_EXIT


def is_user_error(error: BaseException) -> bool:
    """A problem the user can fix: said in one line, exit status 1. The analytics errors are imported only
    here, once something failed, so that a command which never loads pandas does not load it to catch."""
    if isinstance(error, FlowcoachError):
        return True
    from analytics.eventlog import EventLogError
    from analytics.forecast import CannotForecast
    from analytics.workflow import WorkflowError

    return isinstance(error, WorkflowError | EventLogError | CannotForecast)


def build_parser() -> arguments.OneLineParser:
    """Every subcommand with its flags; ``--help`` on each describes them."""
    # Accepted before or after the subcommand; SUPPRESS keeps a subcommand's default from overwriting a
    # `flowcoach --debug metrics …` given before it.
    common = arguments.OneLineParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
    )
    parser = arguments.OneLineParser(
        prog="flowcoach",
        description="Flow metrics, forecasts and coaching for software teams. Reference: docs/cli.md.",
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    metrics = commands.add_parser(
        "metrics",
        parents=[common],
        help="the metrics document of a board",
        description="WIP, throughput, cycle time, SLE, flow efficiency, stages and CFD (docs/metrics.md).",
    )
    _add_source(metrics, DEFAULT_WINDOW_DAYS)
    _add_format(metrics)
    metrics.set_defaults(handler=run_metrics)

    forecast = commands.add_parser(
        "forecast",
        parents=[common],
        help="Monte Carlo forecast: when N items, or how many by a date",
        description="Monte Carlo forecast from the daily throughput of the window (docs/metrics.md).",
    )
    _add_source(forecast, DEFAULT_WINDOW_DAYS, auto_window=True)
    question = forecast.add_mutually_exclusive_group(required=True)
    question.add_argument(
        "--items", type=arguments.items, metavar="N", help="when will the next N items be done?"
    )
    question.add_argument("--by", metavar="DATE", help="how many items will be done by DATE (YYYY-MM-DD)?")
    forecast.add_argument(
        "--trials",
        type=arguments.trials,
        default=DEFAULT_TRIALS,
        metavar="N",
        help=f"default {DEFAULT_TRIALS}, at most {arguments.MAX_TRIALS:,}",
    )
    forecast.add_argument(
        "--seed", type=arguments.seed, metavar="S", help="random seed (0 or more), for a repeatable answer"
    )
    _add_format(forecast)
    forecast.set_defaults(handler=run_forecast)

    charts = commands.add_parser(
        "charts",
        parents=[common],
        help="the flow charts as PNG files",
        description="Cycle-time scatterplot, aging WIP, cumulative flow, throughput run chart and throughput "
        "process behaviour (XmR) chart, cycle-time and throughput histograms and WIP run chart as PNG.",
    )
    _add_source(charts, DEFAULT_CHART_WINDOW_DAYS)
    charts.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder to write the PNG files to"
    )
    charts.add_argument(
        "--cfd-hide",
        action="extend",
        type=arguments.choices_of("done", "backlog"),
        metavar="done,backlog",
        help="leave these bands out of the cumulative flow diagram",
    )
    charts.add_argument(
        "--cfd-start",
        choices=("board", "window"),
        default="board",
        help="board (default): the done band counts every item finished since the board began; window: "
        "it starts from zero on the window's first day",
    )
    charts.set_defaults(handler=run_charts)

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="try flowcoach on the bundled sample board, no configuration needed",
        description="Metrics, aging items, a forecast and the charts of the bundled sample board.",
    )
    demo.add_argument(
        "--out", type=Path, metavar="DIR", help="folder for the charts (default: a new temp folder)"
    )
    demo.add_argument(
        "--channel",
        metavar="ID",
        help="also post today's digest and the open nudges in this Slack channel (needs SLACK_BOT_TOKEN)",
    )
    demo.set_defaults(handler=run_demo)

    from bot.cli.store import add_store_commands

    add_store_commands(commands, common)

    from bot.cli.replay import add_coach_commands

    add_coach_commands(commands, common, add_board_source)

    from bot.cli.backtest import add_backtest_command

    add_backtest_command(commands, common, add_board_source)

    from bot.cli.reports import add_report_commands

    add_report_commands(commands, common, add_board_source)

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="the Slack app: HTTP on $PORT, or Socket Mode with SLACK_APP_TOKEN",
        description="Serve /flow, App Home, mentions and OAuth installs (docs/cli.md). Configured by the "
        "environment: SLACK_BOT_TOKEN or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET, PORT.",
    )
    serve.add_argument(
        "--workers", type=arguments.positive, default=2, metavar="N", help="HTTP worker processes"
    )
    serve.add_argument(
        "--threads", type=arguments.positive, default=8, metavar="N", help="threads per worker"
    )
    serve.add_argument(
        "--with-worker",
        action="store_true",
        help="also run the scheduler (`flowcoach worker`) in this process, for small installs",
    )
    serve.set_defaults(handler=_run_serve)

    from bot.cli.worker import add_worker_command

    add_worker_command(commands, common)

    from bot.cli.jobs import add_jobs_command

    add_jobs_command(commands, common)
    return parser


def _run_serve(args: argparse.Namespace, out: TextIO) -> int:
    from bot.slack.serve import run_serve

    if args.with_worker:
        from bot.cli.worker import serve_with_worker

        return serve_with_worker(args, out, run_serve)
    return run_serve(args, out)


def _add_source(parser: argparse.ArgumentParser, default_window: int, *, auto_window: bool = False) -> None:
    add_board_source(parser)
    window = parser.add_argument_group("time")
    window.add_argument("--asof", metavar="TIME", help="evaluate at this instant (ISO 8601; default now)")
    window.add_argument(
        "--window",
        type=_window_or_auto if auto_window else arguments.days,
        default=default_window,
        metavar="DAYS|auto" if auto_window else "DAYS",
        help=f"window length in days (default {default_window}, at most {arguments.MAX_WINDOW_DAYS})"
        + (
            "; auto: of 30, 60 and 90 days, the one whose past 85 %% forecasts came true closest to 85 %% "
            "of the time"
            if auto_window
            else ""
        ),
    )


def add_board_source(parser: argparse.ArgumentParser) -> None:
    """``--board``, or ``--events`` with ``--workflow`` (and ``--lenient``): what :func:`load_board` reads."""
    source = parser.add_argument_group("board data (--board, or --events with --workflow)")
    source.add_argument("--board", metavar="NAME", help="a board registered with `flowcoach board add`")
    source.add_argument("--events", type=Path, metavar="FILE", help="event log: .csv or .jsonl")
    source.add_argument("--workflow", type=Path, metavar="FILE", help="workflow YAML file")
    source.add_argument("--lenient", action="store_true", help="skip malformed event rows, reporting them")
    source.add_argument(
        "--type",
        action="extend",
        type=arguments.names,
        metavar="TYPE[,TYPE…]",
        help="keep only the items of these types (e.g. Bug; repeatable, ignoring case)",
    )


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text", help="default text")


AUTO_WINDOW = "auto"


def _window_or_auto(text: str) -> int | str:
    return AUTO_WINDOW if text.strip().lower() == AUTO_WINDOW else arguments.days(text)


@dataclass(frozen=True)
class LoadedBoard:
    workflow: Workflow
    log: EventLog
    name: str | None = None  # the stored board's registered name (``--board``)
    stored_thresholds: Thresholds | None = None  # the stored board's; None for files: the defaults
    warning: str | None = None  # why a stored board has no data: it was never synced

    @property
    def thresholds(self) -> Thresholds:
        """The stored board's thresholds, else the defaults (built only here: pydantic is not light)."""
        if self.stored_thresholds is not None:
            return self.stored_thresholds
        from bot.store.board_settings import Thresholds

        return Thresholds()

    @property
    def stale_after_hours(self) -> float:
        """When the metrics call the data stale; the default needs no pydantic, so `metrics` loads none."""
        if self.stored_thresholds is not None:
            return self.stored_thresholds.stale_after_hours
        from bot.store.threshold_defaults import DEFAULT_STALE_AFTER_HOURS

        return DEFAULT_STALE_AFTER_HOURS

    def warn(self) -> None:
        """Say why the numbers that follow are empty; on stderr, so a JSON document stays clean."""
        if self.warning is not None:
            sys.stderr.write(f"flowcoach: warning: {self.warning}\n")


def check_source(args: argparse.Namespace) -> None:
    """``--board``, or both ``--events`` and ``--workflow``: refuse any other combination, reading nothing."""
    if args.board is not None:
        if args.events is not None or args.workflow is not None:
            raise UsageError("give either --board, or --events with --workflow, not both")
    elif args.events is None or args.workflow is None:
        raise UsageError("give --board NAME, or both --events FILE and --workflow FILE")


def load_board(args: argparse.Namespace) -> LoadedBoard:
    """A stored board (``--board``), or the workflow file and then the events in its time zone."""
    check_source(args)
    if args.board is not None:
        return of_types(_stored_board(args.board), args)
    from bot.connectors.files import load_workflow, read_event_log

    workflow = load_workflow(args.workflow)
    if not args.events.is_file():
        raise FlowcoachError(f"{args.events}: no such events file")
    return of_types(LoadedBoard(workflow, read_event_log(args.events, workflow, lenient=args.lenient)), args)


def asked_types(args: argparse.Namespace) -> list[str]:
    """The item types of ``--type`` (repeated or comma-separated), in order; none: every item."""
    return list(getattr(args, "type", None) or ())


def of_types(board: LoadedBoard, args: argparse.Namespace) -> LoadedBoard:
    """The board with only the items of the ``--type`` types, if any were given."""
    types = asked_types(args)
    if not types:
        return board
    from analytics.eventlog import EventLog
    from analytics.item_types import UnknownItemType
    from analytics.item_types import of_types as keep_types

    try:
        events = keep_types(board.log.events, types)
    except UnknownItemType as error:
        raise UsageError(f"--type: {error}") from None
    return dataclasses.replace(board, log=EventLog(events, board.log.warnings))


def _stored_board(name: str) -> LoadedBoard:
    from analytics.eventlog import EventLog
    from bot.cli.board_status import unsynced_warning
    from bot.cli.database import database_url
    from bot.cli.timeargs import now_utc
    from bot.store.boardread import read_stored_board

    # Plain SQL on the driver's connection when the schema is current: no ORM, Alembic or Slack tables.
    found = read_stored_board(database_url(), name)
    if found is None:  # a schema to migrate or refuse, no such board, a URL only SQLAlchemy opens
        return _stored_board_orm(name)
    warning = unsynced_warning(found, found.last_sync, now_utc().to_pydatetime())
    return LoadedBoard(found.workflow, EventLog(found.events), found.name, found.thresholds, warning)


def _stored_board_orm(name: str) -> LoadedBoard:
    from analytics.eventlog import EventLog
    from bot.cli.board_status import unsynced_warning
    from bot.cli.database import open_store
    from bot.cli.timeargs import now_utc
    from bot.services.boards import board_data
    from bot.store.boards import get_board, last_sync_run

    with open_store() as sessions, sessions() as session:
        board = get_board(session, name)
        data = board_data(session, board)
        warning = unsynced_warning(board, last_sync_run(session, board.id), now_utc().to_pydatetime())
    return LoadedBoard(data.workflow, EventLog(data.events), data.name, data.thresholds, warning)


def metrics_for(
    args: argparse.Namespace,
    board: LoadedBoard,
    window_days: int | None = None,
    asof: pd.Timestamp | None = None,
) -> BoardMetrics:
    """The board's metrics at ``--asof`` (or ``asof``, or now) over ``--window`` (or ``window_days``) days."""
    from analytics.measures import board_metrics

    return board_metrics(
        board.log.events,
        board.workflow,
        asof if asof is not None else asof_of(args, board),
        window_days=window_days if window_days is not None else args.window,
        warnings=board.log.warnings,
        stale_after_hours=board.stale_after_hours,
    )


def asof_of(args: argparse.Namespace, board: LoadedBoard) -> pd.Timestamp:
    """``--asof`` in the board's time zone, or now."""
    from bot.cli.timeargs import now_utc, parse_instant

    return parse_instant(args.asof, board.workflow.timezone, option="--asof") if args.asof else now_utc()


def run_metrics(args: argparse.Namespace, out: TextIO) -> int:
    with cycles_uncollected():
        from analytics.document import metrics_document
        from bot.cli.report import metrics_text

        board = load_board(args)
        board.warn()
        metrics = metrics_for(args, board)
        emit(out, args.format, lambda: metrics_document(metrics), lambda: metrics_text(metrics))
    return 0


@contextmanager
def cycles_uncollected() -> Iterator[None]:
    """No cycle collection for the length of a command that computes once: it would walk pandas' and
    numpy's hundreds of thousands of objects again and again (~0.1 s of ``metrics`` on a large board) for
    few cycles. Frames are freed by reference counting as always; the previous state returns after."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def run_forecast(args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.forecast_output import forecast_document, forecast_text
    from bot.cli.timeargs import parse_date
    from bot.services.forecast_record import (
        finish_history,
        forecast_with_record,
        how_many_question,
        when_question,
    )
    from bot.services.forecasting import DateBeyondYear, DateNotAhead

    board = load_board(args)
    board.warn()
    asof = asof_of(args, board)
    if args.items is not None:
        question = when_question(args.items, trials=args.trials, seed=args.seed)
    else:
        by = parse_date(args.by, option="--by")
        question = how_many_question(by, trials=args.trials, seed=args.seed)
    # The service says what is wrong; on a terminal, the flag to change is named first.
    try:
        result = forecast_with_record(
            question,
            lambda window_days: metrics_for(args, board, window_days, asof),
            finish_history(board.log.events, board.workflow, asof),
            None if args.window == AUTO_WINDOW else args.window,
        )
    except DateNotAhead as error:
        raise UsageError(f"--by: {error}") from None
    except DateBeyondYear as error:
        raise UsageError(f"--by: {error}; ask about a date up to {error.latest_by.isoformat()}") from None
    emit(out, args.format, lambda: forecast_document(result), lambda: forecast_text(result))
    return 0


def run_charts(args: argparse.Namespace, out: TextIO) -> int:
    from analytics.charts.board import ChartOptions
    from bot.cli.chart_files import write_charts

    board = load_board(args)
    board.warn()
    metrics = metrics_for(args, board)
    hide = frozenset(args.cfd_hide or ())
    subset = ", ".join(asked_types(args)) or None
    options = ChartOptions(cfd_hide=hide, cfd_start=args.cfd_start, subset=subset)
    for path in write_charts(metrics, args.out, options):
        out.write(f"wrote {path}\n")
    return 0


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    from bot.cli.demo import run_demo as demo

    demo(out, chart_dir=args.out, channel=args.channel)
    return 0


def emit(out: TextIO, fmt: str, document: Callable[[], dict[str, Any]], text: Callable[[], str]) -> None:
    """The JSON document (``--format json``) or the text, whichever was asked for."""
    if fmt == "json":  # one write: json.dump would write each token to the stream
        out.write(json.dumps(document(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(text())
