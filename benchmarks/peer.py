"""flowcoach vs jira-agile-metrics 0.24 on the same 20,000 Jira issues, whole-process, in the same run.

Usage: ``python benchmarks/peer.py [--issues 20000] [--repeat 3] [--peer-venv /work/peer-venv]``

The synthetic board of ``benchmarks/synthetic.py`` (same seed, same rows) is loaded into the fake Jira Data
Center of ``tests/fakes/jira.py`` (statuses, Flagged on/off, issue types, summaries), served on 127.0.0.1 by
this process. Then, per repetition and in turn:

- **peer**: ``jira-agile-metrics config.yml`` from its own venv (old pins: pandas 1.5, numpy 1.26, matplotlib
  3.7), reading every issue with its changelog from the fake Jira and writing the cycle-time, CFD,
  throughput and percentiles data files (no charts: none is configured);
- **flowcoach --board**: ``flowcoach metrics --board Bench --format json`` on a SQLite store that
  ``flowcoach board add`` + ``flowcoach sync`` filled from the same fake Jira beforehand (not timed);
- **flowcoach --events**: ``flowcoach metrics --events events.csv --workflow workflow.yml --format json`` on
  the synthetic board's CSV, the same rows the fake Jira was built from.

Each is a fresh process started by this script in its own process group, timed wall clock from start to
exit (flowcoach's modules compiled to bytecode beforehand, as an install does); the median of ``--repeat``
runs is printed. All are killed (by process group) if anything fails.
Afterwards the items finished in the 30-day window and their median cycle time are compared.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from benchmarks.synthetic import DEFAULT_END, make_board, write_board  # noqa: E402
from tests.fakes.jira import FakeIssue, FakeJira, FakeStatus  # noqa: E402
from tests.fakes.jira_http import Handler  # noqa: E402

FLOWCOACH = [sys.executable, "-m", "bot.cli"]
ASOF = DEFAULT_END  # 2026-11-20 17:00 Europe/Zurich: the synthetic board's "now"
WINDOW_DAYS = 30
TOKEN_ENV = "BENCH_JIRA_TOKEN"
DONE_STATUSES = ("Done", "Closed")
DROPPED_STATUSES = ("Won't Do", "Cancelled")
# The peer's workflow: the synthetic board's stages in order; dropped items go back to the backlog (the peer
# has no "discarded": a backlog item is neither WIP nor finished, which is what flowcoach makes of them).
PEER_WORKFLOW = (
    ("Backlog", ("Backlog", "To Do", *DROPPED_STATUSES)),
    ("Ready", ("Selected for Development", "Ready for Dev")),
    ("Development", ("In Development", "In Progress")),
    ("Review", ("In Review", "Code Review")),
    ("Test", ("In Test", "QA")),
    ("Done", DONE_STATUSES),
)


class BenchJira(FakeJira):
    """The fake Jira plus what the ``jira`` library asks for and the project's fake does not serve:
    ``/rest/api/2/serverInfo`` (read by ``JIRA()`` before anything else) and ``resolution`` /
    ``resolutiondate`` on every issue (read by the peer for each issue). Counts the time spent answering."""

    serving = 0.0

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        jira = self

        class BenchHandler(Handler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                started = time.perf_counter()
                try:
                    if self.path.split("?")[0] == "/rest/api/2/serverInfo":
                        self._send(200, jira.server_info())
                    else:
                        super().do_GET()
                finally:
                    with lock:
                        jira.serving += time.perf_counter() - started

        lock = threading.Lock()
        return type("BoundHandler", (BenchHandler,), {"jira": self})

    def server_info(self) -> dict[str, Any]:
        return {
            "baseUrl": self.url,
            "version": "9.12.2",
            "versionNumbers": [9, 12, 2],
            "deploymentType": "Server",
            "buildNumber": 9120002,
            "serverTitle": "Fake Jira",
        }

    def issue_json(self, issue: FakeIssue, fields: Sequence[str] | None, expand: str = "") -> dict[str, Any]:
        body = super().issue_json(issue, fields, expand)
        if "fields" in body and (fields is None or {"*all", "*navigable"} & set(fields)):
            body["fields"] |= {"resolution": None, "resolutiondate": None}
        return body


def load_board(jira: FakeJira, issues: int) -> None:
    """The synthetic board's rows as Jira issues: created in their first status, then every status move
    and every block (Flagged on) / unblock (Flagged off) at its time."""
    frame, _ = make_board(issues)
    rows = frame[["item_id", "timestamp", "event", "to_status", "title", "type"]].itertuples(index=False)
    current: list[Any] = []
    for row in rows:
        if row.event == "created" and current:
            _add(jira, current)
            current = []
        current.append(row)
    if current:
        _add(jira, current)


def _add(jira: FakeJira, rows: list[Any]) -> None:
    first, moves, flags = rows[0], [], []
    for row in rows[1:]:
        at = dt.datetime.fromisoformat(row.timestamp)
        if row.event == "status":
            moves.append((at, row.to_status))
        else:
            flags.append((at, row.event == "blocked"))
    created = dt.datetime.fromisoformat(first.timestamp)
    issue = jira.add_issue(
        created, moves, flags=flags, initial=first.to_status, summary=first.title, type=first.type
    )
    assert issue.key == first.item_id, (issue.key, first.item_id)


def statuses() -> list[FakeStatus]:
    names = [name for _, names in PEER_WORKFLOW for name in names] + ["Triage"]
    category = {"Backlog": "new", "To Do": "new", "Triage": "new"}
    category |= dict.fromkeys((*DONE_STATUSES, *DROPPED_STATUSES), "done")
    kinds = [category.get(name, "indeterminate") for name in names]
    return [
        FakeStatus(str(10_000 + n), name, kind)
        for n, (name, kind) in enumerate(zip(names, kinds, strict=True))
    ]


def peer_config(url: str, email: str, token: str) -> str:
    workflow = "\n".join(f"  {stage}: {json.dumps(list(names))}" for stage, names in PEER_WORKFLOW)
    return f"""Connection:
  Domain: {url}
  Username: {email}
  Password: {token}
