"""What the command line accepts: its parser, whose errors are one line, and numbers with bounds that keep
time and memory in reason."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

MAX_WINDOW_DAYS = 3650  # ten years: beyond, no board has history, and the dates leave pandas' range
MAX_TRIALS = 1_000_000  # about 2 s and 200 MB; beyond 10,000 the dates hardly move
MAX_BACKTEST_TRIALS = 100_000  # repeated at every origin of the backtest: hundreds of forecasts
MAX_ITEMS = 1_000_000  # beyond any backlog; a forecast that far out is refused anyway (HORIZON_DAYS)


class OneLineParser(argparse.ArgumentParser):
    """A parser (and, through ``add_subparsers``, every subcommand's) whose argument errors read like every
    other error of the command (README, "Commands"): one ``flowcoach: error: …`` line and exit status 1,
    pointing at the subcommand's ``--help`` instead of printing its usage block."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The innermost subcommand's default wins, so after parsing this names the command that was given:
        # the top-level parser alone sees leftover arguments, but the help to point at is the subcommand's.
        self.set_defaults(command_prog=self.prog)

    def error(self, message: str) -> NoReturn:
        fail(self.prog, message)

    def parse_command_line(self, argv: Sequence[str] | None) -> argparse.Namespace:
        """Parse ``argv``; unknown arguments are an error of the subcommand they were given to."""
        args, unknown = self.parse_known_args(argv)
        if unknown:
            fail(args.command_prog, f"unrecognized arguments: {' '.join(unknown)}")
        return args


def fail(prog: str, message: str) -> NoReturn:
    """Say an argument error in one line and exit with status 1."""
    line = " ".join(message.split())  # argparse's messages may wrap; a script reads one line
    sys.stderr.write(f"flowcoach: error: {line} (see {prog} --help)\n")
    raise SystemExit(1)


def whole_number(low: int, high: int | None = None, *, why: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number in ``[low, high]``; ``why`` says where ``high`` comes from."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value:,} must be {low:,} or more")
        if high is not None and value > high:
            reason = f" ({why})" if why else ""
            raise argparse.ArgumentTypeError(f"{value:,} is too many: at most {high:,}{reason}")
        return value

    return parse


days = whole_number(1, MAX_WINDOW_DAYS, why="ten years")
trials = whole_number(1, MAX_TRIALS, why="more no longer changes the answer")
backtest_trials = whole_number(1, MAX_BACKTEST_TRIALS, why="they are run at every origin")
items = whole_number(1, MAX_ITEMS)
seed = whole_number(0)
positive = whole_number(1)


def names(text: str) -> list[str]:
    """An argparse ``type``: one or more comma-separated names (``Bug,Story``), blanks dropped."""
    listed = [name.strip() for name in text.split(",") if name.strip()]
    if not listed:
        raise argparse.ArgumentTypeError(f"'{text}' names nothing")
    return listed


def choices_of(*allowed: str) -> Callable[[str], list[str]]:
    """An argparse ``type``: comma-separated names, each one of ``allowed`` (ignoring case)."""

    def parse(text: str) -> list[str]:
        listed = [name.lower() for name in names(text)]
        wrong = [name for name in listed if name not in allowed]
        if wrong:
            raise argparse.ArgumentTypeError(f"'{wrong[0]}' is not one of {', '.join(allowed)}")
        return listed

    return parse
