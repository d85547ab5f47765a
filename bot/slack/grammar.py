"""The `/flow` command grammar (``spec/slack.md``): ``/flow [board] <subcommand> [args] [share]``.

Parsing is pure and strict: anything it does not understand raises :class:`CommandError` naming the
subcommand, so the reply can be that subcommand's usage rather than a guess. Which subcommands exist, and
which argument parser reads each, is the registry's to say (``bot.slack.subcommands``); the parsers are here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import FlowcoachError

HELP = "help"  # what an empty `/flow` asks for
MAX_WINDOW_DAYS = 730
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

# Reads the words after a subcommand's name into FlowCommand fields, or raises CommandError naming it.
ArgumentParser = Callable[[str, list[str]], dict[str, Any]]


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
    auto_window: bool = False
    limit_stage: str | None = None
    limit_value: int | None = None
    snooze_for: dt.timedelta | None = None
    help_topic: str | None = None

    @property
    def sets_limit(self) -> bool:
        return self.limit_stage is not None


def parse_flow(text: str, arguments: Mapping[str, ArgumentParser]) -> FlowCommand:
    """Parse the text after ``/flow``; an empty text means ``help``.

    ``arguments`` maps each subcommand's name to the parser of its arguments (the registry's entries); a help
    topic must be one of those names.
    """
    try:
        words = shlex.split(text.replace("“", '"').replace("”", '"'))
    except ValueError:
        raise CommandError("a quote is not closed") from None
    share = any(word.lower() == "share" for word in words)
    words = [word for word in words if word.lower() != "share"]
    if not words:
        return FlowCommand(HELP, share=share)
    board: str | None = None
    if words[0].lower() not in arguments:
        if len(words) == 1:
            raise CommandError(f"unknown subcommand '{words[0]}'")
        board, words = words[0], words[1:]
        if words[0].lower() not in arguments:
            raise CommandError(f"unknown subcommand '{words[0]}'")
    name, args = words[0].lower(), words[1:]
    parsed = arguments[name](name, args)
    topic = parsed.get("help_topic")
    if topic is not None and topic not in arguments:
        raise CommandError(f"no help on `{' '.join(args)}`", name)
    return dataclasses.replace(FlowCommand(name, board=board, share=share), **parsed)


def help_topic(name: str, args: list[str]) -> dict[str, Any]:
    """``help`` or ``help <subcommand>`` (``parse_flow`` checks that the topic is a subcommand)."""
    if not args:
        return {}
    if len(args) > 1:
        raise CommandError(f"no help on `{' '.join(args)}`", name)
    return {"help_topic": args[0].lower()}


def no_arguments(name: str, args: list[str]) -> dict[str, Any]:
    if args:
        raise CommandError(f"`{name}` takes no arguments", name)
    return {}


def window(default_days: int) -> ArgumentParser:
    """A window such as ``30d`` or ``12w``, ``default_days`` when none is given."""

    def parse(name: str, args: list[str]) -> dict[str, Any]:
        if not args:
            return {"window_days": default_days}
        match = _WINDOW.match(" ".join(args).lower())
        if len(args) > 2 or match is None:
            raise CommandError(f"`{' '.join(args)}` is not a window such as 30d or 12w", name)
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        if not 1 <= days <= MAX_WINDOW_DAYS:
            raise CommandError(f"the window must be between 1 and {MAX_WINDOW_DAYS} days", name)
        return {"window_days": days}

    return parse


def forecast_question(name: str, args: list[str]) -> dict[str, Any]:
    """``20`` (when will 20 items be done) or ``by 2026-12-31`` (how many by then), optionally followed by the
    history window: ``60d``, ``12w`` or ``auto`` (the best calibrated of 30, 60 and 90 days)."""
    has_window = len(args) == 3 or (len(args) == 2 and args[0].lower() != "by")
    window = _forecast_window(name, args[-1]) if has_window else {}
    if has_window:
        args = args[:-1]
    if len(args) == 1 and args[0].isdigit():
        items = int(args[0])
        if not 1 <= items <= MAX_FORECAST_ITEMS:
            raise CommandError(f"forecast between 1 and {MAX_FORECAST_ITEMS:,} items", name)
        return {"forecast_items": items, **window}
    if len(args) == 2 and args[0].lower() == "by":
        try:
            return {"forecast_by": dt.date.fromisoformat(args[1]), **window}
        except ValueError:
            raise CommandError(f"`{args[1]}` is not a date such as 2026-12-31", name) from None
    raise CommandError("say how many items, or by which date (and a window such as 60d or auto)", name)


def _forecast_window(name: str, word: str) -> dict[str, Any]:
    if word.lower() == "auto":
        return {"auto_window": True}
    match = _WINDOW.match(word.lower())
    if match is None or not match.group(2):  # a bare number is the item count, not a window
        raise CommandError(f"`{word}` is not a window such as 60d, 12w or auto", name)
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise CommandError(f"the window must be between 1 and {MAX_WINDOW_DAYS} days", name)
    return {"window_days": days}


def wip_limit(name: str, args: list[str]) -> dict[str, Any]:
    """Nothing (show the limits), or a stage and its new limit: a number from 1 to 999, or ``off``."""
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


def snooze_duration(name: str, args: list[str]) -> dict[str, Any]:
    """Nothing (show the snooze), ``off`` (end it), or how long: ``30m``, ``2h``, ``1d``, ``1w``."""
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
