"""Every word flowcoach shows in Slack, in one module, so the wording stays consistent and reviewable.

It is a catalogue, not logic, and longer than the house limit for modules on purpose: one place to read,
translate or reword everything a team sees. Sections follow the surfaces: results, `/flow` itself, modals.

One exception: each `/flow` subcommand's usage and help line are in its registry entry
(``bot.slack.subcommands``), so that a subcommand is declared in one place; the frame around them is here.

The Block Kit builders in ``bot.slack.blocks`` arrange blocks; the words, units and markers come from here.
Arguments that end up in mrkdwn arrive already escaped (names, titles, links): these functions only put words
and numbers in order. Numbers arrive formatted with ``bot.formatting``'s helpers (``7.1 d``, ``85%``) so the
terminal and Slack read alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from analytics.exit_age import PROVISIONAL_BELOW
from analytics.forecast import MIN_DAYS_WITH_THROUGHPUT, MIN_FINISHED_ITEMS
from bot.coach.shift import Shift, shift_words
from bot.formatting import count_of, day_label
from bot.services.forecast_record import MIN_TRACK_RECORD, TrackRecord, WindowChoice, review_sentence
from bot.services.forecasting import YEAR_DAYS

# --- Shared: markers, lists, sync state -------------------------------------------------------------------

OVER_LIMIT = "▲ over limit"  # the same triangle as the terminal report, so the two read alike
PILING_UP = "▲"
SEPARATOR = " · "
NO_CHANNEL = "no channel yet"


def more(count: int) -> str:
    """The last line of a list cut short."""
    return f"… and {count} more"


def stale_warning(freshness: str) -> str:
    return f":warning: These numbers may be out of date: {freshness}."


def sync_failed(error: str, freshness: str) -> str:
    return f":warning: The last sync failed: {error}. Numbers shown: {freshness}."


def _days(count: int) -> str:
    return count_of(count, "day")


def _items(count: int) -> str:
    return count_of(count, "item")


def short_date(date: dt.date) -> str:
    """``Tue 15 Dec 2026``: the date style of every text (:func:`bot.formatting.day_label`)."""
    return day_label(date)


# --- /flow status -------------------------------------------------------------------------------------------


def status_header(board: str) -> str:
    return f"{board} — flow status"


def wip_total(total: int, limit: int | None) -> str:
    if limit is None:
        return f"*{_items(total)} in progress* (no board limit)"
    over = f"  *▲ {total - limit} over the limit*" if total > limit else ""
    return f"*{_items(total)} in progress* (board limit {limit}){over}"


NOTHING_IN_PROGRESS = "*Nothing in progress.* No started item is waiting or being worked on."
NOTHING_STUCK = "Nothing blocked, nothing aging."


def stage_field(name: str, bar: str, wip: int, limit: int | None, *, over: bool) -> str:
    """One stage in the WIP grid: name (with the over-limit marker), then the bar and the count."""
    marker = f"  *{OVER_LIMIT}*" if over else ""
    count = f"{wip} / {limit}" if limit is not None else f"{wip} (no limit)"
    return f"*{name}*{marker}\n" + (f"{bar} {count}" if bar else count)


def blocked_heading(count: int) -> str:
    return f"*Blocked ({count})*"


def blocked_line(link: str, stage: str, blocked_for: str, title: str | None) -> str:
    label = f" {title}" if title else ""
    return f"• {link}{label} — {stage}, blocked {blocked_for}"


def aging_heading(count: int, sle: str | None) -> str:
    past = f" or past the SLE ({sle})" if sle else ""
    return f"*Aging ({count})* — older than 70% of recently finished items{past}"


def aging_line(
    link: str, stage: str, age: str, pace: str, *, past_sle: bool, blocked: bool, title: str | None
) -> str:
    flags = "".join([" · *past SLE*" if past_sle else "", " · blocked" if blocked else ""])
    label = f" — {title}" if title else ""
    return f"• {link} {stage} · *{age}* old · pace {pace}{flags}{label}"


def sle_summary(percentile: float, sle_days: str | None, window_days: int, count: int | None = None) -> str:
    if sle_days is None:
        return f"SLE: nothing finished in the last {_days(window_days)}"
    return f"SLE: {percentile:g}% within {sle_days}{provisional_note(count)}"


def provisional_note(count: int | None) -> str:
    """ " · provisional (n items)": a percentile from under ten finished items (coaching.md, Guards)."""
    if count is None or count >= PROVISIONAL_BELOW:
        return ""
    return f" · provisional ({_items(count)})"


def throughput_summary(total: int, window_days: int, per_week: float) -> str:
    return f"Throughput: {_items(total)} in {_days(window_days)} ({per_week:.1f} per week)"


def status_fallback(
    board: str, wip: int, limit: int | None, over_stages: list[str], blocked: int, aging: int
) -> str:
    """The notification line: what a phone's lock screen shows."""
    parts = [f"{wip} in progress" + (f" (limit {limit})" if limit is not None else "")]
    if over_stages:
        parts.append("over limit: " + ", ".join(over_stages))
    parts.extend([f"{blocked} blocked", f"{aging} aging"])
    return f"{board}: " + "; ".join(parts)


# --- Charts (/flow aging, cycle, throughput, cfd): the words that go with each image ---------------------

CHART_NAMES = {
    "aging": "aging work in progress",
    "cycle": "cycle time",
    "throughput": "throughput",
    "cfd": "cumulative flow",
    "pbc": "throughput process behaviour",
}


def chart_title(board: str, kind: str, asof: dt.date) -> str:
    return f"{board} — {CHART_NAMES[kind]}, {short_date(asof)}"


