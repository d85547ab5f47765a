"""The answers to `/flow` subcommands (and to the mentions that may ask them), one function each.

An answer gets the runtime and the :class:`Ask`; it replies through ``ask`` wherever the question came from
(the command's response URL or the mention's thread). Which answer answers which subcommand is the registry's
to say (``bot.slack.subcommands``). Errors propagate: ``bot.slack.errors.reported`` words them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject
from sqlalchemy.orm import Session

from analytics.charts.board import CHART_FILES, ChartKind, render_chart
from analytics.workflow import Workflow
from bot.errors import FlowcoachError
from bot.services.forecast_record import stored_board_forecast
from bot.services.metrics import metrics_now, sync_info
from bot.services.reports import board_digest, board_review
from bot.slack import texts
from bot.slack.blocks.charts import (
    aging_blocks,
    cfd_blocks,
    chart_comment,
    chart_title,
    cycle_blocks,
    throughput_blocks,
)
from bot.slack.blocks.common import escape
from bot.slack.blocks.forecast import forecast_blocks, forecast_text
from bot.slack.blocks.replies import limits_blocks
from bot.slack.blocks.review import health_blocks, health_detail_blocks, review_text
from bot.slack.blocks.status import status_blocks, status_text
from bot.slack.delivery import delete_file, direct_message_channel, post_thread, upload_png
from bot.slack.forecasts import auto_example, forecast_for
from bot.slack.grammar import BOARD_LIMIT_NAMES, FlowCommand
from bot.slack.lookup import resolve_board
from bot.slack.notifier import post_digest
from bot.slack.onboarding import open_connect_modal
from bot.slack.reply_to import ReplyTo
from bot.slack.runtime import Runtime
from bot.slack.settings_modal import open_settings_modal
from bot.slack.snooze import snooze_reply
from bot.store.board_settings import BOARD_LIMIT_KEY, load_board_settings
from bot.store.boards import board_workflow
from bot.store.models import Board


@dataclass(frozen=True)
class Ask:
    """One question, from `/flow` or a mention, as the answers need it.

    ``trigger_id`` (only commands have one) lets an answer open a modal; ``thread_ts`` (only mentions have
    one) is the thread a shared chart goes to.
    """

    command: FlowCommand
    team_id: str | None
    channel_id: str
    user_id: str
    client: WebClient
    reply_to: ReplyTo
    trigger_id: str = ""
    thread_ts: str | None = None

    def reply(self, blocks: Sequence[Block], text: str) -> None:
        """The answer: only for the asker, unless they added `share`."""
        self.reply_to(text=text, blocks=blocks, in_channel=self.command.share)


Answer = Callable[[Runtime, Ask], None]

CHART_BLOCKS: dict[ChartKind, Callable[..., list[Block]]] = {
    "aging": aging_blocks,
    "cycle": cycle_blocks,
    "throughput": throughput_blocks,
    "cfd": cfd_blocks,
}


def _board(runtime: Runtime, ask: Ask, session: Session) -> Board:
    return resolve_board(session, runtime.workspace_key(ask.team_id), ask.channel_id, ask.command.board)


def answer_status(runtime: Runtime, ask: Ask) -> None:
    now = runtime.clock()
    with runtime.sessions() as session:
        board = _board(runtime, ask, session)
        metrics = metrics_now(session, board, now, cache=runtime.metrics_cache)
        sync = sync_info(session, board, now)
    ask.reply(status_blocks(metrics, sync), status_text(metrics))


def answer_chart(runtime: Runtime, ask: Ask) -> None:
    kind: ChartKind = ask.command.name  # type: ignore[assignment]
    now = runtime.clock()
    with runtime.sessions() as session:
        board = _board(runtime, ask, session)
        metrics = metrics_now(session, board, now, ask.command.window_days or 30, runtime.metrics_cache)
    png = render_chart(kind, metrics)
    title = chart_title(kind, metrics)
    if ask.command.share:
        comment = (
            chart_comment(kind, metrics) + "\n" + texts.CHART_SHARED_BY.format(chart=title, user=ask.user_id)
        )
        # Both or neither: the chart first, as only it can be refused (files need the bot in the channel;
        # the summary goes through the response URL); a summary that then fails takes the chart back.
        file_id = upload_png(
            ask.client,
            ask.channel_id,
            png,
            filename=CHART_FILES[kind],
            title=title,
            comment=comment,
            thread_ts=ask.thread_ts,
        )
        try:
            ask.reply(CHART_BLOCKS[kind](metrics), title)
        except Exception:
            delete_file(ask.client, file_id)
            raise
        return
    # An uploaded file is visible to everyone in the channel it lands in; a private answer goes to a DM.
    upload_png(
        ask.client,
        direct_message_channel(ask.client, ask.user_id),
        png,
        filename=CHART_FILES[kind],
        title=title,
        comment=chart_comment(kind, metrics),
    )
    ask.reply([*CHART_BLOCKS[kind](metrics), *_context(texts.CHART_IN_DM)], title)


def answer_forecast(runtime: Runtime, ask: Ask) -> None:
    now = runtime.clock()
    with runtime.sessions() as session:
        board = _board(runtime, ask, session)
        result = forecast_for(
            lambda question, window: stored_board_forecast(
                session, board, now, question, window, runtime.metrics_cache
            ),
            ask.command,
        )
    ask.reply(forecast_blocks(result, auto_example(ask.command)), forecast_text(result))


def answer_health(runtime: Runtime, ask: Ask) -> None:
    with runtime.sessions() as session:
        board = _board(runtime, ask, session)
        review = board_review(session, board, runtime.clock())
    # The verdict and its three strongest numbers first; the rest in the thread. A shared answer to a
    # command posts in the channel (chat.postMessage) so it can have a thread. A private answer (response
    # URL: ephemeral messages have no threads) and a mention (already in a thread) get the rest as a second
    # message right under the first.
    text = review_text(review.diagnosis, review.metrics)
    lead = health_blocks(review.diagnosis, review.metrics)
    details = health_detail_blocks(review.diagnosis, review.trends, review.metrics, review.track_record)
    if ask.command.share and ask.thread_ts is None:
        post_thread(ask.client, ask.channel_id, text=text, parent=lead, replies=[details])
        return
    ask.reply(lead, text)
    ask.reply(details, text)


def answer_digest(runtime: Runtime, ask: Ask) -> None:
    with runtime.sessions() as session:
        board = _board(runtime, ask, session)
        digest = board_digest(session, board, runtime.clock())
    post_digest(ask.client, ask.channel_id, digest)


def answer_limits(runtime: Runtime, ask: Ask) -> None:
    now = runtime.clock()
    with runtime.sessions() as session:
        board = _board(runtime, ask, session)
        if ask.command.sets_limit:
            _set_limit(board, ask)
            session.commit()
        metrics = metrics_now(session, board, now, cache=runtime.metrics_cache)
        workflow = board_workflow(board)
    if ask.command.sets_limit:
        stage = _limit_stage_name(workflow, ask.command.limit_stage or "")
        message = texts.LIMIT_SET if ask.command.limit_value is not None else texts.LIMIT_REMOVED
        text = message.format(
            stage=escape(stage), board=escape(board.name), limit=ask.command.limit_value, user=ask.user_id
        )
        # A changed limit is a team agreement: say it where the team sees it.
        ask.reply_to(text=text, in_channel=True)
        return
    ask.reply(
        limits_blocks(board.name, workflow, metrics.wip_by_stage),
        texts.LIMITS_TITLE.format(board=escape(board.name)),
    )


def _limit_stage_name(workflow: Workflow, asked: str) -> str:
    if asked.casefold() in BOARD_LIMIT_NAMES:
        return texts.BOARD_LIMIT_NAME
    for stage in workflow.stages:
        if stage.kind.is_wip and stage.name.casefold() == asked.casefold():
            return str(stage.name)
    raise _unknown_stage(workflow, asked)


def _unknown_stage(workflow: Workflow, asked: str) -> Exception:
    stages = ", ".join(stage.name for stage in workflow.stages if stage.kind.is_wip)
    return FlowcoachError(texts.UNKNOWN_STAGE.format(board=workflow.name, stage=asked, stages=stages))


def _set_limit(board: Board, ask: Ask) -> None:
    workflow = board_workflow(board)
    asked = ask.command.limit_stage or ""
    name = _limit_stage_name(workflow, asked)
    key = BOARD_LIMIT_KEY if name == texts.BOARD_LIMIT_NAME else name
    settings = load_board_settings(board.coaching_settings)
    settings.wip_limits[key] = ask.command.limit_value
    board.coaching_settings = settings.to_json()


def answer_connect(runtime: Runtime, ask: Ask) -> None:
    open_connect_modal(runtime, ask.client, ask.trigger_id, channel_id=ask.channel_id)


def answer_settings(runtime: Runtime, ask: Ask) -> None:
    with runtime.sessions() as session:
        board = _board(runtime, ask, session)
        open_settings_modal(ask.client, ask.trigger_id, board)


def answer_snooze(runtime: Runtime, ask: Ask) -> None:
    text = snooze_reply(
        runtime, runtime.workspace_key(ask.team_id), ask.channel_id, ask.user_id, ask.command.snooze_for
    )
    ask.reply_to(text=text, in_channel=ask.command.snooze_for is not None)


def _context(text: str) -> list[Block]:
    return [ContextBlock(elements=[MarkdownTextObject(text=text)])]
