"""The weekly flow review in Slack: the push / pull / flow diagnosis with its evidence, and the trends.

The verdict comes first in plain words, then every criterion with a mark saying whether it holds and the
numbers behind it, grouped by the verdict it argues for, then the bottleneck, the trends and one next step.
The four charts are uploaded alongside (titles from :func:`review_chart_titles`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
from slack_sdk.models.blocks import Block

from analytics.diagnosis import Diagnosis, Evidence, Trend, Trends
from analytics.measures import BoardMetrics
from bot.formatting import days, percent
from bot.services.reports import ThroughputVerdict, strongest_evidence, throughput_verdict
from bot.slack import texts
from bot.slack.blocks.charts import chart_title
from bot.slack.blocks.common import context, escape, header, section

if TYPE_CHECKING:
    from analytics.charts.board import ChartKind
    from bot.services.forecast_record import TrackRecord

REVIEW_CHARTS: tuple[ChartKind, ...] = ("cfd", "cycle", "aging", "throughput")  # the spec's order


def review_blocks(
    diagnosis: Diagnosis, trends: Trends, metrics: BoardMetrics, track_record: TrackRecord | None = None
) -> list[Block]:
    """The review message: verdict, evidence by criterion, bottleneck, trends (and the forecasts' track
    record), next step."""
    local_end = pd.Timestamp(diagnosis.end).tz_convert(metrics.timezone)
    last_day = (local_end - pd.Timedelta(1, "ns")).date()
    blocks: list[Block] = [
        header(texts.review_header(metrics.board, local_end.date())),
        section(texts.REVIEW_VERDICT[diagnosis.verdict]),
        section(
            _evidence_text(diagnosis, diagnosis.weeks, _first_day(diagnosis, metrics.timezone), last_day)
        ),
    ]
    if diagnosis.bottleneck is not None:
        share = diagnosis.waiting_days[diagnosis.bottleneck] / sum(diagnosis.waiting_days.values())
        blocks.append(section(texts.review_bottleneck(escape(diagnosis.bottleneck), percent(share))))
    trends_text = _trends_text(trends, throughput_verdict(metrics))
    if track_record is not None:
        trends_text += "\n" + texts.review_track_record(track_record)
    blocks.append(section(trends_text))
    blocks.append(section(_next_step(diagnosis)))
    blocks.append(context(texts.REVIEW_CHARTS))
    return blocks


def health_blocks(diagnosis: Diagnosis, metrics: BoardMetrics) -> list[Block]:
    """`/flow health`'s lead: the verdict and its strongest numbers (:func:`strongest_evidence`)."""
    local_end = pd.Timestamp(diagnosis.end).tz_convert(metrics.timezone)
    lines = [_evidence_line(evidence, diagnosis) for evidence in strongest_evidence(diagnosis)]
    return [
        header(texts.review_header(metrics.board, local_end.date())),
        section(texts.REVIEW_VERDICT[diagnosis.verdict]),
        *([section("\n".join(lines))] if lines else []),
        context(texts.HEALTH_MORE),
    ]


def health_detail_blocks(
    diagnosis: Diagnosis, trends: Trends, metrics: BoardMetrics, track_record: TrackRecord | None = None
) -> list[Block]:
    """The rest of the review, for the thread (or the follow-up) of `/flow health`: every criterion,
    the bottleneck, the trends and one next step."""
    return review_blocks(diagnosis, trends, metrics, track_record)[
        2:-1
    ]  # without the header, verdict and charts note


def review_text(diagnosis: Diagnosis, metrics: BoardMetrics) -> str:
    """The notification line: board, review and verdict, without markup."""
    verdict = texts.REVIEW_VERDICT[diagnosis.verdict].replace("*", "")
    local_end = pd.Timestamp(diagnosis.end).tz_convert(metrics.timezone).date()
    return f"{texts.review_header(metrics.board, local_end)}: {verdict}"


def review_chart_titles(metrics: BoardMetrics) -> dict[ChartKind, str]:
    """The four charts of the review, in posting order, with their file titles."""
    return {kind: chart_title(kind, metrics) for kind in REVIEW_CHARTS}


def _first_day(diagnosis: Diagnosis, timezone: str) -> dt.date:
    return pd.Timestamp(diagnosis.start).tz_convert(timezone).date()


def _evidence_text(diagnosis: Diagnosis, weeks: int, first: dt.date, last: dt.date) -> str:
    lines = [texts.review_period(weeks, first, last)]
    for group, title in texts.REVIEW_GROUPS.items():
        chosen = [evidence for evidence in diagnosis.evidence if evidence.supports == group]
        if chosen:
            lines.append(title)
            lines.extend(_evidence_line(evidence, diagnosis) for evidence in chosen)
    return "\n".join(lines)


