"""The four classic flow charts, the throughput process behaviour chart (XmR), the cycle-time and throughput
histograms and the WIP run chart, rendered to PNG bytes (matplotlib's Agg canvas, never pyplot).

Charts draw results computed elsewhere (percentiles, CFD bands, daily throughput, daily WIP); at most they
count them into bars, in a ``*_counts`` function of their own that tests check by hand.
Each chart has a ``*_figure`` builder returning a ``matplotlib.figure.Figure`` (for tests and for callers that
want another format) and a ``*_png`` wrapper returning 1200x700 PNG bytes. No pyplot or ``rcParams`` state
is touched, so rendering is safe on several threads at once.
"""

from analytics.charts.aging_wip import aging_wip_figure, aging_wip_png
from analytics.charts.cumulative_flow import cfd_figure, cfd_png
from analytics.charts.cycle_time_histogram import cycle_time_histogram_figure, cycle_time_histogram_png
from analytics.charts.cycle_time_scatter import cycle_time_scatter_figure, cycle_time_scatter_png
from analytics.charts.throughput_histogram import throughput_histogram_figure, throughput_histogram_png
from analytics.charts.throughput_pbc import throughput_pbc_figure, throughput_pbc_png
from analytics.charts.throughput_run import throughput_run_figure, throughput_run_png
from analytics.charts.wip_run import wip_run_figure, wip_run_png

__all__ = [
    "aging_wip_figure",
    "aging_wip_png",
    "cfd_figure",
    "cfd_png",
    "cycle_time_histogram_figure",
    "cycle_time_histogram_png",
    "cycle_time_scatter_figure",
    "cycle_time_scatter_png",
    "throughput_histogram_figure",
    "throughput_histogram_png",
    "throughput_pbc_figure",
    "throughput_pbc_png",
    "throughput_run_figure",
    "throughput_run_png",
    "wip_run_figure",
    "wip_run_png",
]
