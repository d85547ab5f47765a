"""Benchmark the forecast backtest: the sample board and a 20k-item synthetic board.

Usage: ``python benchmarks/forecast.py [--items 20000] [--origins 180] [--repeat 3]``

For each board it reads the event log once, then times (best of ``--repeat``) the whole use case the CLI
runs, ``bot.services.forecast_record.forecast_backtest``: building the timeline as of ``until``, then
``--origins`` daily origins of 10,000 trials each (horizon 14, window 30). The whole command, interpreter
start included, is what ``time flowcoach backtest …`` shows; this is the part the issue's "180 origins ×
10,000 trials in under 5 s" is about.

Then the cost of a forecast's track record, as ``flowcoach forecast`` and ``/flow forecast`` pay it: "when
will 20 items be done" from 30 days with its record, and with ``--window auto`` (three forecasts, three
records), best of ``--repeat``, the event log already read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import pandas as pd

from analytics.measures import board_metrics
from bot.connectors.files import load_workflow, read_event_log
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.services.forecast_record import (
    finish_history,
    forecast_backtest,
    forecast_with_record,
    when_question,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--origins", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _measure("sample board", SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH, SAMPLE_ASOF, args)
    from benchmarks.synthetic import write_board

    with tempfile.TemporaryDirectory(prefix="flowcoach-forecast-bench-") as folder:
        end = dt.datetime(2026, 11, 20, 17, 0, tzinfo=dt.UTC)
        events, workflow = write_board(folder, args.items, end=end)
        _measure(f"synthetic board ({args.items:,} items)", events, workflow, end, args)


def _measure(label: str, events: Path, workflow_path: Path, until: object, args: argparse.Namespace) -> None:
    workflow = load_workflow(workflow_path)
    log = read_event_log(events, workflow)
    until_ts = pd.Timestamp(until)
    last = until_ts.tz_convert(workflow.timezone).date()
    since = last - dt.timedelta(days=args.origins - 1 + 14)
    best = float("inf")
    result = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = forecast_backtest(log.events, workflow, until=until_ts, since=since)
        best = min(best, time.perf_counter() - started)
    assert result is not None
    rates = ", ".join(f"{level} %: {rate:.0%}" for level, rate in result.hit_rate.items() if rate is not None)
    print(f"{label}: {len(result.origins)} origins × {result.trials:,} trials in {best:.2f} s "
          f"(best of {args.repeat}); {result.count} forecast; hit rates {rates}")  # fmt: skip
    question = when_question(20, trials=10_000, seed=1)
    for window in (30, None):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            answer = forecast_with_record(
                question,
                lambda days: board_metrics(log.events, workflow, until_ts, window_days=days),
                finish_history(log.events, workflow, until_ts),
                window,
            )
            best = min(best, time.perf_counter() - started)
        record = answer.track_record
        assert record is not None
        print(f"  forecast with its track record, window {window or 'auto'}: {best:.2f} s "
              f"(chosen {record.window_days} days; 85 % came true {record.hit_rate or 0:.0%} "
              f"of {record.forecasts})")  # fmt: skip


if __name__ == "__main__":
    main()