def aging_chart_heading(count: int) -> str:
    return f"*{_items(count)} past 70% pace* (older than 70% of recently finished items), oldest first"


def aging_comment(count: int, oldest: str | None, oldest_age: str | None) -> str:
    if count == 0 or oldest is None:
        return "No item is past 70% pace."
    return f"{_items(count)} past 70% pace; the oldest, {oldest}, is {oldest_age} old."


NO_AGING = "No item in progress is past 70% pace."
NO_PACE = "No pace yet: nothing finished in the last {days} days to compare ages with."
PACE_EXPLAINED = "Pace: the share of items finished in the last {days} days that took less time."


def percentile_field(level: int, value: str) -> str:
    return f"*{level}%* of items\nwithin *{value}*"


def cycle_basis(count: int, window_days: int, largest: str) -> str:
    return f"{_items(count)} finished in the last {_days(window_days)}; the longest took {largest}."


def no_cycle(window_days: int) -> str:
    return f"No item finished in the last {_days(window_days)}, so there is no cycle time yet."


def cycle_comment(p85: str | None, count: int, window_days: int) -> str:
    if p85 is None:
        return no_cycle(window_days)
    return f"85% of items finished within {p85} over the last {_days(window_days)} ({_items(count)})."


def week_label(first: dt.date, last: dt.date, *, partial: bool) -> str:
    span = (
        f"{first.day}–{last.day} {last:%b}"
        if (first.year, first.month) == (last.year, last.month)
        else f"{first.day} {first:%b} – {last.day} {last:%b}"
    )
    return f"{span} (partial week)" if partial else span


def week_line(label: str, bar: str, count: int) -> str:
    return f"{label}  {bar} *{count}*"


def throughput_heading(window_days: int) -> str:
    return f"*Items finished per week*, last {_days(window_days)}"


def throughput_average(total: int, per_week: float) -> str:
    return f"{_items(total)} in all: *{per_week:.1f} per week* on average."


def throughput_comment(total: int, window_days: int, per_week: float) -> str:
    if total == 0:
        return f"Nothing finished in the last {_days(window_days)}."
    return f"{_items(total)} finished in the last {_days(window_days)}: {per_week:.1f} per week."


def cfd_field(name: str, arrivals: int, departures: int, *, piling: bool) -> str:
    marker = f"  *{PILING_UP} +{arrivals - departures}*" if piling else ""
    return f"*{name}*{marker}\n{arrivals} in · {departures} out"


def cfd_heading(window_days: int) -> str:
    return f"*Arrivals and departures per stage*, last {_days(window_days)}"


def cfd_explained() -> str:
    return f"{PILING_UP}: more items arrived than left, so work is piling up there."


def cfd_comment(piling: list[tuple[str, int, int]], window_days: int) -> str:
    if not piling:
        return f"No stage took in more than it let out over the last {_days(window_days)}."
    listed = ", ".join(f"{name} ({arrived} in, {left} out)" for name, arrived, left in piling)
    return f"Work is piling up in {listed} over the last {_days(window_days)}."


# --- /flow forecast -----------------------------------------------------------------------------------------


def forecast_when_question(board: str, items: int) -> str:
    return f"{board}: when will the next {_items(items)} be done?"


def forecast_how_many_question(board: str, by: dt.date) -> str:
    return f"{board}: how many items will be done by {short_date(by)}?"


def forecast_when_line(level: int, date: dt.date, days: int) -> str:
    if days > YEAR_DAYS:  # a date that far out is no plan: the simulated past says only "not this year"
        return f"*{level}%* chance: *more than a year* from now"
    return f"*{level}%* chance: on or before *{short_date(date)}* (within {_days(days)})"


def forecast_how_many_line(level: int, count: int, days: int) -> str:
    return f"*{level}%* chance: at least *{_items(count)}* (in {_days(days)})"


def forecast_items_not_positive(example: str) -> str:
    return f"I can only forecast when 1 item or more will be done: try `{example}`."


def forecast_date_beyond_year(by: dt.date, example: str) -> str:
    return (
        f"I can't forecast as far as {short_date(by)}: more than a year out, recent throughput says little "
        f"about how much gets done. Ask about a date within a year, e.g. `{example}`."
    )


def forecast_date_not_ahead(by: dt.date, start: dt.date, example: str) -> str:
    return (
        f"I can't forecast up to {short_date(by)}: forecasts start from {short_date(start)}, so ask about a "
        f"later day, e.g. `{example}`."
    )


def forecast_no_throughput(window_days: int, example: str) -> str:
    return (
        f"I can't forecast yet: no item was finished in the last {_days(window_days)}, so there is no pace "
        f"to forecast from. Ask again once items finish; `{example}` shows the weeks before."
    )


def forecast_too_little_history(finished: int, days: int, window_days: int, example: str) -> str:
    return (
        f"I can't forecast yet: in the last {_days(window_days)} {_items(finished)} finished, on "
        f"{_days(days)}. A forecast needs at least {MIN_FINISHED_ITEMS} items finished on at least "
        f"{MIN_DAYS_WITH_THROUGHPUT} different days, or it only replays a handful of days. Ask again once "
        f"more items finish; `{example}` shows the pace so far."
    )


def forecast_beyond_horizon(items: int, per_week: float, years: int, example: str | None) -> str:
    problem = (
        f"I can't forecast {_items(items)}: at the recent pace of {per_week:.1f} items a week, they are more "
        f"than I can put a date on with confidence within {years} years."
    )
    if example is None:
        return f"{problem} Ask how many will be done by a date instead: `{COMMAND} forecast by YYYY-MM-DD`."
    return f"{problem} Try `{example}`, about a quarter's work."


