"""Whatever people type: the `/flow` grammar and the mention reader never raise anything but the registry's
:class:`Misunderstood`, and through the running app no exception escapes a listener (every request is
answered 200, and the answer, or the usage, arrives in words; never the apology for an unexpected error).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.slack import texts
from bot.slack.errors import Misunderstood
from bot.slack.grammar import HELP, FlowCommand
from bot.slack.mention_words import EXAMPLES, read_mention
from bot.slack.subcommands import SUBCOMMANDS
from tests.slack.conftest import FLOW_CHANNEL, RunningApp

# Words the grammar and the reader care about, and what tends to break parsers: quotes of every kind, Slack
# markup, escapes, zero-width and right-to-left marks, emoji, numbers at and past the limits.
TOKENS = [
    *SUBCOMMANDS.names,
    "share", "SHARE", "by", "off", "board", "Payments", "payments", "Review", "help", "when", "will", "done",
    "how", "many", "items", "what's", "cycle time?", "doing", "limit", "set",
    "0", "1", "20", "10000", "10001", "99999999999", "-3", "1.5", "10,000",
    "2026-12-31", "2020-01-01", "2026-02-30", "9999-99-99", "30d", "12w", "0d", "731d", "2h", "1d", "45m",
    '"', "'", "“", "”", "‘", "’", "`", "\\", '"Payments"', "'Mobile Web'", '"unclosed',
    "<!channel>", "<!here>", "<@U0000USER1>", "<@U0BOT0001>", "<#C0000FLOW1|team-flow>", "<https://x.example>",
    "&lt;", "*bold*", "~", "\n", "\t", "\u200b", "\u202e", "é", "ß", "İ", "🙂", "👩‍💻", "中文",
]  # fmt: skip
TEXTS = st.one_of(
    st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)), max_size=12).map(" ".join),
    st.text(max_size=200),
    st.builds(lambda word, times: " ".join([word] * times), st.sampled_from(TOKENS), st.integers(1, 2000)),
)
ASKABLE = SUBCOMMANDS.mention_names


def parsed(text: str) -> FlowCommand | Misunderstood:
    """The command in ``text``, or the registry's refusal; anything else raised fails the test."""
    try:
        return SUBCOMMANDS.parse(text)
    except Misunderstood as misunderstood:
        return misunderstood


@given(TEXTS)
@settings(max_examples=400, deadline=None)
def test_the_grammar_raises_only_misunderstood(text: str):
    command = parsed(text)
    if isinstance(command, Misunderstood):
        assert str(command) and "Traceback" not in str(command)
    else:
        assert command.name in SUBCOMMANDS.names


@given(
    TEXTS, st.lists(st.sampled_from(["Payments", "Mobile Web", "Status", "é 🙂", '"q"', "a.b"]), max_size=3)
)
@settings(max_examples=400, deadline=None)
def test_the_mention_reader_never_raises_and_asks_only_what_mentions_may(text: str, boards: list[str]):
    asked = read_mention(text, ASKABLE, boards)
    if asked is None:
        return
    assert asked.name in ASKABLE and asked.board in (None, *boards)
    command = parsed(asked.command_text)
    if not isinstance(command, Misunderstood):
        assert command.name == asked.name and not command.sets_limit and command.snooze_for is None


# --- through the running app -----------------------------------------------------------------------------

# Half of what reaches the app is a subcommand with arguments it may take, so that answers (not only usage
# replies) are exercised: charts, forecasts, limits, snoozes, modals, the digest.
ARGUMENTS = ["", "", "share", "30d", "12w", "1d", "20", "10000", "by 2026-12-31", "by 2020-01-01", "Review 3",
             "Review off", "2h", "off", "status"]  # fmt: skip
