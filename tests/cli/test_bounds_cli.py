"""Out-of-range arguments and unusable output folders: one line, exit status 1, bounded time and memory.

Each of these used to end in an internal error (exit 70), run for minutes, or answer with nonsense.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.cli import arguments
from bot.cli.main import main

WORKFLOW = Path(__file__).resolve().parents[1] / "analytics" / "data" / "spec_workflow.yml"
ASOF = "2026-01-31T12:00:00+01:00"


@pytest.fixture
def steady(tmp_path: Path) -> list[str]:
    """20 items finished on 20 days of January: enough history to forecast from."""
    rows = ["item_id,timestamp,event,to_status"]
    for day in range(2, 22):
        rows.append(f"S-{day},2026-01-{day:02d}T09:00:00+01:00,status,In Progress")
        rows.append(f"S-{day},2026-01-{day:02d}T15:00:00+01:00,status,Done")
    path = tmp_path / "steady.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return ["--events", str(path), "--workflow", str(WORKFLOW)]


def one_line_error(capsys: pytest.CaptureFixture[str], *args: object) -> str:
    """Run the command, expecting exit status 1, nothing on stdout and one error line; that line."""
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert captured.out == "" and captured.err.startswith("flowcoach: error: ")
    assert captured.err.count("\n") == 1 and "internal error" not in captured.err
    return captured.err


def test_charts_out_naming_a_file(capsys, steady, tmp_path):
    existing = tmp_path / "report.png"
    existing.write_bytes(b"not a folder")
    err = one_line_error(capsys, "charts", *steady, "--asof", ASOF, "--out", existing)
    assert f"{existing}: is a file, not a folder" in err
    assert existing.read_bytes() == b"not a folder"


def test_charts_out_where_no_folder_can_be_made(capsys, steady, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    inside_a_file = tmp_path / "file" / "charts"
    err = one_line_error(capsys, "charts", *steady, "--asof", ASOF, "--out", inside_a_file)
    assert "cannot write the charts there" in err


def test_charts_out_where_a_chart_cannot_be_written(capsys, steady, tmp_path):
    """A folder that exists but refuses a file (here a folder already has the chart's name)."""
    (tmp_path / "charts" / "throughput.png").mkdir(parents=True)
    err = one_line_error(capsys, "charts", *steady, "--asof", ASOF, "--out", tmp_path / "charts")
    assert "throughput.png: cannot write the charts there" in err


def test_demo_out_naming_a_file_stops_it_before_any_output(capsys, tmp_path):
    existing = tmp_path / "charts"
    existing.write_text("a file", encoding="utf-8")
    assert "is a file, not a folder" in one_line_error(capsys, "demo", "--out", existing)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["metrics", "--window", "200000"],
            "argument --window: 200,000 is too many: at most 3,650 (ten years)",
        ),
        (["forecast", "--items", "5", "--trials", "100000000"], "argument --trials: 100,000,000 is too many"),
        (
            ["forecast", "--items", "99999999999999999999999"],
            "argument --items: 99,999,999,999,999,999,999,999",
        ),
        (["forecast", "--items", "5", "--seed", "-1"], "argument --seed: -1 must be 0 or more"),
        (["backtest", "--horizon", "5000"], "argument --horizon: 5,000 is too many"),
        (["backtest", "--trials", "1000000"], "argument --trials: 1,000,000 is too many: at most 100,000"),
    ],
)
def test_numbers_beyond_their_bounds_are_refused_before_any_work(capsys, steady, args, message):
    started = time.perf_counter()
    err = one_line_error(capsys, *args, *steady)
    assert message in err
    assert time.perf_counter() - started < 5


def test_the_bounds_themselves_are_accepted():
    assert arguments.days(str(arguments.MAX_WINDOW_DAYS)) == 3650
    assert arguments.trials(str(arguments.MAX_TRIALS)) == 1_000_000
    assert arguments.seed("0") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["metrics", "--asof", "1500-01-01"], "--asof: '1500-01-01' is outside the years 1900 to 2199"),
        (["metrics", "--asof", "9999-01-01T00:00Z"], "--asof: '9999-01-01T00:00Z' is outside the years"),
        (["forecast", "--asof", ASOF, "--by", "9999-12-31"], "--by: '9999-12-31' is outside the years"),
        (["replay", "--since", "1600-01-01"], "--since: '1600-01-01' is outside the years 1900 to 2199"),
        (["backtest", "--since", "0001-01-01"], "--since: '0001-01-01' is outside the years"),
        (["replay", "--since", "2025-01-01", "--until", ASOF], "a replay covers at most 366 days"),
        (["backtest", "--since", "2015-01-01", "--until", ASOF], "a backtest covers at most 3650 days"),
    ],
)
def test_times_out_of_range_are_refused(capsys, steady, args, message):
    assert message in one_line_error(capsys, *args, *steady)


def test_a_count_more_than_a_year_ahead_is_refused_like_a_date_more_than_a_year_ahead(capsys, steady):
    """`--by` beyond a year used to answer "at least 4659382 items"; a "when" forecast says "more than a
    year" there, so the count is refused too, naming the furthest date that can be asked."""
    err = one_line_error(capsys, "forecast", *steady, "--asof", ASOF, "--by", "2027-02-01")
    assert err == (
        "flowcoach: error: --by: 2027-02-01 is more than a year after 2026-01-31, too far to forecast; "
        "ask about a date up to 2027-01-31\n"
    )
    assert main(["forecast", *steady, "--asof", ASOF, "--by", "2027-01-31", "--seed", "1"]) == 0
    assert "at least" in capsys.readouterr().out
