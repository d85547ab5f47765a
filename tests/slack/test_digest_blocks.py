"""The daily digest and the weekly flow review on the bundled sample board: what they say, and that Slack
accepts every message."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from analytics.diagnosis import Diagnosis, Trends, diagnose, queue_waiting_days, weekly_trends
from analytics.measures import BoardMetrics, compute_metrics
from analytics.timeline import build_timeline
from analytics.workhours import WorkCalendar
from bot.coach.digest import DigestData, digest_data
from bot.connectors.files import load_workflow, read_event_log
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.slack.blocks.digest import digest_parent, digest_thread
from bot.slack.blocks.review import review_blocks, review_chart_titles, review_text
from tests.analytics.builders import metrics as metrics_from_rows
from tests.slack.test_blocks import assert_within_slack_limits, texts_of

NOW = pd.Timestamp(SAMPLE_ASOF)
SEPTEMBER = pd.Timestamp("2026-09-30T09:30", tz="Europe/Zurich")  # mid-swarm, Review still the bottleneck


@dataclasses.dataclass(frozen=True)
class Board:
    metrics: BoardMetrics
    diagnosis: Diagnosis
    trends: Trends
    waiting_days: dict[str, float]


def measured(asof: pd.Timestamp) -> Board:
    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    events = read_event_log(SAMPLE_EVENTS_PATH, workflow).events
    timeline = build_timeline(events, workflow, asof)
    return Board(
        compute_metrics(timeline, window_days=30),
        diagnose(timeline, asof=asof, calendar=WorkCalendar.of(workflow)),
        weekly_trends(timeline, asof=asof),
        queue_waiting_days(timeline),
    )


@pytest.fixture(scope="module")
def sample() -> Board:
    """The sample board at its export time, as the digest job measures it."""
    return measured(NOW)


@pytest.fixture(scope="module")
def september() -> Board:
    """The sample board on 30 September, when reviews had piled up for weeks."""
    return measured(SEPTEMBER)


def digest(board: Board, now: pd.Timestamp, *, stale: bool = False, waiting: bool = True) -> DigestData:
    return digest_data(
        board.metrics,
        now=now,
        starving=["Test"],
        stale=stale,
        last_synced_at=(now - pd.Timedelta(hours=3 if stale else 0, minutes=5)).to_pydatetime(),
        waiting_days=board.waiting_days if waiting else None,
    )


def test_digest_and_review_messages_are_valid_blocks(sample, september):
    """Parent, every thread reply and the review validate against Slack's models and limits."""
    for board, now in ((sample, NOW), (september, SEPTEMBER)):
        data = digest(board, now)
        parent, fallback = digest_parent(data)
        assert_within_slack_limits(parent)
        assert fallback.startswith("Payments digest:")
        thread = digest_thread(data)
        assert len(thread) == 4
        for message in thread:
            assert_within_slack_limits(message)
        assert_within_slack_limits(review_blocks(board.diagnosis, board.trends, board.metrics))


def test_digest_counts_yesterday_and_the_last_seven_days_against_the_average(sample):
    """Yesterday is Thursday 19 November (local); seven days and the 30-day average come from throughput."""
    data = digest(sample, NOW)
    daily = sample.metrics.throughput_daily
    assert data.yesterday == dt.date(2026, 11, 19)
    assert data.finished_yesterday == daily[dt.date(2026, 11, 19)]
    assert data.finished_week == daily[[dt.date(2026, 11, 14) + dt.timedelta(days=i) for i in range(7)]].sum()
    assert data.daily_average == pytest.approx(sample.metrics.throughput_total / 30)
    parent = texts_of(digest_parent(data)[0])
    assert f"*{data.finished_yesterday} finished yesterday*" in parent
    assert f"*{data.finished_week} in the last 7 days*" in parent


def test_digest_lists_aging_oldest_first_blocked_items_and_the_pull_suggestion(sample):
    """Near or past the SLE oldest first; blocked items; Review's free places go to Development's oldest."""
    data = digest(sample, NOW)
    ages = [item.age_days for item in data.aging]
    assert ages == sorted(ages, reverse=True) and ages
    assert all(item.past_sle or (item.pace or 0) >= 0.7 for item in data.aging)
    wip = sample.metrics.wip_items
    assert {item.item_id for item in data.blocked} == set(wip.index[wip["blocked"]])
    [pull] = data.pulls
    waiting = wip[(wip["stage"] == "Development") & ~wip["blocked"]]
    assert (pull.stage, pull.upstream, pull.spare) == ("Review", "Development", 2)
    assert pull.item.item_id == waiting["age_days"].idxmax()
    thread = texts_of([block for message in digest_thread(data) for block in message])
    assert pull.item.item_id in thread and "*Review* has 2 free places" in thread


