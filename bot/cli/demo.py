"""``flowcoach demo``: the whole product on the bundled sample board, with no configuration at all."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from analytics.forecast import CannotForecast
from analytics.measures import compute_metrics
from analytics.timeline import build_timeline
from analytics.workflow import Workflow
from bot.cli.chart_files import chart_folder, write_charts
from bot.cli.forecast_output import forecast_text
from bot.cli.report import metrics_text
from bot.connectors.files import load_workflow, read_event_log
from bot.errors import FlowcoachError
from bot.formatting import count_of, day_label, local_time
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.services.forecast_defaults import DEFAULT_TRIALS
from bot.services.forecasting import forecast_how_many, forecast_when
from bot.store.board_settings import Thresholds

DEMO_SEED = 2026  # a fixed seed keeps the demo's forecast identical from run to run
FORECAST_ITEMS = 10
FORECAST_DAYS = 14
REPLAY_DAYS = 14
MAX_NUDGES_SHOWN = 8
SLACK_HINTS = {
    "not_in_channel": ": invite the bot there first (/invite @flowcoach in the channel)",
    "channel_not_found": ": check the channel id (at the bottom of the channel's details) and invite the bot",
    "is_archived": ": the channel is archived",
    "invalid_auth": ": check SLACK_BOT_TOKEN",
    "token_revoked": ": SLACK_BOT_TOKEN was revoked; reinstall the app",
    "account_inactive": ": SLACK_BOT_TOKEN belongs to an uninstalled app; reinstall it",
}


def run_demo(out: TextIO, *, chart_dir: Path | None = None, channel: str | None = None) -> Path:
    """Print the sample board's summary and forecasts, write its charts; returns the chart folder."""
    client = _slack_client() if channel is not None else None  # a missing token stops it before any output
    if chart_dir is not None:
        chart_folder(chart_dir)  # so does an --out that cannot hold the charts
    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    log = read_event_log(SAMPLE_EVENTS_PATH, workflow)
    asof = pd.Timestamp(SAMPLE_ASOF)
    timeline = build_timeline(log.events, workflow, asof)  # one timeline serves both windows below
    metrics = compute_metrics(timeline, window_days=30, warnings=log.warnings)
    items = log.events["item_id"].nunique()
    first = pd.Timestamp(log.events["timestamp"].min()).tz_convert(workflow.timezone)
    out.write(
        f"flowcoach demo: the bundled sample board '{workflow.name}', {count_of(items, 'item')} tracked "
        f"since {day_label(first.date())}.\n\n"
    )
    out.write(metrics_text(metrics))
    out.write("\nForecasts\n")
    try:
        when = forecast_when(metrics, FORECAST_ITEMS, trials=DEFAULT_TRIALS, seed=DEMO_SEED)
        out.write(_indent(forecast_text(when)))
        by = asof.tz_convert(workflow.timezone).date() + dt.timedelta(days=FORECAST_DAYS)
        how_many = forecast_how_many(metrics, by, trials=DEFAULT_TRIALS, seed=DEMO_SEED)
        out.write(_indent(forecast_text(how_many)))
    except CannotForecast as reason:
        out.write(f"  {reason}\n")

    folder = chart_dir if chart_dir is not None else Path(tempfile.mkdtemp(prefix="flowcoach-demo-"))
    chart_metrics = compute_metrics(timeline, window_days=90)
    paths = write_charts(chart_metrics, folder)
    out.write(f"\nCharts (last 90 days) written to {folder}:\n")
    out.writelines(f"  {path.name}\n" for path in paths)
    _coach_section(out, log.events, workflow, asof, slack=(client, channel) if client and channel else None)
    out.write(
        "\nTry it on your own board:\n"
        "  flowcoach metrics --events events.csv --workflow workflow.yml\n"
        f"  (the sample's files: {SAMPLE_EVENTS_PATH} and {SAMPLE_WORKFLOW_PATH})\n"
    )
    return folder


def _coach_section(
    out: TextIO,
    events: pd.DataFrame,
    workflow: Workflow,
    asof: pd.Timestamp,
    *,
    slack: tuple[WebClient, str] | None,
) -> None:
    """The last two weeks of nudges, replayed, and today's digest as Slack would show it."""
    from bot.coach.replay import replay
    from bot.services.reports import events_digest
    from bot.slack.blocks.digest import digest_parent, digest_thread
    from bot.slack.blocks.terminal import blocks_text

    thresholds = Thresholds()
    result = replay(events, workflow, thresholds, since=asof - pd.Timedelta(days=REPLAY_DAYS), until=asof)
    posted = [nudge for nudge in result.nudges if nudge.alert.posted_at is not None]
    out.write(
        f"\nThe coach's nudges over the last {count_of(REPLAY_DAYS, 'day')} (replayed): {len(posted)} "
        f"posted, {len(result.nudges) - len(posted)} never needed posting\n"
    )
    for nudge in posted[-MAX_NUDGES_SHOWN:]:
        alert = nudge.alert
        assert alert.posted_at is not None  # only posted nudges are listed
        when = local_time(alert.posted_at, workflow.timezone, year=False)
        resolved = "open" if alert.resolved_at is None else "resolved"
        out.write(f"  {when}  {alert.rule} · {alert.subject} ({resolved})\n    {nudge.text}\n")
    if len(posted) > MAX_NUDGES_SHOWN:
        out.write(f"  (and {len(posted) - MAX_NUDGES_SHOWN} earlier; see: flowcoach replay)\n")
    digest = events_digest(events, workflow, thresholds, asof.to_pydatetime())
    out.write("\nToday's digest, as it would read in Slack:\n\n")
    parent, _text = digest_parent(digest)
    out.write(blocks_text(parent, indent="  "))
    for reply in digest_thread(digest):
        out.write("\n" + blocks_text(reply, indent="    │ "))
    if slack is not None:
        client, channel = slack
        still_open = [n.alert for n in posted if n.alert.resolved_at is None]
        _post_to_slack(out, client, channel, digest, still_open, workflow)


def _slack_client() -> WebClient:
    from bot.config import load_settings
    from bot.slack.delivery import web_client

    settings = load_settings()
    if settings.slack_bot_token is None:
        raise FlowcoachError("SLACK_BOT_TOKEN: set it to post the demo in Slack (--channel)")
    return web_client(settings.slack_api_url, settings.slack_bot_token.get_secret_value())


def _post_to_slack(
    out: TextIO, client: WebClient, channel: str, digest: Any, open_alerts: list[Any], workflow: Workflow
) -> None:
    """The nudges still open and the digest, posted in ``channel`` for real."""
    from bot.slack.blocks.nudges import message_blocks, message_text
    from bot.slack.delivery import post_message
    from bot.slack.notifier import post_digest

    try:
        if open_alerts:  # what the coach sees now, as one message, as when a board is just connected
            entries = [(None, alert) for alert in open_alerts]
            post_message(
                client,
                channel,
                text=message_text(workflow.name, entries, first=True),
                blocks=message_blocks(workflow.name, entries, first=True),
            )
        post_digest(client, channel, digest)
    except SlackApiError as refused:
        reason = refused.response.get("error", "an error")
        hint = SLACK_HINTS.get(reason, "")
        raise FlowcoachError(f"Slack refused to post in {channel} ({reason}){hint}") from None
    out.write(f"\nPosted {len(open_alerts)} open nudges as one message and the digest in {channel}.\n")


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())
