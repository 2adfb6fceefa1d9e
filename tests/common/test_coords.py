"""lat/lon <-> MGRS within the stated precision, square centres, and parsing what people type."""

import math

import pyproj
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from peacewatch.common.coords import (
    CoordinateError,
    digits_for_precision,
    from_mgrs,
    normalise_mgrs,
    parse_position,
    to_mgrs,
)

GEOD = pyproj.Geod(ellps="WGS84")


def metres(lat1, lon1, lat2, lon2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# UTM covers -80..84; the UPS polar caps are exercised separately below.
lats = st.floats(-79.9, 83.9, allow_nan=False)
lons = st.floats(-179.999, 179.999, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(lat=lats, lon=lons, digits=st.integers(0, 5))
def test_round_trip_within_precision(lat, lon, digits):
    ref = to_mgrs(lat, lon, digits)
    back_lat, back_lon, precision = from_mgrs(ref)
    assert precision == 10 ** (5 - digits)
    # The centre of a square of side p is at most p*sqrt(2)/2 from any point in it;
    # 1 % slack covers UTM scale distortion near zone edges.
    assert metres(lat, lon, back_lat, back_lon) <= precision * math.sqrt(2) / 2 * 1.01 + 0.01


def near_an_edge(lat, lon, tolerance=1e-3):
    """Within ~100 m of a latitude band edge (every 8 degrees, 72, 84) or a zone edge (every 3 degrees covers
    the 6-degree zones and the Norway/Svalbard exceptions), where a named part can shrink to a line."""
    band = min(abs(lat - edge) for edge in [*range(-80, 73, 8), 84])
    return band < tolerance or abs(lon / 3 - round(lon / 3)) * 3 < tolerance


@settings(max_examples=150, deadline=None)
@given(lat=lats, lon=lons, digits=st.integers(0, 5))
def test_centre_lies_in_its_own_square(lat, lon, digits):
    assume(not near_an_edge(lat, lon))
    ref = to_mgrs(lat, lon, digits)
    back_lat, back_lon, _ = from_mgrs(ref)
    assert to_mgrs(back_lat, back_lon, digits) == ref


@pytest.mark.parametrize("ref", ["31NAA60", "31XCV", "36NSL65", "36NZN"])
def test_square_cut_by_a_zone_edge_gets_a_point_inside_its_named_part(ref):
    lat, lon, _ = from_mgrs(ref)
    assert to_mgrs(lat, lon, (len(ref) - 5) // 2) == ref


@settings(max_examples=40, deadline=None)
@given(
    lat=st.floats(-79.9, 83.9),
    zone_edge=st.integers(-29, 29),
    offset_m=st.floats(-20_000, 20_000),
    digits=st.integers(0, 4),
)
def test_points_near_zone_edges_round_trip(lat, zone_edge, offset_m, digits):
    lon = zone_edge * 6 + offset_m / 111_000
    assume(not near_an_edge(lat, lon))
    ref = to_mgrs(lat, lon, digits)
    back_lat, back_lon, precision = from_mgrs(ref)
    assert to_mgrs(back_lat, back_lon, digits) == ref
    assert metres(lat, lon, back_lat, back_lon) <= precision * math.sqrt(2) * 1.01


def test_from_mgrs_returns_the_square_centre_not_its_corner():
    to_utm = pyproj.Transformer.from_crs(4326, 32636, always_xy=True)
    for ref, expected in [
        ("36NUL4436", (344500, 536500)),
        ("36NUL447362", (344750, 536250)),
        ("36NUL4475336243", (344753.5, 536243.5)),
    ]:
        lat, lon, _ = from_mgrs(ref)
        east, north = to_utm.transform(lon, lat)
        assert east == pytest.approx(expected[0], abs=0.01)
        assert north == pytest.approx(expected[1], abs=0.01)


@pytest.mark.parametrize(
    "ref,size",
    [
        ("36NUL", 100_000),
        ("36NUL43", 10_000),
        ("36NUL4436", 1000),
        ("36NUL447362", 100),
        ("36NUL44753624", 10),
        ("36NUL4475336243", 1),
    ],
)
def test_precision_from_digit_count(ref, size):
    assert from_mgrs(ref)[2] == size


@pytest.mark.parametrize("lat", [-1e-8, -4.8e-8, -9.9e-12, -0.0, 0.0])
@pytest.mark.parametrize("digits", range(6))
def test_points_a_hair_south_of_the_equator_read_back(lat, digits):
    # GeoTrans alone names squares here that it cannot read back (36MUF...).
    ref = to_mgrs(lat, 31.6, digits)
    assert metres(lat, 31.6, *from_mgrs(ref)[:2]) <= 10 ** (5 - digits)


def test_polar_ups_references():
    ref = to_mgrs(89.5, 10.0)
    assert ref[0] in "YZ"
    lat, lon, _ = from_mgrs(ref)
    assert metres(89.5, 10.0, lat, lon) < 2
    assert to_mgrs(-89.5, 10.0)[0] in "AB"


def test_normalise():
    assert normalise_mgrs("4q fj 1234 5678") == ("04QFJ12345678", 4)


@pytest.mark.parametrize(
    "ref", ["36NUL443", "36NIL4436", "36XUL4436", "61NUL", "0NUL", "hello", "36NUL" + "1" * 12, ""]
)
def test_bad_mgrs(ref):
    with pytest.raises(CoordinateError) as info:
        from_mgrs(ref)
    assert (info.value.field, info.value.code) == ("mgrs", "invalid_mgrs")


@pytest.mark.parametrize(
    "lat,lon,field,code",
    [
        (91, 0, "lat", "lat_out_of_range"),
        (-90.01, 0, "lat", "lat_out_of_range"),
        (0, 180.5, "lon", "lon_out_of_range"),
        (math.nan, 0, "lat", "lat_out_of_range"),
        (0, math.inf, "lon", "lon_out_of_range"),
        ("4", 0, "lat", "not_a_number"),
    ],
)
def test_to_mgrs_range_checks(lat, lon, field, code):
    with pytest.raises(CoordinateError) as info:
        to_mgrs(lat, lon)
    assert (info.value.field, info.value.code) == (field, code)


def test_to_mgrs_precision_checked():
    with pytest.raises(CoordinateError):
        to_mgrs(4.85, 31.6, 6)


@pytest.mark.parametrize(
    "text,lat,lon,source",
    [
        ("4.85, 31.6", 4.85, 31.6, "latlon"),
        ("4.85 31.6", 4.85, 31.6, "latlon"),
        ("-4.85,-31.6", -4.85, -31.6, "latlon"),
        ("4.85N 31.6E", 4.85, 31.6, "latlon"),
        ("4.85 s, 31.6 w", -4.85, -31.6, "latlon"),
        ("31.6E 4.85N", 4.85, 31.6, "latlon"),
        ("4.85°N 31.6°E", 4.85, 31.6, "latlon"),
    ],
)
def test_parse_lat_lon(text, lat, lon, source):
    pos = parse_position(text)
    assert (pos.lat, pos.lon, pos.source, pos.precision_m) == (lat, lon, source, None)
    assert pos.mgrs == to_mgrs(lat, lon)


@pytest.mark.parametrize("text", ["36NUL4436", "36N UL 44 36", " 36nul 4436 "])
def test_parse_mgrs_with_or_without_spaces(text):
    pos = parse_position(text)
    assert pos.source == "mgrs" and pos.mgrs == "36NUL4436" and pos.precision_m == 1000
    assert metres(pos.lat, pos.lon, 4.85, 31.6) < 1000


@pytest.mark.parametrize(
    "text,field",
    [
        ("", "position"),
        ("hello", "position"),
        ("4.85N 31.6N", "position"),
        ("-4.85N 31.6E", "position"),
        ("91, 31.6", "lat"),
        ("4.85, 181", "lon"),
        ("36NUL443", "mgrs"),
        (None, "position"),
        ("1, 2, 3", "position"),
    ],
)
def test_parse_position_errors(text, field):
    with pytest.raises(CoordinateError) as info:
        parse_position(text)
    assert info.value.field == field
    assert info.value.message


@pytest.mark.parametrize(
    "p,d",
    [(None, 5), (0.3, 5), (1, 5), (7, 4), (10, 4), (50, 3), (100, 3), (1000, 2), (100_000, 0), (10**7, 0)],
)
def test_digits_for_precision(p, d):
    assert digits_for_precision(p) == d
