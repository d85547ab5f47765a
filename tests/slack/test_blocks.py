"""Block Kit builders: what each answer says, and that Slack accepts it (limits, escaping, block counts)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pandas as pd
import pytest
from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from analytics.measures import BoardMetrics, board_metrics
from bot.connectors.files import load_workflow, read_event_log
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.services.forecasting import forecast_how_many, forecast_when
from bot.services.metrics import SyncInfo
from bot.slack import ids
from bot.slack.blocks import charts, common
from bot.slack.blocks.common import to_dicts
from bot.slack.blocks.forecast import forecast_blocks
from bot.slack.blocks.home import HomeBoard, home_view
from bot.slack.blocks.status import status_blocks, status_text
from tests.analytics.builders import metrics as metrics_from_rows

NOW = SAMPLE_ASOF
FRESH = SyncInfo(last_synced_at=NOW - dt.timedelta(minutes=5), now=NOW)
CHART_BUILDERS = (charts.aging_blocks, charts.cycle_blocks, charts.throughput_blocks, charts.cfd_blocks)


@pytest.fixture(scope="module")
def sample() -> BoardMetrics:
    """The bundled sample board measured as the demo does: 30-day window at its export time."""
    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    events = read_event_log(SAMPLE_EVENTS_PATH, workflow).events
    return board_metrics(events, workflow, pd.Timestamp(SAMPLE_ASOF), window_days=30)


@pytest.fixture(scope="module")
def empty() -> BoardMetrics:
    """A board with no events at all."""
    return metrics_from_rows([], "2026-01-31T00:00Z")


def with_wip_items(metrics: BoardMetrics, count: int, title: str) -> BoardMetrics:
    """The metrics with ``count`` blocked, aging WIP items carrying ``title`` in place of the real ones."""
    frame = pd.DataFrame(
        {
            "stage": ["Development"] * count,
            "age_days": [100.0 - i * 0.1 for i in range(count)],
            "pace": [1.0] * count,
            "blocked": [True] * count,
            "blocked_days": [50.0] * count,
            "title": [title] * count,
            "url": [f"https://tracker.example/browse/PAY-{i}?a=1&b=2" for i in range(count)],
        },
        index=pd.Index([f"PAY-{i}" for i in range(count)], name="item_id"),
    )
    return dataclasses.replace(metrics, wip_items=frame, wip_total=count)


def texts_of(blocks: list[Block]) -> str:
    """Every text in the blocks, one JSON document: what a reader of the message could see."""
    return json.dumps(to_dicts(blocks), ensure_ascii=False)


def assert_within_slack_limits(blocks: list[Block], max_blocks: int = common.MAX_MESSAGE_BLOCKS) -> None:
    """Slack's limits, including those the SDK models do not check (each field ≤ 2000 characters)."""
    assert 0 < len(blocks) <= max_blocks
    for block in blocks:
        block.validate_json()
        if isinstance(block, SectionBlock):
            assert block.text is None or len(block.text.text) <= 3000
            assert len(block.fields or []) <= 10
            assert all(len(field.text) <= 2000 for field in block.fields or [])
        if isinstance(block, HeaderBlock):
            assert block.text is not None and len(block.text.text) <= 150
    json.dumps(to_dicts(blocks))


def test_every_builder_gives_valid_serialisable_blocks(sample):
    """Status, the four chart messages, both forecasts and App Home pass the models' validation."""
    answers = [
        status_blocks(sample, FRESH),
        *(build(sample) for build in CHART_BUILDERS),
        forecast_blocks(forecast_when(sample, 10, trials=1000, seed=1)),
        forecast_blocks(forecast_how_many(sample, dt.date(2026, 12, 15), trials=1000, seed=1)),
    ]
    for blocks in answers:
        assert_within_slack_limits(blocks)
    view = home_view([HomeBoard(1, "Payments", "C0000FLOW1", sample, FRESH)])
    assert view.to_dict()["type"] == "home"
    assert_within_slack_limits(list(view.blocks), common.MAX_VIEW_BLOCKS)


