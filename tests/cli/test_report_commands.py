"""`flowcoach digest` and `flowcoach health` on the bundled sample, from files and from a stored board."""

from __future__ import annotations

import json

import pytest

from bot.cli.main import main
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from tests.cli.test_bounds_cli import one_line_error
from tests.cli.test_store_cli import add_sample, store_env  # noqa: F401 (a fixture)

FILES = ("--events", SAMPLE_EVENTS_PATH, "--workflow", SAMPLE_WORKFLOW_PATH)
ASOF = ("--asof", "2026-11-20T17:00")


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def output(capsys: pytest.CaptureFixture[str], *args: object) -> str:
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return out


def test_digest_text_leads_with_the_headline_and_matches_the_metrics(capsys) -> None:
    """The first lines say what finished, what is in progress and what is stuck; the WIP is what
    `flowcoach metrics` says at the same instant; no Slack markup."""
    metrics = json.loads(output(capsys, "metrics", *FILES, *ASOF, "--format", "json"))
    out = output(capsys, "digest", *FILES, *ASOF)
    lines = out.splitlines()
    assert lines[0] == "Payments — daily digest, Fri 20 Nov 2026 17:00 (Europe/Zurich)"
    assert lines[1].startswith("Finished: 2 yesterday, 14 in the last 7 days (30-day average 1.6 a day")
    total, limit = metrics["wip"]["total"], metrics["wip"]["limit"]
    assert (total, limit) == (17, 16)
    assert lines[2] == "In progress: 17 of 16, 1 over the board limit; over limit: Development, Test"
    assert lines[3] == "Stuck: 3 blocked, 3 near or past the SLE; bottleneck: Ready"
    assert "  Development  6 / 4  over by 2" in lines
    assert "  Review       1 / 3" in lines
    assert any(
        line.startswith("  PAY-205 in Development, 44.3 d old, pace 100%, past SLE, blocked")
        for line in lines
    )
    assert "  Review has 2 free places: next in line is PAY-295 in Development (7.3 d old)" in out
    assert "Warning: statuses no stage lists (items stay where they were): Triage (5 items)." in lines
    for markup in ("*", ":warning:", "<http", "│"):
        assert markup not in out


def test_digest_json_has_the_facts(capsys) -> None:
    """Dates carry the board's offset, numbers are plain, and the stages add up to the total."""
    document = json.loads(output(capsys, "digest", *FILES, *ASOF, "--format", "json"))
    assert document["asof"] == "2026-11-20T17:00:00+01:00"
    assert document["finished"] == {
        "yesterday": 2,
        "yesterday_date": "2026-11-19",
        "last_7_days": 14,
        "daily_average": 1.6,
        "weekly_average": 11.2,
        "window_days": 30,
    }
    wip = document["wip"]
    assert wip["total"] == sum(stage["wip"] for stage in wip["stages"]) == 17
    assert [stage["name"] for stage in wip["stages"] if stage["over"]] == ["Development", "Test"]
    assert [item["id"] for item in document["aging"]] == ["PAY-205", "PAY-237", "PAY-252"]
    assert [item["id"] for item in document["blocked"]] == ["PAY-205", "PAY-237", "PAY-277"]
    assert document["bottleneck"]["stage"] == "Ready" and document["bottleneck"]["rule"] == "waiting_time"
    assert document["pull"][0]["stage"] == "Review" and document["pull"][0]["item"]["id"] == "PAY-295"
    assert document["data"]["unmapped_statuses"] == {"Triage": 5}
    assert document["data"]["stale"] is False


def test_health_text_leads_with_the_verdict_and_three_numbers(capsys) -> None:
    """Push on the sample: limits exceeded every working day of the four weeks."""
    lines = output(capsys, "health", *FILES, *ASOF).splitlines()
    assert lines[0] == "Payments — flow health, Fri 20 Nov 2026 17:00 (Europe/Zurich)"
    assert lines[1].startswith("Push: work is started faster than it is finished")
    strongest = lines[2:5]
    assert all(line.startswith("  ✓ ") for line in strongest)
    assert strongest[0] == "  ✓ WIP limits exceeded at the end of 20 of 20 working days (push above 50%)"
    assert lines[5] == ""
    assert lines[6].startswith("Evidence, last 4 weeks (Fri 23 Oct 2026 – Fri 20 Nov 2026)")
    assert "    ✗ 51 items entered the started system, 45 finished: 1.13× (push above 1.20×)" in lines
    assert any(line.startswith("Bottleneck: Ready — ") for line in lines)
    assert "  Throughput: 14 a week against 10.5 a week (+33%)" in lines
    assert lines[-1].startswith("Next step: Stop starting, start finishing")


def test_health_json_has_every_criterion(capsys) -> None:
    document = json.loads(output(capsys, "health", *FILES, *ASOF, "--format", "json"))
    assert document["verdict"] == "push"
    assert document["asof"] == "2026-11-20T17:00:00+01:00"
    assert len(document["strongest"]) == 3 and document["strongest"][0]["name"] == "days_over_limit"
    names = {criterion["name"] for criterion in document["evidence"]}
    assert {"arrival_ratio", "days_over_limit", "flow_efficiency", "balance", "littles_law"} <= names
    assert document["numbers"]["arrivals"] == 51 and document["numbers"]["departures"] == 45
    assert document["numbers"]["days_over_limit"] == document["numbers"]["working_days"] == 20
    assert document["bottleneck"]["stage"] == "Ready"
    assert document["trends"]["finished_last_week"] == 14
    assert document["period"]["start"].endswith("+02:00") or document["period"]["start"].endswith("+01:00")


def test_stored_board_says_the_same(capsys, store_env) -> None:  # noqa: F811 (the fixture)
    """A synced stored board gives the file's digest and verdict; its freshness is the sync's."""
    add_sample(capsys)
    assert run(capsys, "sync")[0] == 0
    asof = ("--asof", SAMPLE_ASOF.isoformat(), "--format", "json")
    stored = json.loads(output(capsys, "digest", "--board", "Payments", *asof))
    files = json.loads(output(capsys, "digest", *FILES, *asof))
    assert stored["wip"] == files["wip"] and stored["finished"] == files["finished"]
    assert stored["data"]["last_synced_at"] is not None
    health = json.loads(output(capsys, "health", "--board", "Payments", *asof))
    assert (
        health["verdict"] == "push"
        and health["numbers"] == json.loads(output(capsys, "health", *FILES, *asof))["numbers"]
    )


def test_unsynced_board_warns_on_stderr(capsys, store_env) -> None:  # noqa: F811 (the fixture)
    add_sample(capsys)
    code, out, err = run(capsys, "digest", "--board", "Payments", "--format", "json")
    assert code == 0 and json.loads(out)["wip"]["total"] == 0
    assert err.startswith("flowcoach: warning: ")


@pytest.mark.parametrize("command", ["digest", "health"])
def test_bad_arguments_are_one_line(capsys, command: str) -> None:
    assert "--asof" in one_line_error(capsys, command, *FILES, "--asof", "yesterday-ish")
    assert "--board" in one_line_error(capsys, command, "--events", SAMPLE_EVENTS_PATH)
    assert "not both" in one_line_error(capsys, command, "--board", "X", *FILES)
    assert "--format" in one_line_error(capsys, command, *FILES, "--format", "xml")
