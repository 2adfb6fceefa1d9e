"""ExportFilters: validation names the bad field; matches() decides like the SQL query would."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from shapely.geometry import Point, shape

from peacewatch.server.exports.filters import ExportFilters, record_point
from tests.server.exports.matching import Matcher, matches

SQUARE = {"type": "Polygon", "coordinates": [[[31.0, 4.0], [32.0, 4.0], [32.0, 5.0], [31.0, 5.0], [31.0, 4.0]]]}


def _field_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {str(err["loc"][0]) for err in exc.value.errors() if err["loc"]}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bbox": "31,4,32"}, "bbox"),
        ({"bbox": "32,4,31,5"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"area": "{not json"}, "area"),
        ({"area": json.dumps({"type": "Point", "coordinates": [31, 4]})}, "area"),
        # a bow-tie: self-intersecting, invalid
        ({"area": json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]})}, "area"),
        ({"severity_min": 0}, "severity_min"),
        ({"severity_max": 9}, "severity_max"),
        ({"kind": ["meeting"]}, "kind"),
        ({"review_status": ["maybe"]}, "review_status"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        ExportFilters(**kwargs)
    assert field in _field_of(exc)


def test_inverted_ranges_are_refused() -> None:
    with pytest.raises(ValidationError, match="end must be after start"):
        ExportFilters(start="2026-08-01T00:00:00Z", end="2026-07-01T00:00:00Z")
    with pytest.raises(ValidationError, match="severity_max"):
        ExportFilters(severity_min=4, severity_max=2)


def test_empty_filter_matches_everything(sample: list[dict]) -> None:
    assert all(matches(ExportFilters(), r) for r in sample)


def test_each_filter_against_an_independent_computation(sample: list[dict]) -> None:
    start, end = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    filters = ExportFilters(
        start=start, end=end, area=json.dumps(SQUARE), kind=["incident", "hr_concern"],
        contingent=["BANBAT", "NEPBAT"], severity_min=2, severity_max=4,
    )
    square = shape(SQUARE)
    expected = []
    for r in sample:
        when = datetime.fromisoformat(r["event_time"])
        lat, lon = r["location"]["lat"], r["location"]["lon"]
        if (start <= when < end and square.covers(Point(lon, lat)) and r["kind"] in ("incident", "hr_concern")
                and r["contingent"] in ("BANBAT", "NEPBAT") and 2 <= r["severity"] <= 4):
            expected.append(r["id"])
    matcher = Matcher(filters)
    got = [r["id"] for r in sample if matcher(r)]
    assert got == expected
    assert 0 < len(got) < len(sample)  # the sample exercises both outcomes


def test_time_range_is_start_inclusive_end_exclusive() -> None:
    record = {"kind": "incident", "event_time": "2026-08-01T00:00:00Z"}
    assert matches(ExportFilters(start="2026-08-01T00:00:00Z"), record)
    assert not matches(ExportFilters(end="2026-08-01T00:00:00Z"), record)
    assert not matches(ExportFilters(start="2026-08-01T00:00:00Z"), {"kind": "incident"})  # no time, no match


def test_bbox_and_patrol_without_location_uses_its_route() -> None:
    patrol = {"kind": "patrol", "route": [{"lat": 4.5, "lon": 31.5}, {"lat": 6.0, "lon": 33.0}]}
    assert record_point(patrol) == (4.5, 31.5)
    assert matches(ExportFilters(bbox="31,4,32,5"), patrol)
    assert not matches(ExportFilters(bbox="32.5,5.5,33.5,6.5"), patrol)
    assert not matches(ExportFilters(bbox="31,4,32,5"), {"kind": "incident"})  # nowhere: not inside


def test_category_status_and_text() -> None:
    record = {"kind": "incident", "category": "looting", "review_status": "verified",
              "title": "Market LOOTED", "description": ""}
    assert matches(ExportFilters(category=["looting", "arson"], review_status=["verified"], q="looted"), record)
    assert not matches(ExportFilters(category=["arson"]), record)
    assert not matches(ExportFilters(review_status=["rejected"]), record)
    assert not matches(ExportFilters(q="cattle"), record)


def test_describe_lists_only_what_is_set() -> None:
    described = ExportFilters(start="2026-08-01T00:00:00", category=["looting"], severity_min=3).describe()
    assert described == {"start": "2026-08-01T00:00:00Z", "category": "looting", "severity_min": "3"}
    assert ExportFilters().describe() == {}