def _evidence_line(evidence: Evidence, diagnosis: Diagnosis) -> str:
    """One criterion in words; the numbers come from the diagnosis so each line can be checked by hand."""
    mark = texts.REVIEW_HOLDS if evidence.holds else texts.REVIEW_DOES_NOT_HOLD
    tolerance = percent(evidence.threshold)
    if evidence.name == "arrival_ratio":
        ratio = _ratio(evidence.value)
        return texts.review_arrivals(
            mark, diagnosis.arrivals, diagnosis.departures, ratio, evidence.threshold
        )
    if evidence.name == "days_over_limit":
        return texts.review_days_over(mark, diagnosis.days_over_limit, diagnosis.working_days, tolerance)
    if evidence.name == "flow_efficiency":
        return texts.review_efficiency(mark, percent(evidence.value), tolerance)
    if evidence.name == "starving":
        starving = next(s for s in diagnosis.starving if s.stage == evidence.stage)
        constraint = escape(starving.constraint) if starving.constraint else None
        return texts.review_starving(
            mark, escape(starving.stage), percent(starving.share), starving.hours, constraint, tolerance
        )
    if evidence.name == "balance":
        return texts.review_balance(mark, _ratio(evidence.value), tolerance)
    if evidence.name == "littles_law":
        cycle = diagnosis.average_cycle_days
        expected = diagnosis.throughput_per_day * cycle if cycle is not None else None
        return texts.review_littles_law(
            mark,
            diagnosis.throughput_per_day,
            days(cycle),
            _items(expected),
            _items(diagnosis.average_wip),
            tolerance,
        )
    if evidence.name == "wip_stable":
        first, last = _items(diagnosis.wip_first_week), _items(diagnosis.wip_last_week)
        return texts.review_stability(mark, texts.REVIEW_WIP, first, last, tolerance)
    first, last = days(diagnosis.age_first_week), days(diagnosis.age_last_week)
    return texts.review_stability(mark, texts.REVIEW_AGE, first, last, tolerance)


def _trends_text(trends: Trends, verdict: ThroughputVerdict | None) -> str:
    counts = (trends.finished_last_week, trends.finished_before)
    lines = [
        texts.review_trends_heading(trends.weeks),
        _trend_line(texts.REVIEW_THROUGHPUT, trends.throughput, texts.review_per_week),
        _trend_line(texts.REVIEW_CYCLE_P50, trends.cycle_p50, days, counts),
        _trend_line(texts.REVIEW_CYCLE_P85, trends.cycle_p85, days, counts),
    ]
    if verdict is not None:
        lines.append(_verdict_text(verdict))
    return "\n".join(lines)


def _verdict_text(verdict: ThroughputVerdict) -> str:
    """A signal in plain words (is it news?), or one calm line giving the range that is not."""
    shift = verdict.shift
    if shift is None:
        text = texts.review_throughput_steady(verdict.weeks, verdict.lower, verdict.upper)
    else:
        limit = shift.limits.lower if shift.side == "below" else shift.limits.upper
        text = texts.review_throughput_shift(
            week=None if verdict.last_week else shift.week,
            count=shift.count,
            rule=shift.rule,
            side=shift.side,
            limit=limit,
            centre=shift.limits.centre,
            run=shift.run,
        )
    return text + (texts.REVIEW_PROVISIONAL_LIMITS if verdict.provisional else "")


def _trend_line(
    what: str, trend: Trend, formatted: Callable[[float], str], counts: tuple[int, int] | None = None
) -> str:
    """``counts``: the finished items behind each side of a percentile, which under ten is provisional."""
    last_count, before_count = counts if counts is not None else (None, None)
    last = formatted(trend.last_week) if trend.last_week is not None else texts.REVIEW_NO_DATA
    before = formatted(trend.baseline) if trend.baseline is not None else texts.REVIEW_NO_DATA
    change = f"{trend.change:+.0%}" if trend.change is not None else None
    return texts.review_trend_line(
        what,
        last,
        before,
        change,
        last_note=texts.provisional_note(last_count) if trend.last_week is not None else "",
        before_note=texts.provisional_note(before_count) if trend.baseline is not None else "",
    )


def _next_step(diagnosis: Diagnosis) -> str:
    if diagnosis.verdict == "starved_pull":
        worst = max(diagnosis.starving, key=lambda s: s.share or 0.0)
        return texts.REVIEW_NEXT["starved_pull"].format(
            stage=escape(worst.stage), constraint=escape(worst.constraint or worst.stage)
        )
    text = texts.REVIEW_NEXT[diagnosis.verdict]
    if diagnosis.verdict == "push" and diagnosis.bottleneck is not None:
        text += texts.REVIEW_HELP_BOTTLENECK.format(stage=escape(diagnosis.bottleneck))
    return text


def _ratio(value: float | None) -> str:
    return texts.DIAGNOSIS_RATIO.format(value=value) if value is not None else texts.DIAGNOSIS_NONE


def _items(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else texts.DIAGNOSIS_NONE
