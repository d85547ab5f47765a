"""The `/flow` command grammar (``spec/slack.md``): ``/flow [board] <subcommand> [args] [share]``.

Parsing is pure and strict: anything it does not understand raises :class:`CommandError` naming the
subcommand, so the reply can be that subcommand's usage rather than a guess.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shlex
from dataclasses import dataclass
from typing import Any

from bot.errors import FlowcoachError

# In the order `/flow help` lists them.
SUBCOMMANDS = (
    "help",
    "status",
    "aging",
    "cycle",
    "throughput",
    "cfd",
    "forecast",
    "health",
    "digest",
    "limits",
    "connect",
    "settings",
    "snooze",
)
BOARD_FREE = frozenset({"help", "connect", "snooze"})  # subcommands that need no board
MAX_WINDOW_DAYS = 730
DEFAULT_WINDOW_DAYS = {"cycle": 30, "throughput": 84, "cfd": 30}
MAX_FORECAST_ITEMS = 10_000
MAX_SNOOZE = dt.timedelta(days=30)
BOARD_LIMIT_NAMES = frozenset({"board", "total", "system"})

_WINDOW = re.compile(r"^(\d{1,4})\s*([dw]?)$")
_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h|d|w)$")
_DURATION_UNITS = {
    "m": dt.timedelta(minutes=1),
    "min": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
    "w": dt.timedelta(weeks=1),
}


class CommandError(FlowcoachError):
    """The text is not a valid `/flow` command; ``subcommand`` says whose usage to show (None: general)."""

    def __init__(self, problem: str, subcommand: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.subcommand = subcommand


@dataclass(frozen=True)
class FlowCommand:
    """One parsed `/flow` command. Fields not used by the subcommand stay at their defaults.

    ``limit_value``: for ``limits <stage> <n>``, the new limit, ``None`` to remove it (``off``).
    ``snooze_for``: ``None`` shows the snooze state, a zero duration ends it.
    """

    name: str
    board: str | None = None
    share: bool = False
    window_days: int | None = None
    forecast_items: int | None = None
    forecast_by: dt.date | None = None
    limit_stage: str | None = None
    limit_value: int | None = None
    snooze_for: dt.timedelta | None = None
    help_topic: str | None = None

    @property
    def needs_board(self) -> bool:
        return self.name not in BOARD_FREE

    @property
    def sets_limit(self) -> bool:
        return self.limit_stage is not None


def parse_flow(text: str) -> FlowCommand:
    """Parse the text after ``/flow``; an empty text means ``help``."""
    try:
        words = shlex.split(text.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise CommandError("a quote is not closed") from None
    share = any(word.lower() == "share" for word in words)
    words = [word for word in words if word.lower() != "share"]
    if not words:
        return FlowCommand("help", share=share)
    board: str | None = None
    if words[0].lower() not in SUBCOMMANDS:
        if len(words) == 1:
            raise CommandError(f"unknown subcommand '{words[0]}'")
        board, words = words[0], words[1:]
        if words[0].lower() not in SUBCOMMANDS:
            raise CommandError(f"unknown subcommand '{words[0]}'")
    name, args = words[0].lower(), words[1:]
    parsed = _ARGUMENTS[name](name, args)
    return dataclasses.replace(FlowCommand(name, board=board, share=share), **parsed)


def _help(name: str, args: list[str]) -> dict[str, Any]:
    if not args:
        return {}
    if len(args) > 1 or args[0].lower() not in SUBCOMMANDS:
        raise CommandError(f"no help on `{' '.join(args)}`", name)
    return {"help_topic": args[0].lower()}


def _no_arguments(name: str, args: list[str]) -> dict[str, Any]:
    if args:
        raise CommandError(f"`{name}` takes no arguments", name)
    return {}


def _window(name: str, args: list[str]) -> dict[str, Any]:
    if not args:
        return {"window_days": DEFAULT_WINDOW_DAYS[name]}
    match = _WINDOW.match(" ".join(args).lower())
    if len(args) > 2 or match is None:
        raise CommandError(f"`{' '.join(args)}` is not a window such as 30d or 12w", name)
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise CommandError(f"the window must be between 1 and {MAX_WINDOW_DAYS} days", name)
    return {"window_days": days}


def _forecast(name: str, args: list[str]) -> dict[str, Any]:
    if len(args) == 1 and args[0].isdigit():
        items = int(args[0])
        if not 1 <= items <= MAX_FORECAST_ITEMS:
            raise CommandError(f"forecast between 1 and {MAX_FORECAST_ITEMS:,} items", name)
        return {"forecast_items": items}
    if len(args) == 2 and args[0].lower() == "by":
        try:
            return {"forecast_by": dt.date.fromisoformat(args[1])}
        except ValueError:
            raise CommandError(f"`{args[1]}` is not a date such as 2026-12-31", name) from None
    raise CommandError("say how many items, or by which date", name)


def _limits(name: str, args: list[str]) -> dict[str, Any]:
    if not args:
        return {}
    if len(args) < 2:
        raise CommandError("give a stage and a number, e.g. `limits Review 3`", name)
    value_text = args[-1].lower()
    stage = " ".join(args[:-1])
    if value_text in ("off", "none", "-"):
        return {"limit_stage": stage, "limit_value": None}
    if not value_text.isdigit() or not 1 <= int(value_text) <= 999:
        raise CommandError(f"`{args[-1]}` is not a WIP limit: use a number from 1 to 999, or `off`", name)
    return {"limit_stage": stage, "limit_value": int(value_text)}


def _snooze(name: str, args: list[str]) -> dict[str, Any]:
    if not args:
        return {}
    text = " ".join(args).lower()
    if text in ("off", "end", "stop", "0"):
        return {"snooze_for": dt.timedelta(0)}
    match = _DURATION.match(text)
    if match is None:
        raise CommandError(f"`{text}` is not a duration such as 30m, 2h, 1d or 1w", name)
    duration = int(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if not dt.timedelta(minutes=1) <= duration <= MAX_SNOOZE:
        raise CommandError("snooze for at least a minute and at most 30 days", name)
    return {"snooze_for": duration}


_ARGUMENTS = {
    "help": _help,
    "status": _no_arguments,
    "aging": _no_arguments,
    "cycle": _window,
    "throughput": _window,
    "cfd": _window,
    "forecast": _forecast,
    "health": _no_arguments,
    "digest": _no_arguments,
    "limits": _limits,
    "connect": _no_arguments,
    "settings": _no_arguments,
    "snooze": _snooze,
}
