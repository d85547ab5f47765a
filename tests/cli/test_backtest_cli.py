"""`flowcoach backtest` on the command line: the spec's JSON, a sentence a team lead reads, clear errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH

WORKFLOW = """\
name: Tiny
timezone: Europe/Zurich
stages:
  - {name: Backlog, kind: backlog, statuses: [Backlog]}
  - {name: Doing, kind: active, statuses: [Doing]}
  - {name: Done, kind: done, statuses: [Done]}
"""
DAY0 = dt.date(2026, 1, 5)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def one_a_day(tmp_path: Path) -> list[str]:
    """An item finished every day at noon for 60 days, then nothing: every forecast says "7 in 7 days"."""
    rows = ["item_id,timestamp,event,from_status,to_status"]
    for n in range(60):
        when = DAY0 + dt.timedelta(days=n)
        rows.append(f"T-{n},{when}T09:00:00+01:00,status,Backlog,Doing")
        rows.append(f"T-{n},{when}T12:00:00+01:00,status,Doing,Done")
    (tmp_path / "events.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "workflow.yml").write_text(WORKFLOW)
    return ["--events", str(tmp_path / "events.csv"), "--workflow", str(tmp_path / "workflow.yml")]


def test_the_json_document_is_the_specs(capsys, one_a_day):
    """Origins on days 40, 50 and 60 (every 10 days, horizon 7): 7 seen twice, then 0: hit rate 2/3."""
    period = ["--since", "2026-02-14", "--until", "2026-03-16T00:00", "--horizon", "7", "--every", "10"]
    code, out, err = run(capsys, "backtest", *one_a_day, *period, "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    keys = {"board", "horizon_days", "window_days", "every_days", "origins", "hit_rate", "count"}
    assert set(document) == keys
    assert (document["board"], document["horizon_days"], document["window_days"]) == ("Tiny", 7, 30)
    assert [o["asof"] for o in document["origins"]] == [
        "2026-02-14T00:00:00+01:00", "2026-02-24T00:00:00+01:00", "2026-03-06T00:00:00+01:00"
    ]  # fmt: skip
    assert [o["actual"] for o in document["origins"]] == [7, 7, 0]
    assert document["origins"][0]["forecast"] == {"50": 7, "70": 7, "85": 7, "95": 7}
    assert document["hit_rate"] == {"50": 0.6667, "70": 0.6667, "85": 0.6667, "95": 0.6667}
    assert document["count"] == 3


def test_the_text_leads_with_the_track_record_and_warns_when_it_is_poor(capsys, one_a_day):
    period = ["--since", "2026-02-14", "--until", "2026-03-16T00:00", "--horizon", "7", "--every", "10"]
    code, out, _ = run(capsys, "backtest", *one_a_day, *period)
    assert code == 0
    lines = out.splitlines()
    expected = "Over the last 4 weeks, our 85 % forecasts came true 67 % of the time; the 50 % ones 67 %."
    assert lines[1] == expected
    assert "Poor track record" in out and "--window 60" in out


def test_the_sample_board_over_half_a_year(capsys):
    code, out, _ = run(capsys, "backtest", "--events", SAMPLE_EVENTS_PATH, "--workflow", SAMPLE_WORKFLOW_PATH,
                       "--until", "2026-11-20T17:00", "--format", "json")  # fmt: skip
    assert code == 0
    document = json.loads(out)
    assert len(document["origins"]) == 169 and document["count"] == 163
    assert all(0 <= rate <= 1 for rate in document["hit_rate"].values())
    hits = sum(o["actual"] >= o["forecast"]["85"] for o in document["origins"] if o["forecast"])
    assert document["hit_rate"]["85"] == round(hits / 163, 4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-03-10", "--until", "2026-03-12T00:00"], "--since: from 2026-03-10 to 2026-03-12"),
        (["--since", "March"], "--since"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_1(capsys, one_a_day, args, message):
    code, out, err = run(capsys, "backtest", *one_a_day, *args)
    assert code == 1 and out == ""
    assert message in err and len(err.splitlines()) == 1
