"""Time as the shop writes it: UTC, ISO 8601, whole seconds, `Z`; and parsed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shop.logic.clock import iso, parse_iso, utc_now


def test_iso_writes_utc_seconds_with_z():
    assert iso(datetime(2026, 11, 24, 16, 13, 46, 999_999, tzinfo=UTC)) == "2026-11-24T16:13:46Z"


@pytest.mark.parametrize("hours", [2, -5, 14, -12])
def test_iso_converts_other_zones_to_utc(hours):
    local = datetime(2026, 11, 24, 16, 13, 46, tzinfo=UTC).astimezone(timezone(timedelta(hours=hours)))

    assert iso(local) == "2026-11-24T16:13:46Z"


def test_iso_across_midnight_and_new_year():
    moment = datetime(2027, 1, 1, 1, 30, 0, tzinfo=timezone(timedelta(hours=3)))

    assert iso(moment) == "2026-12-31T22:30:00Z"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 24, 16, 13, 46, 123_456, tzinfo=UTC),
        datetime(2000, 2, 29, 0, 0, 0, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2099, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-8))),
    ],
)
def test_parse_iso_inverts_iso_to_the_second(moment):
    parsed = parse_iso(iso(moment))

    assert parsed == moment.replace(microsecond=0)
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-11-24T16:13:46Z", "2000-02-29T00:00:00Z", "1999-12-31T23:59:59Z"])
def test_iso_inverts_parse_iso(text):
    assert iso(parse_iso(text)) == text


@pytest.mark.parametrize(
    "text",
    ["", "2026-11-24", "2026-11-24T16:13:46", "2026-11-24 16:13:46Z", "2026-11-24T16:13:46+00:00",
     "2026-11-24T16:13:46.123Z", "2026-02-30T00:00:00Z", "yesterday"],
)
def test_parse_iso_refuses_other_formats(text):
    with pytest.raises(ValueError):
        parse_iso(text)


def test_utc_now_is_aware_and_in_utc():
    now = utc_now()

    assert now.tzinfo is UTC
    assert parse_iso(iso(now)).tzinfo is UTC
