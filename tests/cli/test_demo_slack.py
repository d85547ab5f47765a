"""`flowcoach demo --channel`: the sample board's digest and open nudges posted for real, to the Slack Web API
emulator (README `flowcoach demo`); without SLACK_BOT_TOKEN, one clear error line and nothing posted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.cli.main import main
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.slack.blocks import terminal
from tests.fakes.slack_api import SlackEmulator

CHANNEL = "C0000FLOW1"  # the emulator's #team-flow, which the bot is a member of
TOKEN = "xoxb-test-team1"  # the emulator's default team's bot token
CHARTS = {
    "cycle-time-scatterplot.png",
    "aging-wip.png",
    "cumulative-flow.png",
    "throughput.png",
    "throughput-pbc.png",
    "cycle-time-histogram.png",
    "throughput-histogram.png",
    "wip-run-chart.png",
}


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def blocks_text(blocks: list[dict[str, Any]], indent: str = "") -> str:
    """A posted message's blocks as the demo renders them in the terminal."""
    return terminal.blocks_text(Block.parse_all(blocks), indent=indent)


def about(text: str, subject: str) -> bool:
    """Whether a nudge's text is about ``subject``: it opens with it ("The whole board …" for the board)."""
    return text.lower().removeprefix("the ").startswith(subject.lower() + " ")


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SlackEmulator]:
    """A Slack emulator, with the environment an operator would set to reach it."""
    monkeypatch.chdir(tmp_path)  # settings also read ./.env: keep a developer's file out of the test
    with SlackEmulator() as emulator:
        monkeypatch.setenv("SLACK_API_URL", emulator.api_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        yield emulator


def open_nudges_replayed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The nudges `flowcoach replay` says were posted over the demo's two weeks and are still open."""
    since = (SAMPLE_ASOF - dt.timedelta(days=14)).isoformat()
    code, out, err = run(
        capsys,
        "replay",
        "--events",
        SAMPLE_EVENTS_PATH,
        "--workflow",
        SAMPLE_WORKFLOW_PATH,
        "--since",
        since,
        "--until",
        SAMPLE_ASOF.isoformat(),
        "--format",
        "json",
    )
    assert code == 0, err
    nudges = json.loads(out)["nudges"]
    return [n for n in nudges if n["posted_at"] is not None and n["resolved_at"] is None]


def test_demo_posts_the_digest_and_the_open_nudges(capsys, slack: SlackEmulator, tmp_path: Path) -> None:
    """With a bot token, `demo --channel` posts one message per open nudge and today's digest as one parent
    message with its details as replies in its thread; what it posts is what it prints, and the open
    nudges are the ones `replay` finds still open over the same two weeks."""
    charts = tmp_path / "charts"
    code, out, err = run(capsys, "demo", "--channel", CHANNEL, "--out", charts)
    assert code == 0, err
    assert err == ""
    assert {path.name for path in charts.iterdir()} == CHARTS  # the charts stay in the test's folder

    posts = slack.calls_to("chat.postMessage")
    assert posts and all(call.error is None and not call.failed for call in posts), [c.error for c in posts]
    assert {call.token for call in posts} == {TOKEN}
    assert {call.params["channel"] for call in posts} == {CHANNEL}
    assert slack.messages("C0000GENRL") == []

    messages = slack.messages(CHANNEL)
    replies = [m for m in messages if "thread_ts" in m]
    top_level = [m for m in messages if "thread_ts" not in m]
    # The digest: one parent, every detail a reply in the parent's thread.
    assert replies, "the digest's details go in a thread"
    [parent_ts] = {m["thread_ts"] for m in replies}
    [parent] = [m for m in top_level if m["ts"] == parent_ts]
    nudges = [m for m in top_level if m["ts"] != parent_ts]

    # What was posted is what the demo printed: the digest's parent and each of its replies.
    assert "Today's digest, as it would read in Slack:" in out
    assert "daily digest, Fri 20 Nov 2026" in blocks_text(parent["blocks"])
    assert blocks_text(parent["blocks"], "  ") in out
    for reply in replies:
        assert blocks_text(reply["blocks"], "    │ ") in out

    # The replayed nudges are printed, with times, rules and subjects.
    summary = re.search(r"nudges over the last 14 days \(replayed\): (\d+) posted", out)
    assert summary and int(summary.group(1)) > 0, out
    listed = re.findall(r"^  \w{3} \d\d \w{3} \d\d:\d\d  (\w+) · (.+) \((open|resolved)\)$", out, re.M)
    assert listed, out
    posted_line = re.search(
        rf"^Posted (\d+) open nudges as one message and the digest in {CHANNEL}\.$", out, re.M
    )
    assert posted_line, out
    # What the coach sees now is one message (spec: one message per evaluation), framed as a first look.
    [message] = nudges
    header, *lines = message["text"].splitlines()
    assert header == "Payments — what I see now"
    assert int(posted_line.group(1)) == len(lines) > 0

    # The nudges posted are the open ones: one line of the message per nudge replay finds posted and open.
    remaining = list(lines)
    for nudge in open_nudges_replayed(capsys):
        match = next((text for text in remaining if about(text, nudge["subject"])), None)
        assert match is not None, f"no line for open {nudge['rule']} {nudge['subject']}: {remaining}"
        remaining.remove(match)
    assert remaining == []
    for rule, subject, state in listed:
        if state == "open":  # the open ones the demo lists are among those posted
            assert any(about(line, subject) for line in lines), (rule, subject)


def test_channel_without_a_token_is_one_clear_line(
    capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`demo --channel` without SLACK_BOT_TOKEN: exit 1 with one `flowcoach: error:` line naming the
    variable, no traceback, and nothing reaches Slack."""
    monkeypatch.chdir(tmp_path)  # no ./.env to supply a token
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with SlackEmulator() as emulator:
        monkeypatch.setenv("SLACK_API_URL", emulator.api_url)
        code, _, err = run(capsys, "demo", "--channel", CHANNEL, "--out", tmp_path / "charts")
        assert emulator.calls == []
    assert code == 1
    assert err.startswith("flowcoach: error: SLACK_BOT_TOKEN") and err.count("\n") == 1, err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize(
    ("channel", "private"), [("C0NOPE0001", False), ("C0SECRET01", True)], ids=["missing", "private"]
)
def test_a_channel_slack_refuses_is_one_clear_line(
    capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, channel: str, private: bool
) -> None:
    """A channel that does not exist, or a private one the bot was not invited to (which Slack reports the
    same way), gives Slack's reason and what to do in one `flowcoach: error:` line with exit 1."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-team1")
    with SlackEmulator() as emulator:
        monkeypatch.setenv("SLACK_API_URL", emulator.api_url)
        if private:
            emulator.add_channel("T0000TEAM1", channel, "secret", is_private=True, is_member=False)
        code, _, err = run(capsys, "demo", "--channel", channel, "--out", tmp_path / "charts")
    assert code == 1, err
    assert err.startswith(f"flowcoach: error: Slack refused to post in {channel} (channel_not_found)"), err
    assert "invite the bot" in err and err.count("\n") == 1 and "Traceback" not in err
