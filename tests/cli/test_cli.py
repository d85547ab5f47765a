"""The `flowcoach` command: documents, errors without tracebacks, charts and forecasts (spec/cli.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "analytics" / "data"
WORKFLOW = DATA / "spec_workflow.yml"

EVENTS = """item_id,timestamp,event,to_status,title,url
PAY-1,2026-01-02T09:00:00+01:00,created,To Do,Refund API,https://jira.example/PAY-1
PAY-1,2026-01-05T10:00:00+01:00,status,Selected for Development,,
PAY-1,2026-01-06T10:00:00+01:00,status,In Progress,,
PAY-1,2026-01-09T16:00:00+01:00,status,Done,,
PAY-2,2026-01-05T09:00:00+01:00,created,To Do,"Card checkout,
second line of the title",
PAY-2,2026-01-12T11:00:00+01:00,status,In Progress,,
PAY-2,2026-01-14T11:00:00+01:00,blocked,,,
PAY-3,2026-01-07T09:00:00+01:00,status,In Review,Export,
PAY-3,2026-01-20T09:00:00+01:00,status,Done,,
PAY-4,2026-01-08T09:00:00+01:00,status,Triage,Mystery,
"""

# Every key of the spec's example document (spec/metrics.md), nested.
SPEC_KEYS = {
    "": {
        "board",
        "asof",
        "window",
        "wip",
        "throughput",
        "cycle_time",
        "sle",
        "flow_efficiency",
        "stages",
        "items",
        "cfd",
        "data_quality",
        "process_behaviour",
    },
    "window": {"start", "end", "days"},
    "wip": {"total", "limit", "by_stage"},
    "throughput": {"total", "per_week", "daily"},
    "throughput.daily": {"date", "count"},
    "cycle_time": {"count", "mean", "p50", "p70", "p85", "p95", "max"},
    "sle": {"percentile", "days", "window_days"},
    "stages": {"name", "kind", "wip", "wip_limit", "arrivals", "departures", "time_in_stage"},
    "stages.time_in_stage": {"p50", "p85"},
    "items": {"item_id", "stage", "started_at", "age", "pace", "blocked"},
    "cfd": {"date"},
    "data_quality": {"unmapped_statuses", "warnings"},
    "process_behaviour": {"throughput", "cycle_time"},
    "process_behaviour.throughput": {"centre", "lower", "upper", "baseline", "signals"},
    "process_behaviour.cycle_time": {"centre", "lower", "upper", "baseline", "signals"},
}


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


@pytest.fixture
def steady_file(tmp_path: Path) -> Path:
    """20 items finished on 20 days of January: enough history to forecast from (10 items, 5 days)."""
    rows = ["item_id,timestamp,event,to_status"]
    for n in range(20):
        day = 2 + n
        rows.append(f"S-{n},2026-01-{day:02d}T09:00:00+01:00,status,In Progress")
        rows.append(f"S-{n},2026-01-{day:02d}T15:00:00+01:00,status,Done")
    path = tmp_path / "steady.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def source(events: Path) -> list[str]:
    return ["--events", str(events), "--workflow", str(WORKFLOW), "--asof", "2026-01-31T12:00:00+01:00"]


def test_metrics_json_has_every_key_of_the_spec_document(capsys, events_file):
    """`metrics --format json` prints the spec's document: every key, with the spec's meaning."""
    code, out, err = run(capsys, "metrics", *source(events_file), "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert SPEC_KEYS[""] <= document.keys()
    for path, keys in SPEC_KEYS.items():
        if not path:
            continue
        head, _, tail = path.partition(".")
        value = document[head]
        rows = value if isinstance(value, list) else [value]
        for row in rows:
            target = row[tail] if tail else row
            for entry in target if isinstance(target, list) else [target]:
                assert keys <= entry.keys(), path
    assert document["asof"] == "2026-01-31T12:00:00+01:00"
    assert document["window"] == {
        "start": "2026-01-01T12:00:00+01:00",
        "end": "2026-01-31T12:00:00+01:00",
        "days": 30,
    }
    assert document["wip"] == {
        "total": 1,
        "limit": 12,
        "by_stage": {"Ready": 0, "Development": 1, "Review": 0},
    }
    assert document["throughput"]["total"] == 2
    assert document["cycle_time"]["count"] == 2
    assert document["cycle_time"]["max"] == pytest.approx(13.0)  # PAY-3: Jan 7 → Jan 20
    assert document["data_quality"]["unmapped_statuses"] == {"Triage": 1}
    [item] = document["items"]
    assert item["item_id"] == "PAY-2" and item["blocked"] is True
    assert item["title"] == "Card checkout,\nsecond line of the title"
    assert {row["date"] for row in document["cfd"]} >= {"2026-01-01", "2026-01-31"}
    assert set(document["cfd"][0]) == {"date", "Backlog", "Ready", "Development", "Review", "Done", "Dropped"}


def test_metrics_text_is_a_readable_report(capsys, events_file):
    """The text format shows the board, WIP against limits, cycle-time percentiles and aging items."""
    code, out, _ = run(capsys, "metrics", *source(events_file))
    assert code == 0
    assert out.startswith("Payments — flow as of Sat 31 Jan 2026 12:00 (Europe/Zurich)")
    assert "Development" in out and "1 / 4" in out
    assert "85% ≤" in out
    assert "PAY-2" in out and "BLOCKED" in out
    assert "Triage (1 item)" in out


def test_malformed_rows_are_all_reported_with_their_lines(capsys, tmp_path):
    """Bad rows are listed as file:line: problem, all of them, and the exit status is non-zero."""
    path = tmp_path / "bad.csv"
    path.write_text(
        "item_id,timestamp,event,to_status\n"
        "A,2026-01-02T09:00:00Z,status,In Progress\n"
        ",2026-01-02T09:00:00Z,status,Done\n"
        "B,yesterday,status,Done\n"
        "C,2026-01-02T09:00:00Z,teleported,Done\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "metrics", *source(path))
    assert code == 1 and out == ""
    assert f"{path}:3:" in err and f"{path}:4:" in err and f"{path}:5:" in err
    assert "Traceback" not in err
    lenient_code, lenient_out, _ = run(capsys, "metrics", *source(path), "--lenient", "--format", "json")
    assert lenient_code == 0
    warnings = json.loads(lenient_out)["data_quality"]["warnings"]
    # The three skipped rows, then what the guards add for a log this short and old (spec/coaching.md).
    assert len([warning for warning in warnings if warning.endswith("(skipped)")]) == 3
    assert any("longer than the history" in warning for warning in warnings)


def test_workflow_errors_name_stage_and_field(capsys, tmp_path, events_file):
    """An invalid workflow file is one clear error naming the stage and field."""
    bad = tmp_path / "wf.yml"
    bad.write_text("name: X\nstages:\n  - {name: Doing, statuses: [A], kind: busy}\n", encoding="utf-8")
    code, _, err = run(capsys, "metrics", "--events", events_file, "--workflow", bad)
    assert code == 1
    assert "stage 'Doing': kind:" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--asof", "soon"], "--asof: 'soon' is not an ISO 8601"),
        (["--events", "nowhere.csv"], "nowhere.csv: no such events file"),
    ],
)
def test_bad_arguments_get_one_clear_line(capsys, events_file, args, message):
    """Unreadable arguments give one line saying what is wrong."""
    code, _, err = run(capsys, "metrics", *source(events_file), *args)
    assert code == 1
    assert message in err and err.count("\n") == 1


def test_forecast_when_json(capsys, steady_file):
    """`forecast --items` answers with dates per confidence level, later for higher confidence."""
    code, out, err = run(
        capsys, "forecast", *source(steady_file), "--items", "3", "--seed", "7", "--format", "json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["question"] == "when" and document["items"] == 3 and document["seed"] == 7
    levels = [row["confidence"] for row in document["forecast"]]
    days = [row["days"] for row in document["forecast"]]
    assert levels == [50, 70, 85, 95] and days == sorted(days) and days[0] > 0
    assert document["forecast"][0]["date"] > "2026-01-31"


def test_forecast_how_many_is_repeatable_with_a_seed(capsys, steady_file):
    """`forecast --by` gives at-least counts that don't grow with confidence; a seed repeats the answer."""
    args = ["forecast", *source(steady_file), "--by", "2026-03-01", "--seed", "1", "--format", "json"]
    first = json.loads(run(capsys, *args)[1])
    second = json.loads(run(capsys, *args)[1])
    assert first == second
    counts = [row["at_least"] for row in first["forecast"]]
    assert counts == sorted(counts, reverse=True)
    assert first["days"] == 29


