"""What a mention asks, read from the words people write: "what's our cycle time?", "how are we doing",
"when will 20 items be done?", "how many by 2026-12-31".

`/flow` has a strict grammar (``bot.slack.grammar``); a mention is a sentence, so it is read for the
question in it instead: case and punctuation do not matter, filler words are skipped, the first question
recognised wins (most specific first). The result is a `/flow` line in the grammar's own words, so the
registry's parsers still check the arguments (a number of items, a window) and the answer is the one
`/flow` gives. What cannot be read gives ``None``, and the caller lists what can be asked.

Pure: no Slack, no database. Only read-only questions are recognised: a mention never changes a limit, a
snooze or settings, however it is worded.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

# An example of each question, in the words people use; the mention help lists them, and a test reads each
# back to its subcommand.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "aging": ("which items are getting old?",),
    "cycle": ("what's our cycle time?",),
    "throughput": ("how many items did we finish per week?",),
    "cfd": ("show the cumulative flow",),
    "forecast": ("when will 20 items be done?", "how many by 2026-12-31?"),
    "health": ("how are we doing?",),
    "limits": ("what are our WIP limits?",),
    "help": ("help",),
}

MAX_CHARS = 1000  # a question fits in far less; longer text is cut so that reading it stays linear in time
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SLACK_MARKUP = re.compile(r"<[^>]*>")  # mentions, channel links, <!channel>, URLs: never words of a question
_DATE = re.compile(r"(?<![\d-])(\d{4}-\d{2}-\d{2})(?![\d-])")
_WINDOW = re.compile(r"(?<![\d.])(\d{1,4})\s*(d|days?|w|wks?|weeks?)\b")
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,6})(?![\d.,]*\d)")
_WORD = re.compile(r"[a-z]+")

# A verb of change next to a read-only question: the user wants `/flow` to act, which a mention never does.
_CHANGE = re.compile(r"\b(set|change|raise|lower|increase|decrease|remove|drop|make|update|snooze|mute)\b")

# The questions, most specific first: "how many … by DATE" is a forecast before it is throughput, "WIP
# limits" are limits before "WIP" is status. Each pattern runs on the lower-case words joined by spaces.
_DONE = r"(done|finished|finish|ready|complete|completed|delivered|shipped|closed)"
_QUESTIONS: Sequence[tuple[str, Sequence[str]]] = (
    (
        "forecast",
        (
            r"\bforecasts?\b",
            r"\bpredict",
            r"\beta\b",
            r"\bby when\b",
            r"\bwhen will\b",
            rf"\bwhen\b.*\b{_DONE}\b",
            r"\bhow long (until|till|before|will|to finish)\b",
            r"\bhow many\b.*\b(by|until|till|before)\b",
        ),
    ),
    ("cfd", (r"\bcfd\b", r"\bcumulative\b", r"\bflow diagram\b", r"\barrivals?\b", r"\bdepartures?\b")),
    (
        "cycle",
        (
            r"\bcycle\b",
            r"\blead ?times?\b",
            r"\bsle\b",
            r"\bpercentiles?\b",
            r"\bhow long (does|do|did)\b",
        ),
    ),
    ("aging", (r"\bage?ing\b", r"\boldest\b", r"\bold\b", r"\bstale\b", r"\bstuck\b", r"\bhow old\b")),
    (
        "throughput",
        (
            r"\bthroughput\b",
            r"\bvelocity\b",
            r"\bper (week|day)\b",
            r"\bweekly\b",
            rf"\bhow many\b.*\b{_DONE}\b",
            rf"\bhow much\b.*\b{_DONE}\b",
        ),
    ),
    ("limits", (r"\blimits?\b",)),
    (
        "health",
        (
            r"\bhealth",
            r"\bdiagnos",
            r"\bpush or pull\b",
            r"\bhow (are|is|am)\b.*\b(doing|going|flowing)\b",
            r"\bhow are we\b",
            r"\bare we (ok|okay|good|flowing|healthy)\b",
            r"\bflowing\b",
        ),
    ),
    (
        "status",
        (
            r"\bstatus\b",
            r"\bwip\b",
            r"\bin progress\b",
            r"\bblocked\b",
            r"\bblockers?\b",
            r"\boverview\b",
            r"\bsummary\b",
            r"\bwhere are we\b",
            r"\bwhat (is|s) (going on|happening|up)\b",
        ),
    ),
    ("help", (r"\bhelp\b", r"\bwhat can you\b", r"\bcommands?\b", r"\busage\b", r"\bhow do i\b")),
)
_WINDOWED = frozenset({"cycle", "throughput", "cfd"})


@dataclass(frozen=True)
class MentionQuestion:
    """A question read from a mention: the subcommand, its arguments in the grammar's words, the board
    named (as the workspace spells it)."""

    name: str
    arguments: tuple[str, ...] = ()
    board: str | None = None

    @property
    def command_text(self) -> str:
        """The question in the `/flow` grammar's words, for its parsers to check; the board is kept apart,
        since the grammar cannot name every board (one called "Status" reads as the subcommand)."""
        return " ".join([self.name, *self.arguments])


def read_mention(text: str, allowed: Collection[str], boards: Collection[str] = ()) -> MentionQuestion | None:
    """The question in a mention's ``text`` (the bot's own mention may still be in it), among the
    subcommands ``allowed``; ``boards`` are the names a mention may name (any case). ``None`` when no
    question is recognised, or when the words ask for a change."""
    plain = _SLACK_MARKUP.sub(" ", text[:MAX_CHARS]).replace("’", "'").replace("‘", "'").casefold()
    plain = _THOUSANDS.sub("", plain)  # "10,000 items" is one number
    board = _named_board(plain, boards)
    if board is not None:
        asked = _read(_without(plain, board.casefold()), allowed)
        if asked is not None:
            return MentionQuestion(*asked, board=board)
    # No board named, or its name is the question itself (a board called "Status").
    asked = _read(plain, allowed)
    return None if asked is None else MentionQuestion(*asked)


def _read(plain: str, allowed: Collection[str]) -> tuple[str, tuple[str, ...]] | None:
    """The subcommand and its arguments in ``plain`` (lower-case, markup removed)."""
    date = _DATE.search(plain)
    rest = _DATE.sub(" ", plain)
    window = _WINDOW.search(rest)
    number = _NUMBER.search(_WINDOW.sub(" ", rest))
    words = " ".join(_WORD.findall(rest))
    name = _question(words, allowed)
    if name is None or (name != "help" and _CHANGE.search(words)):
        return None
    if name == "limits" and (number is not None or re.search(r"\boff\b", words)):
        return None  # "limits Review 3" sets one, which only `/flow` does
    if name == "forecast":
        if date is not None:
            return name, ("by", date.group(1))
        return name, () if number is None else (number.group(1),)
    if name in _WINDOWED and window is not None:
        unit = "w" if window.group(2).startswith("w") else "d"
        return name, (f"{int(window.group(1))}{unit}",)
    return name, ()


def _question(words: str, allowed: Collection[str]) -> str | None:
    for name, patterns in _QUESTIONS:
        if name in allowed and any(re.search(pattern, words) for pattern in patterns):
            return name
    # A subcommand this table does not know (the registry may grow) is asked by its name.
    named = set(words.split()) & set(allowed)
    return min(named, key=list(allowed).index) if named else None


def _named_board(plain: str, boards: Collection[str]) -> str | None:
    """The longest board name the text contains as whole words (so "Payments" does not match inside
    "Payments2", and "Mobile Web" wins over "Mobile")."""
    found = [name for name in boards if name.strip() and _whole(name.casefold()).search(plain)]
    return max(found, key=len) if found else None


def _without(plain: str, name: str) -> str:
    return _whole(name).sub(" ", plain, count=1)


def _whole(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
