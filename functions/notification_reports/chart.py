"""The reports' chart: the daily total balance (USD) as a PNG line chart.

Only numbers are drawn (ISO dates under the x axis, amounts such as ``$10,250`` beside the y axis), so
one image serves reports in English and in Arabic alike.

Pure Python (the standard library's zlib and struct): an RGB canvas in a bytearray, the line drawn with
anti-aliased edges, the area under it tinted, a horizontal grid at round amounts, and the labels in a
built-in 5 x 7 pixel font of the few characters they use. Nothing to install, nothing imported at cold
start beyond this module, and the same data always give the same bytes.
"""

from __future__ import annotations

import datetime
import itertools
import math
import struct
import zlib
from collections.abc import Iterable, Sequence

LINE_COLOR = "#2563eb"
GRID_COLOR = "#e5e7eb"
TEXT_COLOR = "#374151"
BACKGROUND = "#ffffff"
FILL_ALPHA = 0.08
MARKERS_UP_TO = 31  # a dot per day while the days are few enough to tell apart
MARKER_RADIUS = 3.5
Y_TICKS_AT_MOST = 6  # as matplotlib's MaxNLocator(nbins=5): at most 5 bands between round amounts
LABEL_GAP = 8  # pixels between a label and its axis

# The labels' glyphs, 5 columns x 7 rows, "#" for ink: digits and what dates and amounts need.
_GLYPHS: dict[str, tuple[str, ...]] = {
    "0": (" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "),
    "1": ("  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "),
    "2": (" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"),
    "3": ("#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "),
    "4": ("   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "),
    "5": ("#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "),
    "6": ("  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "),
    "7": ("#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "),
    "8": (" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "),
    "9": (" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "),
    "-": ("     ", "     ", "     ", " ### ", "     ", "     ", "     "),
    ".": ("     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "),
    ",": ("     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   "),
    "$": ("  #  ", " ####", "# #  ", " ### ", "  # #", "#### ", "  #  "),
}
_GLYPH_W, _GLYPH_H = 5, 7

Color = tuple[int, int, int]


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
    canvas = _Canvas(width_px, height_px, _rgb(BACKGROUND))
    scale = 2 if height_px >= 300 and width_px >= 400 else 1
    if series:
        _plot(canvas, series, scale)
    else:
        _frame(canvas, _PlotArea(12, 12, width_px - 12, height_px - 12))
    return canvas.png()


def _daily_series(points: Sequence[tuple[datetime.date, float]]) -> list[tuple[datetime.date, float]]:
    by_day: dict[datetime.date, float] = {}
    for day, value in points:
        amount = float(value)
        if not math.isfinite(amount):
            raise ValueError(f"balance of {day.isoformat()} is not a finite number")
        # A datetime is a date too; the chart is per day.
        by_day[day.date() if isinstance(day, datetime.datetime) else day] = amount
    return sorted(by_day.items())


class _PlotArea:
    """The rectangle the data are drawn in, in pixels: ``left <= x < right``, ``top <= y < bottom``."""

    def __init__(self, left: int, top: int, right: int, bottom: int) -> None:
        self.left, self.top, self.right, self.bottom = left, top, right, bottom


