"""The daily digest and the flow health of a board in plain text and JSON, for `flowcoach digest`,
`flowcoach health` and the demo: what ``bot.services.reports`` decided, worded for a terminal (no Slack
markup; the Slack wording is in ``bot.slack``, which these commands do not import)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from analytics.calendar import to_local_iso
from bot.formatting import count_of, day_label, days, freshness, local_time, percent, shorten

if TYPE_CHECKING:
    from analytics.diagnosis import Diagnosis, Evidence, Trend, Trends
    from bot.coach.digest import DigestData, DigestItem
    from bot.services.reports import Review, ThroughputVerdict

TITLE_WIDTH = 60
VERDICT = {
    "push": "Push: work is started faster than it is finished, or more is in progress than agreed.",
    "starved_pull": "Starved pull: limits hold, but a stage waits for work that is stuck before it.",
    "flow": "Flow: work arrives about as fast as it leaves, and WIP and its age are steady.",
    "mixed": "No clear pattern: neither pushed nor flowing; the numbers below show what holds.",
}
GROUPS = {
    "push": "Push (any one is enough)",
    "starved_pull": "Starved pull (any stage is enough)",
    "flow": "Flow (all are needed)",
}
NEXT_STEP = {
    "push": "Stop starting, start finishing: pull new work only when an item finishes.",
    "starved_pull": "Who can help {constraint} finish, so that {stage} gets work again?",
    "flow": "Keep the limits as they are and look at the oldest items at stand-up.",
    "mixed": "Pick one experiment for the week, e.g. lower the fullest stage's limit by one.",
}


# --- The digest ---------------------------------------------------------------------------------------------


def digest_text(data: DigestData) -> str:
    """The digest in plain text: three headline lines first, then each topic under its heading."""
    lines = [f"{data.board} — daily digest, {local_time(data.now, data.timezone)} ({data.timezone})"]
    lines.extend(digest_headline(data))
    if data.stale:
        lines.append(
            f"Warning: the data is stale ({_freshness(data)}): these numbers may not match the board."
        )
    lines += ["", "Work in progress by stage"]
    width = max((len(stage.name) for stage in data.stages), default=0)
    for stage in data.stages:
        against = f"{stage.wip} / {stage.limit}" if stage.limit is not None else f"{stage.wip} (no limit)"
        over = f"  over by {stage.wip - (stage.limit or 0)}" if stage.over else ""
        lines.append(f"  {stage.name:<{width}}  {against}{over}")
    lines.append(f"  {_bottleneck_text(data)}")
    starving = ", ".join(data.starving)
    lines.append(
        f"  Starving: {starving} — empty while work waits upstream."
        if starving
        else "  No stage is starving."
    )
    lines += ["", _aging_heading(data)]
    lines.extend([f"  {_aging_line(item)}" for item in data.aging] or ["  none"])
    lines += ["", f"Blocked ({len(data.blocked)})"]
    if data.blocked:
        lines.extend(
            f"  {item.item_id} in {item.stage}, blocked {days(item.blocked_days)}{_title(item)}"
            for item in data.blocked
        )
    else:
        lines.append("  none")
    lines += ["", "What to pull next"]
    if data.pulls:
        lines.extend(
            f"  {pull.stage} has {count_of(pull.spare, 'free place')}: next in line is "
            f"{pull.item.item_id} in {pull.upstream} ({days(pull.item.age_days)} old){_title(pull.item)}"
            for pull in data.pulls
        )
    else:
        lines.append(
            "  No stage has room under its limit with work waiting before it: finish before pulling."
        )
    lines += ["", f"Data: {_freshness(data)}."]
    if data.unmapped_statuses:
        listed = ", ".join(
            f"{status} ({count_of(count, 'item')})"
            for status, count in sorted(data.unmapped_statuses.items())
        )
        lines.append(f"Warning: statuses no stage lists (items stay where they were): {listed}.")
    lines.extend(f"Warning: {shorten(warning, 300)}" for warning in data.warnings)
    return "\n".join(lines) + "\n"


def digest_headline(data: DigestData) -> list[str]:
    """Three lines: what finished, what is in progress, what is stuck."""
    finished = (
        f"Finished: {data.finished_yesterday} yesterday, {data.finished_week} in the last 7 days "
        f"({data.window_days}-day average {data.daily_average:.1f} a day, {data.weekly_average:.1f} a week)"
    )
    wip = f"In progress: {data.wip_total}" + (f" of {data.wip_limit}" if data.wip_limit is not None else "")
    if data.over_limit and data.wip_limit is not None:
        wip += f", {data.wip_total - data.wip_limit} over the board limit"
    over = [stage.name for stage in data.stages if stage.over]
    if over:
        wip += f"; over limit: {', '.join(over)}"
    stuck = f"Stuck: {len(data.blocked)} blocked, {len(data.aging)} near or past the SLE"
    if data.bottleneck is not None:
        stuck += f"; bottleneck: {data.bottleneck.stage}"
    return [finished, wip, stuck]


def _bottleneck_text(data: DigestData) -> str:
    neck = data.bottleneck
    if neck is None:
        return "No bottleneck: nothing waited, and no stage is at or over its limit."
    if neck.rule == "waiting_time":
        return (
            f"Bottleneck: {neck.stage} — {percent(neck.value)} of the time recently finished items spent "
            "waiting was spent here."
        )
    load = next(load for load in data.stages if load.name == neck.stage)
    return f"Bottleneck: {neck.stage} — the fullest stage against its limit ({load.wip}/{load.limit})."


def _aging_heading(data: DigestData) -> str:
    sle = f", SLE {days(data.sle_days)}{_provisional(data.sle_count)}" if data.sle_days is not None else ""
    return f"Near or past the SLE ({len(data.aging)}) — pace 70% or more{sle}, oldest first"


def _aging_line(item: DigestItem) -> str:
    flags = "".join([", past SLE" if item.past_sle else "", ", blocked" if item.blocked else ""])
    age, pace = days(item.age_days), percent(item.pace)
    return f"{item.item_id} in {item.stage}, {age} old, pace {pace}{flags}{_title(item)}"


def _provisional(count: int | None) -> str:
    return f", provisional ({count_of(count, 'item')})" if count is not None and count < 10 else ""


def _title(item: DigestItem) -> str:
    return f" — {shorten(item.title, TITLE_WIDTH)}" if item.title else ""


def _freshness(data: DigestData) -> str:
    return freshness(data.last_synced_at, data.now.to_pydatetime())


def digest_document(data: DigestData) -> dict[str, Any]:
    """The digest's facts as JSON: instants ISO 8601 with the board's offset, numbers plain."""
    import pandas as pd

    zone = data.timezone

    def item(entry: DigestItem) -> dict[str, Any]:
        return {
            "id": entry.item_id,
            "title": entry.title,
            "url": entry.url,
            "stage": entry.stage,
            "age_days": round(entry.age_days, 2),
            "pace": round(entry.pace, 3) if entry.pace is not None else None,
            "past_sle": entry.past_sle,
            "blocked": entry.blocked,
            "blocked_days": round(entry.blocked_days, 2),
        }

    neck = data.bottleneck
    return {
        "board": data.board,
        "timezone": zone,
        "asof": to_local_iso(data.now, zone),
        "finished": {
            "yesterday": data.finished_yesterday,
            "yesterday_date": data.yesterday.isoformat(),
            "last_7_days": data.finished_week,
            "daily_average": round(data.daily_average, 3),
            "weekly_average": round(data.weekly_average, 3),
            "window_days": data.window_days,
        },
        "wip": {
            "total": data.wip_total,
            "limit": data.wip_limit,
            "over_limit": data.over_limit,
            "stages": [
                {"name": s.name, "wip": s.wip, "limit": s.limit, "over": s.over, "spare": s.spare}
                for s in data.stages
            ],
        },
        "sle": {
            "days": round(data.sle_days, 2) if data.sle_days is not None else None,
            "percentile": data.sle_percentile,
            "items": data.sle_count,
            "provisional": data.sle_count is not None and data.sle_count < 10,
        },
        "aging": [item(entry) for entry in data.aging],
        "blocked": [item(entry) for entry in data.blocked],
        "starving": list(data.starving),
        "bottleneck": (
            {"stage": neck.stage, "rule": neck.rule, "value": round(neck.value, 3)}
            if neck is not None
            else None
        ),
        "pull": [
            {"stage": p.stage, "spare": p.spare, "upstream": p.upstream, "item": item(p.item)}
            for p in data.pulls
        ],
        "data": {
            "last_synced_at": (
                to_local_iso(pd.Timestamp(data.last_synced_at), zone)
                if data.last_synced_at is not None
                else None
            ),
            "stale": data.stale,
            "unmapped_statuses": dict(sorted(data.unmapped_statuses.items())),
            "warnings": list(data.warnings),
        },
    }


# --- Health -------------------------------------------------------------------------------------------------


def health_text(review: Review) -> str:
    """The verdict and its three strongest numbers, then every criterion, the bottleneck, the trends and
    one next step."""
    from bot.services.reports import strongest_evidence, throughput_verdict

    diagnosis, metrics = review.diagnosis, review.metrics
    zone = metrics.timezone
    first, last = _period(diagnosis, zone)
    lines = [
        f"{metrics.board} — flow health, {local_time(diagnosis.end, zone)} ({zone})",
        VERDICT[diagnosis.verdict],
    ]
    lines.extend(f"  {evidence_line(e, diagnosis)}" for e in strongest_evidence(diagnosis))
    lines += ["", f"Evidence, last {diagnosis.weeks} weeks ({day_label(first)} – {day_label(last)})"]
    for group, title in GROUPS.items():
        chosen = [e for e in diagnosis.evidence if e.supports == group]
        if chosen:
            lines.append(f"  {title}")
            lines.extend(f"    {evidence_line(e, diagnosis)}" for e in chosen)
    lines.append("")
    if diagnosis.bottleneck is not None:
        lines.append(
            f"Bottleneck: {diagnosis.bottleneck} — {percent(_waiting_share(diagnosis))} of the time finished "
            "items waited was spent here."
        )
    else:
        lines.append("Bottleneck: none (no finished item waited in a queue stage).")
    lines += ["", f"Trends: the last 7 days against the {review.trends.weeks} weeks before"]
    lines.extend(f"  {line}" for line in _trend_lines(review.trends))
    verdict = throughput_verdict(metrics)
    if verdict is not None:
        lines.append(f"  {_behaviour_line(verdict)}")
    if review.track_record is not None:
        lines.append(f"  {_track_record_line(review)}")
    lines += ["", f"Next step: {next_step(diagnosis)}"]
    return "\n".join(lines) + "\n"


def evidence_line(evidence: Evidence, diagnosis: Diagnosis) -> str:
    """One criterion in words, ✓ when it holds, with the numbers behind it."""
    mark = "✓" if evidence.holds else "✗"
    tolerance = percent(evidence.threshold)
    if evidence.name == "arrival_ratio":
        return (
            f"{mark} {diagnosis.arrivals} items entered the started system, {diagnosis.departures} finished: "
            f"{_ratio(evidence.value)} (push above {evidence.threshold:.2f}×)"
        )
    if evidence.name == "days_over_limit":
        return (
            f"{mark} WIP limits exceeded at the end of {diagnosis.days_over_limit} of "
            f"{diagnosis.working_days} working days (push above {tolerance})"
        )
    if evidence.name == "flow_efficiency":
        efficiency = percent(evidence.value)
        return f"{mark} Flow efficiency {efficiency} of cycle time in active work (push below {tolerance})"
    if evidence.name == "starving":
        starving = next(s for s in diagnosis.starving if s.stage == evidence.stage)
        held = f"; the work was mostly in {starving.constraint}" if starving.constraint else ""
        return (
            f"{mark} {starving.stage} starved {percent(starving.share)} of working hours "
            f"({starving.hours:.0f} h){held} (counts above {tolerance})"
        )
    if evidence.name == "balance":
        return f"{mark} Arrivals vs departures {_ratio(evidence.value)} (flow within ±{tolerance})"
    if evidence.name == "littles_law":
        cycle = diagnosis.average_cycle_days
        expected = diagnosis.throughput_per_day * cycle if cycle is not None else None
        return (
            f"{mark} Little's Law: {diagnosis.throughput_per_day:.1f} finished a day × {days(cycle)} average "
            f"cycle time = {_number(expected)} items, against {_number(diagnosis.average_wip)} in progress "
            f"on average (flow within ±{tolerance})"
        )
    if evidence.name == "wip_stable":
        first, last = _number(diagnosis.wip_first_week), _number(diagnosis.wip_last_week)
        return f"{mark} Average WIP: {first} in the first week, {last} in the last (flow within ±{tolerance})"
    first, last = days(diagnosis.age_first_week), days(diagnosis.age_last_week)
    return (
        f"{mark} Average age of WIP: {first} in the first week, {last} in the last (flow within ±{tolerance})"
    )


def next_step(diagnosis: Diagnosis) -> str:
    if diagnosis.verdict == "starved_pull":
        worst = max(diagnosis.starving, key=lambda s: s.share or 0.0)
        return NEXT_STEP["starved_pull"].format(stage=worst.stage, constraint=worst.constraint or worst.stage)
    text = NEXT_STEP[diagnosis.verdict]
    if diagnosis.verdict == "push" and diagnosis.bottleneck is not None:
        text += f" What holds work in {diagnosis.bottleneck}, and who can help move it on?"
    return text


def _trend_lines(trends: Trends) -> list[str]:
    def line(what: str, trend: Trend, fmt: Any) -> str:
        last = fmt(trend.last_week) if trend.last_week is not None else "no data"
        before = fmt(trend.baseline) if trend.baseline is not None else "no data"
        change = f" ({trend.change:+.0%})" if trend.change is not None else ""
        return f"{what}: {last} against {before}{change}"

    def per_week(value: float) -> str:
        return f"{round(value, 1):g} a week"

    return [
        line("Throughput", trends.throughput, per_week),
        line("Cycle time, 50% within", trends.cycle_p50, days),
        line("Cycle time, 85% within", trends.cycle_p85, days),
    ]


def _behaviour_line(verdict: ThroughputVerdict) -> str:
    shift = verdict.shift
    note = " (limits from a short history: a first guess)" if verdict.provisional else ""
    if shift is None:
        weeks = "week" if verdict.weeks == 1 else f"{verdict.weeks} weeks"
        return (
            f"Throughput's process behaviour: the last {weeks} all lie within the natural limits of "
            f"{round(verdict.lower, 1):g} to {round(verdict.upper, 1):g} a week — no signal{note}."
        )
    when = "last week" if verdict.last_week else f"in the week of {day_label(shift.week, year=False)}"
    if shift.rule == "outside_limits":
        limit = shift.limits.lower if shift.side == "below" else shift.limits.upper
        what = f"{shift.count}, {shift.side} the limit of {round(limit, 1):g}"
    else:
        centre = round(shift.limits.centre, 1)
        what = f"{shift.count}, {shift.run} weeks in a row {shift.side} its average of {centre:g}"
    return f"Throughput {when}: {what} — a real change, not noise: look for its cause{note}."


def _track_record_line(review: Review) -> str:
    record = review.track_record
    assert record is not None
    from bot.services.forecast_record import review_sentence

    line = review_sentence(record)
    return (
        f"{line}: too seldom to plan with; try `flowcoach forecast --window auto`."
        if record.poor
        else line + "."
    )


def health_document(review: Review) -> dict[str, Any]:
    """The diagnosis as JSON: verdict, the three strongest criteria, every criterion, trends, next step."""
    from bot.services.reports import strongest_evidence, throughput_verdict

    diagnosis, metrics, trends = review.diagnosis, review.metrics, review.trends
    zone = metrics.timezone

    def criterion(evidence: Evidence) -> dict[str, Any]:
        return {
            "name": evidence.name,
            "supports": evidence.supports,
            "stage": evidence.stage,
            "holds": evidence.holds,
            "value": _plain(evidence.value),
            "threshold": evidence.threshold,
            "unit": evidence.unit,
            "text": evidence_line(evidence, diagnosis),
        }

    def trend(value: Trend) -> dict[str, Any]:
        return {
            "last_week": _plain(value.last_week),
            "baseline": _plain(value.baseline),
            "change": _plain(value.change),
        }

    verdict = throughput_verdict(metrics)
    record = review.track_record
    return {
        "board": metrics.board,
        "timezone": zone,
        "asof": to_local_iso(metrics.asof, zone),
        "verdict": diagnosis.verdict,
        "summary": VERDICT[diagnosis.verdict],
        "strongest": [criterion(e) for e in strongest_evidence(diagnosis)],
        "period": {
            "weeks": diagnosis.weeks,
            "start": to_local_iso(diagnosis.start, zone),
            "end": to_local_iso(diagnosis.end, zone),
        },
        "evidence": [criterion(e) for e in diagnosis.evidence],
        "numbers": {
            "arrivals": diagnosis.arrivals,
            "departures": diagnosis.departures,
            "finished": diagnosis.finished,
            "working_days": diagnosis.working_days,
            "days_over_limit": diagnosis.days_over_limit,
            "flow_efficiency": _plain(diagnosis.flow_efficiency),
            "average_wip": _plain(diagnosis.average_wip),
            "throughput_per_day": _plain(diagnosis.throughput_per_day),
            "average_cycle_days": _plain(diagnosis.average_cycle_days),
        },
        "starving": [
            {"stage": s.stage, "share": _plain(s.share), "hours": _plain(s.hours), "constraint": s.constraint}
            for s in diagnosis.starving
        ],
        "bottleneck": (
            {"stage": diagnosis.bottleneck, "waiting_share": _plain(_waiting_share(diagnosis))}
            if diagnosis.bottleneck is not None
            else None
        ),
        "trends": {
            "weeks": trends.weeks,
            "finished_last_week": trends.finished_last_week,
            "finished_before": trends.finished_before,
            "throughput_per_week": trend(trends.throughput),
            "cycle_p50_days": trend(trends.cycle_p50),
            "cycle_p85_days": trend(trends.cycle_p85),
        },
        "throughput_behaviour": (
            None
            if verdict is None
            else {
                "signal": verdict.shift is not None,
                "weeks": verdict.weeks,
                "lower": _plain(verdict.lower),
                "upper": _plain(verdict.upper),
                "provisional": verdict.provisional,
                "text": _behaviour_line(verdict),
            }
        ),
        "track_record": (
            None
            if record is None
            else {
                "level": record.level,
                "hit_rate": _plain(record.hit_rate),
                "forecasts": record.forecasts,
                "weeks": record.weeks,
            }
        ),
        "next_step": next_step(diagnosis),
    }


def _period(diagnosis: Diagnosis, zone: str) -> tuple[dt.date, dt.date]:
    import pandas as pd

    first = pd.Timestamp(diagnosis.start).tz_convert(zone).date()
    last = (pd.Timestamp(diagnosis.end).tz_convert(zone) - pd.Timedelta(1, "ns")).date()
    return first, last


def _waiting_share(diagnosis: Diagnosis) -> float | None:
    total = sum(diagnosis.waiting_days.values())
    if diagnosis.bottleneck is None or total <= 0:
        return None
    return diagnosis.waiting_days[diagnosis.bottleneck] / total


def _ratio(value: float | None) -> str:
    return f"{value:.2f}×" if value is not None else "—"


def _number(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "—"


def _plain(value: float | None) -> float | None:
    """A float rounded for JSON; ``None`` for no data (or NaN)."""
    if value is None or value != value:
        return None
    return round(float(value), 4)
