"""The daily digest and the weekly flow review of a board: computed from the store, posted in Slack.

The scheduled ones are claimed per (board, slot) before posting, so a retry, a restart or a second worker
never posts one twice; `/flow digest` and `/flow health` answer on demand without a claim.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from analytics.diagnosis import Diagnosis, Trends, diagnose, queue_waiting_days, weekly_trends
from analytics.measures import BoardMetrics, compute_metrics
from analytics.signals import board_signals
from analytics.timeline import Timeline, build_timeline
from analytics.workflow import Workflow
from bot.charting import CHART_FILES, render_chart
from bot.coach.digest import digest_data
from bot.coach.engine import Coach
from bot.coach.rules import stage_starving
from bot.slack.blocks.digest import digest_parent, digest_thread
from bot.slack.blocks.review import review_blocks, review_chart_titles, review_text
from bot.store.board_settings import Thresholds, load_board_settings
from bot.store.boards import board_workflow
from bot.store.eventstore import load_events
from bot.store.models import Board

DIGEST_WINDOW_DAYS = 30
REVIEW_WEEKS = 4


@dataclass(frozen=True)
class Digest:
    parent: list[Block]
    text: str
    thread: list[list[Block]]


@dataclass(frozen=True)
class Review:
    blocks: list[Block]
    text: str
    metrics: BoardMetrics
    diagnosis: Diagnosis
    trends: Trends


def _state(
    events: pd.DataFrame, workflow: Workflow, thresholds: Thresholds, now: dt.datetime
) -> tuple[BoardMetrics, Timeline, Coach]:
    timeline = build_timeline(events, workflow, pd.Timestamp(now))
    metrics = compute_metrics(timeline, window_days=DIGEST_WINDOW_DAYS)
    return metrics, timeline, Coach.of(workflow, thresholds)


def _stored_state(session: Session, board: Board, now: dt.datetime) -> tuple[BoardMetrics, Timeline, Coach]:
    workflow = board_workflow(board)
    thresholds = load_board_settings(board.coaching_settings).thresholds
    return _state(load_events(session, board.id, workflow), workflow, thresholds, now)


def board_digest(session: Session, board: Board, now: dt.datetime) -> Digest:
    """The stored board's digest as of ``now`` (``spec/coaching.md``, "Daily digest")."""
    return _digest(*_stored_state(session, board, now), now=now, last_synced_at=board.last_synced_at)


def events_digest(
    events: pd.DataFrame, workflow: Workflow, thresholds: Thresholds, now: dt.datetime
) -> Digest:
    """The digest of an event log as of ``now``, its data taken as fresh (the demo, files)."""
    return _digest(*_state(events, workflow, thresholds, now), now=now, last_synced_at=now)


def _digest(
    metrics: BoardMetrics,
    timeline: Timeline,
    coach: Coach,
    *,
    now: dt.datetime,
    last_synced_at: dt.datetime | None,
) -> Digest:
    moment = pd.Timestamp(now)
    signals = board_signals(timeline, moment, coach.window_start(moment))
    starving = [finding.subject for finding in stage_starving(signals, coach.context(), ()).firing]
    stale_after = dt.timedelta(hours=coach.thresholds.stale_after_hours)
    stale = last_synced_at is None or now - last_synced_at > stale_after
    data = digest_data(
        metrics,
        now=moment,
        starving=starving,
        stale=stale,
        last_synced_at=last_synced_at,
        waiting_days=queue_waiting_days(timeline),
    )
    parent, text = digest_parent(data)
    return Digest(parent, text, digest_thread(data))


def board_review(session: Session, board: Board, now: dt.datetime) -> Review:
    """The weekly review's diagnosis, trends and metrics as of ``now``."""
    metrics, timeline, coach = _stored_state(session, board, now)
    moment = pd.Timestamp(now)
    diagnosis = diagnose(timeline, asof=moment, weeks=REVIEW_WEEKS, calendar=coach.calendar)
    trends = weekly_trends(timeline, asof=moment, weeks=REVIEW_WEEKS)
    return Review(
        review_blocks(diagnosis, trends, metrics), review_text(diagnosis, metrics), metrics, diagnosis, trends
    )


def post_digest(client: WebClient, channel: str, digest: Digest) -> str:
    """One parent message, its details as replies in its thread; returns the parent's timestamp."""
    parent = client.chat_postMessage(channel=channel, blocks=digest.parent, text=digest.text)
    ts = str(parent["ts"])
    for reply in digest.thread:
        client.chat_postMessage(channel=channel, thread_ts=ts, blocks=reply, text=digest.text)
    return ts


def post_review(client: WebClient, channel: str, review: Review) -> str:
    """The review message, then its four charts as PNG files in its thread."""
    parent = client.chat_postMessage(channel=channel, blocks=review.blocks, text=review.text)
    ts = str(parent["ts"])
    for kind, title in review_chart_titles(review.metrics).items():
        client.files_upload_v2(
            channel=channel,
            thread_ts=ts,
            content=render_chart(kind, review.metrics),
            filename=CHART_FILES[kind],
            title=title,
        )
    return ts