def test_status_marks_the_stages_over_their_limit_and_the_board_total(sample):
    """Development (6/4) and Test (5/3) carry the marker, Ready (5/6) does not; the total shows 17 of 16."""
    fields = [
        field["text"] for block in to_dicts(status_blocks(sample, FRESH)) for field in block.get("fields", [])
    ]
    by_stage = {text.split("*")[1]: text for text in fields}
    assert "▲ over limit" in by_stage["Development"] and "6 / 4" in by_stage["Development"]
    assert "▲ over limit" in by_stage["Test"]
    assert "▲" not in by_stage["Ready"] and "5 / 6" in by_stage["Ready"]
    text = texts_of(status_blocks(sample, FRESH))
    assert "17 items in progress" in text and "board limit 16" in text and "1 over the limit" in text


def test_status_lists_stuck_items_then_one_context_line(sample):
    """Blocked days; aging items linked, oldest first; then throughput, SLE and freshness in one line."""
    text = texts_of(status_blocks(sample, FRESH))
    assert "<https://example.atlassian.net/browse/PAY-205|PAY-205>" in text
    assert "blocked 39.3 d" in text
    aging = text[text.index("Aging (") :]
    assert aging.index("PAY-205") < aging.index("PAY-237") < aging.index("PAY-252")
    assert "Development · *44.3 d* old" in aging
    context = to_dicts(status_blocks(sample, FRESH))[-1]
    assert context["type"] == "context"
    line = context["elements"][0]["text"]
    assert "48 items in 30 days" in line and "85% within 16.3 d" in line and "synced 5 min ago" in line
    assert ":warning:" not in texts_of(status_blocks(sample, FRESH))


def test_stale_or_failed_sync_shows_a_warning(sample):
    """Data older than two hours (1 h 59 is fresh), never synced, or a failed last sync: a warning line."""
    assert not SyncInfo(NOW - dt.timedelta(minutes=119), NOW).stale
    assert SyncInfo(NOW - dt.timedelta(minutes=121), NOW).stale
    stale = texts_of(status_blocks(sample, SyncInfo(NOW - dt.timedelta(hours=3), NOW)))
    assert ":warning:" in stale and "synced 3 h ago" in stale
    never = texts_of(status_blocks(sample, SyncInfo(None, NOW)))
    assert ":warning:" in never and "never synced" in never
    failed = texts_of(
        status_blocks(sample, SyncInfo(NOW - dt.timedelta(minutes=30), NOW, "Jira said 401 <auth>"))
    )
    assert "The last sync failed: Jira said 401 &lt;auth&gt;" in failed


def test_empty_board_says_nothing_in_progress_everywhere(empty):
    """No events: status says nothing is in progress, charts say there is no data, nothing crashes."""
    status = texts_of(status_blocks(empty, FRESH))
    assert "Nothing in progress" in status and "Blocked" not in status
    assert "nothing finished in the last 90 days" in status
    assert "Nothing in progress" in texts_of(charts.aging_blocks(empty))
    assert "no cycle time yet" in texts_of(charts.cycle_blocks(empty))
    assert "Nothing finished in the last 30 days" in texts_of(charts.throughput_blocks(empty))
    for build in CHART_BUILDERS:
        assert_within_slack_limits(build(empty))
    assert status_text(empty) == "Payments: 0 in progress (limit 12); 0 blocked; 0 aging"
    for kind in ("aging", "cycle", "throughput", "cfd"):
        assert charts.chart_comment(kind, empty)