def forecast_basis(trials: int, window_days: int, finished: int, asof: str) -> str:
    return (
        f"Based on {trials:,} simulations of the daily throughput of the last {_days(window_days)} "
        f"({_items(finished)} finished), as of {asof}."
    )


def forecast_track_record(record: TrackRecord, auto_example: str | None, shift: Shift | None = None) -> str:
    """The answer's last line: how often forecasts like it came true; when poorly, why (``shift``: a signal
    of weekly throughput in the window) and what to try."""
    if record.hit_rate is None or not record.known:
        checked = count_of(record.forecasts, "past forecast") if record.forecasts else "no past forecast"
        return (
            f"Track record: too young to judge yet ({checked} to check in the last "
            f"{count_of(record.weeks, 'week')}; {MIN_TRACK_RECORD} needed)."
        )
    line = (
        f"Track record: over the last {count_of(record.weeks, 'week')}, {record.level}% forecasts like this "
        f"one came true *{record.hit_rate:.0%}* of the time."
    )
    if not record.poor:
        return line
    if shift is not None:
        return (
            f":warning: {line} That is poor, and throughput changed: {shift_words(shift)}, a real change, "
            "not noise. The past predicts the near future badly until it settles: look for what changed, and "
            "plan with the 95% line meanwhile."
        )
    instead = (
        f"try `{auto_example}`" if auto_example else "try a longer window, e.g. `90d` after the question"
    )
    return (
        f":warning: {line} That is poor: throughput has probably changed, so the last "
        f"{count_of(record.window_days, 'day')} no longer predict the next (look for what changed), or the "
        f"window is too short for the team's usual ups and downs: {instead}."
    )


def review_track_record(record: TrackRecord) -> str:
    """The weekly review's line on the forecasts: their hit rate, and a warning when it is poor."""
    line = review_sentence(record)
    if record.poor:
        return (
            f":warning: {line}: too seldom to plan with; ask with `auto`, e.g. `{COMMAND} forecast 20 auto`."
        )
    return f"{line}."


def forecast_window_choice(choice: WindowChoice) -> str:
    """Which window `auto` took, and why."""
    chosen = choice.chosen
    if chosen is None or chosen.hit_rate is None or not choice.compared:
        return f"Window {choice.window_days} days: too little track record yet to choose another."
    others = ", ".join(
        f"{record.window_days} days {record.hit_rate:.0%}"
        if record.known and record.hit_rate is not None
        else f"{record.window_days} days too young"
        for record in choice.records
        if record.window_days != choice.window_days
    )
    return (
        f"Window {choice.window_days} days, chosen as the best calibrated: its {chosen.level}% forecasts "
        f"came true {chosen.hit_rate:.0%} of the time" + (f" ({others})." if others else ".")
    )


# --- App Home -----------------------------------------------------------------------------------------------

HOME_HEADER = "flowcoach"
HOME_INTRO = "Work in progress against limits on every board of this workspace."
HOME_EMPTY = (
    "*flowcoach keeps your team's work flowing.*\n"
    "Connect a board and it posts WIP against limits, blocked and aging items and forecasts in your channel, "
    "and nudges the team when work piles up."
)
HOME_CANNOT_CONNECT = "Ask a workspace admin to connect a board."
HOME_NO_DATA = "No data yet."
BUTTON_CONNECT = "Connect a board"
BUTTON_CONNECT_ANOTHER = "Connect another board"
BUTTON_SETTINGS = "Settings"
BUTTON_POST_STATUS = "Post status in channel"


def home_board_title(name: str, channel: str) -> str:
    return f"*{name}*{SEPARATOR}{channel}"


def home_stage(name: str, wip: int, limit: int | None, *, over: bool) -> str:
    count = f"{name} {wip}/{limit}" if limit is not None else f"{name} {wip}"
    return f"*{count} ▲*" if over else count


def home_wip(total: int, limit: int | None, *, over: bool) -> str:
    text = f"WIP {total}/{limit}" if limit is not None else f"WIP {total}"
    return f"*{text} ▲*" if over else f"*{text}*"


def home_stuck(blocked: int, aging: int) -> str:
    return f"{blocked} blocked{SEPARATOR}{aging} aging"


def home_problem(problem: str) -> str:
    return f":warning: {problem}"


def home_more_boards(count: int) -> str:
    return f"*{count_of(count, 'more board')}*"


def home_summary_line(name: str, wip: str | None) -> str:
    return f"• *{name}*{SEPARATOR}{wip}" if wip else f"• *{name}*"


HOME_MORE_BOARDS_HINT = "For these boards, use `/flow [board] status`."

# === /flow: help, usage, errors, confirmations ===

COMMAND = "/flow"

HELP_TITLE = "flowcoach: your team's flow, where you talk"
HELP_INTRO = (
    f"Use `{COMMAND} [board] <subcommand>`. The board may be left out when the channel has one. "
    "Answers are visible only to you; add `share` to post them in the channel."
)
HELP_FOOTER = "Limit WIP, finish before starting, and watch the oldest items: flow beats busyness."


def flow_command(board: str | None, words: str) -> str:
    """`/flow [board] words` as a user would type it: a board name with spaces in quotes (the grammar reads
    it so); ``board`` arrives escaped."""
    if board is None:
        return f"{COMMAND} {words}"
    named = f'"{board}"' if any(character.isspace() for character in board) else board
    return f"{COMMAND} {named} {words}"


def help_line(usage: str, meaning: str) -> str:
    """One subcommand in the help: ``usage`` is what follows `/flow`, ``meaning`` what it answers with."""
    return f"`{COMMAND} {usage}` — {meaning}"


