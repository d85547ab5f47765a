"""Cumulative flow: items in each stage at the end of each day (``spec/metrics.md``, ``cfd``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.calendar import Window
from analytics.timeline import Timeline


def cumulative_flow(timeline: Timeline, window: Window) -> pd.DataFrame:
    """Band heights: for each local day of ``window``, how many items were in each stage as the day ended.

    Returns a frame indexed by date (``window.dates``) with one integer column per stage in flow order
    (every stage, discarded included, so a row sums to the items known by then). The ``done`` band counts
    every item in done since the first event, not only this window's, so stacking the bands from ``done``
    upwards gives cumulative lines. "End of day" is the instant before the next local midnight; for the day
    containing ``asof`` it is ``asof`` itself, since later events do not exist.

    Each stay adds +1 on the first day it covers and -1 after the last, and a cumulative sum along the days
    turns that into counts: linear in stays and days, no per-item work.
    """
    stays = timeline.stays
    n_days = len(window.dates)
    stage_names = list(timeline.workflow.stage_names)
    day_ends = window.boundaries[1:]
    entered = stays["entered_at"].to_numpy()
    exited = stays["exited_at"].to_numpy()
    # Counted on day d when entered < end_d <= exited (the status just before end_d).
    first = np.searchsorted(day_ends, entered, side="right")
    last = np.searchsorted(day_ends, exited, side="right") - 1
    covers = first <= last
    stage = stays["stage"].to_numpy()[covers]
    delta = np.zeros((len(stage_names), n_days + 1), dtype=np.int64)
    np.add.at(delta, (stage, first[covers]), 1)
    np.add.at(delta, (stage, np.minimum(last[covers], n_days - 1) + 1), -1)
    counts = np.cumsum(delta[:, :n_days], axis=1)
    return pd.DataFrame(counts.T, index=pd.Index(window.dates, name="date"), columns=stage_names)
