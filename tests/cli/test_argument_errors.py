"""Argument errors, on every subcommand, read as the README promises for errors: one line, exit status 1."""

from __future__ import annotations

import pytest

from bot.cli.main import main


@pytest.mark.parametrize(
    ("args", "message", "help_of"),
    [
        ([], "the following arguments are required: COMMAND", "flowcoach"),
        (["nonsense"], "argument COMMAND: invalid choice: 'nonsense'", "flowcoach"),
        (["metrics", "--window", "x"], "argument --window: 'x' is not a whole number", "flowcoach metrics"),
        (["metrics", "--format", "xml"], "argument --format: invalid choice: 'xml'", "flowcoach metrics"),
        (["forecast", "--seed", "1"], "one of the arguments --items --by is required", "flowcoach forecast"),
        (["forecast", "--items", "3", "--by", "2027-01-01"], "not allowed with", "flowcoach forecast"),
        (["charts", "--window", "30"], "the following arguments are required: --out", "flowcoach charts"),
        (["replay", "--until", "2026-01-01"], "required: --since", "flowcoach replay"),
        (["backtest", "--every", "0"], "argument --every: 0 must be 1 or more", "flowcoach backtest"),
        (["board"], "the following arguments are required: ACTION", "flowcoach board"),
        (["board", "add"], "the following arguments are required: name", "flowcoach board add"),
        (["board", "frob"], "invalid choice: 'frob'", "flowcoach board"),
        (["db", "upgrade", "--now"], "unrecognized arguments: --now", "flowcoach db upgrade"),
        (["sync", "--all"], "unrecognized arguments: --all", "flowcoach sync"),
        (["serve", "--workers", "0"], "argument --workers: 0 must be 1 or more", "flowcoach serve"),
        (["worker", "--nope"], "unrecognized arguments: --nope", "flowcoach worker"),
    ],
)
def test_an_argument_error_is_one_line_and_exit_1(capsys, args, message, help_of):
    """No usage block and no exit status 2: the line says what is wrong and where the help is."""
    code = main(args)
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert captured.err.startswith("flowcoach: error: ") and captured.err.count("\n") == 1
    assert message in captured.err
    assert captured.err.endswith(f"(see {help_of} --help)\n")


def test_help_still_prints_the_usage_and_succeeds(capsys):
    assert main(["metrics", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: flowcoach metrics") and "--window DAYS" in out