def usage_reply(problem: str, usage: str, meaning: str) -> str:
    """A bad command: the problem, then the usage of the subcommand it names."""
    return f":warning: {problem}.\nUsage: {help_line(usage, meaning)}"


def subcommands_reply(problem: str, names: Sequence[str]) -> str:
    """A command naming no subcommand flowcoach knows: the problem, then every subcommand's name."""
    listed = ", ".join(f"`{name}`" for name in names)
    return f":warning: {problem}. Subcommands: {listed}. Try `{COMMAND} help`."


MENTION = "@flowcoach"
MENTION_HELP_INTRO = "I didn't catch a question there. Ask me, in your own words, for example:"
MENTION_HELP_FOOTER = (
    "Changes (WIP limits, snooze, settings, connecting a board) are made with `/flow`: see `/flow help`."
)


def mention_example(examples: Sequence[str], meaning: str) -> str:
    """One question a mention may ask: ways to ask it, then what it answers with."""
    asked = " or ".join(f"`{MENTION} {example}`" for example in examples)
    return f"• {asked} — {meaning}"


def mention_help(examples: Sequence[str]) -> str:
    """What a mention that could not be read is answered with: what can be asked, and where the rest is."""
    return "\n".join([MENTION_HELP_INTRO, *examples, MENTION_HELP_FOOTER])


NO_BOARD_HERE = (
    "This channel has no board yet. Connect one with `/flow connect`: pick your tracker, give flowcoach "
    "read access, and map its statuses to stages. It takes about two minutes."
)
CONNECT_BUTTON = "Connect a board"
SEVERAL_BOARDS_HERE = "This channel has several boards ({names}): say which, e.g. `{example}`."
UNKNOWN_BOARD = "This workspace has no board named '{name}'. Its boards: {names}. Name one, e.g. `{example}`."
UNKNOWN_BOARD_NONE_YET = (
    "This workspace has no board named '{name}', nor any other yet. Connect one with `/flow connect`."
)
BOARD_NOT_FOUND = "{problem}"
NOT_IN_CHANNEL = "I'm not in this channel yet: invite me with `/invite @flowcoach`, then try again."
CHARTS_NEED_MEMBERSHIP = (
    "The charts are missing: I can share files only where I'm a member. Invite me with `/invite @flowcoach`."
)
SOMETHING_FAILED = "Sorry, that didn't work: {problem}"
MESSAGE_GONE = (
    "That message is gone (deleted, or its channel archived), so there is nothing to change on it. "
    "Ask `/flow status` for the board as it is now."
)
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

# === /flow connect and /flow settings (modals and what follows them) ===

# --- /flow connect: step 1, the source ----------------------------------------------------------------------

CONNECT_TITLE = "Connect a board"
CONNECT_NEXT = "Next"
CONNECT_CANCEL = "Cancel"
CONNECT_CHECK = "Check connection"
CONNECT_CREATE = "Create board"
CONNECT_CLOSE = "Close"
CONNECT_INTRO = (
    "flowcoach reads your tracker's history and shows the team's flow in a channel: WIP against limits, "
    "aging and blocked items, forecasts. Three steps: the source, how to reach it, then how its statuses "
    "map to the board's stages."
)
CONNECT_CONNECTOR_LABEL = "Where does the board's data come from?"
CONNECT_CONNECTOR_PLACEHOLDER = "Choose a source"
CONNECT_CONNECTOR_NAMES = {
    "jira": "Jira Cloud",
    "jira-dc": "Jira Data Center / Server",
    "github": "GitHub Projects",
    "linear": "Linear",
    "trello": "Trello",
    "azure-devops": "Azure DevOps Boards",
    "gitlab": "GitLab",
    "file": "Event-log file",
}
CONNECT_CONNECTOR_HELP = {
    "jira": "a site on atlassian.net, with an API token",
    "jira-dc": "your own Jira server, with a personal access token",
    "github": "a Projects board (or issue labels), with a token that can read projects",
    "linear": "a team's issues, with a personal API key",
    "trello": "a board's lists and card moves, with an API key and token",
    "azure-devops": "work items of a project, with a PAT (Work Items: Read)",
    "gitlab": "issues with workflow:: labels, with a read_api token",
    "file": "a CSV or JSON Lines file in flowcoach's import folder",
}
CONNECT_CONNECTOR_UNAVAILABLE = "This source cannot be connected from Slack here."
CONNECT_FILE_OUTSIDE = "Give a file inside the import folder ({folder}), e.g. team/events.csv."
CONNECT_CHANNEL_LABEL = "Channel for status, digests and nudges"
CONNECT_CHANNEL_HINT = "Invite flowcoach to a private channel first (/invite @flowcoach)."
CONNECT_NAME_LABEL = "Board name"
CONNECT_NAME_HINT = "How /flow commands name the board, e.g. Payments."
CONNECT_NAME_TAKEN = "A board named '{name}' already exists in this workspace: choose another name."
CONNECT_NAME_BLANK = "Give the board a name."

# --- step 2: credentials and scope --------------------------------------------------------------------------

