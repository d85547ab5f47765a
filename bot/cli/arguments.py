"""What the command line accepts: its parser, whose errors are one line (README, "Commands")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn


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
