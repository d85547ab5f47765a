"""Benchmark `/flow` acknowledgement latency under load, against `flowcoach serve` as a real process.

Usage: ``python benchmarks/slack.py [--rate 50] [--seconds 30] [--workers 2] [--threads 8] [--mix status]
[--modal-every 5]``

`flowcoach serve` (gunicorn) runs on a SQLite file holding the sample board, talking to the Slack Web API
emulator (``tests/fakes/slack_api.py``) in this process. A second process sends signed slash commands at a
fixed rate on loopback (open loop: a slow answer does not slow the sender) and measures the time to each
HTTP acknowledgement. The lazy answers (database, metrics, Block Kit) run in the server meanwhile; the
script also reports how many reached the response URL and how long the last one took to arrive.

Every ``--modal-every`` seconds a `/flow connect` or `/flow settings` (alternately) goes out among the load;
the emulator holds trigger ids to Slack's 3 s, and the script reports how many modals opened.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import httpx

from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from tests.fakes.slack_api import SlackEmulator
from tests.fakes.slack_requests import SlackSender

SIGNING_SECRET = "benchmark-signing-secret"
MIXES = {
    "status": ["status"],
    # What a team does in a day, roughly: mostly status and help, some charts and forecasts.
    "mixed": ["status"] * 5 + ["help"] * 2 + ["forecast 20", "cycle 30d", "limits"],
    # The worst case for modals: most requests draw a chart (PNG, uploaded to a direct message).
    "charts": ["cycle 30d", "aging", "throughput 12w", "cfd 30d", "status"],
}
MODALS = ("connect", "settings")
NOT_THROUGH_RESPONSE_URL = ("help", *MODALS)  # answered in the acknowledgement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--mix", choices=sorted(MIXES), default="status")
    parser.add_argument(
        "--modal-every", type=float, default=0, help="seconds between `connect`/`settings` commands (0: none)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowcoach-slack-bench-") as tmp, SlackEmulator() as slack:
        port = _free_port()
        env = _environment(Path(tmp), slack.api_url, port)
        _add_sample_board(env)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, server)
            response_urls = [slack.response_url(f"r{i}") for i in range(int(args.rate * args.seconds))]
            texts = [MIXES[args.mix][i % len(MIXES[args.mix])] for i in range(len(response_urls))]
            modal_at = round(args.modal_every * args.rate) if args.modal_every > 0 else 0
            for n, index in enumerate(range(modal_at // 2, len(texts), modal_at or len(texts) + 1)):
                texts[index] = MODALS[n % len(MODALS)]
            started = time.monotonic()
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                latencies, errors = pool.apply(
                    _load, (base + "/slack/events", response_urls, texts, args.rate, slack.api_url)
                )
            sent_for = time.monotonic() - started
            # `help` and the modals are answered in the acknowledgement; the rest through the response URL.
            lazy = sum(text not in NOT_THROUGH_RESPONSE_URL for text in texts) - errors
            answered = _wait_answers(slack, lazy, timeout=120)
            drained = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies.sort()
    print(f"flowcoach serve: {args.workers} workers × {args.threads} threads; mix: {args.mix}")
    print(f"sent {len(response_urls)} signed /flow commands at {args.rate:g}/s over {sent_for:.1f} s")
    worst = latencies[-1] * 1000
    print(f"acknowledgement latency: p50 {_ms(latencies, 50)}  p99 {_ms(latencies, 99)}  max {worst:.1f} ms")
    print(f"mean {statistics.fmean(latencies) * 1000:.1f} ms; errors (non-200 or transport): {errors}")
    print(f"lazy answers delivered to the response URL: {answered} of {lazy}, "
          f"the last {drained - sent_for:.1f} s after the last request")  # fmt: skip
    modals = sum(text in MODALS for text in texts)
    if modals:
        opened = slack.calls_to("views.open")
        refused = sorted({str(call.error) for call in opened if call.error})
        print(f"modals: {sum(not call.error for call in opened)} of {modals} opened"
              + (f"; refused: {', '.join(refused)}" if refused else ""))  # fmt: skip


def _load(
    url: str, response_urls: list[str], texts: list[str], rate: float, api_url: str
) -> tuple[list[float], int]:
    """The second process: send one signed command every 1/rate seconds, each on its own thread."""
    import threading

    sender = SlackSender(url, SIGNING_SECRET)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def one(text: str, response_url: str) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            status = sender.slash_command(text, response_url=response_url).status_code
        except httpx.HTTPError:
            status = 0
        elapsed = time.perf_counter() - started
        with lock:
            if status == 200:
                latencies.append(elapsed)
            else:
                errors += 1

    threads = []
    start = time.perf_counter()
    for index, (text, response_url) in enumerate(zip(texts, response_urls, strict=True)):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=one, args=(text, response_url))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    sender.close()
    return latencies, errors


def _environment(folder: Path, api_url: str, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "FLOWCOACH_"))}
    return env | {
        "DATABASE_URL": f"sqlite:///{folder / 'flowcoach.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test-team1",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


def _add_sample_board(env: dict[str, str]) -> None:
    cli = [sys.executable, "-m", "bot.cli"]
    add = [*cli, "board", "add", "Payments", "--connector", "file", "--set", f"path={SAMPLE_EVENTS_PATH}"]
    subprocess.run([*add, "--workflow", str(SAMPLE_WORKFLOW_PATH)], env=env, check=True, capture_output=True)
    subprocess.run([*cli, "sync"], env=env, check=True, capture_output=True)


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit("flowcoach serve exited during start-up")
        time.sleep(0.2)
    raise SystemExit("flowcoach serve did not answer /healthz within 60 s")


def _wait_answers(slack: SlackEmulator, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(slack.responses) < expected:
        time.sleep(0.1)
    return len(slack.responses)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ms(sorted_values: list[float], percentile: float) -> str:
    index = min(len(sorted_values) - 1, round(percentile / 100 * (len(sorted_values) - 1)))
    return f"{sorted_values[index] * 1000:.1f} ms"


if __name__ == "__main__":
    main()