CONNECT_CREDENTIALS_INTRO = "*{source}*: how flowcoach reaches it."
CONNECT_FIELD_LABELS = {
    "url": "Site address",
    "email": "E-mail",
    "token": "Token",
    "project": "Project key",
    "jql": "JQL query",
    "board_id": "Board id",
    "path": "Event-log file",
    "api_url": "API address",
    "api_key": "API key",
    "pat": "Personal access token",
    "team_key": "Team key",
    "project_number": "Project number",
}
# Where one field name means something else for a connector.
CONNECT_FIELD_LABELS_OF = {
    "gitlab": {"project": "Project path", "group": "Group path"},
    "azure-devops": {"project": "Project"},
    "linear": {"project": "Project (optional)"},
    "trello": {"board": "Board", "key": "API key"},
    "github": {
        "owner": "Owner (organization or user)",
        "repo": "Repository (labels mode)",
        "rate_limit_max_wait": "Longest rate-limit wait (seconds)",
    },
}
CONNECT_HINT_ENCRYPTED = "{description}. flowcoach stores it encrypted and never shows it again."
CONNECT_HINT_KEPT = "Leave empty to keep the one you entered. {description}. Stored encrypted."
CONNECT_PROJECT_LATER = "Leave project and JQL empty to choose from your projects after the check."
CONNECT_PROJECT_PLACEHOLDER = "Choose a project"
CONNECT_PROJECTS_FOUND = (
    ":white_check_mark: Signed in. Choose the board's project, or give a JQL query instead."
)
CONNECT_PROJECTS_TOO_MANY = (
    "This account sees {count} projects, more than a menu lists: type the project key."
)
CONNECT_PROJECTS_NONE = "This account sees no project: give a JQL query, or ask for browse permission."
CONNECT_NO_KEY = (
    "FLOWCOACH_SECRET_KEY is not set on the flowcoach server, so credentials cannot be stored encrypted. "
    "Ask whoever runs flowcoach to set it, then connect again."
)
CONNECT_KEPT_UNREADABLE = "Enter it again: the copy kept during this setup can no longer be read."
CONNECT_PROBLEM = ":warning: {problem}"
CONNECT_UNEXPECTED = "Something went wrong while asking the source; the details are in flowcoach's log."
CONNECT_TOO_LONG = "Too long to carry between the steps of this form: shorten it."

# --- while the source is asked ------------------------------------------------------------------------------

CONNECT_CHECKING = ":hourglass_flowing_sand: Checking the connection to {source}… this takes a few seconds."

# --- step 3: statuses → stages ------------------------------------------------------------------------------

CONNECT_CONNECTED = ":white_check_mark: Connected: {line}"
CONNECT_MAPPING_INTRO = (
    "Each stage is a column of the board, left to right: choose the statuses that mean it and its kind — "
    "*backlog* (not started), *queue* (started, waiting), *active* (being worked on), *done*, "
    "*discarded* (abandoned). WIP limits are optional; `/flow limits` changes them later."
)
CONNECT_MAPPING_EDIT = (
    "Use a stage's ⋯ menu to move it, remove it or add one below it. Proposed from {basis}: check it."
)
CONNECT_BASIS = {
    "history": "the order items went through the statuses",
    "columns": "the board's columns",
    "categories": "the statuses' categories and names",
}
CONNECT_STAGE_HEADING = "*Stage {number}*"
CONNECT_STAGE_NAME_LABEL = "Name"
CONNECT_STATUSES_LABEL = "Statuses"
CONNECT_STATUSES_PLACEHOLDER = "Choose statuses"
CONNECT_KIND_LABEL = "Kind"
CONNECT_WIP_LABEL = "WIP limit (items)"
CONNECT_STAGE_UP = "Move up"
CONNECT_STAGE_DOWN = "Move down"
CONNECT_STAGE_ADD_BELOW = "Add a stage below"
CONNECT_STAGE_REMOVE = "Remove this stage"
CONNECT_ADD_STAGE = "Add a stage"
CONNECT_EDIT_YAML = "Edit as YAML"
CONNECT_STAGES_FULL = "This form holds {count} stages at most; for more, edit the workflow as YAML."
CONNECT_YAML_ASKED = "The mapping as workflow YAML, to edit (the format is in the README)."
CONNECT_KIND_NAMES = {
    "backlog": "Backlog — not started",
    "queue": "Queue — started, waiting",
    "active": "Active — being worked on",
    "done": "Done — finished",
    "discarded": "Discarded — abandoned",
}
CONNECT_UNMAPPED = "*Not mapped:* {statuses}. Items moving into these statuses keep their previous stage."
CONNECT_ALL_MAPPED = "Every status is mapped to a stage."
CONNECT_TOO_MANY_STATUSES = (
    "{source} reports {count} statuses, more than a Slack menu lists (100), so the mapping is edited as "
    "workflow YAML below (the format is in the README)."
)
CONNECT_TOO_MANY_STAGES = (
    "{count} stages do not fit in this form, so the mapping is edited as workflow YAML below "
    "(the format is in the README)."
)
CONNECT_YAML_LABEL = "Workflow (YAML)"
CONNECT_YAML_HINT = "Stages list status ids; the comments give their names."
CONNECT_YAML_TOO_LONG = (
    "The proposed workflow is longer than a Slack field holds, so this board cannot be connected from here. "
    "Ask whoever runs flowcoach to add it from its command line, with the workflow as a file (the README "
    "says how)."
)
CONNECT_STAGE_NEEDS_NAME = "Give this stage a name, or clear its statuses."
CONNECT_STAGE_NEEDS_STATUSES = "Choose at least one status for this stage."
CONNECT_STAGE_NEEDS_KIND = "Choose what kind of stage this is."
CONNECT_LIMIT_NOT_NUMBER = "A WIP limit is a whole number of items, 1 or more."
CONNECT_NO_STAGES = "Map at least one stage."
CONNECT_NO_DONE = "At least one stage must be of kind Done: an item is finished when it gets there."
CONNECT_NO_WIP_STAGE = "At least one stage must be of kind Queue or Active: that is where work happens."
CONNECT_DUPLICATE_STAGE = "Another stage already has this name."
CONNECT_STATUS_TWICE = "{status} is already in stage {stage}: a status belongs to one stage only."
CONNECT_LIMIT_NOT_WIP = "Only queue and active stages hold WIP: remove the limit or change the kind."

