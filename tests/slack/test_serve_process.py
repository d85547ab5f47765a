"""`flowcoach serve` as a real process: gunicorn on $PORT, the database, the emulator, a signed command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.sample import SAMPLE_EVENTS_PATH
from tests.fakes.slack_api import SlackEmulator
from tests.fakes.slack_requests import SlackSender
from tests.processes import stop_group
from tests.slack.conftest import SECRET_KEY, SIGNING_SECRET

FLOWCOACH = [sys.executable, "-m", "bot.cli"]


HOST = "127.0.0.2"  # another loopback address: proves serve binds $HOST, not 0.0.0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_env(tmp_path: Path, slack: SlackEmulator, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'flowcoach.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test-team1",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "FLOWCOACH_SECRET_KEY": SECRET_KEY,
        "HOST": HOST,
        "PORT": str(port),
    }
    return env


@pytest.fixture
def served(tmp_path: Path, slack: SlackEmulator) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`flowcoach serve` with the sample board in #team-flow, until it answers its health check."""
    port = free_port()
    env = serve_env(tmp_path, slack, port)
    workflow = Path(SAMPLE_EVENTS_PATH).with_name("workflow.yml")
    add = [
        *FLOWCOACH,
        "board",
        "add",
        "Payments",
        "--connector",
        "file",
        "--set",
        f"path={SAMPLE_EVENTS_PATH}",
    ]
    subprocess.run([*add, "--workflow", str(workflow)], env=env, check=True, capture_output=True)
    subprocess.run([*FLOWCOACH, "sync"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [*FLOWCOACH, "serve", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://{HOST}:{port}"
    try:
        # Start-up, not the product's timing: importing everything takes many seconds on a busy machine.
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"serve did not come up:\n{process.stdout.read() if process.stdout else ''}"
                )
            time.sleep(0.2)
        yield base, process
    finally:
        stop_group(process)  # gunicorn's master and its workers
        if process.stdout:
            process.stdout.close()


def test_serve_answers_a_signed_command_under_gunicorn(served, slack):
    """The production server, bound to $HOST only, acknowledges `/flow status` and the answer reaches the
    response URL."""
    base, _ = served
    with pytest.raises(httpx.TransportError):
        httpx.get(base.replace(HOST, "127.0.0.1") + "/healthz")  # bound to $HOST, not every address
    sender = SlackSender(base + "/slack/events", SIGNING_SECRET, emulator=slack)
    sent = sender.slash_command("status")
    assert sent.status_code == 200
    answer = slack.wait_for_response(sent.response_url.rsplit("/", 1)[-1], timeout=30)[0].body
    assert "Development" in str(answer["blocks"])
    assert sender.slash_command("status", signature="v0=" + "1" * 64).status_code == 401
    sender.close()


def test_serve_without_a_token_names_the_missing_variable(tmp_path, slack):
    """No bot token and no OAuth client: one line naming the variable, exit status 1, no traceback."""
    env = serve_env(tmp_path, slack, free_port())
    del env["SLACK_BOT_TOKEN"]
    result = subprocess.run([*FLOWCOACH, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_serve_with_a_refused_token_says_so_before_starting(tmp_path, slack):
    """A token Slack refuses stops start-up with Slack's reason, before any worker is forked."""
    env = serve_env(tmp_path, slack, free_port()) | {"SLACK_BOT_TOKEN": "xoxb-not-a-real-token"}
    result = subprocess.run([*FLOWCOACH, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN: Slack refused it (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr and "xoxb-not-a-real-token" not in result.stderr
