"""Benchmark the command line as a user runs it: whole-process wall time, interpreter start included.

Usage: ``python benchmarks/cli_startup.py [--items 20000] [--repeat 5] [--checkout DIR]``

Times ``flowcoach --help``, ``flowcoach metrics --help`` and ``flowcoach metrics --format json`` on a
synthetic board of ``--items`` items (``benchmarks/synthetic.py``), each as ``python -m bot.cli`` in a fresh
process on this checkout; prints the best of ``--repeat`` runs after one warm-up (which fills the OS file
cache and Python's bytecode cache), and bare ``python -c pass`` for scale. ``--checkout`` times another
checkout's ``bot.cli`` (e.g. the commit before a change) on the same board.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
ASOF = "2026-11-20T17:00:00+01:00"  # the synthetic board's end (synthetic.DEFAULT_END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose CLI to time")
    args = parser.parse_args()

    from benchmarks.synthetic import write_board

    print(f"{args.checkout}: Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="flowcoach-cli-") as tmp:
        events, workflow = write_board(Path(tmp), args.items, seed=args.items)
        metrics = ["metrics", "--events", str(events), "--workflow", str(workflow), "--asof", ASOF]
        cases = {
            "python -c pass": ["-c", "pass"],
            "flowcoach --help": ["-m", "bot.cli", "--help"],
            "flowcoach metrics --help": ["-m", "bot.cli", "metrics", "--help"],
            f"metrics --format json ({args.items:,} items)": ["-m", "bot.cli", *metrics, "--format", "json"],
        }
        for label, command in cases.items():
            print(f"{label:<40} {best_of(command, args.repeat, args.checkout):7.3f} s", flush=True)


def best_of(arguments: list[str], repeat: int, checkout: Path) -> float:
    """The shortest wall time of ``repeat`` runs (after a warm-up) of ``python ARGUMENTS`` in ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    times = []
    for run in range(repeat + 1):
        start = time.perf_counter()
        command = [sys.executable, *arguments]
        subprocess.run(command, cwd=checkout, env=env, check=True, stdout=subprocess.DEVNULL, timeout=600)
        if run:  # the first run is the warm-up
            times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    main()
