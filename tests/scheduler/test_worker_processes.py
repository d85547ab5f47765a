"""Two `flowcoach worker` processes on one database, posting to the Slack emulator: each digest exactly once,
and when the leader is killed (SIGKILL: no lease released), the standby takes over within a minute.

This runs the production schedule and timings (cron digests at a board's minute, a 45 s lease), so it waits
for real minutes; it is the end-to-end proof of what tests/scheduler/test_worker.py shows on fast timings.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.scheduler.lease import SCHEDULER_LEASE, current_holder
from bot.store.board_settings import BoardSettings
from bot.store.models import Board
from tests.fakes.slack_api import ApiCall, SlackEmulator
from tests.scheduler.conftest import wait_for
from tests.slack.conftest import SECRET_KEY

FLOWCOACH = [sys.executable, "-m", "bot.cli"]
TEAM = "T0000TEAM1"
CHANNELS = {"Payments": "C0000FLOW1", "Checkout": "C0000FLOW2"}
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONE = ZoneInfo("Europe/Zurich")  # the sample workflow's
STARTUP_S = 20  # time for both processes to start and one to plan the jobs, before the first digest falls due


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        emulator.add_channel(TEAM, CHANNELS["Checkout"], "checkout-flow")
        yield emulator


def worker_env(database_url: str, slack: SlackEmulator) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))}
    env |= {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test-team1",
        "SLACK_API_URL": slack.api_url,
        "FLOWCOACH_SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "INFO",
    }
    return env


def add_boards(env: dict[str, str]) -> None:
    for name, channel in CHANNELS.items():
        add = [*FLOWCOACH, "board", "add", name, "--connector", "file", "--set", f"path={SAMPLE_EVENTS_PATH}"]
        add += ["--workflow", str(SAMPLE_WORKFLOW_PATH), "--channel", channel]
        subprocess.run(add, env=env, check=True, capture_output=True)
    subprocess.run([*FLOWCOACH, "sync"], env=env, check=True, capture_output=True)


def set_digest_time(sessions: sessionmaker[Session], name: str, at: dt.datetime) -> None:
    """As the settings modal would: the digest at ``at``'s minute, every day a working day."""
    settings = BoardSettings(working_days=EVERY_DAY, digest_time=at.astimezone(ZONE).time())
    with sessions.begin() as session:
        board = session.scalars(select(Board).where(Board.name == name)).one()
        board.coaching_settings = settings.to_json()


def next_minute(after_s: float) -> dt.datetime:
    """The first whole minute at least ``after_s`` seconds from now."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=after_s)
    return soon.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def digest_parents(slack: SlackEmulator, channel: str) -> Callable[[], list[ApiCall]]:
    def parents() -> list[ApiCall]:
        return [
            call
            for call in slack.calls_to("chat.postMessage")
            if not call.failed
            and call.params.get("channel") == channel
            and "thread_ts" not in call.params
            and " digest: " in str(call.params.get("text", ""))
        ]

    return parents


def test_two_worker_processes_post_each_digest_once_and_the_standby_takes_over_a_killed_leader(
    database_url: str, slack: SlackEmulator, sessions: sessionmaker[Session], tmp_path: Path
):
    env = worker_env(database_url, slack)
    add_boards(env)
    first_due = next_minute(STARTUP_S)
    set_digest_time(sessions, "Payments", first_due)
    set_digest_time(sessions, "Checkout", first_due + dt.timedelta(minutes=1))

    logs = {name: (tmp_path / f"worker-{name}.log").open("w") for name in ("a", "b")}
    workers = {
        name: subprocess.Popen([*FLOWCOACH, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
        for name, log in logs.items()
    }

    def output() -> str:
        return "\n".join(f"--- worker {name}\n{Path(log.name).read_text()}" for name, log in logs.items())

    try:
        # Start-up, not the product's timing: two processes importing everything at once take many seconds on
        # a busy machine (beside another test's processes), and a leader found after the first digest fell
        # due hands it over late (the catch-up), so a slow start still posts it once.
        wait_for(
            lambda: current_holder(sessions, SCHEDULER_LEASE) is not None, 90, lambda: f"a leader\n{output()}"
        )
        leader_holder = current_holder(sessions, SCHEDULER_LEASE)
        assert leader_holder is not None
        leader_pid = int(leader_holder.split(":")[-2])
        leader = next(name for name, process in workers.items() if process.pid == leader_pid)
        standby = next(name for name in workers if name != leader)

        until_first = (first_due - dt.datetime.now(dt.UTC)).total_seconds()
        payments = digest_parents(slack, CHANNELS["Payments"])
        wait_for(
            lambda: bool(payments()), max(until_first, 0) + 30, lambda: f"the Payments digest\n{output()}"
        )

        workers[leader].send_signal(signal.SIGKILL)  # dies holding the lease, as a crashed host would
        killed_at = time.monotonic()
        workers[leader].wait(10)
        wait_for(
            lambda: current_holder(sessions, SCHEDULER_LEASE) not in (None, leader_holder),
            75,
            lambda: f"the standby to take the lease\n{output()}",
        )
        takeover_s = time.monotonic() - killed_at
        assert str(workers[standby].pid) in str(current_holder(sessions, SCHEDULER_LEASE))
        assert takeover_s < 60, f"took over after {takeover_s:.0f} s"

        checkout = digest_parents(slack, CHANNELS["Checkout"])
        until_second = (first_due + dt.timedelta(minutes=1) - dt.datetime.now(dt.UTC)).total_seconds()
        wait_for(
            lambda: bool(checkout()), max(until_second, 0) + 30, lambda: f"the Checkout digest\n{output()}"
        )
        time.sleep(3)  # room for a duplicate, were there one

        assert len(payments()) == 1 and len(checkout()) == 1, output()
        assert checkout()[0].at > payments()[0].at
        for channel in CHANNELS.values():
            posts = [call for call in slack.calls_to("chat.postMessage") if not call.failed]
            top = [
                str(call.params.get("text"))
                for call in posts
                if call.params.get("channel") == channel and "thread_ts" not in call.params
            ]
            assert len(top) == len(set(top)), f"a message posted twice in {channel}: {top}"

        workers[standby].send_signal(signal.SIGTERM)
        assert workers[standby].wait(30) == 0, output()
        assert current_holder(sessions, SCHEDULER_LEASE) is None  # released on a clean stop
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)
        for log in logs.values():
            log.close()