def test_many_items_are_cut_with_and_n_more_within_limits(sample):
    """200 blocked, aging items with long titles: lists stop at ten lines and say how many were left out."""
    crowded = with_wip_items(sample, 200, "A very long title " * 20)
    for blocks in (status_blocks(crowded, FRESH), charts.aging_blocks(crowded)):
        assert_within_slack_limits(blocks)
        text = texts_of(blocks)
        assert "… and 190 more" in text
    sections = [
        block for block in to_dicts(status_blocks(crowded, FRESH)) if "Blocked (200)" in json.dumps(block)
    ]
    assert sections and sections[0]["text"]["text"].count("\n• ") == 10


def test_lists_are_cut_by_characters_too():
    """Lines too long for ten to fit in 3000 characters are dropped whole, and counted."""
    text = common.listing("*Heading*", ["• " + "x" * 700 for _ in range(8)])
    assert len(text) <= 3000
    assert text.endswith("… and 4 more") and text.count("• ") == 4


def test_titles_and_names_are_escaped_for_mrkdwn(sample):
    """`<`, `>` and `&` in titles and board names cannot turn into links or mentions."""
    hostile = with_wip_items(sample, 2, "Fix <!channel> & <https://evil.example|click>")
    text = texts_of(status_blocks(hostile, FRESH))
    assert "Fix &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "<!channel>" not in text
    assert "<https://tracker.example/browse/PAY-0?a=1&amp;b=2|PAY-0>" in text
    renamed = dataclasses.replace(sample, board="R&D <core>")
    assert status_text(renamed).startswith("R&amp;D &lt;core&gt;:")


def test_item_links_fall_back_to_the_id_and_keep_the_url_whole():
    """No URL: the plain ID; a `|` in the URL is encoded so it cannot end the URL early."""
    assert common.item_link("PAY-1", None) == "PAY-1"
    assert common.item_link("PAY-1", "") == "PAY-1"
    assert common.item_link("PAY-1", "https://x.example/a|b") == "<https://x.example/a%7Cb|PAY-1>"


@pytest.mark.parametrize(
    ("wip", "limit", "bar"),
    [(5, 6, "█████░"), (6, 4, "████▓▓"), (0, 3, "░░░"), (3, None, "███"), (0, None, ""), (3, 3, "███")],
)
def test_wip_bar_counts_one_cell_per_item(wip, limit, bar):
    """Small counts get one cell per item: full within the limit, shaded over it, light for free places."""
    assert common.wip_bar(wip, limit) == bar


def test_wip_bar_scales_large_counts_and_uses_no_emoji():
    """Large WIP fits in about a dozen cells and is built only from the three block characters."""
    bar = common.wip_bar(60, 40)
    assert len(bar) <= 13
    assert set(bar) <= {common.BAR_FULL, common.BAR_OVER, common.BAR_FREE} and common.BAR_OVER in bar


def test_long_board_name_is_shortened_in_headers(sample):
    """A 300-character board name still gives a header of at most 150 characters."""
    long_name = dataclasses.replace(sample, board="Payments " * 33)
    for blocks in (status_blocks(long_name, FRESH), charts.cycle_blocks(long_name)):
        assert_within_slack_limits(blocks)


def test_chart_messages_say_what_each_chart_shows(sample):
    """Cycle percentiles, weekly throughput, piling-up stages and aging items, with titles and comments."""
    cycle = texts_of(charts.cycle_blocks(sample))
    assert "*85%* of items" in cycle and "*10.2 d*" in cycle and "48 items finished" in cycle
    assert "*95%* of items" in cycle and "SLE: 85% within 16.3 d" in cycle
    throughput = texts_of(charts.throughput_blocks(sample))
    assert "14–20 Nov" in throughput and "(partial week)" in throughput and "11.2 per week" in throughput
    cfd = texts_of(charts.cfd_blocks(sample))
    assert "*Test*  *▲ +4*" in cfd and "56 in · 52 out" in cfd and "*Development*\\n69 in" in cfd
    aging = texts_of(charts.aging_blocks(sample))
    assert "PAY-252" in aging and "PAY-295" not in aging
    assert charts.chart_title("cycle", sample) == "Payments — cycle time, Fri 20 Nov 2026"
    assert charts.chart_comment("cycle", sample).startswith("85% of items finished within 10.2 d")
    assert "PAY-205" in charts.chart_comment("aging", sample)
    assert "Test (56 in, 52 out)" in charts.chart_comment("cfd", sample)