Query: project = SYN
Workflow:
{workflow}
Committed column: Ready
Done column: Done
Output:
  Quantiles: [0.5, 0.7, 0.85, 0.95]
  Cycle time data: cycletime.csv
  CFD data: cfd.csv
  Percentiles data: percentiles.csv
  Throughput data: throughput.csv
  Throughput frequency: 1D
"""


@contextlib.contextmanager
def group(command: Sequence[str], **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group, killed with its whole group however the block ends."""
    child = subprocess.Popen(command, start_new_session=True, **kwargs)
    try:
        yield child
    finally:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def timed(command: Sequence[str], *, env: dict[str, str], cwd: Path, out: Path) -> float:
    """Wall seconds of one whole process; its stdout to ``out``; raises if it fails."""
    with out.open("wb") as stdout, (cwd / "stderr.txt").open("ab") as stderr:
        started = time.perf_counter()
        with group(command, env=env, cwd=cwd, stdout=stdout, stderr=stderr) as child:
            code = child.wait(timeout=900)
        seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"{command[:4]} exited {code}; see {cwd / 'stderr.txt'}")
    return seconds


def run(command: Sequence[str], *, env: dict[str, str], cwd: Path) -> str:
    with group(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as child:
        output, _ = child.communicate(timeout=1800)
    if child.returncode != 0:
        raise RuntimeError(f"{command} exited {child.returncode}:\n{output.decode()}")
    return output.decode()


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-venv", type=Path, default=Path("/work/peer-venv"))
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: temporary)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = args.keep
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flowcoach-peer-bench-")))
        jira = stack.enter_context(BenchJira("dc", project="SYN", statuses=statuses()))
        bench(jira, tmp, args)


