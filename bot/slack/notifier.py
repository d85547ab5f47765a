"""How the worker's jobs speak in Slack: nudges, digests and weekly reviews, with the workspace's bot.

Nudges go out from the coach's outbox (``bot/slack/nudge_delivery.py``); digests and reviews are posted
part by part with their slot's progress, so a delivery cut short resumes. Nothing here raises into the job:
a failed delivery is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Literal

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics.charts.board import CHART_FILES, render_chart
from bot.coach.digest import DigestData
from bot.config import Settings
from bot.services.jobs import BoardAddress, Progress
from bot.services.reports import Review
from bot.slack import texts
from bot.slack.blocks.common import context
from bot.slack.blocks.digest import digest_parent, digest_thread
from bot.slack.blocks.review import review_blocks, review_chart_titles, review_text
from bot.slack.clients import client_for_workspace
from bot.slack.delivery import (
    Chart,
    delivery_metadata,
    find_delivery,
    find_parts,
    post_thread,
    post_with_charts,
)
from bot.slack.nudge_delivery import deliver_waiting
from bot.store.nudge_outbox import drop_waiting

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

    def nudges(self, board: BoardAddress) -> None:
        client = self._client(board)
        if client is None:
            dropped = drop_waiting(self._sessions, board.board_id, "no Slack token for the board's workspace")
            if dropped:
                log.warning(
                    "board %s: no Slack token for its workspace; %d nudges dropped", board.name, dropped
                )
            return
        deliver_waiting(self._sessions, client, board.board_id, self._clock())

    def digest(self, board: BoardAddress, digest: DigestData, progress: Progress) -> bool:
        return self._post(
            board, "digest", lambda client, channel: post_digest(client, channel, digest, progress)
        )

    def review(self, board: BoardAddress, review: Review, progress: Progress) -> bool:
        return self._post(
            board, "weekly review", lambda client, channel: post_review(client, channel, review, progress)
        )

    def delivered(self, board: BoardAddress, key: str, since: dt.datetime) -> str | Literal[False] | None:
        client = self._client(board)
        if client is None or board.channel is None:
            return None
        return find_delivery(client, board.channel, key, since.timestamp())

    def delivered_parts(self, board: BoardAddress, key: str, parent_ts: str) -> int | None:
        client = self._client(board)
        if client is None or board.channel is None:
            return None
        return find_parts(client, board.channel, parent_ts, key)

    def _post(self, board: BoardAddress, what: str, post: Callable[[WebClient, str], str]) -> bool:
        """Post with ``post``; False (logged) when its first message could not be posted."""
        client = self._client(board)
        if client is None or board.channel is None:
            return False
        try:
            post(client, board.channel)
        except Exception as error:  # Slack refused it, or could not be reached: nothing was posted
            log.warning("board %s: the %s could not be posted: %s", board.name, what, error)
            return False
        return True


def post_digest(client: WebClient, channel: str, digest: DigestData, progress: Progress | None = None) -> str:
    """The digest's parent message, its details as replies in its thread; returns the parent's timestamp."""
    parent, text = digest_parent(digest)
    return post_thread(
        client,
        channel,
        text=text,
        parent=parent,
        replies=digest_thread(digest),
        metadata=delivery_metadata(digest.delivery_key),
        progress=progress,
    )


def post_review(client: WebClient, channel: str, review: Review, progress: Progress | None = None) -> str:
    """The review message, then its four charts as PNG files in its thread."""
    charts = [
        Chart(render_chart(kind, review.metrics), CHART_FILES[kind], title)
        for kind, title in review_chart_titles(review.metrics).items()
    ]
    return post_with_charts(
        client,
        channel,
        text=review_text(review.diagnosis, review.metrics),
        blocks=_with_late_note(
            review_blocks(review.diagnosis, review.trends, review.metrics, review.track_record), review.due_at
        ),
        charts=charts,
        charts_need_membership=texts.CHARTS_NEED_MEMBERSHIP,
        metadata=delivery_metadata(review.delivery_key),
        progress=progress,
    )


def _with_late_note(blocks: list[Block], due_at: dt.datetime | None) -> list[Block]:
    if due_at is None:
        return blocks
    return [blocks[0], context(texts.posted_late(due_at, utc_now())), *blocks[1:]]