def test_weekly_throughput_runs_end_at_the_window_end_and_add_up(sample):
    """Seven-date runs ending on the last date; only the first may be shorter; they sum to the total."""
    weeks = charts.weekly_throughput(sample)
    assert weeks[-1].last == dt.date(2026, 11, 20) and weeks[-1].first == dt.date(2026, 11, 14)
    assert all(week.dates == 7 for week in weeks[1:]) and weeks[0].dates <= 7
    assert sum(week.count for week in weeks) == sample.throughput_total


def test_forecasts_give_three_levels_as_dates_or_at_least_n_items(sample):
    """50/85/95 % (no 70 %) as weekday dates or "at least N items"; the question heads, the basis follows."""
    blocks = to_dicts(forecast_blocks(forecast_when(sample, 10, trials=1000, seed=1)))
    assert blocks[0]["text"]["text"] == "Payments: when will the next 10 items be done?"
    lines = blocks[1]["text"]["text"].splitlines()
    assert [line.split("*")[1] for line in lines] == ["50%", "85%", "95%"]
    assert all(
        re.search(r"on or before \*(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} 2026\*", line)
        for line in lines
    )
    assert "1,000 simulations" in blocks[-1]["elements"][0]["text"]
    blocks = to_dicts(forecast_blocks(forecast_how_many(sample, dt.date(2026, 12, 15), trials=1000, seed=1)))
    assert blocks[0]["text"]["text"] == "Payments: how many items will be done by Tue 15 Dec 2026?"
    assert re.search(r"\*85%\* chance: at least \*\d+ items\* \(in 25 days\)", blocks[1]["text"]["text"])


def test_home_without_boards_explains_and_offers_to_connect():
    """No board: two lines on what flowcoach does and a Connect button (or who to ask when one may not)."""
    view = home_view([]).to_dict()
    actions = [block for block in view["blocks"] if block["type"] == "actions"]
    assert actions[0]["elements"][0]["action_id"] == ids.OPEN_CONNECT
    assert "flowcoach" in json.dumps(view)
    no_rights = json.dumps(home_view([], can_connect=False).to_dict())
    assert ids.OPEN_CONNECT not in no_rights and "admin" in no_rights


def test_home_board_shows_wip_channel_freshness_and_buttons(sample):
    """A board: WIP per stage against limits, its channel, freshness, Settings and Post status buttons."""
    view = home_view([HomeBoard(7, "Payments", "C0000FLOW1", sample, FRESH)])
    blocks = to_dicts(list(view.blocks))
    text = json.dumps(blocks, ensure_ascii=False)
    assert "<#C0000FLOW1>" in text and "*Development 6/4 ▲*" in text and "Ready 5/6" in text
    assert "synced 5 min ago" in text
    buttons = [element for block in blocks if block["type"] == "actions" for element in block["elements"]]
    assert {(button["action_id"], button.get("value")) for button in buttons} == {
        (ids.OPEN_SETTINGS, "7"),
        (ids.POST_STATUS, "7"),
        (ids.OPEN_CONNECT, None),
    }


def test_home_board_without_channel_or_data_says_so(sample):
    """No channel: no Post status button; no metrics yet and a problem: both said plainly."""
    board = HomeBoard(3, "Mobile", None, None, SyncInfo(None, NOW), problem="the workflow does not load")
    text = json.dumps(home_view([board]).to_dict())
    assert "no channel yet" in text and "No data yet" in text and "the workflow does not load" in text
    assert ids.POST_STATUS not in text and ids.OPEN_SETTINGS in text


