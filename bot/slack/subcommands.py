"""The `/flow` registry: every subcommand declared once, in the order `/flow help` lists them.

Each entry gives the subcommand's usage and help line, the parser of its arguments, its answer and whether a
mention may ask it. The grammar parses against it; help, usage replies and the mention dispatch are built
from it; tests hold the README's `/flow` line and the manifest's usage hint to it. A new subcommand is an
entry here and, unless an existing one fits, its answer in ``bot.slack.answers``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.slack import texts
from bot.slack.answers import (
    Answer,
    Ask,
    answer_chart,
    answer_connect,
    answer_digest,
    answer_forecast,
    answer_health,
    answer_limits,
    answer_settings,
    answer_snooze,
    answer_status,
)
from bot.slack.blocks.replies import help_blocks
from bot.slack.errors import Misunderstood
from bot.slack.grammar import (
    HELP,
    ArgumentParser,
    CommandError,
    FlowCommand,
    forecast_question,
    help_topic,
    no_arguments,
    parse_flow,
    snooze_duration,
    window,
    wip_limit,
)
from bot.slack.runtime import Runtime


@dataclass(frozen=True)
class Subcommand:
    """One `/flow` subcommand.

    ``usage`` is what follows `/flow` in its help line, ``meaning`` what it answers with. ``answer`` is
    ``None`` only for help, which the registry answers itself: it lists the registry. ``in_mentions``: a
    mention may ask it, in its own words (``bot.slack.mention_words``); only questions that change nothing.
    """

    name: str
    usage: str
    meaning: str
    arguments: ArgumentParser
    answer: Answer | None
    in_mentions: bool = False
    opens_modal: bool = False  # answered in the acknowledgement: the trigger id lives 3 s
    # Whether answering this command changes something or speaks to the whole channel, so that a repeat of
    # the same request would do it again (see ``Subcommands.acts``).
    acts: Callable[[FlowCommand], bool] = lambda command: False

    @property
    def help_line(self) -> str:
        return texts.help_line(self.usage, self.meaning)


@dataclass(frozen=True)
class Subcommands:
    """The subcommands `/flow` (and a mention) understands, in help's order."""

    entries: tuple[Subcommand, ...]

    def __post_init__(self) -> None:
        if len(set(self.names)) != len(self.entries) or HELP not in self.names:
            raise ValueError("subcommands need distinct names, and help among them")
        if any(entry.answer is None for entry in self.entries if entry.name != HELP):
            raise ValueError("every subcommand but help needs an answer")

    def __iter__(self) -> Iterator[Subcommand]:
        return iter(self.entries)

    @property
    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    @property
    def mention_names(self) -> list[str]:
        """What a mention may ask."""
        return [entry.name for entry in self.entries if entry.in_mentions]

    def named(self, name: str) -> Subcommand:
        return next(entry for entry in self.entries if entry.name == name)

    def parse(self, text: str) -> FlowCommand:
        """The command in ``text``; :class:`Misunderstood`, with the usage to show, when it is not one."""
        try:
            return parse_flow(text, {entry.name: entry.arguments for entry in self.entries})
        except CommandError as error:
            raise self.misunderstood(error.problem, error.subcommand) from None

    def misunderstood(self, problem: str, subcommand: str | None = None) -> Misunderstood:
        """The error for a command that cannot be answered: the problem and that subcommand's usage (or all
        subcommands' names)."""
        if subcommand is None:
            return Misunderstood(texts.subcommands_reply(problem, self.names))
        entry = self.named(subcommand)
        return Misunderstood(texts.usage_reply(problem, entry.usage, entry.meaning))

    def acts(self, text: str) -> bool:
        """Whether `/flow text` changes something or speaks to the channel (``share``, a limit set, the
        digest posted…): such a request must be answered once, even if it is sent again."""
        try:
            command = self.parse(text)
        except Misunderstood:
            return False
        return command.share or self.named(command.name).acts(command)

    def help_reply(self, topic: str | None = None) -> tuple[list[Block], str]:
        """The help's blocks (every subcommand, or the ``topic``'s) and its notification text."""
        lines = [entry.help_line for entry in self.entries if topic is None or entry.name == topic]
        return help_blocks(lines, overview=topic is None), "\n".join(entry.help_line for entry in self)

    def answer(self, runtime: Runtime, ask: Ask) -> None:
        """Answer ``ask`` with its subcommand's answer, or with the help."""
        answer = self.named(ask.command.name).answer
        if answer is None:
            ask.reply(*self.help_reply(ask.command.help_topic))
            return
        answer(runtime, ask)