def test_digest_bottleneck_says_which_rule_picked_it(september):
    """Waiting time names Review in September; without it, the fullest stage against its limit (Test)."""
    by_waiting = digest(september, SEPTEMBER)
    assert by_waiting.bottleneck is not None
    assert (by_waiting.bottleneck.stage, by_waiting.bottleneck.rule) == ("Review", "waiting_time")
    by_ratio = digest(september, SEPTEMBER, waiting=False)
    assert by_ratio.bottleneck is not None
    assert (by_ratio.bottleneck.stage, by_ratio.bottleneck.rule) == ("Test", "wip_ratio")
    assert by_ratio.bottleneck.value == pytest.approx(11 / 3)
    text = texts_of(digest_thread(by_ratio)[0])
    assert "*Bottleneck: Test*" in text and "(11/3)" in text


def test_stale_digest_says_the_data_is_stale(sample):
    """Stale data is flagged in the parent message and in the thread; fresh data is not."""
    stale = digest(sample, NOW, stale=True)
    assert "The data is stale (synced 3 h ago)" in texts_of(digest_parent(stale)[0])
    assert "stale" in texts_of(digest_thread(stale)[-1])
    fresh = digest(sample, NOW)
    assert "stale" not in texts_of(digest_parent(fresh)[0])
    assert "synced 5 min ago" in texts_of(digest_thread(fresh)[-1])


def test_digest_of_an_empty_board_says_nothing_is_stuck():
    """No events: zeros, no bottleneck, nothing to pull, and still valid messages."""
    empty = metrics_from_rows([], "2026-01-31T00:00Z")
    now = pd.Timestamp("2026-01-31T00:00Z")
    data = digest_data(empty, now=now, starving=[], stale=False, last_synced_at=now.to_pydatetime())
    assert (data.finished_yesterday, data.finished_week, data.wip_total) == (0, 0, 0)
    assert data.bottleneck is None and data.pulls == () and data.aging == ()
    thread = digest_thread(data)
    for message in [digest_parent(data)[0], *thread]:
        assert_within_slack_limits(message)
    assert "Nothing blocked" in texts_of(thread[1])


def test_september_review_shows_the_review_bottleneck_and_a_test_stage_that_never_starved(september):
    """At 30 September the diagnosis is push and Review holds most waiting time; Test never starved, since
    its queue (Review) held work all the time."""
    diagnosis = september.diagnosis
    assert diagnosis.verdict == "push"
    assert diagnosis.bottleneck == "Review"
    test_stage = next(s for s in diagnosis.starving if s.stage == "Test")
    assert (test_stage.hours, test_stage.constraint) == (0.0, None)
    text = texts_of(review_blocks(diagnosis, september.trends, september.metrics))
    assert "*Push:*" in text
    assert "*Bottleneck: Review*" in text
    assert "✓ Test starved" not in text
    assert f"{diagnosis.arrivals} items entered the started system, {diagnosis.departures} finished" in text
    assert "What holds work in Review" in text
    assert review_text(diagnosis, september.metrics).startswith("Payments — weekly flow review")


def test_review_states_the_trends_and_names_the_four_charts(sample):
    """Trends read last week against the weekly average; chart titles come in the spec's order."""
    text = texts_of(review_blocks(sample.diagnosis, sample.trends, sample.metrics))
    assert "Throughput: *14 a week* against 10.5 a week (+33%)" in text
    assert "Cycle time, 85% within" in text
    titles = review_chart_titles(sample.metrics)
    assert list(titles) == ["cfd", "cycle", "aging", "throughput"]
    assert titles["cfd"] == "Payments — cumulative flow, Fri 20 Nov 2026"


def test_review_marks_a_percentile_from_fewer_than_ten_items_provisional(sample):
    """Last week's cycle-time percentiles from 4 items are provisional, and say so beside the number."""
    few = dataclasses.replace(sample.trends, finished_last_week=4)
    text = texts_of(review_blocks(sample.diagnosis, few, sample.metrics))
    assert text.count("provisional (4 items) against") == 2  # p50 and p85; the baseline is not
    assert "provisional" not in texts_of(review_blocks(sample.diagnosis, sample.trends, sample.metrics))