def _plot(canvas: _Canvas, series: list[tuple[datetime.date, float]], scale: int) -> None:
    values = [value for _, value in series]
    low, high = min(values), max(values)
    # A flat or single-valued series still gets a band around it, and the band never hides the line.
    pad = (high - low) * 0.1 or max(abs(high) * 0.05, 1.0)
    bottom_value, top_value = low - pad, high + pad
    if low >= 0:
        bottom_value = max(bottom_value, 0.0)  # a balance is never negative: no axis below zero for it
    y_ticks = _nice_ticks(bottom_value, top_value, Y_TICKS_AT_MOST)
    decimals = _decimals(y_ticks)
    y_labels = [_usd(tick, decimals) for tick in y_ticks]

    glyph_h = _GLYPH_H * scale
    date_w = _text_width("2026-01-01", scale)
    label_w = max(_text_width(label, scale) for label in y_labels)
    area = _PlotArea(
        left=label_w + 2 * LABEL_GAP,
        top=glyph_h // 2 + 8,
        right=canvas.width - max(16, date_w // 2 + 4),
        bottom=canvas.height - glyph_h - 2 * LABEL_GAP,
    )
    first, last = series[0][0], series[-1][0]
    days = (last - first).days + 1  # each day a slot, the point in its middle

    def x_of(day: datetime.date) -> float:
        return area.left + ((day - first).days + 0.5) / days * (area.right - area.left)

    def y_of(value: float) -> float:
        share = (value - bottom_value) / (top_value - bottom_value)
        return area.bottom - share * (area.bottom - area.top)

    line = [(x_of(day), y_of(value)) for day, value in series]
    _fill_under(canvas, line, area, _mix(_rgb(LINE_COLOR), _rgb(BACKGROUND), FILL_ALPHA))
    for tick, label in zip(y_ticks, y_labels, strict=True):
        row = round(y_of(tick))
        if area.top <= row < area.bottom:
            canvas.hline(area.left, area.right, row, _rgb(GRID_COLOR))
        canvas.text(label, area.left - LABEL_GAP - _text_width(label, scale), row - glyph_h // 2, scale)
    _frame(canvas, area)

    width = 2.0 if len(series) <= 3 * MARKERS_UP_TO else 1.5
    ink = _Coverage(canvas.width, canvas.height)
    for start, end in itertools.pairwise(line):
        ink.segment(start, end, width / 2)
    if len(series) == 1 or len(series) <= MARKERS_UP_TO:
        for x, y in line:
            ink.disc(x, y, MARKER_RADIUS)
    ink.paint(canvas, _rgb(LINE_COLOR))

    most = max(2, (area.right - area.left) // (date_w + 40))
    for day in _date_ticks(first, last, most):
        label = day.isoformat()
        x = round(x_of(day)) - _text_width(label, scale) // 2
        canvas.text(label, x, area.bottom + LABEL_GAP, scale)


def _frame(canvas: _Canvas, area: _PlotArea) -> None:
    """The left and bottom axes, in the grid's colour (no box: the top and right stay open)."""
    canvas.vline(area.left, area.top, area.bottom + 1, _rgb(GRID_COLOR))
    canvas.hline(area.left, area.right, area.bottom, _rgb(GRID_COLOR))


def _fill_under(canvas: _Canvas, line: list[tuple[float, float]], area: _PlotArea, color: Color) -> None:
    """Tints every column between the first and last point from the line down to the x axis."""
    if len(line) < 2:
        return
    segments = itertools.pairwise(line)
    (x0, y0), (x1, y1) = next(segments)
    for column in range(math.ceil(line[0][0]), math.floor(line[-1][0]) + 1):
        while column > x1:
            (x0, y0), (x1, y1) = next(segments)
        y = y0 + (y1 - y0) * (column - x0) / (x1 - x0) if x1 != x0 else y1
        canvas.vline(column, math.ceil(y), area.bottom, color)


def _date_ticks(first: datetime.date, last: datetime.date, most: int) -> list[datetime.date]:
    """Whole days from ``first`` to ``last`` at an even step, at most ``most`` of them."""
    span = (last - first).days
    step = max(1, math.ceil(span / max(most - 1, 1)))
    return [first + datetime.timedelta(days=offset) for offset in range(0, span + 1, step)]


def _nice_ticks(low: float, high: float, most: int) -> list[float]:
    """Round amounts (1, 2, 2.5 or 5 times a power of ten apart) from ``low`` to ``high``, at most ``most``."""
    span = high - low
    magnitude = 10.0 ** math.floor(math.log10(span / max(most - 1, 1)))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0, 20.0):
        step = factor * magnitude
        first = math.ceil(low / step - 1e-9)
        last = math.floor(high / step + 1e-9)
        if last - first + 1 <= most:
            break
    return [round(index * step, 10) for index in range(first, last + 1)]


def _decimals(ticks: Iterable[float]) -> int:
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


def _text_width(text: str, scale: int) -> int:
    return (len(text) * (_GLYPH_W + 1) - 1) * scale


def _rgb(hex_color: str) -> Color:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def _mix(color: Color, under: Color, alpha: float) -> Color:
    r, g, b = (round(c * alpha + u * (1 - alpha)) for c, u in zip(color, under, strict=True))
    return r, g, b


class _Canvas:
    """An RGB image in one bytearray, row after row, three bytes a pixel."""

    def __init__(self, width: int, height: int, background: Color) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def hline(self, x0: int, x1: int, y: int, color: Color) -> None:
        x0, x1 = max(x0, 0), min(x1, self.width)
        if 0 <= y < self.height and x0 < x1:
            start = (y * self.width + x0) * 3
            self.pixels[start : start + (x1 - x0) * 3] = bytes(color) * (x1 - x0)

    def vline(self, x: int, y0: int, y1: int, color: Color) -> None:
        y0, y1 = max(y0, 0), min(y1, self.height)
        if 0 <= x < self.width and y0 < y1:
            stride = self.width * 3
            start = (y0 * self.width + x) * 3
            count = y1 - y0
            for channel in range(3):
                offset = start + channel
                self.pixels[offset : offset + count * stride : stride] = bytes([color[channel]]) * count

    def blend(self, x: int, y: int, color: Color, alpha: float) -> None:
        offset = (y * self.width + x) * 3
        under = self.pixels[offset : offset + 3]
        self.pixels[offset : offset + 3] = bytes(
            round(c * alpha + u * (1 - alpha)) for c, u in zip(color, under, strict=True)
        )

    def text(self, text: str, x: int, y: int, scale: int) -> None:
        color = _rgb(TEXT_COLOR)
        for index, char in enumerate(text):
            left = x + index * (_GLYPH_W + 1) * scale
            for row, bits in enumerate(_GLYPHS[char]):
                for column in (index for index, bit in enumerate(bits) if bit == "#"):
                    x0 = left + column * scale
                    for dy in range(scale):
                        self.hline(x0, x0 + scale, y + row * scale + dy, color)

    def png(self) -> bytes:
        stride = self.width * 3
        # Filter type 0 (none) on every row: simple, and zlib still packs the flat areas tightly.
        raw = b"".join(
            b"\x00" + bytes(self.pixels[row * stride : (row + 1) * stride]) for row in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return b"".join(
            [
                b"\x89PNG\r\n\x1a\n",
                _chunk(b"IHDR", header),
                _chunk(b"IDAT", zlib.compress(raw, 9)),
                _chunk(b"IEND", b""),
            ]
        )


class _Coverage:
    """How much of each pixel the line covers (0 to 1), painted at once so joints are not drawn twice."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cover: dict[int, float] = {}

    def _add(self, x: int, y: int, amount: float) -> None:
        if amount > 0 and 0 <= x < self.width and 0 <= y < self.height:
            key = y * self.width + x
            if amount > self.cover.get(key, 0.0):
                self.cover[key] = min(amount, 1.0)

    def segment(self, start: tuple[float, float], end: tuple[float, float], half_width: float) -> None:
        (x0, y0), (x1, y1) = start, end
        dx, dy = x1 - x0, y1 - y0
        length_sq = dx * dx + dy * dy
        reach = half_width + 1
        for y in range(math.floor(min(y0, y1) - reach), math.ceil(max(y0, y1) + reach) + 1):
            # Only the columns near the line on this row: the segment's x range at this row, widened.
            if abs(dy) > 1e-9:
                t_low = ((y - reach) - y0) / dy
                t_high = ((y + reach) - y0) / dy
                t_low, t_high = max(min(t_low, t_high), 0.0), min(max(t_low, t_high), 1.0)
                xs = (x0 + dx * t_low, x0 + dx * t_high)
            else:
                xs = (x0, x1)
            for x in range(math.floor(min(xs) - reach), math.ceil(max(xs) + reach) + 1):
                px, py = x + 0.5 - x0, y + 0.5 - y0
                t = 0.0 if length_sq == 0 else max(0.0, min(1.0, (px * dx + py * dy) / length_sq))
                distance = math.hypot(px - t * dx, py - t * dy)
                self._add(x, y, half_width + 0.5 - distance)

    def disc(self, cx: float, cy: float, radius: float) -> None:
        for y in range(math.floor(cy - radius - 1), math.ceil(cy + radius + 1) + 1):
            for x in range(math.floor(cx - radius - 1), math.ceil(cx + radius + 1) + 1):
                self._add(x, y, radius + 0.5 - math.hypot(x + 0.5 - cx, y + 0.5 - cy))

    def paint(self, canvas: _Canvas, color: Color) -> None:
        for key, amount in sorted(self.cover.items()):
            canvas.blend(key % self.width, key // self.width, color, amount)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
