"""`flowcoach serve --with-worker` as a real process: gunicorn answers while the worker thread leads, and a
SIGTERM stops both, handing the lease back."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler.lease import SCHEDULER_LEASE, current_holder
from bot.store.db import make_engine, session_factory
from tests.fakes.slack_api import SlackEmulator
from tests.fakes.slack_requests import SlackSender
from tests.processes import stop_group
from tests.scheduler.conftest import wait_for
from tests.slack.conftest import SIGNING_SECRET
from tests.slack.test_serve_process import FLOWCOACH, HOST, free_port, serve_env


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def test_serve_with_worker_answers_commands_and_schedules_in_the_same_process(
    tmp_path: Path, slack: SlackEmulator
):
    port = free_port()
    env = serve_env(tmp_path, slack, port)
    output = tmp_path / "serve.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [*FLOWCOACH, "serve", "--with-worker", "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    engine = make_engine(env["DATABASE_URL"])
    sessions: sessionmaker[Session] = session_factory(engine)
    base = f"http://{HOST}:{port}"
    try:

        def healthy() -> bool:
            assert process.poll() is None, output.read_text()
            try:
                return httpx.get(base + "/healthz").status_code == 200
            except httpx.TransportError:
                return False

        # Start-up, not the product's timing: importing everything takes many seconds on a busy machine.
        wait_for(healthy, 90, lambda: f"serve to answer /healthz\n{output.read_text()}")
        wait_for(lambda: current_holder(sessions, SCHEDULER_LEASE) is not None, 30, "the worker's lease")
        holder = current_holder(sessions, SCHEDULER_LEASE)
        assert f":{process.pid}:" in str(holder)  # the serving process itself schedules, not a forked child

        sender = SlackSender(base + "/slack/events", SIGNING_SECRET, emulator=slack)
        assert sender.slash_command("help").status_code == 200
        sender.close()

        process.send_signal(signal.SIGTERM)
        assert process.wait(40) == 0, output.read_text()
        assert current_holder(sessions, SCHEDULER_LEASE) is None, output.read_text()
        assert "Traceback" not in output.read_text()
    finally:
        stop_group(process)  # also the workers, if the test failed before SIGTERM
        engine.dispose()


def test_on_postgresql_serve_with_worker_runs_the_worker_as_a_child_process_and_stops_it(
    tmp_path: Path, slack: SlackEmulator, database_url: str
):
    """The job queue's connections must not be inherited by gunicorn's forked workers: on PostgreSQL the
    worker is a `flowcoach worker` child of serve, leading, stopped (lease released) with serve."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs the worker in serve's own threads (the test above)")
    port = free_port()
    env = serve_env(tmp_path, slack, port) | {"DATABASE_URL": database_url}
    subprocess.run([*FLOWCOACH, "db", "upgrade"], env=env, check=True, capture_output=True)
    output = tmp_path / "serve.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [*FLOWCOACH, "serve", "--with-worker", "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    engine = make_engine(database_url)
    sessions: sessionmaker[Session] = session_factory(engine)
    try:
        wait_for(  # serve starts, then its `flowcoach worker` child: two start-ups, one after the other
            lambda: current_holder(sessions, SCHEDULER_LEASE) is not None,
            90,
            lambda: f"a leader\n{output.read_text()}",
        )
        holder_pid = int(str(current_holder(sessions, SCHEDULER_LEASE)).split(":")[-2])
        assert holder_pid != process.pid
        parent = Path(f"/proc/{holder_pid}/stat").read_text().split(")")[-1].split()[1]
        assert int(parent) == process.pid, "the worker is serve's child"
        assert "jobs from the queue" in output.read_text()

        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, output.read_text()
        assert current_holder(sessions, SCHEDULER_LEASE) is None, output.read_text()
        assert not Path(f"/proc/{holder_pid}").exists() or "Z" in Path(f"/proc/{holder_pid}/stat").read_text()
        assert "Traceback" not in output.read_text()
    finally:
        stop_group(process)
        engine.dispose()
