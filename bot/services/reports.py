"""The daily digest and the weekly flow review of a board, as data (``spec/coaching.md``).

What they say is decided here, from the store or from an event log; how they look is the edge's job
(Block Kit in ``bot/slack/blocks``, text in the demo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from analytics.calendar import window_ending
from analytics.diagnosis import Diagnosis, Evidence, Trends, diagnose, queue_waiting_days, weekly_trends
from analytics.item_types import of_types
from analytics.measures import BoardMetrics, compute_metrics, data_quality_warnings
from analytics.signals import board_signals
from analytics.timeline import Timeline, build_timeline
from analytics.workflow import Workflow
from bot.coach.digest import DigestData, digest_data
from bot.coach.engine import Coach
from bot.coach.rules import stage_starving
from bot.coach.shift import Shift, newest_shift
from bot.services.boards import board_data
from bot.services.forecast_record import TrackRecord, finish_history, track_record
from bot.store.board_settings import Thresholds
from bot.store.models import Board

DIGEST_WINDOW_DAYS = 30
REVIEW_WEEKS = 4
REVIEW_FORECAST_WINDOW_DAYS, REVIEW_FORECAST_HORIZON_DAYS = 30, 14


@dataclass(frozen=True)
class Review:
    """The weekly review: the push / pull / flow diagnosis, trends against earlier weeks, the metrics."""

    metrics: BoardMetrics
    diagnosis: Diagnosis
    trends: Trends
    track_record: TrackRecord | None = None  # how often the board's usual forecast came true lately
    due_at: dt.datetime | None = None  # when a late review was due (set when it is posted late)
    delivery_key: str | None = None  # the slot it delivers, in the message's metadata


@dataclass(frozen=True)
class ThroughputVerdict:
    """What the review says of weekly throughput's process behaviour over the weeks of its window:
    the newest ``shift`` among them (``last_week``: it is the week before the review's), or none, in which
    case those ``weeks`` stayed within the limits ``lower`` to ``upper``."""

    shift: Shift | None
    last_week: bool
    weeks: int
    lower: float
    upper: float
    provisional: bool


def throughput_verdict(metrics: BoardMetrics) -> ThroughputVerdict | None:
    """The weekly throughput's verdict for the review, ``None`` when there are no limits or no full week
    in the window to judge (``spec/metrics.md``, "Process behaviour")."""
    chart = metrics.process_behaviour.throughput
    judged = len(chart.counts) - chart.weeks.window_first
    if chart.limits is None or judged <= 0:
        return None
    shift = newest_shift(chart, since=chart.weeks.window_first)
    today = pd.Timestamp(metrics.asof).tz_convert(metrics.timezone).date()
    previous_monday = today - dt.timedelta(days=today.weekday() + 7)
    return ThroughputVerdict(
        shift=shift,
        last_week=shift is not None and shift.week == previous_monday,
        weeks=judged,
        lower=chart.limits.lower,
        upper=chart.limits.upper,
        provisional=chart.weeks.provisional,
    )


def _state(
    events: pd.DataFrame, workflow: Workflow, thresholds: Thresholds, now: dt.datetime
) -> tuple[BoardMetrics, Timeline, Coach]:
    timeline = build_timeline(events, workflow, pd.Timestamp(now))
    window = window_ending(timeline.asof, DIGEST_WINDOW_DAYS, workflow.timezone)
    # The digest tells what may mislead (spec/coaching.md, "Guards"), as the metrics document does.
    warnings = data_quality_warnings(
        events, workflow, timeline.asof, window, stale_after_hours=thresholds.stale_after_hours
    )
    metrics = compute_metrics(timeline, window_days=DIGEST_WINDOW_DAYS, warnings=warnings)
    return metrics, timeline, Coach.of(workflow, thresholds)


def _stored_state(
    session: Session, board: Board, now: dt.datetime, item_types: Sequence[str] = ()
) -> tuple[BoardMetrics, Timeline, Coach]:
    data = board_data(session, board)
    return _state(of_types(data.events, item_types), data.workflow, data.thresholds, now)


def board_digest(
    session: Session, board: Board, now: dt.datetime, item_types: Sequence[str] = ()
) -> DigestData:
    """The stored board's digest as of ``now`` (``spec/coaching.md``, "Daily digest"), of the items of
    ``item_types`` only when given."""
    state = _stored_state(session, board, now, item_types)
    return _digest(*state, now=now, last_synced_at=board.last_synced_at)


def events_digest(
    events: pd.DataFrame, workflow: Workflow, thresholds: Thresholds, now: dt.datetime
) -> DigestData:
    """The digest of an event log as of ``now``, its data taken as fresh (the demo, files)."""
    return _digest(*_state(events, workflow, thresholds, now), now=now, last_synced_at=now)


def _digest(
    metrics: BoardMetrics,
    timeline: Timeline,
    coach: Coach,
    *,
    now: dt.datetime,
    last_synced_at: dt.datetime | None,
) -> DigestData:
    moment = pd.Timestamp(now)
    signals = board_signals(timeline, moment, coach.window_start(moment))
    starving = [finding.subject for finding in stage_starving(signals, coach.context(), ()).firing]
    stale_after = dt.timedelta(hours=coach.thresholds.stale_after_hours)
    stale = last_synced_at is None or now - last_synced_at > stale_after
    return digest_data(
        metrics,
        now=moment,
        starving=starving,
        stale=stale,
        last_synced_at=last_synced_at,
        waiting_days=queue_waiting_days(timeline),
    )


def board_review(session: Session, board: Board, now: dt.datetime, item_types: Sequence[str] = ()) -> Review:
    """The weekly review's diagnosis, trends and metrics as of ``now`` (of the items of ``item_types``
    only, when given)."""
    data = board_data(session, board)
    return events_review(of_types(data.events, item_types), data.workflow, data.thresholds, now)


def events_review(
    events: pd.DataFrame, workflow: Workflow, thresholds: Thresholds, now: dt.datetime
) -> Review:
    """The weekly review of an event log as of ``now`` (``flowcoach health``, files)."""
    metrics, timeline, coach = _state(events, workflow, thresholds, now)
    moment = pd.Timestamp(now)
    diagnosis = diagnose(timeline, asof=moment, weeks=REVIEW_WEEKS, calendar=coach.calendar)
    trends = weekly_trends(timeline, asof=moment, weeks=REVIEW_WEEKS)
    # The forecast `/flow forecast` gives by default: how many in the next two weeks, from the last 30 days.
    record = track_record(
        finish_history(events, workflow, moment),
        window_days=REVIEW_FORECAST_WINDOW_DAYS,
        horizon_days=REVIEW_FORECAST_HORIZON_DAYS,
    )
    return Review(metrics, diagnosis, trends, record)


HEALTH_NUMBERS = 3  # `/flow health` leads with the verdict and its three strongest numbers


def strongest_evidence(diagnosis: Diagnosis, count: int = HEALTH_NUMBERS) -> list[Evidence]:
    """The criteria that argue most for the verdict: those of the verdict's group that hold, farthest past
    their threshold first, then the others that hold, then the rest (numbers without data last)."""

    def margin(evidence: Evidence) -> float:
        if evidence.value is None:
            return -1.0
        if evidence.supports == "flow":
            return evidence.threshold - abs(evidence.value - 1)  # the closer to 1, the stronger
        if evidence.name == "flow_efficiency":
            return (evidence.threshold - evidence.value) / evidence.threshold
        return (evidence.value - evidence.threshold) / evidence.threshold

    verdict = "flow" if diagnosis.verdict == "mixed" else diagnosis.verdict
    ranked = sorted(
        diagnosis.evidence,
        key=lambda e: (e.holds and e.supports == verdict, e.holds, e.value is not None, margin(e)),
        reverse=True,
    )
    return ranked[:count]
