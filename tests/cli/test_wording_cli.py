"""What the command line prints counts and dates in one way: "1 item", "1 day", "Sat 3 Jan 2026".

Counts of one are where "1 days" and "1 items" hid, so the board here has one of everything: a one-day
window, one finished item, one in progress, one status no stage lists, one item forecast.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli.main import main

WORKFLOW = Path(__file__).resolve().parents[1] / "analytics" / "data" / "spec_workflow.yml"
ASOF = "2026-01-03T12:00:00+01:00"  # a Saturday: the 3rd, a day written without a leading zero
PLURALS = "days|items|events|nudges|hours|weeks|batches|boards|secrets|sync runs|working days|working hours"
MISWORDED = re.compile(
    rf"\b1 ({PLURALS})\b"
    r"|\ba (active|item|event|hour|origin)\b"
    r"|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) 0\d"
    r"|\(s\)"
)


@pytest.fixture
def single(tmp_path: Path) -> list[str]:
    path = tmp_path / "events.csv"
    path.write_text(
        "item_id,timestamp,event,to_status\n"
        "A,2026-01-02T09:00:00+01:00,status,In Progress\n"
        "A,2026-01-03T10:00:00+01:00,status,Done\n"
        "B,2026-01-03T11:00:00+01:00,status,In Progress\n"
        "C,2026-01-03T11:30:00+01:00,status,Triage\n",
        encoding="utf-8",
    )
    return ["--events", str(path), "--workflow", str(WORKFLOW), "--asof", ASOF]


def printed(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main(list(args))
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_the_metrics_report_counts_one_in_the_singular(capsys, single):
    out = printed(capsys, "metrics", *single, "--window", "1")
    assert "Sat 3 Jan 2026 12:00" in out and "window: last 1 day" in out
    assert "Throughput:       1 finished in 1 day" in out and "Triage (1 item)" in out
    assert not MISWORDED.search(out), MISWORDED.search(out)


def test_forecasts_count_one_in_the_singular(capsys, tmp_path):
    rows = ["item_id,timestamp,event,to_status"]
    for day in range(2, 22):
        rows += [f"S-{day},2026-01-{day:02d}T09:00:00+01:00,status,In Progress"]
        rows += [f"S-{day},2026-01-{day:02d}T15:00:00+01:00,status,Done"]
    path = tmp_path / "steady.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # Forecasts start on Sat 31 Jan: every date they give is in early February, written without a zero.
    source = ["--events", str(path), "--workflow", str(WORKFLOW), "--asof", "2026-01-31T18:00:00+01:00"]
    when = printed(capsys, "forecast", *source, "--items", "1", "--seed", "1")
    assert "when will the next 1 item be done?" in when and re.search(r"on or before \w{3} \d Feb 2026", when)
    how_many = printed(capsys, "forecast", *source, "--by", "2026-02-01", "--seed", "1")
    assert "by Sun 1 Feb 2026?" in how_many and "(in 1 day)" in how_many
    for out in (when, how_many):
        assert not MISWORDED.search(out), MISWORDED.search(out)


def test_a_replay_counts_and_dates_in_one_style(capsys, single):
    out = printed(capsys, "replay", *single[:4], "--since", "2026-01-02", "--until", ASOF)
    assert out.startswith("Payments: ") and "from Fri 2 Jan 00:00 to Sat 3 Jan 12:00" in out
    assert not MISWORDED.search(out), MISWORDED.search(out)
