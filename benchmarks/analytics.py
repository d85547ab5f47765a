"""Benchmark the analytics core: reading the event log, the full metrics document, and the four charts.

Usage: ``python benchmarks/analytics.py [--sizes 5000 20000 50000 200000] [--charts-at 50000] [--repeat 3]``

Each measurement runs in a fresh child process, so peak memory (``ru_maxrss``) is that step's own, including
the interpreter and libraries (about 100 MiB before any data). Wall times are the best of ``--repeat`` runs
inside the child, after one warm-up run that also imports everything.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ASOF = "2026-11-20T17:00:00+01:00"
BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # run from a checkout without installing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 50_000, 200_000])
    parser.add_argument("--charts-at", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "EVENTS", "WORKFLOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, events, workflow = args.child
        print(json.dumps(_measure(step, Path(events), Path(workflow), args.repeat)))
        return

    from benchmarks.synthetic import write_board

    print(_machine())
    print(f"{'items':>8} {'events':>9} {'step':<10} {'best s':>8} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory(prefix="flowcoach-bench-") as tmp:
        for size in sorted(set(args.sizes) | {args.charts_at}):
            events_path, workflow_path = write_board(Path(tmp) / str(size), size, seed=size)
            steps = ["read", "document"] + (["charts"] if size == args.charts_at else [])
            if size not in args.sizes:
                steps = ["charts"]
            for step in steps:
                result = _run_child(step, events_path, workflow_path, args.repeat)
                print(
                    f"{size:>8} {result['events']:>9} {step:<10}"
                    f" {result['seconds']:>8.3f} {result['peak_mib']:>9.0f}",
                    flush=True,
                )


def _run_child(step: str, events: Path, workflow: Path, repeat: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--repeat", str(repeat), "--child", step, str(events), str(workflow)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def _measure(step: str, events_path: Path, workflow_path: Path, repeat: int) -> dict[str, float]:
    import pandas as pd

    from analytics.charts.board import render_charts
    from analytics.document import metrics_document
    from analytics.measures import board_metrics
    from bot.connectors.files import load_workflow, read_event_log

    workflow = load_workflow(workflow_path)
    asof = pd.Timestamp(ASOF)
    log = read_event_log(events_path, workflow)

    def run() -> None:
        if step == "read":
            read_event_log(events_path, workflow)
        elif step == "document":
            metrics_document(board_metrics(log.events, workflow, asof, window_days=30))
        elif step == "charts":
            render_charts(board_metrics(log.events, workflow, asof, window_days=90))
        else:
            raise ValueError(step)

    run()  # warm-up: imports, caches, first-touch allocation
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": best, "peak_mib": peak_kib / 1024, "events": len(log.events)}


def _machine() -> str:
    import matplotlib
    import numpy
    import pandas

    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = f"{names[0]} × {len(names)}" if names else cpu
    return (
        f"# {platform.platform()}; {cpu}; Python {platform.python_version()}, pandas {pandas.__version__}, "
        f"numpy {numpy.__version__}, matplotlib {matplotlib.__version__}"
    )


if __name__ == "__main__":
    main()
