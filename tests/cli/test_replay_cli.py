"""`flowcoach replay` on the bundled sample board: the spec's JSON document, the text report, `--board` from
the store, and one clear line for every bad argument (spec/coaching.md "Replay", README `flowcoach replay`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli.main import main
from bot.coach.rules import RULES as RULE_NAMES
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH

# The sample workflow's calendar (bot/sample/workflow.yml), restated here so the test checks the output
# against the file's promise rather than against the code that reads it.
ZONE = ZoneInfo("Europe/Zurich")
OPENS, CLOSES = dt.time(8, 30), dt.time(18, 30)
WORKING_DAYS = range(5)  # Monday to Friday

FILES = ["--events", str(SAMPLE_EVENTS_PATH), "--workflow", str(SAMPLE_WORKFLOW_PATH)]
SEPTEMBER = ["--since", "2026-09-01", "--until", "2026-09-30"]
FIRST_WEEK = ["--since", "2026-09-01", "--until", "2026-09-08"]  # short, to keep the runs cheap
FIRST_WEEK_END = dt.datetime(2026, 9, 8, tzinfo=ZONE)

NUDGE_KEYS = {
    "rule",
    "subject",
    "items",
    "detected_at",
    "posted_at",
    "resolved_at",
    "held",
    "message",
    "text",
}
HELD_REASONS = {None, "quiet_hours", "budget", "stale", "snoozed", "paced"}
RULES = set(RULE_NAMES)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def local(text: str) -> dt.datetime:
    """An instant of the document, read in the board's zone with zoneinfo (not with the product's code)."""
    return dt.datetime.fromisoformat(text).astimezone(ZONE)


def in_working_hours(moment: dt.datetime) -> bool:
    return moment.weekday() in WORKING_DAYS and OPENS <= moment.time() < CLOSES


def next_opening(moment: dt.datetime) -> dt.datetime:
    """For a moment outside working hours, the next opening: 08:30 on the next working day (or today)."""
    day = moment.date()
    if moment.time() >= OPENS:
        day += dt.timedelta(days=1)
    while day.weekday() not in WORKING_DAYS:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, OPENS, tzinfo=ZONE)


@pytest.fixture(scope="module")
def september() -> dict[str, Any]:
    """September on the sample board as `replay --format json` prints it, run once for the module (capsys
    is per test, so the output is captured with redirection)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["replay", *FILES, *SEPTEMBER, "--format", "json"])
    assert code == 0, err.getvalue()
    assert err.getvalue() == ""
    return json.loads(out.getvalue())


def only(document: dict[str, Any], rule: str, subject: str) -> list[dict[str, Any]]:
    return [n for n in document["nudges"] if n["rule"] == rule and n["subject"] == subject]


def test_json_has_the_spec_document_shape(september: dict[str, Any]) -> None:
    """The JSON document has exactly the spec's keys, the period in board-local time, and well-formed nudges
    in order of detection, each within the period and naming its subject."""
    assert set(september) == {"board", "since", "until", "nudges"}
    assert september["board"] == "Payments"
    # Plain dates are local midnights in the board's zone (Zurich is on CEST, +02:00, in September).
    assert september["since"] == "2026-09-01T00:00:00+02:00"
    assert september["until"] == "2026-09-30T00:00:00+02:00"
    nudges = september["nudges"]
    assert nudges, "a month of the sample board has nudges"
    since, until = local(september["since"]), local(september["until"])
    for nudge in nudges:
        assert set(nudge) == NUDGE_KEYS, nudge
        assert nudge["rule"] in RULES
        assert isinstance(nudge["items"], list) and all(isinstance(i, str) for i in nudge["items"])
        assert nudge["held"] in HELD_REASONS
        assert isinstance(nudge["text"], str)
        assert nudge["subject"].lower() in nudge["text"].lower()  # "Whole board" reads "The whole board"
        detected = local(nudge["detected_at"])
        assert since <= detected <= until
        assert detected.minute % 15 == 0 and detected.second == 0  # evaluated every 15 minutes
        if nudge["resolved_at"] is not None:
            assert local(nudge["resolved_at"]) > detected
        if nudge["rule"] in ("item_at_risk", "item_aging", "item_blocked"):
            assert nudge["items"] == [nudge["subject"]]  # item rules: the subject is the item id
    detections = [local(n["detected_at"]) for n in nudges]
    assert detections == sorted(detections)
    # Every instant is written with the board's own UTC offset, not in UTC.
    for text in [september["since"], *(n["detected_at"] for n in nudges)]:
        assert dt.datetime.fromisoformat(text).utcoffset() == local(text).utcoffset()


