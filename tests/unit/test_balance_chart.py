"""The reports' balance chart: a PNG of the requested size that shows the data it was given."""

from __future__ import annotations

import datetime
import math
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from functions.notification_reports.chart import LINE_COLOR, TEXT_COLOR, render_balance_chart

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime.date(2026, 11, 1)


def days(values: list[float]) -> list[tuple[datetime.date, float]]:
    return [(START + datetime.timedelta(days=index), value) for index, value in enumerate(values)]


def ihdr_size(png: bytes) -> tuple[int, int]:
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def decode(png: bytes) -> list[list[tuple[int, int, int]]]:
    """The image's pixel rows, read back as any PNG reader would: every chunk's CRC checked, IHDR
    first and IEND last, the IDAT stream inflated and its row filters undone (8-bit RGB only)."""
    assert png.startswith(PNG_SIGNATURE)
    offset, chunks = len(PNG_SIGNATURE), []
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + data) == crc, kind
        chunks.append((kind, data))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1] == (b"IEND", b"")
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour_type, interlace) == (8, 2, 0)
    raw = zlib.decompress(b"".join(data for kind, data in chunks if kind == b"IDAT"))
    stride = width * 3
    assert len(raw) == height * (stride + 1)
    rows, previous = [], bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - 3] if i >= 3 else 0
            up, corner = previous[i], previous[i - 3] if i >= 3 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
            else:
                assert kind == 0, f"unknown filter {kind}"
        rows.append([tuple(line[x : x + 3]) for x in range(0, stride, 3)])
        previous = bytes(line)
    return rows  # type: ignore[return-value]


def colours(png: bytes) -> int:
    return len({pixel for row in decode(png) for pixel in row})


def rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def line_rows(png: bytes) -> dict[int, list[int]]:
    """For each column, the rows where the line's own colour is drawn."""
    found: dict[int, list[int]] = {}
    for y, row in enumerate(decode(png)):
        for x, pixel in enumerate(row):
            if pixel == rgb(LINE_COLOR):
                found.setdefault(x, []).append(y)
    return found


def test_a_week_is_a_png_of_the_default_size_with_something_drawn() -> None:
    png = render_balance_chart(days([10_000, 10_120, 9_980, 10_250, 10_300, 10_180, 10_400]))
    assert png.startswith(PNG_SIGNATURE)
    assert ihdr_size(png) == (800, 400)
    assert colours(png) > 20  # a line with smooth edges, its fill, grid and numbers: not a blank image
    assert decode(png)


def test_the_requested_size_is_the_image_size() -> None:
    png = render_balance_chart(days([1, 2, 3]), width_px=640, height_px=320)
    assert ihdr_size(png) == (640, 320)


def test_different_data_give_different_images_and_the_same_data_the_same() -> None:
    rising = render_balance_chart(days([100, 200, 300]))
    falling = render_balance_chart(days([300, 200, 100]))
    assert rising != falling
    assert render_balance_chart(days([100, 200, 300])) == rising


def test_no_points_still_give_a_valid_png_of_the_requested_size() -> None:
    png = render_balance_chart([], width_px=600, height_px=300)
    assert png.startswith(PNG_SIGNATURE)
    assert ihdr_size(png) == (600, 300)
    assert len(decode(png)) == 300


def test_one_point_is_drawn() -> None:
    one = render_balance_chart([(START, 10_250.0)])
    assert ihdr_size(one) == (800, 400)
    assert colours(one) > colours(render_balance_chart([]))


def test_hundreds_of_points_in_any_order() -> None:
    points = days([10_000 + 500 * math.sin(index / 9) for index in range(400)])
    png = render_balance_chart(list(reversed(points)))
    assert ihdr_size(png) == (800, 400)
    assert png == render_balance_chart(points)  # sorted by date before drawing


def test_flat_tiny_and_zero_balances_render() -> None:
    for values in ([0.0, 0.0], [5.0, 5.0, 5.0], [0.01, 0.02], [-50.0, 25.0]):
        assert render_balance_chart(days(values)).startswith(PNG_SIGNATURE)


def test_a_date_given_twice_keeps_its_last_value() -> None:
    twice = render_balance_chart(
        [(START, 100.0), (START, 300.0), (START + datetime.timedelta(days=1), 200.0)]
    )
    once = render_balance_chart([(START, 300.0), (START + datetime.timedelta(days=1), 200.0)])
    assert twice == once


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_balances_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        render_balance_chart([(START, value)])


def test_a_too_small_canvas_is_refused() -> None:
    with pytest.raises(ValueError, match="100 x 100"):
        render_balance_chart(days([1]), width_px=50)


def test_the_line_goes_where_the_balance_goes() -> None:
    # Rising: the line's leftmost pixels sit lower on the image (larger rows) than its rightmost ones.
    rising = line_rows(render_balance_chart(days([100, 200, 300])))
    falling = line_rows(render_balance_chart(days([300, 200, 100])))
    first, last = min(rising), max(rising)
    assert max(rising[first]) > min(rising[last]) + 100
    first, last = min(falling), max(falling)
    assert min(falling[first]) + 100 < max(falling[last])


def test_the_labels_are_drawn_beside_and_under_the_axes() -> None:
    image = decode(render_balance_chart(days([10_000, 10_250])))
    text = rgb(TEXT_COLOR)
    left_band = [pixel for row in image for pixel in row[:60]]
    bottom_band = [pixel for row in image[-30:] for pixel in row]
    assert text in left_band
    assert text in bottom_band


def test_rendering_needs_only_the_standard_library() -> None:
    # A fresh interpreter without site-packages (-S), the function's folder on its path as on Lambda.
    script = (
        "import sys, datetime\n"
        f"sys.path.insert(0, {str(PROJECT_ROOT / 'functions' / 'notification_reports')!r})\n"
        "from chart import render_balance_chart\n"
        "png = render_balance_chart([(datetime.date(2026, 11, 3), 10250.0), (datetime.date(2026, 11, 4), 10300.0)])\n"
        "assert png.startswith(b'\\x89PNG')\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