# --- after the modal: the first sync ------------------------------------------------------------------------

CONNECT_READY = (
    ":white_check_mark: *{board}* is connected to this channel: {items} and {events} loaded from {source}."
)
CONNECT_READY_TEXT = "{board} is connected: {items} loaded."
CONNECT_READY_WIP = "*WIP now:* {stages} ({total} in total)."
CONNECT_READY_NO_WIP = "*WIP now:* nothing in progress."
CONNECT_READY_FINISHED = "*Finished in the last 30 days:* {count}."
CONNECT_READY_NEXT = (
    "Try `/flow status` here for WIP, aging and blocked items, `/flow settings` for working hours and the "
    "daily digest, and `/flow limits` to agree on WIP limits."
)
CONNECT_SYNC_FAILED = ":warning: *{board}* is saved, but its first sync failed: {problem}"
CONNECT_SYNC_FAILED_TEXT = "{board} is saved, but its first sync failed."
CONNECT_SYNC_FAILED_NEXT = (
    "flowcoach tries again at its next scheduled sync. If the credentials or the project are wrong, ask "
    "whoever runs flowcoach to remove the board, then connect it again with `/flow connect`."
)
CONNECT_SYNC_FAILED_UNKNOWN = "an unexpected error (the details are in flowcoach's log)"
CONNECT_POSTED_HERE_INSTEAD = "I could not post in <#{channel}>: invite me there with `/invite @flowcoach`."

# --- /flow settings -----------------------------------------------------------------------------------------

SETTINGS_TITLE = "Board settings"
SETTINGS_SAVE = "Save"
SETTINGS_CANCEL = "Cancel"
SETTINGS_INTRO = (
    "Settings of *{board}*. They override the workflow file's calendar; "
    "WIP limits are set with `/flow limits`."
)
SETTINGS_CHANNEL_LABEL = "Channel"
SETTINGS_CHANNEL_HINT = "Where status, digests and nudges go."
SETTINGS_TIMEZONE_LABEL = "Time zone"
SETTINGS_TIMEZONE_HINT = "An IANA name such as Europe/Zurich: it defines the board's days and working hours."
SETTINGS_DAYS_LABEL = "Working days"
SETTINGS_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
SETTINGS_START_LABEL = "Working day starts"
SETTINGS_END_LABEL = "Working day ends"
SETTINGS_HOURS_HINT = "The coach speaks only in working hours; cycle times still count every hour."
SETTINGS_DIGEST_LABEL = "Daily digest at"
SETTINGS_THRESHOLDS_INTRO = "*When the coach speaks* (the defaults suit most teams)"
SETTINGS_THRESHOLD_LABELS = {
    "queue_min_net": "Queue growing: net arrivals (items)",
    "queue_window_days": "Queue growing: over (working days)",
    "starving_after_hours": "Stage starving after (working hours)",
    "blocked_after_hours": "Blocked item alert after (working hours)",
    "cooldown_hours": "Repeat an alert after (working hours)",
    "max_alerts_per_day": "Alert messages per day, per board (at most)",
    "stale_after_hours": "Data stale after (hours)",
}
SETTINGS_CHANGE_NAMES = {
    "channel": "Channel",
    "timezone": "Time zone",
    "working_days": "Working days",
    "working_hours": "Working hours",
    "digest_time": "Daily digest",
}
SETTINGS_NO_CHANNEL = "none"
SETTINGS_SAVED = "Settings of *{board}* saved by <@{user}>:"
SETTINGS_SAVED_TEXT = "Settings of {board} saved."
SETTINGS_CHANGE = "• {what}: {before} → {after}"
SETTINGS_UNCHANGED = "Settings of *{board}* saved: nothing changed."
SETTINGS_NO_DAYS = "Choose at least one working day."
SETTINGS_END_BEFORE_START = "The working day must end after it starts."
SETTINGS_REQUIRED = "Required."
SETTINGS_NOT_HERE = "That board is not one of this workspace's boards: nothing was changed."


# === Nudges: the frame around the coach's words, and their buttons ===

# What / why / next step are the coach's words (bot/coach/wording.py); here is how Slack frames them.
NUDGE_BOARD = "{board} · {title}"
NUDGE_WORSE = ":arrow_up: Worse since the first message: {what}"
NUDGE_RESOLVED = ":white_check_mark: Resolved {when}: {what}"
NUDGE_SNOOZED = ":zzz: Snoozed until {until} by <@{user}>."
NUDGE_ACKNOWLEDGED = ":eyes: Acknowledged by <@{user}>: quiet until it clears or gets worse."
NUDGE_SNOOZE_HOUR = "Snooze 1 h"
NUDGE_SNOOZE_TOMORROW = "Until tomorrow"
NUDGE_SNOOZE_WEEK = "Snooze 1 week"
NUDGE_ACKNOWLEDGE = "Acknowledge"
NUDGE_SHOW_ITEMS = "Show items"
NUDGE_ITEMS_IN = "*Items in {stage}*, oldest first:"
NUDGE_NO_ITEMS = "No items in {stage} right now."
NUDGE_MESSAGE_GONE = (
    "That message is gone (deleted, or its channel archived), so I could not mark it there. "
    "What you chose still holds: {note}"
)
NUDGE_OVERFLOW = (
    ":information_source: More flow signals today for *{board}* than its daily budget of {budget} in this "
    "channel: the rest are in this thread."
)
NUDGE_HEADER = "*{board}* — {count} flow signal{s}"
NUDGE_HEADER_FIRST = "*{board}* — what I see now"
NUDGE_INTRO_FIRST = (
    "I just started watching this board: this is how its flow looks now. From here on I speak only when "
    "something changes."
)
NUDGE_HEADER_RESOLVED = "*{board}* — {resolved} of {count} resolved"
NUDGE_ALL_RESOLVED = "*{board}* — all {count} flow signal{s} resolved"
NUDGE_SECTION = "*{title}* · {what}"
NUDGE_ITEM = "{item} · *{titles}*"
NUDGE_NEXT = ":point_right: {next}"
NUDGE_MORE = "… and {count} more flow signal{s}: `/flow status` shows the whole board."
NUDGE_GONE = (
    "This alert is gone (its board was removed, or the alert was cleared): there is nothing left to do on "
    "it. Ask `/flow status` for the board as it is now."
)


