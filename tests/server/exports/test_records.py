"""Flattened rows: typed values, labels, MGRS at the report's precision, DTG identical to common's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from peacewatch.common.coords import to_mgrs
from peacewatch.common.timefmt import to_dtg
from peacewatch.server.exports.records import (
    COLUMNS,
    Labels,
    _to_dtg,
    columns_for,
    flatten,
    iso_z,
    row_values,
)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-9, minutes=-30))])))
def test_fast_dtg_is_the_common_dtg(moment: datetime) -> None:
    assert _to_dtg(moment) == to_dtg(moment)


def test_iso_z_normalises_to_utc() -> None:
    assert iso_z(datetime(2026, 11, 24, 18, 30, tzinfo=timezone(timedelta(hours=3)))) == "2026-11-24T15:30:00Z"
    assert iso_z(datetime(2026, 11, 24, 15, 30, 0, 250000, tzinfo=UTC)) == "2026-11-24T15:30:00.250000Z"


def test_flatten_types_and_labels(sample: list[dict]) -> None:
    labels = Labels("fr")
    hr = next(r for r in sample if r["kind"] == "hr_concern")
    row = flatten(hr, labels)
    assert set(row) == {c.key for c in COLUMNS}
    assert row["event_time"] == datetime.fromisoformat(hr["event_time"])
    assert row["kind"] == "Préoccupation droits de l'homme"
    assert row["victims"] == sum(p["count"] for p in hr["victims"])
    assert row["route_points"] is None
    precision = hr["location"]["precision_m"]
    digits = {5: 4, 10: 4, 50: 3, 100: 3}[precision]
    assert row["mgrs"] == to_mgrs(hr["location"]["lat"], hr["location"]["lon"], digits)


def test_unknown_category_falls_back_to_its_code_and_bare_records_flatten(bare: dict) -> None:
    row = flatten(dict(bare, category="from_a_newer_taxonomy"), Labels("en"))
    assert row["category"] == "from_a_newer_taxonomy"
    assert row["event_time"] is None and row["dtg"] == "" and row["mgrs"] == ""


def test_columns_per_kind() -> None:
    patrol = {c.key for c in columns_for("patrol")}
    assert {"route_points", "patrol_type", "nil_report"} <= patrol and "victims" not in patrol
    assert "killed" in {c.key for c in columns_for("incident")}
    assert columns_for(None) == COLUMNS


def test_mgrs_is_the_bodys_own_reference_and_computed_only_without_one(bare: dict) -> None:
    labels = Labels("en")
    # A reference typed at 1 km: the body keeps it as typed (schema), and so does the export,
    # rather than a 10 m square recomputed from the square's centre.
    typed = {"lat": 4.85, "lon": 31.6, "mgrs": "36NUL4453", "precision_m": 1000}
    assert flatten(dict(bare, location=typed), labels)["mgrs"] == "36NUL4453"
    untyped = {"lat": 4.85, "lon": 31.6, "precision_m": 10}
    assert flatten(dict(bare, location=untyped), labels)["mgrs"] == to_mgrs(4.85, 31.6, 4)
    route_only = dict(bare, kind="patrol", route=[{"lat": 4.9, "lon": 31.5}, {"lat": 4.95, "lon": 31.55}])
    assert flatten(route_only, labels)["mgrs"] == to_mgrs(4.9, 31.5, 5)


def test_synthetic_bodies_carry_mgrs_as_stored_bodies_do() -> None:
    import synthetic_reports as synthetic

    from peacewatch.common.schema import parse_report, report_to_json

    server_keys = {"review_status", "version_id", "received_at", "in_conflict"}
    for record in synthetic.records(30, seed=5):
        body = {k: v for k, v in record.items() if k not in server_keys}
        assert report_to_json(parse_report(body))["location"]["mgrs"] == record["location"]["mgrs"]


def test_times_in_any_offset_or_none_become_utc_and_rows_follow_the_columns(bare: dict) -> None:
    labels = Labels("en")
    record = dict(bare, event_time="2026-05-01T10:00:00+02:00", received_at="2026-05-01T08:00:00",
                  start_time=datetime(2026, 5, 1, 3, tzinfo=timezone(timedelta(hours=-5))), end_time="")
    row = flatten(record, labels)
    for key in ("event_time", "received_at", "start_time"):
        assert row[key] == datetime(2026, 5, 1, 8, tzinfo=UTC) and row[key].tzinfo is UTC, key
    assert row["end_time"] is None and row["dtg"] == "010800ZMAY26"
    assert row_values(record, labels) == [row[c.key] for c in COLUMNS]
