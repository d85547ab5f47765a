"""How the worker's jobs speak in Slack: nudges, digests and weekly reviews, with the workspace's bot.

The nudges one evaluation posts are one message (``bot/slack/blocks/nudges.py`` draws it). Each alert's post
is claimed in the database before it is sent (``bot/store/claims.py``), so a crash, a retry or a second
worker never posts the same alert twice; at worst a message whose timestamp was not stored cannot be updated
when an alert resolves. A message is drawn again from all its alerts whenever one of them resolves or
reopens. Nothing here raises into the job: a failed delivery is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Literal

import pandas as pd
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics.charts.board import CHART_FILES, render_chart
from bot.coach.digest import DigestData
from bot.config import Settings
from bot.formatting import count_of
from bot.services.coaching import (
    Decision,
    daily_budget,
    message_view,
    overflow_thread_of_day,
    remember_message,
)
from bot.services.jobs import BoardAddress, Progress
from bot.services.reports import Review
from bot.slack import texts
from bot.slack.blocks.common import context, escape
from bot.slack.blocks.digest import digest_parent, digest_thread
from bot.slack.blocks.nudges import message_blocks, message_text, worse_text
from bot.slack.blocks.review import review_blocks, review_chart_titles, review_text
from bot.slack.clients import client_for_workspace
from bot.slack.delivery import (
    Chart,
    delivery_metadata,
    find_delivery,
    find_parts,
    post_message,
    post_thread,
    post_with_charts,
    update_message,
)
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
        deliver_nudges(self._sessions, client, decisions, self._clock())

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


def deliver_nudges(
    sessions: sessionmaker[Session], client: WebClient, decisions: Sequence[Decision], now: dt.datetime
) -> None:
    """Carry out one evaluation's decisions in the board's channel: its posts (or folds) as one message,
    reposts in their message's thread, and every message with an alert that resolved or reopened drawn
    again. A failure is logged and the rest still delivered."""
    posts = [decision for decision in decisions if decision.kind in ("post", "fold")]
    if posts:
        _attempt(posts[0], "message", partial(post_nudges, sessions, client, posts, now))
    changed: dict[tuple[str, str], Decision] = {}
    for decision in decisions:
        if decision.kind == "repost":
            _attempt(decision, "repost", partial(_repost, sessions, client, decision))
        elif decision.kind in ("resolve", "reopen") and decision.message_ts:
            changed.setdefault((decision.channel, decision.message_ts), decision)
    for (channel, ts), decision in changed.items():
        _attempt(decision, "update", partial(redraw_message, sessions, client, channel, ts))


def _attempt(decision: Decision, what: str, deliver: Callable[[], None]) -> None:
    try:
        deliver()
    except Exception:
        log.exception("board %s: could not deliver the %s of %s", decision.board_id, what, decision.alert.key)


def post_nudges(
    sessions: sessionmaker[Session], client: WebClient, posts: Sequence[Decision], now: dt.datetime
) -> None:
    """The alerts due at one evaluation as one message: at the top of the channel, or in the board's
    "more flow signals" thread of the day once its budget of messages is spent."""
    claimed = [decision for decision in posts if claim(sessions, f"alert-post:{decision.life}")]
    if not claimed:
        return
    head = claimed[0]
    thread = _overflow_thread(sessions, client, head, now) if head.kind == "fold" else None
    entries = [(decision.alert_id, decision.alert) for decision in claimed]
    first = any(decision.first for decision in claimed)
    ts = post_message(
        client,
        head.channel,
        text=message_text(head.board, entries, first=first),
        blocks=message_blocks(head.board, entries, first=first),
        thread_ts=thread,
    )
    ids = [decision.alert_id for decision in claimed]
    remember_message(sessions, ids, head.channel, ts, thread_ts=thread, first=first)


def _repost(sessions: sessionmaker[Session], client: WebClient, decision: Decision) -> None:
    """Materially worse after the cooldown: said again in the thread of the message that first said it."""
    alert = decision.alert
    stamp = pd.Timestamp(alert.last_posted_at).isoformat() if alert.last_posted_at is not None else ""
    if decision.message_ts and claim(sessions, f"alert-repost:{decision.life}:{stamp}"):
        post_message(client, decision.channel, text=worse_text(alert), thread_ts=decision.message_ts)


def redraw_message(sessions: sessionmaker[Session], client: WebClient, channel: str, ts: str) -> None:
    """Draw a posted message again from all its alerts as they stand (resolved ones marked so)."""
    with sessions() as session:
        view = message_view(session, channel, ts)
    if view is None:
        return
    update_message(
        client,
        channel,
        ts,
        text=message_text(view.board, view.alerts, first=view.first),
        blocks=message_blocks(view.board, view.alerts, first=view.first),
    )


def _overflow_thread(
    sessions: sessionmaker[Session], client: WebClient, decision: Decision, now: dt.datetime
) -> str:
    """The board's "more flow signals" thread of the day in its channel, started by its first message over
    the budget; each board in a channel has its own."""
    thread = overflow_thread_of_day(sessions, decision.board_id, decision.channel, now)
    if thread is not None:
        return thread
    budget = daily_budget(sessions, decision.board_id)
    text = texts.NUDGE_OVERFLOW.format(board=escape(decision.board), budget=count_of(budget, "message"))
    return post_message(client, decision.channel, text=text)


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
