"""User-visible strings of the `/flow` command: help, usage, errors and confirmations."""

from __future__ import annotations

COMMAND = "/flow"

# subcommand → (usage, what it answers with); the order of `/flow help`.
USAGE: dict[str, tuple[str, str]] = {
    "status": ("status", "WIP by stage against limits, blocked and aging items, last sync"),
    "aging": ("aging", "aging-WIP chart and the items past 70 % of recent cycle times"),
    "cycle": ("cycle [30d]", "cycle-time percentiles and scatterplot over a window (default 30 days)"),
    "throughput": ("throughput [12w]", "throughput run chart and weekly numbers (default 12 weeks)"),
    "cfd": ("cfd [30d]", "cumulative flow diagram with arrivals and departures per stage"),
    "forecast": (
        "forecast 20  |  forecast by 2026-12-31",
        "Monte Carlo: when will 20 items be done, or how many by a date (50/85/95 %)",
    ),
    "limits": (
        "limits [stage n|off]",
        "show the WIP limits, or set one (`limits Review 3`, `limits board 12`)",
    ),
    "connect": ("connect", "connect a board: tracker, credentials, project, status → stage mapping"),
    "settings": ("settings", "channel, time zone, working days and hours, digest time, coach thresholds"),
    "snooze": ("snooze [2h|1d|off]", "silence this channel's nudges for a while (no duration: show)"),
    "help": ("help [subcommand]", "this help"),
}
HELP_TITLE = "flowcoach: your team's flow, where you talk"
HELP_INTRO = (
    f"Use `{COMMAND} [board] <subcommand>`. The board may be left out when the channel has one. "
    "Answers are visible only to you; add `share` to post them in the channel."
)
HELP_FOOTER = "Limit WIP, finish before starting, and watch the oldest items: flow beats busyness."


def usage_line(subcommand: str) -> str:
    usage, _ = USAGE[subcommand]
    return f"`{COMMAND} {usage}`"


def usage_reply(problem: str, subcommand: str | None) -> str:
    """A bad command: the problem, then the usage of that subcommand (or all of them)."""
    if subcommand is None:
        listed = ", ".join(f"`{name}`" for name in USAGE)
        return f":warning: {problem}. Subcommands: {listed}. Try `{COMMAND} help`."
    _, meaning = USAGE[subcommand]
    return f":warning: {problem}.\nUsage: {usage_line(subcommand)} — {meaning}"


NO_BOARD_HERE = (
    "This channel has no board yet. Connect one with `/flow connect`: pick your tracker, give flowcoach "
    "read access, and map its statuses to stages. It takes about two minutes."
)
CONNECT_BUTTON = "Connect a board"
SEVERAL_BOARDS_HERE = "This channel has several boards ({names}): say which, e.g. `/flow {first} status`."
BOARD_NOT_FOUND = "{problem}"
NOT_IN_CHANNEL = "I'm not in this channel yet: invite me with `/invite @flowcoach`, then try again."
SOMETHING_FAILED = "Sorry, that didn't work: {problem}"
INTERNAL_ERROR = "Sorry, something went wrong on my side. It has been logged; please try again in a minute."
WRONG_TEAM = "This flowcoach serves another workspace."

CHART_IN_DM = "I sent you the chart in a direct message. Add `share` to post it here."
CHART_SHARED_BY = "{chart} shared by <@{user}>"

LIMITS_TITLE = "WIP limits of {board}"
LIMIT_LINE = "{stage}: {limit}"
NO_LIMIT = "no limit"
BOARD_LIMIT_NAME = "Whole board (started work)"
LIMIT_SET = "WIP limit of *{stage}* on {board} set to *{limit}* by <@{user}>."
LIMIT_REMOVED = "WIP limit of *{stage}* on {board} removed by <@{user}>."
LIMITS_HINT = "Change one with `/flow limits <stage> <n>` or remove it with `/flow limits <stage> off`."
UNKNOWN_STAGE = "{board} has no WIP stage called '{stage}' (stages: {stages}, or `board` for the whole board)"

SNOOZED = "Nudges in this channel are snoozed until {until} (by <@{user}>)."
SNOOZE_ENDED = "Nudges in this channel are back on."
NOT_SNOOZED = "Nudges in this channel are on. Snooze them with `/flow snooze 2h`."
SNOOZE_STATE = "Nudges in this channel are snoozed until {until} (by <@{user}>). End with `/flow snooze off`."
