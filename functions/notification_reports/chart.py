"""The reports' chart: the daily total balance (USD) as a PNG line chart.

Only numbers are drawn (ISO dates under the x axis, amounts such as ``$10,250`` beside the y axis), so
one image serves reports in English and in Arabic alike.

matplotlib comes from the reports layer and is imported on the first call, so the import is paid by
the reports function alone. It keeps its configuration and font cache in ``MPLCONFIGDIR``; on Lambda
only ``/tmp`` is writable, so that defaults to a folder there: the font list is built once per
container (at the first import) and reused by every later call.
"""

from __future__ import annotations

import datetime
import itertools
import math
import os
import tempfile
from collections.abc import Sequence
from io import BytesIO
from typing import Any

LINE_COLOR = "#2563eb"
GRID_COLOR = "#e5e7eb"
TEXT_COLOR = "#374151"
DPI = 100
# An ISO date at the tick font's size is about 70 px wide: one label per this many pixels.
PX_PER_DATE_LABEL = 110
MARKERS_UP_TO = 31  # a dot per day while the days are few enough to tell apart


def render_balance_chart(
    points: Sequence[tuple[datetime.date, float]], *, width_px: int = 800, height_px: int = 400
) -> bytes:
    """A ``width_px`` x ``height_px`` PNG of the total balance per day.

    ``points`` may come in any order; a date given twice keeps its last value. No points give an
    empty frame (still a valid PNG of the requested size). Non-finite values are refused.
    """
    if width_px < 100 or height_px < 100:
        raise ValueError("the chart needs at least 100 x 100 pixels")
    series = _daily_series(points)
    figure = _figure(width_px, height_px)
    axes = figure.add_subplot()
    _style(axes)
    if series:
        _plot(axes, series, width_px)
    else:
        axes.set_xticks([])
        axes.set_yticks([])
    buffer = BytesIO()
    # No "Software" text chunk (it names matplotlib's version): the same data gives the same bytes.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _daily_series(points: Sequence[tuple[datetime.date, float]]) -> list[tuple[datetime.date, float]]:
    by_day: dict[datetime.date, float] = {}
    for day, value in points:
        amount = float(value)
        if not math.isfinite(amount):
            raise ValueError(f"balance of {day.isoformat()} is not a finite number")
        # A datetime is a date too; the chart is per day.
        by_day[day.date() if isinstance(day, datetime.datetime) else day] = amount
    return sorted(by_day.items())


def _figure(width_px: int, height_px: int) -> Any:
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "matplotlib"))
    os.environ.setdefault("MPLBACKEND", "Agg")  # should anything in the process reach for pyplot
    # Figure and the Agg canvas directly, not pyplot: no global figure registry, no GUI backend lookup.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _style(axes: Any) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID_COLOR)
    axes.tick_params(colors=TEXT_COLOR, labelsize=9, length=0, pad=6)
    axes.grid(True, axis="y", color=GRID_COLOR, linewidth=0.8)
    axes.set_axisbelow(True)


def _plot(axes: Any, series: list[tuple[datetime.date, float]], width_px: int) -> None:
    from matplotlib.dates import date2num
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    days = [date2num(day) for day, _ in series]
    values = [value for _, value in series]
    axes.plot(
        days,
        values,
        color=LINE_COLOR,
        linewidth=2 if len(series) <= 3 * MARKERS_UP_TO else 1.5,
        marker="o" if len(series) <= MARKERS_UP_TO else None,
        markersize=4,
        clip_on=False,  # a line on the axis limit (a zero balance) is drawn whole
    )

    low, high = min(values), max(values)
    # A flat or single-valued series still gets a band around it, and the band never hides the line.
    pad = (high - low) * 0.1 or max(abs(high) * 0.05, 1.0)
    bottom, top = low - pad, high + pad
    if low >= 0:
        bottom = max(bottom, 0.0)  # a balance is never negative: no axis below zero for it
    axes.fill_between(days, values, bottom, color=LINE_COLOR, alpha=0.08, linewidth=0)
    axes.set_ylim(bottom, top)
    y_locator = MaxNLocator(nbins=5)
    axes.yaxis.set_major_locator(y_locator)
    decimals = _decimals(y_locator.tick_values(bottom, top))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _usd(value, decimals)))

    first, last = series[0][0], series[-1][0]
    axes.set_xlim(date2num(first) - 0.5, date2num(last) + 0.5)
    ticks = _date_ticks(first, last, max(2, width_px // PX_PER_DATE_LABEL))
    axes.set_xticks([date2num(day) for day in ticks], [day.isoformat() for day in ticks])


def _date_ticks(first: datetime.date, last: datetime.date, most: int) -> list[datetime.date]:
    """Whole days from ``first`` to ``last`` at an even step, at most ``most`` of them."""
    span = (last - first).days
    step = max(1, math.ceil(span / max(most - 1, 1)))
    return [first + datetime.timedelta(days=offset) for offset in range(0, span + 1, step)]


def _decimals(ticks: Any) -> int:
    """The fewest decimals that write every tick exactly (0.0125 needs 4, 10,250 none)."""
    values = [float(tick) for tick in ticks]
    step = min((abs(b - a) for a, b in itertools.pairwise(values) if b != a), default=1.0)
    for decimals in range(7):
        if all(abs(round(value, decimals) - value) <= step * 1e-6 for value in values):
            return decimals
    return 6


def _usd(value: float, decimals: int) -> str:
    sign = "-" if value < 0 and round(value, decimals) != 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"