def test_a_forecast_from_too_little_history_says_what_is_missing(capsys, events_file):
    """Two items finished in the window: not enough to forecast from; one line says what is missing."""
    code, out, err = run(capsys, "forecast", *source(events_file), "--items", "3")
    assert code == 1 and out == ""
    assert err.strip() == (
        "flowcoach: error: too little history to forecast from: items finished on fewer than 5 days of "
        "the window"
    )


def test_forecast_without_throughput_says_it_cannot(capsys, events_file):
    """No finished items in the window → an explicit "cannot forecast", never a date."""
    code, out, err = run(
        capsys,
        "forecast",
        "--events",
        events_file,
        "--workflow",
        WORKFLOW,
        "--asof",
        "2026-01-08",
        "--items",
        "5",
    )
    assert code == 1 and out == ""
    assert "no items" in err.lower() or "no throughput" in err.lower()


def test_forecast_by_a_past_date_is_refused(capsys, events_file):
    """A target date on or before the forecast's start is a usage error."""
    code, _, err = run(capsys, "forecast", *source(events_file), "--by", "2026-01-31")
    assert code == 1 and "--by" in err


def test_charts_writes_eight_pngs(capsys, events_file, tmp_path):
    """`charts --out DIR` writes the four flow charts, the throughput process behaviour chart, the
    cycle-time and throughput histograms and the WIP run chart."""
    out_dir = tmp_path / "charts"
    code, out, err = run(capsys, "charts", *source(events_file), "--out", out_dir)
    assert code == 0, err
    pngs = sorted(out_dir.glob("*.png"))
    assert [p.name for p in pngs] == sorted(
        [
            "cycle-time-scatterplot.png",
            "aging-wip.png",
            "cumulative-flow.png",
            "throughput.png",
            "throughput-pbc.png",
            "cycle-time-histogram.png",
            "throughput-histogram.png",
            "wip-run-chart.png",
        ]
    )
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    assert out.count("wrote ") == 8


