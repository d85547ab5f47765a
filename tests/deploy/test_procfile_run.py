"""The Procfile run as a Heroku-style platform runs it: `release` then `web` through a shell, with only
$PORT and a `postgres://` DATABASE_URL given, and the app answers its health check on that port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tests.fakes.slack_api import SlackEmulator
from tests.processes import stop_group
from tests.slack.conftest import SECRET_KEY, SIGNING_SECRET
from tests.slack.test_serve_process import free_port

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def platform_url(database_url: str) -> str:
    """The URL as Heroku hands it out: `postgres://user:password@host:port/db`, no driver named."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url
    return url.set(drivername="postgres").render_as_string(hide_password=False)


def test_release_then_web_from_the_procfile_serve_on_port(database_url: str, tmp_path: Path):
    processes = procfile()
    assert set(processes) == {"web", "worker", "release"}
    port = free_port()
    with SlackEmulator() as slack:
        env = {
            key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))
        }
        env |= {
            "DATABASE_URL": platform_url(database_url),
            "PORT": str(port),
            "SLACK_BOT_TOKEN": "xoxb-test-team1",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "FLOWCOACH_SECRET_KEY": SECRET_KEY,
            # the installed `flowcoach` command first, as the platform's PATH would have it
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
        release = subprocess.run(
            processes["release"], shell=True, env=env, capture_output=True, text=True, timeout=120
        )
        assert release.returncode == 0, release.stderr
        assert "database at revision" in release.stdout
        log = (tmp_path / "web.log").open("w")
        web = subprocess.Popen(
            processes["web"],
            shell=True,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 40
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert web.poll() is None and time.monotonic() < deadline, (tmp_path / "web.log").read_text()
                time.sleep(0.3)
        finally:
            stop_group(web)  # the shell, gunicorn and its workers
            log.close()