# === Daily digest, weekly flow review, push / pull / flow diagnosis ===

# --- Daily digest: the parent message ----------------------------------------------------------------------


def digest_header(board: str, date: dt.date) -> str:
    return f"{board} — daily digest, {short_date(date)}"


def digest_finished(yesterday: int, week: int, daily_average: float, window_days: int) -> str:
    """Finished yesterday and over seven days, each against the window's average."""
    return (
        f"*{yesterday} finished yesterday* ({window_days}-day average {daily_average:.1f} a day)"
        f"{SEPARATOR}*{week} in the last 7 days* (average {daily_average * 7:.1f})"
    )


def digest_wip(total: int, limit: int | None, over_stages: list[str]) -> str:
    against = f" of {limit}" if limit is not None else ""
    over = f"  *▲ {total - limit} over the board limit*" if limit is not None and total > limit else ""
    stages = f"{SEPARATOR}over limit: {', '.join(over_stages)}" if over_stages else ""
    return f"*{total} in progress*{against}{over}{stages}"


def digest_stuck(blocked: int, aging: int, bottleneck: str | None) -> str:
    parts = [f"{blocked} blocked", f"{aging} near or past the SLE"]
    if bottleneck:
        parts.append(f"bottleneck: *{bottleneck}*")
    return SEPARATOR.join(parts)


DIGEST_DETAILS = "Details in the thread: WIP by stage, aging and blocked items, what to pull next."


def posted_late(due_at: dt.datetime, posted_at: dt.datetime) -> str:
    """A late digest's or review's note: when it was due, when it went out, both in the board's time."""
    return (
        f":hourglass: Posted late: due at {due_at:%H:%M}, sent at {posted_at.astimezone(due_at.tzinfo):%H:%M}"
        " (the workers were behind or down)."
    )


def digest_stale(freshness: str) -> str:
    return f":warning: The data is stale ({freshness}): these numbers may not match the board."


def digest_fallback(board: str, yesterday: int, week: int, wip: int, blocked: int, aging: int) -> str:
    """The notification line of the parent message."""
    return (
        f"{board} digest: {yesterday} finished yesterday, {week} in 7 days; {wip} in progress, "
        f"{blocked} blocked, {aging} aging"
    )


# --- Daily digest: the thread ------------------------------------------------------------------------------

DIGEST_WIP_HEADING = "*Work in progress by stage*"


def digest_bottleneck_waiting(stage: str, share: str) -> str:
    return (
        f"*Bottleneck: {stage}* — {share} of the time recently finished items spent waiting was spent here."
    )


def digest_bottleneck_ratio(stage: str, wip: int, limit: int) -> str:
    return f"*Bottleneck: {stage}* — the fullest stage against its limit ({wip}/{limit})."


def digest_starving(stages: list[str]) -> str:
    return f"*Starving:* {', '.join(stages)} — empty while work waits upstream."


DIGEST_NOTHING_STARVING = "No stage is starving."
HEALTH_MORE = "The strongest numbers behind the verdict; every criterion, the bottleneck and trends follow."
DIGEST_NOTHING_STUCK = "Nothing blocked, nothing near or past the SLE."


def digest_aging_heading(count: int, sle: str | None) -> str:
    past = f", SLE {sle}" if sle else ""
    return f"*Near or past the SLE ({count})* — pace 70% or more{past}, oldest first"


DIGEST_PULL_HEADING = "*What to pull next*"
DIGEST_NO_PULL = "No stage has room under its limit with work waiting before it: finish before pulling."


def digest_pull_line(stage: str, spare: int, link: str, upstream: str, age: str, title: str | None) -> str:
    places = "1 free place" if spare == 1 else f"{spare} free places"
    label = f" — {title}" if title else ""
    return f"• *{stage}* has {places}: next in line is {link} in {upstream} ({age} old){label}"


def digest_synced(freshness: str) -> str:
    return f"Data: {freshness}."


def digest_unmapped(statuses: list[tuple[str, int]]) -> str:
    listed = ", ".join(f"{status} ({_items(count)})" for status, count in statuses)
    return f":warning: Statuses no stage lists (items stay where they were): {listed}."


def digest_warning(warning: str) -> str:
    return f":warning: {warning}"


# --- Weekly flow review ------------------------------------------------------------------------------------


def review_header(board: str, date: dt.date) -> str:
    return f"{board} — weekly flow review, {short_date(date)}"


REVIEW_VERDICT = {
    "push": "*Push:* work is started faster than it is finished, or more is in progress than agreed.",
    "starved_pull": "*Starved pull:* limits hold, but a stage waits for work that is stuck before it.",
    "flow": "*Flow:* work arrives about as fast as it leaves, and WIP and its age are steady.",
    "mixed": "*No clear pattern:* neither pushed nor flowing; the numbers below show what holds.",
}
REVIEW_NEXT = {
    "push": "*Next step:* stop starting, start finishing: pull new work only when an item finishes.",
    "starved_pull": "*Next step:* who can help {constraint} finish, so that {stage} gets work again?",
    "flow": "*Next step:* keep the limits as they are and look at the oldest items at stand-up.",
    "mixed": "*Next step:* pick one experiment for the week, e.g. lower the fullest stage's limit by one.",
}
REVIEW_HELP_BOTTLENECK = " What holds work in {stage}, and who can help move it on?"