COMMANDS = st.builds(
    lambda board, name, words: " ".join(filter(None, [board, name, words])),
    st.sampled_from(["", "", "Payments", '"Payments"', "Billing"]),
    st.sampled_from(SUBCOMMANDS.names),
    st.sampled_from(ARGUMENTS),
)
JUNK = st.one_of(
    st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=12)), max_size=8).map(" ".join),
    st.text(max_size=100),
    st.builds(lambda word, times: " ".join([word] * times), st.sampled_from(TOKENS), st.integers(1, 600)),
)
# What people say to a mention: the help's examples and other phrasings, alone or inside other words.
PHRASES = [
    *(example for examples in EXAMPLES.values() for example in examples),
    "how is payments doing?", "what's stuck", "cycle time over 90 days", "limits Review 3",
    "set the Review limit to 3", "forecast", "when will 10,000 items be done?", "how many by 2020-01-01",
    "snooze 2h", "digest",
]  # fmt: skip
MENTIONS = st.one_of(
    st.sampled_from(PHRASES),
    st.builds(
        lambda before, phrase, after: f"{before} {phrase} {after}", JUNK, st.sampled_from(PHRASES), JUNK
    ),
    JUNK,
)
THROUGH_THE_APP = settings(
    max_examples=60,
    deadline=None,
    # The sample app is made once for all the examples of a test, on purpose: what one leaves, the next meets.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _wait(found: Callable[[], list], what: str, timeout: float = 30.0) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"waited {timeout}s for {what}")


@given(text=COMMANDS)
@THROUGH_THE_APP
def test_any_flow_command_is_answered_in_words(sample_app: RunningApp, text: str):
    """`/flow <subcommand> <arguments it may take>`: 200, then the usage in the acknowledgement, or the
    answer (a response, a modal, a digest in the channel), never the apology for an unexpected error."""
    flow_is_answered(sample_app, text)


@given(text=JUNK)
@THROUGH_THE_APP
def test_any_text_after_flow_is_answered_in_words(sample_app: RunningApp, text: str):
    """`/flow <anything>`: quotes, markup, unicode, very long text; the same guarantee."""
    flow_is_answered(sample_app, text)


def flow_is_answered(app: RunningApp, text: str) -> None:
    modals, posts = len(app.slack.calls_to("views.open")), len(app.slack.calls_to("chat.postMessage"))
    sent = app.sender.slash_command(text)
    assert sent.status_code == 200
    command = parsed(text)
    event("usage" if isinstance(command, Misunderstood) else command.name)  # --hypothesis-show-statistics
    if isinstance(command, Misunderstood):
        assert json.loads(sent.text)["text"] == str(command)
        return
    if command.name == HELP:
        assert json.loads(sent.text)["blocks"]
        return
    if command.name in ("connect", "settings") and sent.text:  # could not open: told in the acknowledgement
        assert json.loads(sent.text)["text"] != texts.INTERNAL_ERROR, text
        return
    key = sent.response_url.rsplit("/", 1)[-1]

    def answered() -> list:
        if [post for post in app.slack.responses if post.key == key]:
            return [True]
        if command.name in ("connect", "settings") and len(app.slack.calls_to("views.open")) > modals:
            return [True]
        # The digest, and a shared health verdict (its evidence in its thread), are posted in the channel.
        speaks = command.name == "digest" or (command.name == "health" and command.share)
        if speaks and len(app.slack.calls_to("chat.postMessage")) > posts:
            return [True]
        return []

    _wait(answered, f"the answer to /flow {text[:80]!r}")
    for post in app.slack.responses:
        if post.key == key:
            assert post.body.get("text") != texts.INTERNAL_ERROR, text


@given(text=MENTIONS)
@THROUGH_THE_APP
def test_any_mention_is_answered_in_its_thread_in_words(sample_app: RunningApp, text: str):
    """`@flowcoach <anything>`: 200, then one reply in the mention's thread: an answer, the usage or what a
    mention may ask; never the apology for an unexpected error."""
    app = sample_app  # one running app for every example: what one leaves, the next meets
    ts = app.slack.add_message(FLOW_CHANNEL, text)["ts"]
    sent = app.sender.app_mention(f"<@U0BOT0001> {text}", channel_id=FLOW_CHANNEL, ts=ts)
    assert sent.status_code == 200

    def replies() -> list:
        return [
            call.params
            for call in app.slack.calls_to("chat.postMessage")
            if call.params.get("thread_ts") == ts
        ]

    # One reply, or two for `health` (the verdict, then its evidence in the same thread).
    answered = _wait(replies, f"a reply to the mention {text[:80]!r}")
    assert 1 <= len(answered) <= 2, text
    assert all(reply["text"] and reply["text"] != texts.INTERNAL_ERROR for reply in answered), text
