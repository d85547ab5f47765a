"""What the coach's rules look at, at any instant, read from one timeline (``spec/coaching.md``).

The coach evaluates a board every 15 minutes and replay evaluates a thousand instants or more, so the
timeline is built once, as of the last instant, and each instant ``t`` is read from its stays: a stay exists
at ``t`` if it was entered at or before ``t``, and is the item's current stay if it also exits after ``t``.
What does not depend on ``t`` is computed once per stay, vectorised: when the item started if this stay is
its current one (the first entry into the start stage or a later one, discarded stages excepted, after its
latest backlog stay up to this one) and, for a done stay, when its current run of done stays began (its
finish). Each instant is then a few numpy operations over the stays; no loop over items.

Exact at ``t`` (what a timeline built at ``t`` would give): stages, WIP, arrivals and departures, empty
stages, newest arrivals, ``started_at`` and age, finishes and so the SLE and the weekly throughput.
Approximations:

- Blocked spans come from the timeline, which clips them to each item's cycle as of its ``asof``. An item
  that went back to the backlog after ``t`` and was pulled again loses its spans before the new start, so a
  block it had at ``t`` is missed or starts later. Every other block is exact at ``t``.
- ``title`` and ``url`` are the latest values as of the timeline's ``asof`` (they only label items).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.exit_age import ExitAge, exit_ages_by_stage
from analytics.process_behaviour import RecentThroughput, WeeklyThroughput, first_finish, recent_weeks
from analytics.timeline import NOT_SET, NS_PER_DAY, BoolArray, IntArray, Timeline
from analytics.wip_history import StarvingTime, starving_time, wip_stays
from analytics.workflow import StageKind
from analytics.workhours import WorkCalendar, working_seconds_many

ObjectArray = npt.NDArray[np.object_]
_KINDS = tuple(StageKind)
_BACKLOG, _DONE, _DISCARDED = (_KINDS.index(StageKind(kind)) for kind in ("backlog", "done", "discarded"))
_OPEN = np.iinfo(np.int64).max  # the end of a block still open at the timeline's asof
_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class StageSignal:
    """One stage at ``t``. ``wip``: items in the stage, for queue/active stages at or after the start stage
    (``None`` for the others, as is ``wip_limit`` where none is set). ``arrivals`` / ``departures``: entries
    into / exits out of the stage in ``[window_start, t)`` (re-entries count; a move between two statuses of
    the stage is no arrival). ``wip_at_window_start``: items in the stage at ``window_start`` (0 for stages
    without WIP). ``empty_since``: for a WIP stage that is empty at ``t``, when its last item left; if it has
    never held one by ``t``, it counts as empty since ``window_start`` (so a stage no item ever reached can
    starve); ``None`` when the stage holds items or holds no WIP. ``newest_arrival`` / ``newest_arrival_at``:
    the item that most recently entered the stage at or before ``t`` and when (``None`` if none ever did).
    ``upstream_wip``: WIP in the earlier WIP stages; ``upstream_heaviest``: the one of them holding most
    (the nearest on a tie), ``None`` when they hold nothing; ``upstream_heaviest_wip``: its WIP (0 then).
    ``starving_hours``: for a stage that can starve (``analytics.wip_history.starvable_stages``) while it and
    its queue are empty at ``t``, the working hours it starved (``analytics.wip_history.starving_time``)
    since they last held an item; ``None`` for other stages and while it or its queue holds items.
    ``empty_since`` is only when the stage last emptied: it also spans time when nothing was upstream.
    ``exit_age_p85`` (``exit_age_p70``) / ``exit_age_count``: the 85th (70th) percentile of the age items
    had when they last left the stage forward, over ``exit_age_count`` items finished in
    ``[t − sle.window_days, t)`` (``exit_age`` of ``analytics.measures`` at t; ``None`` / 0 for stages
    without WIP or without such items)."""

    name: str
    kind: StageKind
    index: int
    wip: int | None
    wip_limit: int | None
    arrivals: int
    departures: int
    wip_at_window_start: int
    empty_since: pd.Timestamp | None
    newest_arrival: str | None
    newest_arrival_at: pd.Timestamp | None
    upstream_wip: int
    upstream_heaviest: str | None
    upstream_heaviest_wip: int = 0
    starving_hours: float | None = None
    exit_age_p85: float | None = None
    exit_age_count: int = 0
    exit_age_p70: float | None = None

    @property
    def over_limit(self) -> bool:
        return self.wip is not None and self.wip_limit is not None and self.wip > self.wip_limit


@dataclass(frozen=True)
class BoardSignals:
    """The board at ``asof`` (t), with flow counted over ``[window_start, asof)``. Instants are UTC.

    ``wip_total``: items started, not finished, not discarded (as ``Timeline.items["wip"]`` at t; it also
    counts items moved back into a queue before the start stage, which no stage's ``wip`` lists).
    ``aging``: the WIP items, oldest first (index ``item_id``; ``stage`` name, ``started_at``, ``age_days`` =
    (t − started_at) in days, ``title``, ``url``). ``sle_days``: the SLE percentile of the cycle times of
    items finished in ``[t − sle.window_days local days, t)``, ``None`` when none did (``sle_days`` of
    ``analytics.measures`` at t), over ``sle_count`` items. ``blocked``: WIP items blocked at t, longest
    blocked first (index ``item_id``; ``stage``, ``blocked_since`` (start of the current blocked span,
    clipped to the item's start), ``blocked_working_hours`` (working time from ``blocked_since`` to t),
    ``title``, ``url``).
    ``weekly_throughput``: the XmR chart of weekly throughput judging the last four full weeks before t
    (``analytics.process_behaviour.recent_weeks``) against the twelve before them, as a timeline at t gives.
    """

    asof: pd.Timestamp
    window_start: pd.Timestamp
    wip_total: int
    wip_limit: int | None
    stages: tuple[StageSignal, ...]
    aging: pd.DataFrame
    sle_days: float | None
    blocked: pd.DataFrame
    weekly_throughput: WeeklyThroughput
    sle_count: int = 0  # the finished items behind ``sle_days``: below 10 it is provisional

    def stage(self, name: str) -> StageSignal:
        return next(stage for stage in self.stages if stage.name == name)


def board_signals(timeline: Timeline, t: pd.Timestamp, window_start: pd.Timestamp) -> BoardSignals:
    """The signals at one instant ``t`` (≤ ``timeline.asof``) with flow over ``[window_start, t)``."""
    return signals_at(timeline, [t], window=lambda _: window_start)[0]


def signals_at(
    timeline: Timeline,
    moments: Sequence[pd.Timestamp],
    *,
    window: Callable[[pd.Timestamp], pd.Timestamp],
) -> list[BoardSignals]:
    """The signals at each of ``moments`` (aware, none after ``timeline.asof``), in their order.

    ``window(t)`` gives the start of the flow window for ``t`` (e.g. ``lambda t: working_days_back(t, 5,
    calendar)``); it must not be after ``t``. Events after ``t`` do not influence the signals at ``t`` (see
    the module docstring for the two approximations). No events give zeros, ``None`` and empty frames.
    Every instant's frames are slices of two frames built once: a small frame per instant would cost more
    than all the rest.
    """
    stamps = [_utc(t) for t in moments]
    if any(t.value > timeline.asof_ns for t in stamps):
        raise ValueError("signals are only known up to the timeline's asof; build it as of the last moment")
    board = _Board(timeline)
    sle_since = _days_before(stamps, timeline.workflow.sle.window_days, timeline.workflow.timezone)
    fields, aging_rows, spans = [], [], []
    nows = np.array([t.value for t in stamps], dtype=np.int64)
    starving = board.starving_hours(nows)
    weeks = zip(*recent_weeks(stamps, timeline.workflow.timezone), strict=True)
    for position, (t, since, judged) in enumerate(zip(stamps, sle_since, weeks, strict=True)):
        start = _utc(window(t))
        if start > t:
            raise ValueError(f"the window for {t} starts after it ({start})")
        hours = {stage: float(values[position]) for stage, values in starving.items()}
        instant, wip_rows = board.at(t, start, int(since), hours, judged)
        fields.append(instant)
        aging_rows.append(wip_rows[np.lexsort((board.item[wip_rows], board.started[wip_rows]))])
        spans.append(board.blocked_spans(wip_rows, int(t.value)))
    aging = _slices(board.aging_frame(aging_rows, nows), [len(rows) for rows in aging_rows])
    blocked = _slices(board.blocked_frame(spans, nows), [len(positions) for positions, _ in spans])
    return [BoardSignals(**f, aging=a, blocked=b) for f, a, b in zip(fields, aging, blocked, strict=True)]


class _Board:
    """Per-stay facts that do not depend on t (stays in item and time order), and the board's labels."""

    def __init__(self, timeline: Timeline) -> None:
        workflow, stays, items = timeline.workflow, timeline.stays, timeline.items
        self.workflow, self.calendar = workflow, WorkCalendar.of(workflow)
        self.item, self.stage = (stays[c].to_numpy(dtype=np.int64) for c in ("item", "stage"))
        self.entered, self.exited = (stays[c].to_numpy(dtype=np.int64) for c in ("entered_at", "exited_at"))
        kinds = np.array([_KINDS.index(s.kind) for s in workflow.stages], dtype=np.int64)
        # The cycle start if this stay is the item's current one; for done stays, the finish (else NOT_SET).
        self.started, self.finished = _cycle_marks(
            self.item, self.stage, self.entered, kinds[self.stage], workflow.start_index
        )
        self.holds_wip: BoolArray = np.array([s.kind.is_wip for s in workflow.stages], dtype=bool)[self.stage]
        # Stay positions by (stage, entered) and by (stage, exited); offsets: where each stage's run begins.
        self.by_entry = np.lexsort((self.entered, self.stage)).astype(np.int64)
        self.by_exit = np.lexsort((self.exited, self.stage)).astype(np.int64)
        counts = np.bincount(self.stage, minlength=len(workflow.stages))
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.span_item, self.span_start, self.span_end = _open_ended_spans(timeline)
        self.item_ids: ObjectArray = np.asarray(items.index, dtype=object)
        self.titles: ObjectArray = items["title"].to_numpy(dtype=object)
        self.urls: ObjectArray = items["url"].to_numpy(dtype=object)
        self.stage_names: ObjectArray = np.array(workflow.stage_names, dtype=object)
        # Per stage: holds WIP (queue or active, at or after the start stage).
        self.wip_stages = tuple(
            s.kind.is_wip and i >= workflow.start_index for i, s in enumerate(workflow.stages)
        )
        self.sle_cache: dict[bytes, float | None] = {}
        # Starving over the whole history, once: each instant then reads its spell from cumulative sums.
        wip = wip_stays(timeline)
        first = int(wip["entered_at"].min()) if len(wip) else timeline.asof_ns
        self.starving: StarvingTime = starving_time(workflow, wip, first, timeline.asof_ns + 1, self.calendar)
        self.exit_cache: dict[bytes, tuple[ExitAge, ...]] = {}
        self.throughput = RecentThroughput(first_finish(timeline), workflow.timezone)
        position = np.arange(len(self.item), dtype=np.int64)
        new_item = np.r_[True, self.item[1:] != self.item[:-1]] if len(self.item) else np.zeros(0, dtype=bool)
        self.item_first = (
            np.maximum.accumulate(np.where(new_item, position, 0)) if len(position) else position
        )

    def starving_hours(self, nows: IntArray) -> dict[int, npt.NDArray[np.float64]]:
        """Per stage that can starve: its starving hours in its current spell at each of ``nows`` (NaN while
        it or its queue holds an item). A spell begins when they last held one; only starving time counts."""
        time = self.starving
        cuts, pieces = time.cuts, len(time.cuts) - 1
        piece = np.searchsorted(cuts, nows, side="right") - 1  # -1: before the first event, nothing starved
        known = piece >= 0
        at = np.clip(piece, 0, pieces - 1)
        partial = working_seconds_many(cuts[at], nows, self.calendar)  # from the piece's start to t
        positions = np.arange(pieces)
        result = {}
        for row, candidate in enumerate(time.stages):
            starving, waiting = time.starving[row], time.waiting[row]
            before = np.r_[0.0, np.cumsum(np.where(starving, time.seconds, 0.0))]  # up to each piece
            spell = np.maximum.accumulate(np.where(waiting, positions + 1, 0))  # first piece after a wait
            seconds = before[at] - before[spell[at]] + np.where(starving[at], partial, 0.0)
            hours = np.where(known, seconds / _SECONDS_PER_HOUR, 0.0)
            result[candidate.stage] = np.where(known & waiting[at], np.nan, hours)
        return result

    def at(
        self,
        t: pd.Timestamp,
        start: pd.Timestamp,
        sle_since: int,
        starving: dict[int, float],
        judged: tuple[np.int64, np.int64],
    ) -> tuple[dict[str, Any], IntArray]:
        """The scalar fields of the signals at ``t``, and the positions of the WIP items' current stays
        (``starving``: the starving hours at ``t`` of the stages that can starve, NaN while they wait;
        ``judged``: the weeks the throughput chart judges at ``t``, ``[start, end)`` in UTC ns)."""
        now, since = int(t.value), int(start.value)
        workflow = self.workflow
        n = len(workflow.stages)
        stage, entered, exited = self.stage, self.entered, self.exited
        seen = entered <= now
        current = np.flatnonzero(seen & (exited > now))
        wip_rows = current[self.holds_wip[current] & (self.started[current] != NOT_SET)]
        counts = {
            "in_stage": np.bincount(stage[current], minlength=n),
            "at_start": np.bincount(stage[(entered <= since) & (exited > since)], minlength=n),
            "arrivals": np.bincount(stage[(entered >= since) & (entered < now)], minlength=n),
            "departures": np.bincount(stage[(exited >= since) & (exited < now)], minlength=n),
            "entries": np.bincount(stage[seen], minlength=n),
            "exits": np.bincount(stage[exited <= now], minlength=n),
        }
        done = current[self.finished[current] != NOT_SET]
        recent = done[(self.finished[done] >= sle_since) & (self.finished[done] < now)]
        fields = {
            "asof": t,
            "window_start": start,
            "wip_total": len(wip_rows),
            "wip_limit": workflow.wip_limit,
            "stages": self._stages(counts, start, starving, self._exit_ages(recent)),
            "sle_days": self._sle_days(recent),
            "sle_count": len(recent),
            "weekly_throughput": self.throughput.at(now, judged, self.finished[done]),
        }
        return fields, wip_rows

    def _sle_days(self, finished_rows: IntArray) -> float | None:
        """The SLE percentile of these done stays' cycle times, remembered per set (it rarely changes)."""
        key = finished_rows.tobytes()
        if key not in self.sle_cache:
            days = (self.finished[finished_rows] - self.started[finished_rows]) / NS_PER_DAY
            percentile = self.workflow.sle.percentile
            self.sle_cache[key] = float(np.percentile(days, percentile)) if len(days) else None
        return self.sle_cache[key]

    def _exit_ages(self, finished_rows: IntArray) -> tuple[ExitAge, ...]:
        """Exit ages per stage over the cycles these done stays end, remembered per set like the SLE.

        Each done stay's cycle is the item's stays before it (contiguous: stays are in item and time order)
        entered in [its start, its finish); gathered for all of them at once, no loop over items.
        """
        key = finished_rows.tobytes()
        if key not in self.exit_cache:
            first = self.item_first[finished_rows]
            lengths = finished_rows - first
            cycle = np.repeat(finished_rows, lengths)
            rows = np.repeat(first - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
            entered = self.entered[rows]
            inside = (entered >= self.started[cycle]) & (entered < self.finished[cycle])
            self.exit_cache[key] = exit_ages_by_stage(
                np.where(inside, cycle, -1),
                self.stage[rows],
                self.exited[rows],
                self.stage[rows + 1],  # a stay before a done stay always has a next stay of its item
                self.started[cycle],
                np.array(self.wip_stages, dtype=bool),
            )
        return self.exit_cache[key]

    def _stages(
        self,
        counts: dict[str, IntArray],
        window_start: pd.Timestamp,
        starving: dict[int, float],
        exit_ages: tuple[ExitAge, ...],
    ) -> tuple[StageSignal, ...]:
        workflow = self.workflow
        signals = []
        upstream, heaviest, heaviest_wip = 0, None, 0  # over the WIP stages passed so far
        for index, (spec, holds_wip) in enumerate(zip(workflow.stages, self.wip_stages, strict=True)):
            wip = int(counts["in_stage"][index]) if holds_wip else None
            entries, exits = int(counts["entries"][index]), int(counts["exits"][index])
            offset = int(self.offsets[index])
            newest = int(self.by_entry[offset + entries - 1]) if entries else None
            empty_since = None
            if wip == 0:
                empty_since = _stamp(self.exited[self.by_exit[offset + exits - 1]]) if exits else window_start
            starved = starving.get(index, np.nan)
            signals.append(
                StageSignal(
                    name=spec.name,
                    kind=spec.kind,
                    index=index,
                    wip=wip,
                    wip_limit=spec.wip_limit,
                    arrivals=int(counts["arrivals"][index]),
                    departures=int(counts["departures"][index]),
                    wip_at_window_start=int(counts["at_start"][index]) if holds_wip else 0,
                    empty_since=empty_since,
                    newest_arrival=None if newest is None else str(self.item_ids[self.item[newest]]),
                    newest_arrival_at=None if newest is None else _stamp(self.entered[newest]),
                    upstream_wip=upstream,
                    upstream_heaviest=heaviest if upstream else None,
                    upstream_heaviest_wip=heaviest_wip if upstream else 0,
                    starving_hours=None if np.isnan(starved) else starved,
                    exit_age_p85=exit_ages[index].p85,
                    exit_age_p70=exit_ages[index].p70,
                    exit_age_count=exit_ages[index].count,
                )
            )
            if wip:
                upstream += wip
                if wip >= heaviest_wip:  # ≥: on a tie the nearer stage is the likelier constraint
                    heaviest, heaviest_wip = spec.name, wip
        return tuple(signals)

    def blocked_spans(self, wip_rows: IntArray, now: int) -> tuple[IntArray, IntArray]:
        """The spans blocking a WIP item at ``now`` (positions, longest blocked first) and its stage then."""
        stage_of = np.full(len(self.item_ids), -1, dtype=np.int64)
        stage_of[self.item[wip_rows]] = self.stage[wip_rows]
        item, start = self.span_item, self.span_start
        active = np.flatnonzero((start <= now) & (self.span_end > now) & (stage_of[item] >= 0))
        active = active[np.lexsort((item[active], start[active]))]
        return active, stage_of[item[active]]

    def aging_frame(self, rows_per_instant: list[IntArray], nows: IntArray) -> pd.DataFrame:
        """One frame of every instant's WIP items, instant after instant (rows: current stays)."""
        rows = np.concatenate([np.zeros(0, dtype=np.int64), *rows_per_instant])
        now = np.repeat(nows, [len(r) for r in rows_per_instant])
        started = self.started[rows]
        return self._frame(
            self.item[rows],
            stage=self.stage_names[self.stage[rows]],
            started_at=_stamps(started),
            age_days=(now - started) / NS_PER_DAY,
        )

    def blocked_frame(self, spans: list[tuple[IntArray, IntArray]], nows: IntArray) -> pd.DataFrame:
        """One frame of every instant's blocked WIP items, instant after instant."""
        positions = np.concatenate([np.zeros(0, dtype=np.int64), *(p for p, _ in spans)])
        stages = np.concatenate([np.zeros(0, dtype=np.int64), *(s for _, s in spans)])
        now = np.repeat(nows, [len(p) for p, _ in spans])
        items, since = self.span_item[positions], self.span_start[positions]
        seconds = working_seconds_many(since, now, self.calendar)
        return self._frame(
            items,
            stage=self.stage_names[stages],
            blocked_since=_stamps(since),
            blocked_working_hours=seconds / _SECONDS_PER_HOUR,
        )

    def _frame(self, items: IntArray, **columns: Any) -> pd.DataFrame:
        """Columns, then ``title`` and ``url``, indexed by item id; text stays ``object`` (None kept)."""
        index = pd.Index(self.item_ids[items], name="item_id", dtype=object)
        text = {"title": self.titles[items], "url": self.urls[items]}
        columns["stage"] = pd.Series(columns["stage"], index=index, dtype=object)
        columns.update({name: pd.Series(values, index=index, dtype=object) for name, values in text.items()})
        return pd.DataFrame(columns, index=index)


def _slices(frame: pd.DataFrame, lengths: list[int]) -> list[pd.DataFrame]:
    """Consecutive row ranges of ``frame``, one per instant (slices are views, cheap to take)."""
    bounds = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return [frame.iloc[int(a) : int(b)] for a, b in itertools.pairwise(bounds)]


def _cycle_marks(
    item: IntArray, stage: IntArray, entered: IntArray, kind: IntArray, start_index: int
) -> tuple[IntArray, IntArray]:
    """Per stay (item and time order): the cycle start if it is the item's current stay, and its finish.

    The start is the first entry into a stage at or after ``start_index`` (not discarded) after the item's
    latest backlog stay up to this stay: ``build_timeline``'s ``started_at`` at that stay's time. The finish,
    for done stays, is where the item's current run of done stays began. NOT_SET otherwise.
    """
    n = len(item)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    position = np.arange(n, dtype=np.int64)
    new_item = np.r_[True, item[1:] != item[:-1]]
    item_start = np.maximum.accumulate(np.where(new_item, position, 0))
    last_backlog = np.maximum.accumulate(np.where(kind == _BACKLOG, position, -1))
    segment = np.maximum(last_backlog + 1, item_start)  # the first stay after it, within the item
    candidate = (stage >= start_index) & (kind != _DISCARDED)
    next_candidate = np.r_[np.minimum.accumulate(np.where(candidate, position, n)[::-1])[::-1], n]
    first = next_candidate[segment]
    started = np.where(first <= position, entered[np.minimum(first, n - 1)], NOT_SET).astype(np.int64)
    new_run = new_item | np.r_[True, kind[1:] != kind[:-1]]
    run_start = np.maximum.accumulate(np.where(new_run, position, 0))
    finished = np.where(kind == _DONE, entered[run_start], NOT_SET).astype(np.int64)
    return started, finished


def _open_ended_spans(timeline: Timeline) -> tuple[IntArray, IntArray, IntArray]:
    """The timeline's blocked spans (item, start, end), those open at its asof running on (end ``_OPEN``).

    Back-to-back spans of an item (a second ``blocked`` while blocked) are one block. An item blocked at
    asof whose span is empty there (blocked, or started, exactly at asof) has no span in the timeline; it
    gets one from asof.
    """
    spans = timeline.blocked_spans
    item, start, end = (spans[c].to_numpy(dtype=np.int64) for c in ("item", "start", "end"))
    first = np.ones(len(item), dtype=bool)
    first[1:] = (item[1:] != item[:-1]) | (start[1:] != end[:-1])
    last = np.r_[first[1:], True][: len(item)]
    item, start, end = item[first], start[first], end[last]
    blocked_now = timeline.items["blocked"].to_numpy(dtype=bool)
    still_open = (end == timeline.asof_ns) & blocked_now[item]
    without_span = blocked_now.copy()
    without_span[item[still_open]] = False
    extra = np.flatnonzero(without_span).astype(np.int64)
    return (
        np.r_[item, extra].astype(np.int64),
        np.r_[start, np.full(len(extra), timeline.asof_ns, dtype=np.int64)].astype(np.int64),
        np.r_[np.where(still_open, _OPEN, end), np.full(len(extra), _OPEN)].astype(np.int64),
    )


def _days_before(stamps: Sequence[pd.Timestamp], days: int, timezone: str) -> IntArray:
    """``analytics.calendar.days_before`` for many instants: the same wall time ``days`` local days back."""
    if not stamps:
        return np.zeros(0, dtype=np.int64)
    local = pd.DatetimeIndex(list(stamps)).tz_convert(timezone).tz_localize(None) - pd.Timedelta(days=days)
    first = np.ones(len(local), dtype=bool)  # an ambiguous wall time is its first (DST) occurrence
    earlier = local.tz_localize(timezone, ambiguous=first, nonexistent="shift_forward")
    return np.asarray(earlier.as_unit("ns").asi8, dtype=np.int64)


def _utc(moment: pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return stamp.tz_convert("UTC").as_unit("ns")


def _stamp(ns: np.int64 | int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz="UTC")


def _stamps(ns: IntArray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC")
