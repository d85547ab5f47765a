"""Per-item timelines: stage stays, start and finish, time in stage, blocked time (``spec/metrics.md``).

Everything here is vectorised over the whole log. Events are sorted once by (item, time); each item then
occupies one contiguous run of rows, so per-item reductions are ``numpy.ufunc.reduceat`` calls over the run
boundaries instead of a Python loop or a pandas groupby per item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics.workflow import StageKind, Workflow

NS_PER_DAY = 86_400 * 1_000_000_000
NOT_SET = np.iinfo(np.int64).min  # stands for NaT in int64 nanosecond arrays
_NEVER = np.iinfo(np.int64).max  # an exit that has not happened yet
_KIND_CODES = {kind: code for code, kind in enumerate(StageKind)}
ATTRIBUTE_COLUMNS = ("title", "type", "url", "assignee")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Timeline:
    """What happened to every item up to ``asof``.

    ``items`` (one row per item seen at or before ``asof``, indexed by ``item_id``): ``stage`` (index into
    ``workflow.stages``, -1 if the item never had a mapped status), ``started_at``, ``finished_at`` (UTC,
    NaT when not started / not finished), ``started``, ``finished``, ``discarded``, ``wip``, ``blocked``
    (blocked
    at ``asof``), ``cycle_time_days``, ``age_days`` (WIP only), ``blocked_days`` (blocked time clipped to the
    item's cycle), and the attributes ``title``, ``type``, ``url``, ``assignee`` (last non-empty value).

    ``stays`` (one row per continuous stay in a stage, in item and time order): ``item`` (row position in
    ``items``), ``stage``, ``entered_at``/``exited_at`` as int64 UTC nanoseconds (``exited_at`` is
    ``_NEVER`` while the stay lasts), and ``cycle_days``: the part of the stay inside the item's cycle
    [started_at, finished_at or asof], in days.

    ``blocked_spans``: ``item``, ``start``, ``end`` (int64 UTC ns) blocked intervals already clipped to
    each item's cycle; only non-empty spans are kept.

    ``time_in_stage_days`` is an items × stages matrix of summed ``cycle_days``.
    """

    asof: pd.Timestamp
    workflow: Workflow
    items: pd.DataFrame
    stays: pd.DataFrame
    blocked_spans: pd.DataFrame
    time_in_stage_days: FloatArray
    unmapped_statuses: dict[str, int]

    @property
    def asof_ns(self) -> int:
        return int(self.asof.value)


def build_timeline(events: pd.DataFrame, workflow: Workflow, asof: pd.Timestamp) -> Timeline:
    """Compute every item's timeline from the event log as it stood at ``asof``.

    Definitions follow ``spec/metrics.md``: events after ``asof`` do not exist; an event into a status no
    stage lists leaves the item where it was (and is counted in ``unmapped_statuses`` by distinct item);
    ``started_at`` is the first entry into the start stage or a later one after the item's last backlog stay
    (so a return to the backlog un-starts it; moving to a discarded stage starts nothing); ``finished_at`` is
    when the current stay in ``done`` began (a reopened item is WIP again and keeps its start); a discarded
    item's cycle ends when it was dropped; blocked intervals are closed by unblocking, finishing and
    discarding, and clipped to the cycle. ``asof`` must be timezone-aware.
    """
    asof = _utc(asof)
    asof_ns = int(asof.value)
    timestamps = utc_ns(events["timestamp"])
    visible = timestamps <= asof_ns
    events = events.loc[visible]
    timestamps = timestamps[visible]
    if len(timestamps) > 1 and not bool(np.all(timestamps[1:] >= timestamps[:-1])):
        # Attributes take the last value in time; a stable sort keeps file order for equal instants.
        order = np.argsort(timestamps, kind="stable")
        events, timestamps = events.iloc[order], timestamps[order]

    codes, item_ids = _sorted_codes(events["item_id"])
    n_items = len(item_ids)
    kinds = np.array([_KIND_CODES[stage.kind] for stage in workflow.stages], dtype=np.int64)

    event_kind = events["event"]
    status_rows = event_kind.isin(("status", "created")).to_numpy() & events["to_status"].notna().to_numpy()
    # Map the few distinct statuses, not the million rows.
    status_codes, statuses = pd.factorize(events["to_status"])
    stage_index = workflow.status_to_stage_index()
    stage_of_status = np.array([stage_index.get(str(s), -1) for s in statuses], dtype=np.int64)
    stage_of_row = np.r_[stage_of_status, -1][status_codes]  # code -1 (missing) picks the trailing -1
    mapped = status_rows & (stage_of_row >= 0)
    unmapped = _unmapped_statuses(events.loc[status_rows & ~mapped])

    stays = _stays(codes[mapped], timestamps[mapped], stage_of_row[mapped])
    current_stage, started_at, ended_at = _starts_and_finishes(stays, kinds, workflow.start_index, n_items)
    current_kind = np.where(current_stage >= 0, kinds[np.maximum(current_stage, 0)], -1)
    finished = current_kind == _KIND_CODES[StageKind.DONE]
    discarded = current_kind == _KIND_CODES[StageKind.DISCARDED]
    started = started_at != NOT_SET
    cycle_end = np.where(ended_at != NOT_SET, ended_at, asof_ns)
    finished_at = np.where(finished, ended_at, NOT_SET)

    cycle_days = _clip_to_cycle(stays, started_at, cycle_end)
    stays = stays.assign(cycle_days=cycle_days)
    time_in_stage = np.zeros((n_items, len(workflow.stages)), dtype=np.float64)
    np.add.at(time_in_stage, (stays["item"].to_numpy(), stays["stage"].to_numpy()), cycle_days)

    block_rows = event_kind.isin(("blocked", "unblocked")).to_numpy()
    spans, blocked_now = _blocked_spans(
        codes[block_rows],
        timestamps[block_rows],
        (event_kind[block_rows] == "blocked").to_numpy(),
        stays,
        kinds,
        n_items,
        started_at,
        cycle_end,
        asof_ns,
    )
    blocked_days = np.zeros(n_items, dtype=np.float64)
    np.add.at(blocked_days, spans["item"].to_numpy(), (spans["end"] - spans["start"]).to_numpy() / NS_PER_DAY)

    wip = started & ~finished & ~discarded
    items = pd.DataFrame(
        {
            "stage": current_stage,
            "started_at": _to_timestamps(started_at),
            "finished_at": _to_timestamps(finished_at),
            "started": started,
            "finished": finished,
            "discarded": discarded,
            "wip": wip,
            "blocked": blocked_now & wip,
            "cycle_time_days": np.where(finished & started, (finished_at - started_at) / NS_PER_DAY, np.nan),
            "age_days": np.where(wip, (asof_ns - started_at) / NS_PER_DAY, np.nan),
            "blocked_days": blocked_days,
        },
        index=pd.Index(item_ids, name="item_id"),
    )
    items = items.join(_attributes(events, codes, n_items, item_ids))
    return Timeline(asof, workflow, items, stays, spans, time_in_stage, unmapped)


def _utc(moment: pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError("asof must be timezone-aware")
    return stamp.tz_convert("UTC").as_unit("ns")


def utc_ns(column: pd.Series) -> IntArray:
    """Aware timestamps as int64 UTC nanoseconds (NaT becomes ``NOT_SET``, numpy's NaT value)."""
    index = pd.DatetimeIndex(column)
    if index.tz is None:
        raise ValueError("event timestamps must be timezone-aware")
    return np.asarray(index.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def _to_timestamps(ns: IntArray) -> pd.DatetimeIndex:
    values = np.where(ns == NOT_SET, np.datetime64("NaT", "ns"), ns.astype("datetime64[ns]"))
    return pd.DatetimeIndex(values).tz_localize("UTC")


def _sorted_codes(values: pd.Series) -> tuple[IntArray, pd.Index]:
    """Factorise, then order the codes by value: results come out sorted by item id whatever the row order.

    Cheaper than ``factorize(sort=True)``, which sorts with every row instead of only the distinct values.
    """
    codes, uniques = pd.factorize(values)
    order = np.argsort(np.asarray(uniques, dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[codes], pd.Index(np.asarray(uniques, dtype=object)[order], name="item_id")


def _unmapped_statuses(rows: pd.DataFrame) -> dict[str, int]:
    if rows.empty:
        return {}
    counts = rows.groupby("to_status", sort=True)["item_id"].nunique()
    return {str(status): int(count) for status, count in counts.items()}


def _stays(codes: IntArray, timestamps: IntArray, stages: IntArray) -> pd.DataFrame:
    """Collapse mapped status events into continuous stays; a move within one stage is no new stay."""
    order = np.lexsort((timestamps, codes))  # stable: file order breaks ties at one instant
    codes, timestamps, stages = codes[order], timestamps[order], stages[order]
    starts_new = np.ones(len(codes), dtype=bool)
    starts_new[1:] = (codes[1:] != codes[:-1]) | (stages[1:] != stages[:-1])
    item, stage, entered = codes[starts_new], stages[starts_new], timestamps[starts_new]
    exited = np.full(len(item), _NEVER, dtype=np.int64)
    same_item_next = item[1:] == item[:-1]
    exited[:-1] = np.where(same_item_next, entered[1:], _NEVER)
    return pd.DataFrame({"item": item, "stage": stage, "entered_at": entered, "exited_at": exited})


def _run_bounds(item: IntArray) -> tuple[IntArray, IntArray]:
    """Start offsets and item codes of each item's contiguous run in an item-sorted array."""
    if len(item) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    return starts, item[starts]


def _starts_and_finishes(
    stays: pd.DataFrame, kinds: IntArray, start_index: int, n_items: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Per item: current stage, started_at, and ended_at: when the current stay in done or discarded began.

    Times are int64 ns, NOT_SET when absent.
    """
    current = np.full(n_items, -1, dtype=np.int64)
    started_at = np.full(n_items, NOT_SET, dtype=np.int64)
    finished_at = np.full(n_items, NOT_SET, dtype=np.int64)
    item = stays["item"].to_numpy()
    if len(item) == 0:
        return current, started_at, finished_at
    stage = stays["stage"].to_numpy()
    entered = stays["entered_at"].to_numpy()
    kind = kinds[stage]
    position = np.arange(len(item))
    run_starts, run_items = _run_bounds(item)
    run_ends = np.r_[run_starts[1:], len(item)] - 1
    current[run_items] = stage[run_ends]

    last_backlog = np.maximum.reduceat(
        np.where(kind == _KIND_CODES[StageKind.BACKLOG], position, -1), run_starts
    )
    run_lengths = np.diff(np.r_[run_starts, len(item)])
    after_backlog = position > np.repeat(last_backlog, run_lengths)
    # Dropping an item is not starting it, even though discarded stages sit late in flow order.
    candidate = after_backlog & (stage >= start_index) & (kind != _KIND_CODES[StageKind.DISCARDED])
    first_start = np.minimum.reduceat(np.where(candidate, position, len(item)), run_starts)
    has_start = first_start < len(item)
    started_at[run_items[has_start]] = entered[first_start[has_start]]

    # An item's cycle ends where its current run of done (finished) or discarded (dropped) stays began; a
    # run of the *current* kind, so that dropped → done finishes when it reached done.
    current_kind = np.repeat(kind[run_ends], run_lengths)
    last_other = np.maximum.reduceat(np.where(kind == current_kind, -1, position), run_starts)
    end_position = np.maximum(last_other + 1, run_starts)
    final_kind = kind[run_ends]
    is_ended_now = (final_kind == _KIND_CODES[StageKind.DONE]) | (
        final_kind == _KIND_CODES[StageKind.DISCARDED]
    )
    finished_at[run_items[is_ended_now]] = entered[end_position[is_ended_now]]
    return current, started_at, finished_at


def _clip_to_cycle(stays: pd.DataFrame, started_at: IntArray, cycle_end: IntArray) -> FloatArray:
    """Days of each stay inside its item's cycle; stays of unstarted items contribute nothing."""
    item = stays["item"].to_numpy()
    start = started_at[item]
    low = np.maximum(stays["entered_at"].to_numpy(), start)
    high = np.minimum(stays["exited_at"].to_numpy(), cycle_end[item])
    days = np.clip(high - low, 0, None) / NS_PER_DAY
    return np.where(start == NOT_SET, 0.0, days)


def _blocked_spans(
    codes: IntArray,
    timestamps: IntArray,
    is_block: BoolArray,
    stays: pd.DataFrame,
    kinds: IntArray,
    n_items: int,
    started_at: IntArray,
    cycle_end: IntArray,
    asof_ns: int,
) -> tuple[pd.DataFrame, BoolArray]:
    """Blocked intervals clipped to each cycle, and whether each item is blocked at ``asof``.

    Blocked state is a step function (the last blocked/unblocked event wins), so repeated ``blocked`` events
    give the union of intervals rather than double counting. Finishing (or discarding) closes a block: a
    synthetic unblock is added where each stay in done or discarded begins, after real events at that instant.
    """
    stay_item = stays["item"].to_numpy()
    stay_kind = kinds[stays["stage"].to_numpy()]
    is_ended = (stay_kind == _KIND_CODES[StageKind.DONE]) | (stay_kind == _KIND_CODES[StageKind.DISCARDED])
    prev_ended = np.r_[False, is_ended[:-1]] & np.r_[False, stay_item[1:] == stay_item[:-1]]
    done_entry = is_ended & ~prev_ended
    all_items = np.r_[codes, stay_item[done_entry]]
    all_times = np.r_[timestamps, stays["entered_at"].to_numpy()[done_entry]]
    all_state = np.r_[is_block, np.zeros(int(done_entry.sum()), dtype=bool)]
    tie_rank = np.r_[np.zeros(len(codes), dtype=np.int64), np.ones(int(done_entry.sum()), dtype=np.int64)]
    order = np.lexsort((tie_rank, all_times, all_items))
    all_items, all_times, all_state = all_items[order], all_times[order], all_state[order]

    blocked_now = np.zeros(n_items, dtype=bool)
    if len(all_items):
        run_starts, run_items = _run_bounds(all_items)
        blocked_now[run_items] = all_state[np.r_[run_starts[1:], len(all_items)] - 1]
    next_same = np.r_[all_items[1:] == all_items[:-1], False]
    span_end = np.where(next_same, np.r_[all_times[1:], 0], asof_ns)
    item, start, end = all_items[all_state], all_times[all_state], span_end[all_state]
    cycle_start = started_at[item]
    low = np.maximum(start, cycle_start)
    high = np.minimum(end, cycle_end[item])
    keep = (cycle_start != NOT_SET) & (high > low)
    spans = pd.DataFrame({"item": item[keep], "start": low[keep], "end": high[keep]})
    return spans, blocked_now


def _attributes(events: pd.DataFrame, codes: IntArray, n_items: int, item_ids: pd.Index) -> pd.DataFrame:
    """The last non-empty value of each attribute per item (events are in time order)."""
    columns: dict[str, pd.Series] = {}
    for name in ATTRIBUTE_COLUMNS:
        last = np.full(n_items, -1, dtype=np.int64)
        if name in events.columns:
            present = np.flatnonzero(events[name].notna().to_numpy())
            np.maximum.at(
                last, codes[present], present
            )  # rows are in time order: the largest row is the latest
            values = np.r_[events[name].to_numpy(dtype=object), None]
        else:
            values = np.array([None], dtype=object)
        columns[name] = pd.Series(values[last], index=item_ids, dtype=object)  # -1 picks the trailing None
    return pd.DataFrame(columns, index=item_ids)