@pytest.mark.parametrize("count", [0, 1, 30])
def test_home_stays_within_a_hundred_blocks(sample, count):
    """0, 1 and 30 boards all fit in 100 blocks; boards that do not fit are listed by name."""
    boards = [HomeBoard(i, f"Board {i}", f"C{i:09d}", sample, FRESH) for i in range(count)]
    view = home_view(boards)
    view.validate_json()
    assert_within_slack_limits(list(view.blocks), common.MAX_VIEW_BLOCKS)
    text = json.dumps(view.to_dict())
    if count == 30:
        assert "more boards" in text and "Board 29" in text


def test_item_links_are_links_only_for_web_addresses():
    """A tracker's URL becomes a link only when it is http(s); anything else shows the id as text."""
    from bot.slack.blocks.common import item_link

    assert (
        item_link("PAY-1", "https://jira.example/browse/PAY-1") == "<https://jira.example/browse/PAY-1|PAY-1>"
    )
    assert item_link("PAY-1", "javascript:alert(1)") == "PAY-1"
    assert item_link("<b>", "slack://open") == "&lt;b&gt;"


def test_a_nudge_message_stays_within_slacks_limits_and_counts_what_it_cannot_show():
    """A board drawing 40 signals at once: one message of at most 50 blocks, the first 12 sections shown
    (system signals first), "and N more" pointing to `/flow status`; an item's buttons name all its
    reasons."""
    from bot.coach.lifecycle import Alert
    from bot.slack.blocks.nudges import message_blocks, message_text

    now = pd.Timestamp("2026-11-16 09:00", tz="UTC")
    facts = {"age_days": 20.0, "sle_days": 10.0, "stage": "Review", "hours": 30.0}
    entries = [
        (index, Alert(rule, f"PAY-{index // 2}", now, 1.0, (f"PAY-{index // 2}",), dict(facts)))
        for index, rule in enumerate(["item_aging", "item_blocked"] * 18)
    ]
    entries += [
        (100 + index, Alert("wip_limit_exceeded", stage, now, 1.0, (), {"wip": 5, "limit": 3}))
        for index, stage in enumerate(["Development", "Review", "Test", "Ready"])
    ]
    blocks = message_blocks("Payments", entries)
    assert_within_slack_limits(blocks)
    shown = to_dicts(blocks)
    assert shown[0]["text"]["text"] == "*Payments* — 22 flow signals"
    assert "*WIP limit exceeded*" in shown[1]["text"]["text"]
    assert "and 10 more flow signals" in json.dumps(shown) and "/flow status" in json.dumps(shown)
    values = [e["value"] for b in shown if b["type"] == "actions" for e in b["elements"]]
    assert "0,1" in values  # PAY-0's buttons act on both its reasons
    assert len(message_text("Payments", entries)) <= 3000


def test_an_item_with_two_reasons_is_named_once_with_its_title():
    """The section's first line names the item (link and title); each reason then says "It"."""
    from bot.coach.lifecycle import Alert
    from bot.slack.blocks.nudges import message_blocks

    now = pd.Timestamp("2026-11-16 09:00", tz="UTC")
    facts = {"age_days": 20.0, "sle_days": 10.0, "stage": "Review", "hours": 30.0, "title": "Refund Visa",
             "url": "https://jira.example/browse/PAY-1"}  # fmt: skip
    entries = [
        (1, Alert(rule, "PAY-1", now, 1.0, ("PAY-1",), dict(facts)))
        for rule in ("item_aging", "item_blocked")
    ]
    text = to_dicts(message_blocks("Payments", entries))[1]["text"]["text"]
    assert text.count("Refund Visa") == 1 and text.count("|PAY-1>") == 1
    assert text.splitlines()[0].startswith("<https://jira.example/browse/PAY-1|PAY-1> “Refund Visa” · ")
    assert "• It has been in progress for *20.0 days* in Review" in text
    assert "• It has been blocked for *30 working hours* in Review" in text
