"""A forecast for a terminal: the JSON document of ``flowcoach forecast --format json`` and its plain text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from analytics.calendar import to_local_iso
from bot.coach.shift import Shift, shift_words
from bot.formatting import count_of, day_label, local_time
from bot.services.forecast_record import MIN_TRACK_RECORD, TrackRecord, WindowChoice
from bot.services.forecasting import YEAR_DAYS, ForecastResult


def forecast_document(result: ForecastResult) -> dict[str, Any]:
    """The forecast as JSON-ready data: the question, its inputs, and one answer per confidence level."""
    metrics = result.metrics
    document: dict[str, Any] = {
        "board": metrics.board,
        "asof": to_local_iso(metrics.asof, metrics.timezone),
        "window": {
            "start": to_local_iso(metrics.window.start, metrics.timezone),
            "end": to_local_iso(metrics.window.end, metrics.timezone),
            "days": metrics.window.days,
        },
        "throughput": {"total": metrics.throughput_total, "per_week": round(metrics.throughput_per_week, 4)},
        "trials": result.trials,
        "seed": result.seed,
    }
    if result.when is not None:
        document["question"] = "when"
        document["items"] = result.when.items
        document["forecast"] = [
            {
                "confidence": level,
                "days": days,
                "date": (result.start_date + dt.timedelta(days=days)).isoformat(),
            }
            for level, days in result.when.within_days.items()
        ]
    elif result.how_many is not None and result.by_date is not None:
        document["question"] = "how_many"
        document["by"] = result.by_date.isoformat()
        document["days"] = result.how_many.days
        document["forecast"] = [
            {"confidence": level, "at_least": count} for level, count in result.how_many.at_least.items()
        ]
    if result.track_record is not None:
        document["track_record"] = _record_document(result.track_record)
    if result.window_choice is not None:
        document["window_choice"] = {
            "window_days": result.window_choice.window_days,
            "chosen_by_record": result.window_choice.compared,
            "candidates": [_record_document(record) for record in result.window_choice.records],
        }
    return document


def _record_document(record: TrackRecord) -> dict[str, Any]:
    return {
        "level": record.level,
        "hit_rate": None if record.hit_rate is None else round(record.hit_rate, 4),
        "forecasts": record.forecasts,
        "weeks": record.weeks,
        "window_days": record.window_days,
        "horizon_days": record.horizon_days,
    }


def forecast_text(result: ForecastResult) -> str:
    """The forecast in plain words, one line per confidence level."""
    metrics = result.metrics
    basis = (
        f"{result.trials:,} simulations from the daily throughput of the last "
        f"{count_of(metrics.window.days, 'day')} "
        f"({count_of(metrics.throughput_total, 'item')} finished), "
        f"as of {local_time(metrics.asof, metrics.timezone)}"
    )
    if result.when is not None:
        lines = [f"{metrics.board} — when will the next {count_of(result.when.items, 'item')} be done?"]
        for level, days in result.when.within_days.items():
            if days > YEAR_DAYS:  # that far out the simulated past says only "not this year"
                lines.append(f"  {level}% confidence: more than a year from now")
                continue
            date = result.start_date + dt.timedelta(days=days)
            lines.append(
                f"  {level}% confidence: on or before {day_label(date)}  (within {count_of(days, 'day')})"
            )
    elif result.how_many is not None and result.by_date is not None:
        lines = [f"{metrics.board} — how many items will be done by {day_label(result.by_date)}?"]
        horizon = count_of(result.how_many.days, "day")
        for level, count in result.how_many.at_least.items():
            lines.append(f"  {level}% confidence: at least {count_of(count, 'item')}  (in {horizon})")
    else:
        lines = [metrics.board]
    lines.append(f"  Based on {basis}.")
    if result.window_choice is not None:
        lines.append("  " + window_choice_text(result.window_choice))
    if result.track_record is not None:
        auto = result.window_choice is not None
        lines.append("  " + track_record_text(result.track_record, auto=auto, shift=result.throughput_shift))
    return "\n".join(lines) + "\n"


def track_record_text(record: TrackRecord, *, auto: bool, shift: Shift | None = None) -> str:
    """One line: how often forecasts like this one came true, and what to do when that is poor (``auto``:
    the window was already the best calibrated one; ``shift``: a signal of weekly throughput in the window,
    the likeliest reason)."""
    if record.hit_rate is None or not record.known:
        checked = count_of(record.forecasts, "past forecast") if record.forecasts else "no past forecast"
        return (
            f"Track record: too young to judge — {checked} could be checked in the last "
            f"{count_of(record.weeks, 'week')} ({MIN_TRACK_RECORD} needed)."
        )
    line = (
        f"Track record: over the last {count_of(record.weeks, 'week')}, {record.level}% forecasts like this "
        f"one ({count_of(record.horizon_days, 'day')} ahead, from {count_of(record.window_days, 'day')} of "
        f"history) came true {record.hit_rate:.0%} of the time."
    )
    if not record.poor:
        return line
    if shift is not None:
        return line + (
            f" That is poor, and throughput changed: {shift_words(shift)}, a real change, not noise (see "
            "throughput-pbc.png from `flowcoach charts`). The past predicts the near future badly until it "
            "settles: look for what changed, and plan with the 95% line meanwhile."
        )
    if auto:
        return line + (
            " That is poor even for the best calibrated window: throughput has probably changed, so the "
            "past predicts the near future badly. Look for what changed; plan with the 95% line until it "
            "settles."
        )
    return line + (
        " That is poor: throughput has probably changed (the recent past no longer predicts the near future: "
        f"look for what changed), or {count_of(record.window_days, 'day')} is too short to hold the team's "
        "usual variation: try --window auto."
    )


def window_choice_text(choice: WindowChoice) -> str:
    """Which window `auto` took and why, with the candidates' records."""
    chosen = choice.chosen
    if chosen is None or chosen.hit_rate is None or not choice.compared:
        return (
            f"Window: {count_of(choice.window_days, 'day')}; no window has {MIN_TRACK_RECORD} checked past "
            "forecasts yet to choose by."
        )
    others = ", ".join(
        f"{count_of(record.window_days, 'day')}: "
        + ("too young" if record.hit_rate is None or not record.known else f"{record.hit_rate:.0%}")
        for record in choice.records
        if record.window_days != choice.window_days
    )
    return (
        f"Window: {count_of(choice.window_days, 'day')}, the best calibrated: its {chosen.level}% forecasts "
        f"came true {chosen.hit_rate:.0%} of the time" + (f" ({others})." if others else ".")
    )
