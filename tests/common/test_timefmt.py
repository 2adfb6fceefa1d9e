"""ISO 8601 and DTG: round trips for every zone letter, and clear errors for bad text."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peacewatch.common.timefmt import ZONES, TimeFormatError, parse_dtg, parse_iso, to_dtg, to_iso, utcnow

LETTERS = sorted(ZONES)
aware = st.datetimes(min_value=datetime(2001, 1, 2), max_value=datetime(2098, 12, 30), timezones=st.just(UTC))


def test_zone_letters():
    assert len(ZONES) == 25 and "J" not in ZONES
    assert ZONES["Z"] == 0 and ZONES["A"] == 1 and ZONES["I"] == 9 and ZONES["K"] == 10
    assert ZONES["M"] == 12 and ZONES["N"] == -1 and ZONES["Y"] == -12


def test_known_dtg():
    dt = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    assert to_dtg(dt) == "241530ZNOV26"
    assert to_dtg(dt, "c") == "241830CNOV26"
    assert to_dtg(dt, "Y") == "240330YNOV26"
    assert parse_dtg("241530ZNOV26") == dt
    assert parse_dtg(" 24 1830 c nov 2026 ") == dt


@settings(max_examples=40, deadline=None)
@given(dt=aware, letter=st.sampled_from(LETTERS), lower=st.booleans())
def test_dtg_round_trip_every_zone(dt, letter, lower):
    text = to_dtg(dt, letter)
    assert text[6] == letter
    back = parse_dtg(text.lower() if lower else text)
    assert back == dt.replace(second=0, microsecond=0)
    assert back.tzinfo is UTC


@pytest.mark.parametrize("letter", LETTERS)
def test_each_zone_letter_round_trips(letter):
    dt = datetime(2026, 2, 28, 23, 59, tzinfo=UTC)
    assert parse_dtg(to_dtg(dt, letter)) == dt


@pytest.mark.parametrize(
    "text,code",
    [
        ("241530JNOV26", "bad_zone"),
        ("301530ZFEB26", "bad_dtg"),
        ("242430ZNOV26", "bad_dtg"),
        ("241530ZNOX26", "bad_dtg"),
        ("2415ZNOV26", "bad_dtg"),
        ("", "bad_dtg"),
        (None, "bad_dtg"),
    ],
)
def test_bad_dtg(text, code):
    with pytest.raises(TimeFormatError) as info:
        parse_dtg(text)
    assert info.value.code == code and isinstance(info.value, ValueError)


def test_to_dtg_refuses_naive_and_unknown_zone():
    with pytest.raises(TimeFormatError):
        to_dtg(datetime(2026, 1, 1))
    with pytest.raises(TimeFormatError) as info:
        to_dtg(datetime(2026, 1, 1, tzinfo=UTC), "J")
    assert info.value.field == "zone"


@settings(max_examples=60, deadline=None)
@given(dt=aware, offset=st.integers(-12 * 60, 14 * 60))
def test_iso_round_trip_normalises_to_utc(dt, offset):
    local = dt.astimezone(timezone(timedelta(minutes=offset)))
    text = to_iso(local)
    assert text.endswith("Z")
    assert parse_iso(text) == dt
    assert parse_iso(local.isoformat()) == dt


@pytest.mark.parametrize(
    "text,code",
    [
        ("2026-11-24T15:30:00", "naive_datetime"),
        ("2026-11-24", "bad_datetime"),
        ("yesterday", "bad_datetime"),
        ("2026-13-01T00:00Z", "bad_datetime"),
        (1234, "bad_datetime"),
    ],
)
def test_bad_iso(text, code):
    with pytest.raises(TimeFormatError) as info:
        parse_iso(text, field="event_time")
    assert (info.value.code, info.value.field) == (code, "event_time")


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.tzinfo is UTC and abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(TimeFormatError):
        to_iso(datetime(2026, 1, 1))