SUBCOMMANDS = Subcommands(
    (
        Subcommand(
            "status",
            usage="status",
            meaning="WIP by stage against limits, blocked and aging items, last sync",
            arguments=no_arguments,
            answer=answer_status,
            in_mentions=True,
        ),
        Subcommand(
            "aging",
            usage="aging",
            meaning="aging-WIP chart and the items past 70 % of recent cycle times",
            arguments=no_arguments,
            answer=answer_chart,
            in_mentions=True,
        ),
        Subcommand(
            "cycle",
            usage="cycle [30d]",
            meaning="cycle-time percentiles and scatterplot over a window (default 30 days)",
            arguments=window(30),
            answer=answer_chart,
            in_mentions=True,
        ),
        Subcommand(
            "throughput",
            usage="throughput [12w]",
            meaning="throughput run chart and weekly numbers (default 12 weeks)",
            arguments=window(84),
            answer=answer_chart,
            in_mentions=True,
        ),
        Subcommand(
            "cfd",
            usage="cfd [30d]",
            meaning="cumulative flow diagram with arrivals and departures per stage",
            arguments=window(30),
            answer=answer_chart,
            in_mentions=True,
        ),
        Subcommand(
            "forecast",
            usage="forecast 20  |  forecast by 2026-12-31  |  forecast 20 auto",
            meaning="Monte Carlo: when will 20 items be done, or how many by a date (50/85/95 %), with its "
            "track record; add a window (60d) or auto (the best calibrated)",
            arguments=forecast_question,
            answer=answer_forecast,
            in_mentions=True,
        ),
        Subcommand(
            "health",
            usage="health",
            meaning="push, pull or flow? The diagnosis of the last 4 weeks, with its evidence",
            arguments=no_arguments,
            answer=answer_health,
            in_mentions=True,
        ),
        Subcommand(
            "digest",
            usage="digest",
            meaning="the daily digest, now, in this channel",
            arguments=no_arguments,
            answer=answer_digest,
            acts=lambda command: True,
        ),
        Subcommand(
            "limits",
            usage="limits [stage n|off]",
            meaning="show the WIP limits, or set one (`limits Review 3`, `limits board 12`)",
            arguments=wip_limit,
            answer=answer_limits,
            acts=lambda command: command.sets_limit,
            in_mentions=True,  # to show them: a mention never sets one (mention_words reads no arguments)
        ),
        Subcommand(
            "connect",
            usage="connect",
            meaning="connect a board: tracker, credentials, project, status → stage mapping",
            arguments=no_arguments,
            answer=answer_connect,
            opens_modal=True,
        ),
        Subcommand(
            "settings",
            usage="settings",
            meaning="channel, time zone, working days and hours, digest time, coach thresholds",
            arguments=no_arguments,
            answer=answer_settings,
            opens_modal=True,
        ),
        Subcommand(
            "snooze",
            usage="snooze [2h|1d|off]",
            meaning="silence this channel's nudges for a while (no duration: show)",
            arguments=snooze_duration,
            answer=answer_snooze,
            acts=lambda command: command.snooze_for is not None,
        ),
        Subcommand(
            HELP,
            usage="help [subcommand]",
            meaning="this help",
            arguments=help_topic,
            answer=None,
            in_mentions=True,
        ),
    )
)
