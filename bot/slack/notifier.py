"""How the worker's jobs speak in Slack: nudges, digests and weekly reviews, with the workspace's bot.

Nudge posts are claimed in the database before they are sent (``bot/store/claims.py``), so a crash, a retry
or a second worker never posts the same alert twice; at worst a message whose timestamp was not stored
cannot be updated when the alert resolves. Nothing here raises into the job: a failed delivery is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

import pandas as pd
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics.charts.board import CHART_FILES, render_chart
from bot.coach.digest import DigestData
from bot.coach.wording import nudge_text
from bot.config import Settings
from bot.services.coaching import (
    Decision,
    daily_budget,
    overflow_thread_of_day,
    remember_message,
)
from bot.services.jobs import BoardAddress
from bot.services.reports import Review
from bot.slack import texts
from bot.slack.blocks.digest import digest_parent, digest_thread
from bot.slack.blocks.nudges import local_when, nudge_blocks, resolved_blocks, resolved_text, worse_text
from bot.slack.blocks.review import review_blocks, review_chart_titles, review_text
from bot.slack.clients import client_for_workspace
from bot.slack.delivery import Chart, post_message, post_thread, post_with_charts, update_message
from bot.store.claims import claim

log = logging.getLogger("flowcoach.slack")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SlackNotifier:
    """The ``Notifier`` of a deployment with Slack: one client per workspace, from its stored install."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock

    def _client(self, board: BoardAddress) -> WebClient | None:
        engine: Engine = self._sessions.kw["bind"]
        return client_for_workspace(self._settings, engine, board.workspace)

    def reaches(self, board: BoardAddress) -> bool:
        return board.channel is not None and self._client(board) is not None

    def nudges(self, board: BoardAddress, decisions: Sequence[Decision]) -> None:
        client = self._client(board)
        if client is None:
            log.debug(
                "board %s: no Slack token for its workspace; %d nudges not sent", board.name, len(decisions)
            )
            return
        now = self._clock()
        for decision in decisions:
            try:
                deliver_nudge(self._sessions, client, decision, now)
            except Exception:
                log.exception(
                    "board %s: could not deliver %s of %s", board.board_id, decision.kind, decision.alert.key
                )

    def digest(self, board: BoardAddress, digest: DigestData) -> None:
        client = self._client(board)
        if client is None or board.channel is None:
            return
        post_digest(client, board.channel, digest)

    def review(self, board: BoardAddress, review: Review) -> None:
        client = self._client(board)
        if client is None or board.channel is None:
            return
        post_review(client, board.channel, review)


def deliver_nudge(
    sessions: sessionmaker[Session], client: WebClient, decision: Decision, now: dt.datetime
) -> None:
    """Carry out one decision in the board's channel: post, fold into the day's thread, repost, update."""
    alert, kind, channel = decision.alert, decision.kind, decision.channel
    if kind in ("post", "fold"):
        if not claim(sessions, f"alert-post:{decision.life}"):
            return
        thread = _overflow_thread(sessions, client, decision, now) if kind == "fold" else None
        ts = post_message(
            client,
            channel,
            text=nudge_text(alert),
            blocks=nudge_blocks(alert, decision.board, decision.alert_id),
            thread_ts=thread,
        )
        remember_message(sessions, decision.alert_id, channel, ts, thread_ts=thread)
    elif kind == "repost":
        stamp = pd.Timestamp(alert.last_posted_at).isoformat() if alert.last_posted_at is not None else ""
        if decision.message_ts and claim(sessions, f"alert-repost:{decision.life}:{stamp}"):
            post_message(client, channel, text=worse_text(alert), thread_ts=decision.message_ts)
    elif kind == "reopen" and decision.message_ts:
        update_message(
            client,
            channel,
            decision.message_ts,
            text=nudge_text(alert),
            blocks=nudge_blocks(alert, decision.board, decision.alert_id),
        )
    elif kind == "resolve" and decision.message_ts:
        when = local_when(pd.Timestamp(alert.resolved_at or now))
        update_message(
            client,
            channel,
            decision.message_ts,
            text=resolved_text(alert, when),
            blocks=resolved_blocks(alert, decision.board, when),
        )


def _overflow_thread(
    sessions: sessionmaker[Session], client: WebClient, decision: Decision, now: dt.datetime
) -> str:
    """The day's "more flow signals" thread in the channel, started by the first alert over the budget."""
    thread = overflow_thread_of_day(sessions, decision.channel, now)
    if thread is not None:
        return thread
    budget = daily_budget(sessions, decision.board_id)
    return post_message(client, decision.channel, text=texts.NUDGE_OVERFLOW.format(budget=budget))


def post_digest(client: WebClient, channel: str, digest: DigestData) -> str:
    """The digest's parent message, its details as replies in its thread; returns the parent's timestamp."""
    parent, text = digest_parent(digest)
    return post_thread(client, channel, text=text, parent=parent, replies=digest_thread(digest))


def post_review(client: WebClient, channel: str, review: Review) -> str:
    """The review message, then its four charts as PNG files in its thread."""
    charts = [
        Chart(render_chart(kind, review.metrics), CHART_FILES[kind], title)
        for kind, title in review_chart_titles(review.metrics).items()
    ]
    return post_with_charts(
        client,
        channel,
        text=review_text(review.diagnosis, review.metrics),
        blocks=review_blocks(review.diagnosis, review.trends, review.metrics),
        charts=charts,
        charts_need_membership=texts.CHARTS_NEED_MEMBERSHIP,
    )
