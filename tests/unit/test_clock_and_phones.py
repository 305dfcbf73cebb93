from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.clock import ScaledClock, parse_time_origin
from dialer.errors import ValidationError
from dialer.phones import mask, normalize_e164
from dialer.settings import load_settings
from tests.support.clock import FakeClock


def test_scaled_clock_maps_real_to_simulated_time():
    wall = [1000.0]
    origin = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock = ScaledClock(time_scale=60, sim_origin=origin, real_anchor_s=1000.0,
                        wall=lambda: wall[0])
    assert clock.now() == origin
    wall[0] = 1010.0
    assert clock.now() == origin + timedelta(minutes=10)
    assert clock.real_seconds(120) == 2.0


def test_time_origin_parses_and_settings_build_the_same_clock():
    sim, real = parse_time_origin("2026-03-02T09:00:00-05:00@1700000000.5")
    assert sim == datetime(2026, 3, 2, 14, 0, tzinfo=UTC) and real == 1700000000.5
    settings = load_settings(time_scale=10, time_origin="2026-03-02T09:00:00-05:00@0")
    assert settings.clock().time_scale == 10


def test_bad_time_origin_is_rejected_naming_the_setting():
    with pytest.raises(Exception, match="time_origin"):
        load_settings(time_origin="yesterday")


def test_fake_clock_moves_only_when_told():
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    before = clock.now()
    assert clock.now() == before
    clock.advance(30)
    assert clock.now() - before == timedelta(seconds=30)


@pytest.mark.parametrize(("raw", "expected"), [
    ("+1 (415) 555-0123", "+14155550123"),
    ("415-555-0123", "+14155550123"),
    ("+44 7911 123456", "+447911123456"),
])
def test_numbers_normalise_to_e164(raw, expected):
    assert normalize_e164(raw, default_region="US") == expected


@pytest.mark.parametrize("raw", ["", "12345", "not a number", "+999999", None])
def test_bad_numbers_are_rejected(raw):
    with pytest.raises(ValueError):
        normalize_e164(raw, default_region="US")


def test_mask_hides_the_last_digits():
    assert mask("+14155550123") == "+1415555****"
    assert "0123" not in mask("+14155550123")


def test_validation_error_is_a_value_error_listing_fields():
    exc = ValidationError([("a.b", "bad"), ("c", "worse")])
    assert isinstance(exc, ValueError)
    assert exc.fields == ["a.b", "c"]
    assert "a.b: bad" in str(exc) and "c: worse" in str(exc)
