"""The `/flow` registry drives the grammar, help, usage replies and the mention dispatch, and the README's
`/flow` line is held to it; the acknowledgement needs nothing but the registry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from slack_sdk.models.blocks import SectionBlock
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bot.slack import texts
from bot.slack.answers import Ask
from bot.slack.grammar import CommandError, help_topic, no_arguments, parse_flow
from bot.slack.mentions import mention_help
from bot.slack.runtime import Runtime
from bot.slack.subcommands import SUBCOMMANDS, Subcommand, Subcommands
from tests.slack.conftest import FLOW_CHANNEL, RunningApp

README = Path(__file__).resolve().parents[2] / "README.md"


def answer_ping(runtime: Runtime, ask: Ask) -> None:
    ask.reply([SectionBlock(text="pong")], "pong")


PING = Subcommand(
    "ping", usage="ping", meaning="checks that flowcoach answers", arguments=no_arguments, answer=answer_ping,
    in_mentions=True,
)  # fmt: skip
WITH_PING = Subcommands((*SUBCOMMANDS, PING))


def help_names(help_text: str) -> list[str]:
    """The subcommand each line of the help text is about, in order."""
    return [re.match(r"`/flow (\w+)", line).group(1) for line in help_text.splitlines()]


def test_the_grammar_reads_only_the_subcommands_it_is_given():
    """`parse_flow` is pure: another set of argument parsers is another grammar, help topics included."""
    grammar = {"help": help_topic, "ping": no_arguments}
    assert parse_flow("Payments ping share", grammar).board == "Payments"
    assert parse_flow("help ping", grammar).help_topic == "ping"
    with pytest.raises(CommandError) as unknown:
        parse_flow("status", grammar)
    assert unknown.value.subcommand is None
    with pytest.raises(CommandError) as no_help:
        parse_flow("help status", grammar)
    assert no_help.value.subcommand == "help"


def test_the_registry_declares_each_subcommand_once_with_help_last():
    """Names are unique, in the order help lists them, and help (an empty `/flow`) is among them."""
    assert SUBCOMMANDS.names == [
        "status", "aging", "cycle", "throughput", "cfd", "forecast", "health", "digest", "limits", "connect",
        "settings", "snooze", "help",
    ]  # fmt: skip
    assert SUBCOMMANDS.mention_names == [
        "status", "aging", "cycle", "throughput", "cfd", "forecast", "health", "limits", "help",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="distinct"):
        Subcommands((*SUBCOMMANDS, PING, PING))


def test_help_lists_exactly_the_registry(app: RunningApp):
    """`/flow help` has one line per registry entry, in its order, each the entry's usage and meaning."""
    body = json.loads(app.sender.slash_command("help").text)
    assert help_names(body["text"]) == SUBCOMMANDS.names
    assert body["text"].splitlines() == [entry.help_line for entry in SUBCOMMANDS]
    assert all(line in json.dumps(body["blocks"], ensure_ascii=False) for line in body["text"].splitlines())


def test_the_readme_lists_exactly_the_registry():
    """The README's "`/flow help` lists everything" line shows every subcommand's usage, and nothing else."""
    readme = README.read_text(encoding="utf-8")
    [line] = re.findall(r"`/flow help` lists everything: `([^`]+)`", readme)
    usages = " | ".join(entry.usage for entry in SUBCOMMANDS)
    assert " ".join(line.split()) == " ".join(f"/flow [board] {usages}".split())


def test_a_subcommand_added_to_the_registry_is_helped_parsed_and_answered(start_app, sqlite_url):
    """An extra registry entry, and nothing else, gives `/flow` and mentions a new subcommand: in the help,
    in usage replies, answered through the response URL and in a mention's thread."""
    app = start_app(sqlite_url, subcommands=WITH_PING)
    helped = json.loads(app.sender.slash_command("help").text)["text"]
    assert "`/flow ping` — checks that flowcoach answers" in helped.splitlines()
    assert json.loads(app.sender.slash_command("help ping").text)["text"] == helped
    usage = json.loads(app.sender.slash_command("ping loudly").text)["text"]
    assert usage == texts.usage_reply("`ping` takes no arguments", "ping", "checks that flowcoach answers")
    assert "`ping`" in json.loads(app.sender.slash_command("dance").text)["text"]
    sent = app.sender.slash_command("ping")
    answered = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body
    assert answered["text"] == "pong" and answered["response_type"] == "ephemeral"
    app.sender.app_mention("<@U0BOT0001> ping", channel_id=FLOW_CHANNEL, ts="1764000000.000300")
    posted = app.slack.wait_for("chat.postMessage")[0].params
    assert posted["text"] == "pong" and posted["thread_ts"] == "1764000000.000300"


def test_a_mention_may_ask_only_what_the_registry_allows(app: RunningApp):
    """`@flowcoach snooze 2h` is not for mentions: answered, in its thread, with what mentions may ask."""
    app.sender.app_mention("<@U0BOT0001> snooze 2h", channel_id=FLOW_CHANNEL, ts="1764000000.000400")
    posted = app.slack.wait_for("chat.postMessage")[0].params
    assert posted["thread_ts"] == "1764000000.000400"
    assert posted["text"] == mention_help(SUBCOMMANDS)
    assert all(f"`@flowcoach {name}" not in posted["text"] for name in ("snooze", "connect", "settings"))


def test_help_and_usage_are_acknowledged_without_the_database(app: RunningApp, tmp_path: Path):
    """The acknowledgement parses and answers from the registry alone: with the database unreachable,
    help and usage replies are the same."""
    asked = ("help", "dance", "cycle 1y")
    expected = {text: json.loads(app.sender.slash_command(text).text) for text in asked}
    unreachable = create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'flowcoach.db'}")
    app.runtime.sessions = sessionmaker(unreachable)
    for text, reply in expected.items():
        sent = app.sender.slash_command(text)
        assert sent.status_code == 200 and json.loads(sent.text) == reply
    sent = app.sender.slash_command("status")  # what needs the database does fail
    failed = app.slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1])[0].body
    assert failed["text"] == texts.INTERNAL_ERROR