def test_the_review_bottleneck_shows_as_review_growing_and_test_never_starving(
    september: dict[str, Any],
) -> None:
    """September's review bottleneck: Review is growing from Wednesday 2 September (as the README says).
    Test does not starve meanwhile: Review is the queue right before it, so Test has work to pull
    (``spec/coaching.md``; starving on hand-made boards is tested in tests/coach/test_starving.py)."""
    [growing] = [n for n in only(september, "queue_growing", "Review") if local(n["detected_at"]).day <= 7]
    detected = local(growing["detected_at"])
    assert detected.date() == dt.date(2026, 9, 2)
    assert growing["posted_at"] is not None and growing["held"] is None  # a Wednesday afternoon
    assert growing["text"].startswith("Review is growing")
    assert only(september, "stage_starving", "Test") == []
    assert only(september, "stage_starving", "Review") == []  # a queue: nobody waits there


def test_nudges_posted_together_share_a_message_id(september: dict[str, Any]) -> None:
    """spec: one message per evaluation. Nudges posted at the same evaluation carry the same `message`
    number, nudges posted at different evaluations different ones (numbered 1, 2, … in order); a nudge
    never posted has none. The first day's opening posts what piled up overnight together."""
    posted = [n for n in september["nudges"] if n["posted_at"] is not None]
    assert all(n["message"] is None for n in september["nudges"] if n["posted_at"] is None)
    by_message: dict[int, set[str]] = {}
    for nudge in posted:
        assert isinstance(nudge["message"], int), nudge
        by_message.setdefault(nudge["message"], set()).add(nudge["posted_at"])
    assert all(len(times) == 1 for times in by_message.values())  # one message, one moment
    moments = [next(iter(by_message[number])) for number in sorted(by_message)]
    assert sorted(by_message) == list(range(1, len(by_message) + 1))
    assert [local(m) for m in moments] == sorted({local(m) for m in moments})  # one id per moment, in order
    assert any(len([n for n in posted if n["message"] == number]) > 1 for number in by_message)


def test_posts_fall_in_working_hours_never_before_detection(september: dict[str, Any]) -> None:
    """Every posted_at is at or after detected_at and inside the board's working days and hours
    (Mon–Fri 08:30–18:30 Zurich); a nudge detected in quiet hours waits for the next opening and says so."""
    posted = [n for n in september["nudges"] if n["posted_at"] is not None]
    assert posted
    held_for_quiet_hours = 0
    for nudge in posted:
        detected, at = local(nudge["detected_at"]), local(nudge["posted_at"])
        assert at >= detected, nudge
        assert in_working_hours(at), f"{nudge['rule']} {nudge['subject']} posted {at:%a %H:%M}"
        if not in_working_hours(detected):
            held_for_quiet_hours += 1
            assert nudge["held"] == "quiet_hours", nudge
            assert at == next_opening(detected), nudge
        elif nudge["held"] is None:
            assert at == detected, nudge  # nothing held it: posted at the evaluation that saw it
    assert held_for_quiet_hours > 0, "the sample month has nudges detected at night or on weekends"


def test_text_format_lists_each_nudge_with_its_times(capsys: pytest.CaptureFixture[str], september) -> None:
    """The default text format prints a header with the period and zone, then for each nudge its detection
    time, rule and subject, when it was posted (and why it waited) and its message; no traceback."""
    code, out, err = run(capsys, "replay", *FILES, *FIRST_WEEK)
    assert code == 0, err
    assert err == "" and "Traceback" not in out

    def when(text: str) -> str:
        moment = local(text)
        return f"{moment:%a} {moment.day} {moment:%b %H:%M}"  # no leading zero on the day

    # Replay only looks at what happened by each evaluation, so the first week's nudges are the first
    # nudges of the whole month: the JSON run tells what the text must say.
    expected = [n for n in september["nudges"] if local(n["detected_at"]) < FIRST_WEEK_END]
    assert expected
    header = f"Payments: {len(expected)} nudges from Tue 1 Sep 00:00 to Tue 8 Sep 00:00 (Europe/Zurich)"
    assert out.splitlines()[0] == header
    lines = out.splitlines()
    for nudge in expected:
        title = f"{when(nudge['detected_at'])}  {nudge['rule']}  {nudge['subject']}"
        assert title in lines, title
        block = lines[lines.index(title) + 1 : lines.index(title) + 3]
        if nudge["posted_at"] is not None and local(nudge["posted_at"]) < FIRST_WEEK_END:
            held = f" (held: {nudge['held']})" if nudge["held"] else ""
            assert block[0].startswith(f"  posted {when(nudge['posted_at'])}{held} · resolved "), block
            assert block[1] == f"  {nudge['text']}", block  # the message as it was posted
        else:
            assert block[0].startswith("  posted never"), block
            assert block[1].startswith(f"  {nudge['subject']} "), block
    assert "Wed 2 Sep 14:30  queue_growing  Review" in lines
    assert "(held: quiet_hours)" in out


