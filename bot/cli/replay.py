"""`flowcoach replay`: every nudge the current rules would have sent over a period (``spec/coaching.md``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any, TextIO

from bot.errors import FlowcoachError, UsageError

MAX_REPLAY_DAYS = 366  # evaluated every 15 minutes: a year is about a minute on the sample, longer grows


def add_coach_commands(commands: Any, common: argparse.ArgumentParser, add_source: Any) -> None:
    replay = commands.add_parser(
        "replay",
        parents=[common],
        help="the nudges the coach would have sent over a period",
        description="Evaluate the coach's rules every 15 minutes from --since to --until, with the board's "
        "working hours, budget and cooldowns, and print every nudge: when it was detected, posted (or why "
        "it was held) and resolved (docs/coaching.md).",
    )
    add_source(replay)
    replay.add_argument("--since", required=True, metavar="TIME", help="first evaluation (ISO 8601)")
    replay.add_argument("--until", metavar="TIME", help="last evaluation (ISO 8601; default now)")
    replay.add_argument("--format", choices=("text", "json"), default="text", help="default text")
    replay.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace, out: TextIO) -> int:
    import pandas as pd

    from bot.cli.main import load_board
    from bot.cli.timeargs import now_utc, parse_instant
    from bot.coach.replay import replay, replay_document, replay_text

    board = load_board(args)
    if args.board and board.log.events.empty:
        raise FlowcoachError(
            f"board '{args.board}' has no events yet; sync it first: flowcoach sync {args.board}"
        )
    zone = board.workflow.timezone
    since = parse_instant(args.since, zone, option="--since")
    until = parse_instant(args.until, zone, option="--until") if args.until else now_utc()
    if until <= since:
        raise UsageError("--until must be after --since")
    if until - since > pd.Timedelta(days=MAX_REPLAY_DAYS):
        raise UsageError(
            f"--since: a replay covers at most {MAX_REPLAY_DAYS} days;"
            " give a later --since or an earlier --until"
        )
    result = replay(board.log.events, board.workflow, board.thresholds, since=since, until=until)
    if board.name is not None:  # the name it was registered under, which may differ from its workflow's
        result = dataclasses.replace(result, board=board.name)
    if args.format == "json":
        out.write(json.dumps(replay_document(result), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(replay_text(result))
    return 0
