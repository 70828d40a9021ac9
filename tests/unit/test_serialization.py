from pydantic import BaseModel

from core.schemas.types import JsonNumber
from core.timeutil import to_iso


class Numbers(BaseModel):
    whole: JsonNumber
    fraction: JsonNumber


def test_whole_numbers_render_without_a_fraction_like_the_reference():
    assert Numbers(whole=2.0, fraction=1.5).model_dump_json() == '{"whole":2,"fraction":1.5}'


def test_timestamps_are_iso_utc_with_milliseconds():
    from datetime import UTC, datetime

    assert to_iso(datetime(2022, 9, 9, 1, 57, 36, 304999, tzinfo=UTC)) == "2022-09-09T01:57:36.304Z"


def test_settings_split_egress_ips(monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("EGRESS_IPS", "15.137.11.254, 221.110.159.85,")
    get_settings.cache_clear()
    try:
        assert get_settings().egress_ips == ["15.137.11.254", "221.110.159.85"]
    finally:
        get_settings.cache_clear()
