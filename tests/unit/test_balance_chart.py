"""The reports' balance chart: a PNG of the requested size that shows the data it was given."""

from __future__ import annotations

import datetime
import io
import math
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from PIL import Image  # comes with matplotlib, in the reports layer

from functions.notification_reports.chart import render_balance_chart

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime.date(2026, 11, 1)


def days(values: list[float]) -> list[tuple[datetime.date, float]]:
    return [(START + datetime.timedelta(days=index), value) for index, value in enumerate(values)]


def ihdr_size(png: bytes) -> tuple[int, int]:
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def colours(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_a_week_is_a_png_of_the_default_size_with_something_drawn() -> None:
    png = render_balance_chart(days([10_000, 10_120, 9_980, 10_250, 10_300, 10_180, 10_400]))
    assert png.startswith(PNG_SIGNATURE)
    assert ihdr_size(png) == (800, 400)
    assert colours(png) > 20  # a line, its fill, grid and numbers: not a blank image
    with Image.open(io.BytesIO(png)) as image:
        image.verify()


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
    with Image.open(io.BytesIO(png)) as image:
        image.verify()


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


def test_matplotlib_is_imported_on_first_render_with_its_config_in_the_temp_dir() -> None:
    # A fresh interpreter: what a Lambda cold start sees (a read-only home, MPLCONFIGDIR unset).
    script = (
        "import sys, os, datetime\n"
        "from functions.notification_reports.chart import render_balance_chart\n"
        "assert 'matplotlib' not in sys.modules, 'imported with the module'\n"
        "render_balance_chart([(datetime.date(2026, 11, 3), 10250.0)])\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "print(os.environ['MPLCONFIGDIR'])\n"
    )
    environment = {name: value for name, value in os.environ.items() if name != "MPLCONFIGDIR"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == os.path.join(tempfile.gettempdir(), "matplotlib")