def bench(jira: BenchJira, tmp: Path, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    load_board(jira, args.issues)
    events_csv, workflow_yml = write_board(tmp / "board", args.issues)
    histories = sum(len(issue.histories) for issue in jira.issues.values())
    print(
        f"# fake Jira DC: {len(jira.issues):,} issues, {histories:,} histories "
        f"(built in {time.perf_counter() - started:.1f} s); load {load()}",
        flush=True,
    )
    env = dict(os.environ)
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp / 'store.db'}",
        "FLOWCOACH_SECRET_KEY": "peer-benchmark-passphrase",
        TOKEN_ENV: jira.token,
    }
    # As an install does (pip compiles what it installs; the peer's venv has its bytecode): without it, a
    # machine with PYTHONDONTWRITEBYTECODE set compiles flowcoach's own modules from source on every run.
    run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "bot"), str(ROOT / "analytics")],
        env=env,
        cwd=tmp,
    )
    print("# flowcoach's modules compiled to bytecode beforehand, as an install does (not timed)", flush=True)
    run([*FLOWCOACH, "db", "upgrade"], env=env, cwd=tmp)
    run(
        [
            *FLOWCOACH,
            "board",
            "add",
            "Bench",
            "--connector",
            "jira-dc",
            "--workflow",
            str(workflow_yml),
            "--set",
            f"url={jira.url}",
            "--set",
            "project=SYN",
            "--set-env",
            f"token={TOKEN_ENV}",
        ],
        env=env,
        cwd=tmp,
    )
    started = time.perf_counter()
    output = run([*FLOWCOACH, "sync", "Bench"], env=env, cwd=tmp)
    print(f"# flowcoach sync (not timed below): {time.perf_counter() - started:.1f} s: {output.strip()}")

    peer_dir = tmp / "peer"
    peer_dir.mkdir(exist_ok=True)
    (peer_dir / "config.yml").write_text(peer_config(jira.url, jira.email, jira.token), encoding="utf-8")
    peer = [str(args.peer_venv / "bin" / "jira-agile-metrics"), "config.yml"]
    window = ["--format", "json", "--asof", ASOF.isoformat(), "--window", str(WINDOW_DAYS)]
    commands = {
        "peer": (peer, peer_dir, dict(os.environ)),
        "flowcoach --board": ([*FLOWCOACH, "metrics", "--board", "Bench", *window], tmp, env),
        "flowcoach --events": (
            [*FLOWCOACH, "metrics", "--events", str(events_csv), "--workflow", str(workflow_yml), *window],
            tmp,
            env,
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    serving: list[float] = []
    for n in range(args.repeat):
        for name, (command, cwd, environment) in commands.items():
            before, jira.serving = load(), 0.0
            out = cwd / f"{name.replace(' ', '').replace('-', '')}.out"
            seconds = timed(command, env=environment, cwd=cwd, out=out)
            if name == "peer":
                serving.append(jira.serving)
            print(f"run {n + 1} {name:<20} {seconds:7.2f} s  (load before {before})", flush=True)
            times[name].append(seconds)
    peer_s = statistics.median(times["peer"])
    print(f"\n{'command':<22} {'median s':>9} {'runs':>24} {'peer ÷ this':>12}")
    for name, values in times.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        median = statistics.median(values)
        print(f"{name:<22} {median:9.2f} {runs:>24} {peer_s / median:11.1f}×")
    print(f"# the fake Jira's time serving the peer: {statistics.median(serving):.2f} s; load {load()}")
    agreement(peer_dir, tmp / "flowcoachboard.out", tmp / "flowcoachevents.out")


def agreement(peer_dir: Path, board_json: Path, events_json: Path) -> None:
    """Items finished in the window and their median cycle time, both ways."""
    document = json.loads(board_json.read_text(encoding="utf-8"))
    same = json.loads(events_json.read_text(encoding="utf-8"))
    for key in ("throughput", "cycle_time", "wip"):
        if document[key] != same[key]:
            print(f"# --board and --events differ on {key}: {document[key]} vs {same[key]}")
    tz = ASOF.tzinfo
    start = ASOF - dt.timedelta(days=WINDOW_DAYS)
    cycle_times, finished, started_days = [], 0, []
    stages = [stage for stage, _ in PEER_WORKFLOW]
    with (peer_dir / "cycletime.csv").open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            done = row["Done"]
            accepted = next((row[s] for s in stages[1:-1] if row[s]), "")
            if not done or not accepted:
                if row["Status"] not in DONE_STATUSES and any(row[s] for s in stages[1:-1]):
                    started_days.append(row)
                continue
            finished_on = dt.date.fromisoformat(done)
            if start.astimezone(tz).date() < finished_on <= ASOF.date():
                finished += 1
                cycle_times.append((finished_on - dt.date.fromisoformat(accepted)).days)
    print("\nagreement, 30-day window ending", ASOF.isoformat())
    print(f"{'':<34} {'peer':>8} {'flowcoach':>10}")
    total, daily = document["throughput"]["total"], document["throughput"]["daily"]
    whole_days = total - (daily[0]["count"] if daily and daily[0]["date"] == start.date().isoformat() else 0)
    print(f"{'items finished in the window':<34} {finished:>8} {total:>10}")
    print(f"{'  the same, whole days only':<34} {finished:>8} {whole_days:>10}")
    peer_median = statistics.median(cycle_times) if cycle_times else float("nan")
    print(f"{'median cycle time (days)':<34} {peer_median:>8.1f} {document['cycle_time']['p50']:>10.2f}")
    print(f"{'WIP (peer: started, not done, now)':<34} {len(started_days):>8} {document['wip']['total']:>10}")
    with (peer_dir / "percentiles.csv").open(encoding="utf-8") as file:
        peer_percentiles = ", ".join(f"{row['']}: {row['cycle_time']}" for row in csv.DictReader(file))
    print(f"# peer percentiles (every finished item, all history): {peer_percentiles}")


if __name__ == "__main__":
    main()