def test_demo_runs_with_no_configuration(capsys, tmp_path):
    """`demo` prints the sample board's summary and forecasts and writes the eight charts."""
    code, out, err = run(capsys, "demo", "--out", tmp_path / "demo")
    assert code == 0, err
    for expected in (
        "Work in progress",
        "Throughput",
        "Cycle time",
        "SLE",
        "Aging work in progress",
        "when will the next 10 items be done?",
        "Charts (last 90 days) written to",
    ):
        assert expected in out
    assert len(list((tmp_path / "demo").glob("*.png"))) == 8


def test_demo_leads_with_a_summary_then_headings(capsys, tmp_path):
    """The first lines (at most ten, before the first heading) summarise the board: WIP against the limit
    with the stages over theirs (as the metrics say), throughput, cycle time and SLE, the verdict, the top
    concern and where the charts went; the detail follows under headings."""
    code, out, err = run(capsys, "demo", "--out", tmp_path / "demo")
    assert code == 0, err
    lines = out.splitlines()
    summary = lines[: lines.index("== Metrics ==")]
    assert len(summary) <= 10
    assert summary[0].startswith("flowcoach demo: the bundled sample board 'Payments', 330 items tracked")
    assert summary[0].endswith("as of Fri 20 Nov 2026 17:00.")
    assert "  WIP:          17 of 16; over limit: Development 6/4, Test 5/3" in summary
    assert "  Throughput:   11.2 a week (48 finished in the last 30 days)" in summary
    assert "  Cycle time:   85% within 10.2 d; SLE 85% within 16.3 d" in summary
    assert any(line.startswith("  Flow:         Push — WIP limits exceeded") for line in summary)
    assert any(
        line.startswith("  Top concern:  PAY-205 in Development, 44.3 d old, past the SLE")
        for line in summary
    )
    assert f"  Charts:       8 PNG files in {tmp_path / 'demo'}" in summary
    headings = [line for line in lines if line.startswith("== ")]
    assert headings == [
        "== Metrics ==",
        "== Forecasts ==",
        "== Charts ==",
        "== The coach ==",
        "== Today's digest ==",
        "== Try it on your own board ==",
    ]


def test_installed_command_never_shows_a_traceback(tmp_path):
    """The real console script exits non-zero with one message; --debug shows the traceback."""
    executable = shutil.which("flowcoach", path=str(Path(sys.executable).parent))
    assert executable, "the flowcoach console script is installed with the package"
    bad = tmp_path / "e.csv"
    bad.write_text("item_id,timestamp\nA,not-a-time\n", encoding="utf-8")
    args = [executable, "metrics", "--events", str(bad), "--workflow", str(WORKFLOW)]
    plain = subprocess.run(args, capture_output=True, text=True, check=False)
    assert plain.returncode == 1
    assert plain.stderr.startswith("flowcoach: error:") and "Traceback" not in plain.stderr
    for debug_args in ([*args, "--debug"], [executable, "--debug", *args[1:]]):
        debug = subprocess.run(debug_args, capture_output=True, text=True, check=False)
        assert debug.returncode == 1
        assert "Traceback" in debug.stderr


def test_sample_board_document_has_every_spec_key(capsys):
    """On the bundled sample board, the JSON document carries every key of the spec with values in place."""
    from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH

    code, out, err = run(
        capsys,
        "metrics",
        "--events",
        SAMPLE_EVENTS_PATH,
        "--workflow",
        SAMPLE_WORKFLOW_PATH,
        "--asof",
        SAMPLE_ASOF.isoformat(),
        "--format",
        "json",
    )
    assert code == 0, err
    document = json.loads(out)
    assert SPEC_KEYS[""] <= document.keys()
    assert all(SPEC_KEYS["stages"] <= stage.keys() for stage in document["stages"])
    assert all(SPEC_KEYS["items"] <= item.keys() for item in document["items"])
    assert document["wip"]["total"] == len(document["items"]) > 0
    assert document["cycle_time"]["p50"] <= document["cycle_time"]["p85"] <= document["cycle_time"]["max"]
    assert 0 < document["flow_efficiency"] < 1
    assert document["sle"]["days"] > 0
    assert len(document["throughput"]["daily"]) == len(document["cfd"]) == 31
    assert document["data_quality"]["unmapped_statuses"]


def test_a_date_beyond_a_year_is_said_so_and_numbers_have_thousands_separators(capsys, steady_file):
    """20 items in January: 1,500 more take years. No made-up date a year out; "1,500", not "1500"."""
    code, out, err = run(capsys, "forecast", *source(steady_file), "--items", "1500", "--seed", "1")
    assert code == 0, err
    assert "when will the next 1,500 items be done?" in out
    assert out.count("more than a year from now") == 4
    assert "(20 items finished)" in out
