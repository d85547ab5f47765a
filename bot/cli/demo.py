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
from bot.formatting import count_of, day_label, days, item_title, local_time, shorten
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
    """Print the sample board's ten-line summary, then its metrics, forecasts, charts, nudges and digest
    under headings; write its charts. Returns the chart folder."""
    client = _slack_client() if channel is not None else None  # a missing token stops it before any output
    if chart_dir is not None:
        chart_folder(chart_dir)  # so does an --out that cannot hold the charts
    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    log = read_event_log(SAMPLE_EVENTS_PATH, workflow)
    asof = pd.Timestamp(SAMPLE_ASOF)
    timeline = build_timeline(
        log.events, workflow, asof
    )  # one timeline serves both windows and the diagnosis
    metrics = compute_metrics(timeline, window_days=30, warnings=log.warnings)
    folder = chart_dir if chart_dir is not None else Path(tempfile.mkdtemp(prefix="flowcoach-demo-"))
    paths = write_charts(compute_metrics(timeline, window_days=90), folder)
    out.write(_summary(log.events, workflow, metrics, timeline, folder, len(paths)))

    out.write(_heading("Metrics"))
    out.write(metrics_text(metrics))
    out.write(_heading("Forecasts"))
    try:
        when = forecast_when(metrics, FORECAST_ITEMS, trials=DEFAULT_TRIALS, seed=DEMO_SEED)
        out.write(_indent(forecast_text(when)))
        by = asof.tz_convert(workflow.timezone).date() + dt.timedelta(days=FORECAST_DAYS)
        how_many = forecast_how_many(metrics, by, trials=DEFAULT_TRIALS, seed=DEMO_SEED)
        out.write(_indent(forecast_text(how_many)))
    except CannotForecast as reason:
        out.write(f"  {reason}\n")

    out.write(_heading("Charts"))
    out.write(f"Charts (last 90 days) written to {folder}:\n")
    out.writelines(f"  {path.name}\n" for path in paths)
    _coach_section(out, log.events, workflow, asof, slack=(client, channel) if client and channel else None)
    out.write(_heading("Try it on your own board"))
    out.write(
        "  flowcoach metrics --events events.csv --workflow workflow.yml\n"
        "  flowcoach digest --events events.csv --workflow workflow.yml\n"
        "  flowcoach health --events events.csv --workflow workflow.yml\n"
        f"  (the sample's files: {SAMPLE_EVENTS_PATH} and {SAMPLE_WORKFLOW_PATH})\n"
    )
    return folder


def _heading(title: str) -> str:
    return f"\n== {title} ==\n\n"


def _summary(
    events: pd.DataFrame, workflow: Workflow, metrics: Any, timeline: Any, folder: Path, charts: int
) -> str:
    """At most ten lines a team lead takes in at a glance: board, WIP, throughput, cycle time and SLE, the
    verdict, the top concern, where the charts went."""
    from analytics.diagnosis import diagnose
    from bot.cli.report_text import VERDICT, evidence_line
    from bot.coach.engine import Coach
    from bot.services.reports import REVIEW_WEEKS, strongest_evidence

    items = events["item_id"].nunique()
    first = pd.Timestamp(events["timestamp"].min()).tz_convert(workflow.timezone)
    over = [
        f"{flow.name} {flow.wip}/{flow.wip_limit}"
        for flow in metrics.stages
        if flow.wip is not None and flow.wip_limit is not None and flow.wip > flow.wip_limit
    ]
    limit = f" of {metrics.wip_limit}" if metrics.wip_limit is not None else " (no board limit)"
    wip = f"{metrics.wip_total}{limit}" + (f"; over limit: {', '.join(over)}" if over else "")
    cycle = metrics.cycle_time
    p85 = cycle.percentiles.get(85) if cycle.count else None
    sle = (
        f"SLE {metrics.sle_percentile:g}% within {days(metrics.sle_days)}"
        if metrics.sle_days is not None
        else "no SLE yet"
    )
    diagnosis = diagnose(
        timeline, asof=timeline.asof, weeks=REVIEW_WEEKS, calendar=Coach.of(workflow, Thresholds()).calendar
    )
    verdict = VERDICT[diagnosis.verdict].split(":")[0]
    strongest = strongest_evidence(diagnosis, 1)
    because = f" — {shorten(evidence_line(strongest[0], diagnosis)[2:], 90)}" if strongest else ""
    lines = [
        f"flowcoach demo: the bundled sample board '{workflow.name}', {count_of(items, 'item')} tracked "
        f"since {day_label(first.date())}, as of {local_time(metrics.asof, workflow.timezone)}.",
        f"  WIP:          {wip}",
        f"  Throughput:   {metrics.throughput_per_week:.1f} a week ({metrics.throughput_total} finished "
        f"in the last {count_of(metrics.window.days, 'day')})",
        f"  Cycle time:   85% within {days(p85)}; {sle}",
        f"  Flow:         {verdict}{because}",
        f"  Top concern:  {_top_concern(metrics)}",
        f"  Charts:       {count_of(charts, 'PNG file')} in {folder}",
        "  Below: the metrics, forecasts, the coach's nudges (replayed) and today's digest.",
    ]
    return "\n".join(lines) + "\n"


def _top_concern(metrics: Any) -> str:
    """The oldest item past the SLE (else the longest blocked, else the oldest) with its age and stage."""
    items = metrics.wip_items.reset_index()
    if items.empty:
        return "nothing in progress"
    sle = metrics.sle_days
    past = items[items["age_days"] > sle] if sle is not None else items.iloc[0:0]
    blocked = items[items["blocked"].fillna(False).astype(bool)] if "blocked" in items else items.iloc[0:0]
    if not past.empty:
        row, why = past.sort_values("age_days", ascending=False).iloc[0], "past the SLE"
    elif not blocked.empty:
        row, why = blocked.sort_values("age_days", ascending=False).iloc[0], "blocked"
    else:
        row, why = items.sort_values("age_days", ascending=False).iloc[0], "the oldest in progress"
    extra = ", blocked" if why == "past the SLE" and bool(row.get("blocked", False)) else ""
    title = item_title(row.get("title"))
    label = f" — {title}" if title else ""
    return f"{row['item_id']} in {row['stage']}, {days(float(row['age_days']))} old, {why}{extra}{label}"


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
    out.write(_heading("The coach"))
    out.write(
        f"The coach's nudges over the last {count_of(REPLAY_DAYS, 'day')} (replayed): {len(posted)} "
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
    out.write(_heading("Today's digest"))
    out.write("Today's digest, as it would read in Slack:\n\n")
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