def review_period(weeks: int, first: dt.date, last: dt.date) -> str:
    return f"*Evidence, last {weeks} weeks* ({short_date(first)} – {short_date(last)})"


REVIEW_GROUPS = {
    "push": "_Push_ (any one is enough)",
    "starved_pull": "_Starved pull_ (any stage is enough)",
    "flow": "_Flow_ (all are needed)",
}
REVIEW_HOLDS, REVIEW_DOES_NOT_HOLD = "✓", "✗"


def review_arrivals(mark: str, arrivals: int, departures: int, ratio: str, threshold: float) -> str:
    return (
        f"{mark} {arrivals} items entered the started system, {departures} finished: {ratio} "
        f"(push above {threshold:.2f}×)"
    )


def review_days_over(mark: str, over: int, days: int, threshold: str) -> str:
    return f"{mark} WIP limits exceeded at the end of {over} of {days} working days (push above {threshold})"


def review_efficiency(mark: str, efficiency: str, threshold: str) -> str:
    return f"{mark} Flow efficiency {efficiency} of cycle time in active work (push below {threshold})"


def review_starving(
    mark: str, stage: str, share: str, hours: float, constraint: str | None, threshold: str
) -> str:
    held = f"; the work was mostly in {constraint}" if constraint else ""
    return f"{mark} {stage} starved {share} of working hours ({hours:.0f} h){held} (counts above {threshold})"


def review_balance(mark: str, ratio: str, tolerance: str) -> str:
    return f"{mark} Arrivals vs departures {ratio} (flow within ±{tolerance})"


def review_littles_law(
    mark: str, throughput: float, cycle: str, expected: str, average: str, tolerance: str
) -> str:
    return (
        f"{mark} Little's Law: {throughput:.1f} finished a day × {cycle} average cycle time = {expected} "
        f"items, against {average} in progress on average (flow within ±{tolerance})"
    )


def review_stability(mark: str, what: str, first: str, last: str, tolerance: str) -> str:
    return f"{mark} {what}: {first} in the first week, {last} in the last (flow within ±{tolerance})"


REVIEW_WIP = "Average WIP"
REVIEW_AGE = "Average age of WIP"


def review_bottleneck(stage: str, share: str) -> str:
    return f"*Bottleneck: {stage}* — {share} of the time finished items waited was spent here."


def review_trends_heading(weeks: int) -> str:
    return f"*Trends:* the last 7 days against the {weeks} weeks before"


def review_trend_line(
    what: str, last: str, before: str, change: str | None, *, last_note: str = "", before_note: str = ""
) -> str:
    """``*last*`` against ``before`` (change); the notes (e.g. provisional) follow their numbers."""
    moved = f" ({change})" if change else ""
    return f"• {what}: *{last}*{last_note} against {before}{before_note}{moved}"


REVIEW_THROUGHPUT = "Throughput"
REVIEW_CYCLE_P50 = "Cycle time, 50% within"
REVIEW_CYCLE_P85 = "Cycle time, 85% within"


def review_per_week(value: float) -> str:
    return f"{round(value, 1):g} a week"


REVIEW_SHIFT_OUTSIDE = "• *Throughput {when}, {count}, {verb} {side} the {edge} limit of {limit}*"
REVIEW_SHIFT_RUN = (
    "• *Throughput {when}, {count}, {verb} {run} weeks in a row {side} its average of {centre}*"
)
REVIEW_SHIFT_CAUSE = " — a real change, not noise: look for its cause."
REVIEW_STEADY = (
    "• Throughput's process behaviour: the last {weeks} all lie within the natural limits of {lower} to "
    "{upper} a week — no signal of a real change."
)
REVIEW_PROVISIONAL_LIMITS = " (Limits from a short history: a first guess.)"


def review_throughput_shift(
    *, week: dt.date | None, count: int, rule: str, side: str, limit: float, centre: float, run: int
) -> str:
    """The review's sentence on a signal: ``week`` is ``None`` for last week, else the week's Monday."""
    when = "last week" if week is None else f"in the week of {week.day} {week:%b}"
    if rule == "outside_limits":
        edge = "lower" if side == "below" else "upper"
        verb = "is" if week is None else "was"
        text = REVIEW_SHIFT_OUTSIDE.format(
            when=when, count=count, verb=verb, side=side, edge=edge, limit=_one_decimal(limit)
        )
    else:
        verb = "makes" if week is None else "made"
        text = REVIEW_SHIFT_RUN.format(
            when=when, count=count, verb=verb, run=run, side=side, centre=_one_decimal(centre)
        )
    return text + REVIEW_SHIFT_CAUSE


def review_throughput_steady(weeks: int, lower: float, upper: float) -> str:
    return REVIEW_STEADY.format(
        weeks="week" if weeks == 1 else f"{weeks} weeks", lower=_one_decimal(lower), upper=_one_decimal(upper)
    )


def _one_decimal(value: float) -> str:
    """``5.1``, and ``0`` or ``20`` without a trailing ``.0``."""
    return f"{round(value, 1):g}"


REVIEW_NO_DATA = "no data"
REVIEW_CHARTS = "Charts: cumulative flow, cycle time, aging WIP and throughput, posted with this review."
DIAGNOSIS_RATIO = "{value:.2f}×"
DIAGNOSIS_NONE = "—"  # no data, as bot.cli.report shows it