@pytest.fixture
def sqlite_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh SQLite database as DATABASE_URL (migrated on first use, as the README promises)."""
    url = f"sqlite:///{tmp_path / 'flowcoach.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("FLOWCOACH_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file from the working directory
    return url


def test_board_from_the_store_replays_like_the_files(capsys, sqlite_store: str) -> None:
    """The sample board added with `board add` (file connector) and synced replays with --board to the
    very same nudges as replay over the files, for the same period."""
    code, out, err = run(
        capsys,
        "board",
        "add",
        "Payments",
        "--connector",
        "file",
        "--workflow",
        SAMPLE_WORKFLOW_PATH,
        "--set",
        f"path={SAMPLE_EVENTS_PATH}",
    )
    assert code == 0, err
    code, out, err = run(capsys, "sync", "Payments")
    assert code == 0, err
    assert out.startswith("Payments: 2,131 new events")

    code, from_store, err = run(capsys, "replay", "--board", "Payments", *FIRST_WEEK, "--format", "json")
    assert code == 0, err
    code, from_files, err = run(capsys, "replay", *FILES, *FIRST_WEEK, "--format", "json")
    assert code == 0, err
    stored, files = json.loads(from_store), json.loads(from_files)
    assert stored == files
    assert only(stored, "queue_growing", "Review"), "the comparison covers the bottleneck's start"


def test_a_board_never_synced_says_to_sync_it_and_a_synced_one_keeps_its_name(
    capsys, sqlite_store: str
) -> None:
    """Before its first sync a board has no history to replay: one line saying to sync it, not an empty
    report. After the sync the report carries the name the board was registered under."""
    add = ["board", "add", "Checkout", "--connector", "file", "--workflow", SAMPLE_WORKFLOW_PATH]
    code, _, err = run(capsys, *add, "--set", f"path={SAMPLE_EVENTS_PATH}")
    assert code == 0, err
    code, out, err = run(capsys, "replay", "--board", "Checkout", *FIRST_WEEK)
    assert code == 1 and out == ""
    assert (
        err
        == "flowcoach: error: board 'Checkout' has no events yet; sync it first: flowcoach sync Checkout\n"
    )
    assert run(capsys, "sync", "Checkout")[0] == 0
    code, out, err = run(capsys, "replay", "--board", "Checkout", *FIRST_WEEK, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["board"] == "Checkout"  # the workflow file calls it Payments


def test_unknown_board_is_one_clear_line(capsys, sqlite_store: str) -> None:
    """--board with a name the store does not know: exit 1, one line naming the board, nothing printed."""
    code, out, err = run(capsys, "replay", "--board", "Nope", *FIRST_WEEK)
    assert code == 1 and out == ""
    assert err.startswith("flowcoach: error: no board named 'Nope'") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [*FILES, "--since", "2026-09-30", "--until", "2026-09-01"],
            "--until must be after --since",
        ),
        (
            [*FILES, "--since", "2026-09-01", "--until", "2026-09-01"],
            "--until must be after --since",
        ),
        (
            [*FILES, "--since", "2026-13-01", "--until", "2026-09-30"],
            "--since: '2026-13-01' is not an ISO 8601 date or time",
        ),
        (
            [*FILES, "--since", "2026-09-01", "--until", "end of September"],
            "--until: 'end of September' is not an ISO 8601 date or time",
        ),
        (SEPTEMBER, "give --board NAME, or both --events FILE and --workflow FILE"),
        (
            ["--events", str(SAMPLE_EVENTS_PATH), *SEPTEMBER],
            "give --board NAME, or both --events FILE and --workflow FILE",
        ),
        (
            ["--board", "Payments", *FILES, *SEPTEMBER],
            "give either --board, or --events with --workflow, not both",
        ),
    ],
    ids=[
        "since-after-until",
        "empty-period",
        "malformed-since",
        "malformed-until",
        "no-source",
        "events-without-workflow",
        "board-and-files",
    ],
)
def test_bad_input_is_one_clear_line(capsys, args: list[str], message: str) -> None:
    """Inconsistent or malformed arguments: exit status 1 and one `flowcoach: error: …` line saying what is
    wrong, with nothing on standard output and no traceback."""
    code, out, err = run(capsys, "replay", *args)
    assert code == 1
    assert out == ""
    assert err.startswith("flowcoach: error: ")
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
