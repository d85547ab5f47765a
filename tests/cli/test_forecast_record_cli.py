"""`flowcoach forecast` states its track record, warns when it is poor; `--window auto` says its choice."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from bot.cli.main import main

WORKFLOW = """\
name: Tiny
timezone: Europe/Zurich
stages:
  - {name: Doing, kind: active, statuses: [Doing]}
  - {name: Done, kind: done, statuses: [Done]}
"""
DAY0 = dt.date(2026, 1, 5)


def board(tmp_path: Path, per_day: list[int]) -> list[str]:
    """``per_day[n]`` items started at 09:00 and finished at noon on day ``n`` after DAY0."""
    rows = ["item_id,timestamp,event,to_status"]
    for n, count in enumerate(per_day):
        when = DAY0 + dt.timedelta(days=n)
        for k in range(count):
            rows += [
                f"T-{n}-{k},{when}T09:00:00+01:00,status,Doing",
                f"T-{n}-{k},{when}T12:00:00+01:00,status,Done",
            ]
    (tmp_path / "events.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "workflow.yml").write_text(WORKFLOW)
    return ["--events", str(tmp_path / "events.csv"), "--workflow", str(tmp_path / "workflow.yml")]


def forecast(capsys: pytest.CaptureFixture[str], source: list[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(["forecast", *source, "--seed", "1", *args])
    except SystemExit as exit_:  # argparse's own exit, for argument errors
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def day(n: int) -> str:
    return (DAY0 + dt.timedelta(days=n)).isoformat()


def test_a_forecast_ends_with_its_track_record(capsys, tmp_path):
    """One a day for 200 days: forecasts of 7 days (the question's horizon) all came true."""
    source = board(tmp_path, [1] * 200)
    code, out, _ = forecast(capsys, source, "--asof", day(200), "--by", day(207))
    assert code == 0
    assert out.splitlines()[-1] == (
        "  Track record: over the last 26 weeks, 85% forecasts like this one (7 days ahead, from 30 days of "
        "history) came true 100% of the time."
    )
    code, out, _ = forecast(capsys, source, "--asof", day(200), "--by", day(207), "--format", "json")
    assert json.loads(out)["track_record"] == {
        "level": 85, "hit_rate": 1.0, "forecasts": 176, "weeks": 26, "window_days": 30, "horizon_days": 7,
    }  # fmt: skip


def test_a_young_board_says_its_record_is_too_young(capsys, tmp_path):
    code, out, _ = forecast(capsys, board(tmp_path, [1] * 30), "--asof", day(30), "--items", "5")
    assert (
        code == 0 and "Track record: too young to judge — 14 past forecasts" in out and "(20 needed)" in out
    )


def test_a_poor_record_says_so_and_what_to_try(capsys, tmp_path):
    rng = np.random.default_rng(5)
    source = board(tmp_path, list(rng.poisson(4.0, 300)) + list(rng.poisson(2.0, 60)))
    code, out, _ = forecast(capsys, source, "--asof", day(360), "--items", "20", "--window", "90")
    assert code == 0
    assert "That is poor: throughput has probably changed" in out and "try --window auto" in out


def test_auto_takes_the_shorter_of_equally_calibrated_windows(capsys, tmp_path):
    """One a day: every window's forecasts all came true, a tie that goes to 30 days."""
    source = board(tmp_path, [1] * 200)
    code, out, _ = forecast(capsys, source, "--asof", day(200), "--items", "10", "--window", "auto")
    assert code == 0
    expected = "Window: 30 days, the best calibrated: its 85% forecasts came true 100% of the time"
    assert f"{expected} (60 days: 100%, 90 days: 100%)." in out
    auto_json = ["--window", "auto", "--format", "json"]
    code, out, _ = forecast(capsys, source, "--asof", day(200), "--items", "10", *auto_json)
    choice = json.loads(out)["window_choice"]
    assert choice["window_days"] == 30 and choice["chosen_by_record"] is True
    assert [c["window_days"] for c in choice["candidates"]] == [30, 60, 90]


def test_auto_after_throughput_halved_takes_the_window_that_forgot_the_old_pace(capsys, tmp_path):
    """Three a day for 300 days, then 1.5: two months later, auto takes 30 days (on every draw tried; at 45
    days the record of the new pace is still too short to tell the windows apart)."""
    rng = np.random.default_rng(0)
    source = board(tmp_path, list(rng.poisson(3.0, 300)) + list(rng.poisson(1.5, 60)))
    code, out, _ = forecast(capsys, source, "--asof", day(360), "--items", "20", "--window", "auto")
    assert code == 0 and "Window: 30 days, the best calibrated" in out
    assert "from the daily throughput of the last 30 days" in out


def test_auto_on_a_young_board_says_it_had_nothing_to_choose_by(capsys, tmp_path):
    code, out, _ = forecast(capsys, board(tmp_path, [1] * 30), "--asof", day(30), "--items", "5", "--window",
                            "auto")  # fmt: skip
    assert code == 0 and "Window: 30 days; no window has 20 checked past forecasts yet to choose by." in out


def test_window_must_be_days_or_auto(capsys, tmp_path):
    code, _, err = forecast(capsys, board(tmp_path, [1] * 30), "--items", "5", "--window", "sometimes")
    assert code != 0 and "'sometimes' is not a whole number" in err


def test_a_poor_record_names_the_throughput_signal_that_explains_it(capsys, tmp_path):
    """Four a day for 240 days, then one: 60 days later the 90-day window still carries the old pace, its
    record is poor, and the answer says why: weekly throughput fell below its limits, a real change."""
    source = board(tmp_path, [4] * 240 + [1] * 60)
    code, out, _ = forecast(capsys, source, "--asof", day(300), "--items", "20", "--window", "90")
    assert code == 0
    assert (
        "That is poor, and throughput changed: the week of 19 Oct finished 7 items, below the lower limit"
        in out
    )
    assert "try --window auto" not in out  # the window is not what is wrong
