"""The stored H3 cell of each report: set by the projection, filled by migration 0002, counted in SQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import h3.api.basic_int as h3i
import numpy as np
import pytest
import shapely
import shapely.geometry
import sqlalchemy as sa
from alembic import command

from factories import Mission, report_body, store
from peacewatch.server.auth.service import principal_for
from peacewatch.server.background_loop import BackgroundLoop
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.migrate import alembic_config, current_revision, head_revision
from peacewatch.server.db.tables import reports
from peacewatch.server.hotspots import grid, service
from peacewatch.server.hotspots.analysis import counts_map, hotspot_map
from peacewatch.server.hotspots.grid import STORED_RESOLUTION
from peacewatch.server.reports.filters import ReportFilters


def _cells(mission: Mission) -> dict[str, int | None]:
    with mission.engine.connect() as conn:
        return dict(conn.execute(sa.select(reports.c.id, reports.c.h3_res8)).tuples().all())


def test_projection_stores_the_cell_and_follows_edits(mission: Mission) -> None:
    body = report_body(lat=1.5667, lon=30.25)
    root = store(mission, "patrol_a", body)
    assert _cells(mission)[body["id"]] == h3i.latlng_to_cell(1.5667, 30.25, STORED_RESOLUTION)
    moved = body | {"location": {"lat": 2.01, "lon": 31.02, "precision_m": 10, "source": "gps"}}
    store(mission, "patrol_a", moved, parents=[root])
    assert _cells(mission)[body["id"]] == h3i.latlng_to_cell(2.01, 31.02, STORED_RESOLUTION)
    # A patrol placed at its route's start gets that cell.
    patrol = report_body(kind="patrol", lat=1.7, lon=30.5)
    patrol.pop("location")
    store(mission, "patrol_a", patrol)
    assert _cells(mission)[patrol["id"]] == h3i.latlng_to_cell(1.7, 30.5, STORED_RESOLUTION)


def test_migration_0002_fills_the_cell_of_existing_reports(mission: Mission) -> None:
    engine = mission.engine
    body = report_body(lat=1.2, lon=29.9)
    store(mission, "patrol_a", body)
    # Migrations run with no server up: stop the app's background loops, or a catch-up they
    # start (the alert worker waits for commits to pause) races the migration for SQLite's lock.
    for worker in list(mission.client.app.state._state.values()):
        if isinstance(worker, BackgroundLoop):
            worker.stop()
    with engine.connect() as conn:
        row = conn.execute(sa.select(reports).where(reports.c.id == body["id"])).mappings().one()
    command.downgrade(alembic_config(engine), "0001")
    assert current_revision(engine) == "0001"
    # A report as the previous schema stored it: no cell column at all.
    old = {k: v for k, v in row.items() if k != "h3_res8"} | {"id": str(uuid.uuid4())}
    unlocated = old | {"id": str(uuid.uuid4()), "lat": None, "lon": None}
    table = sa.Table("reports", sa.MetaData(), autoload_with=engine)
    assert "h3_res8" not in table.c
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        conn.execute(sa.insert(table), [old, unlocated])
    command.upgrade(alembic_config(engine), "head")
    assert current_revision(engine) == head_revision()
    cells = _cells(mission)
    assert cells[old["id"]] == cells[body["id"]] == h3i.latlng_to_cell(1.2, 29.9, STORED_RESOLUTION)
    assert cells[unlocated["id"]] is None


@pytest.fixture
def placed(mission: Mission) -> Mission:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(30):
        store(mission, "patrol_a", report_body(lat=1.5667 + (i % 3) * 0.003, lon=30.25 + (i % 4) * 0.003, event_time=t0))
    for i in range(20):
        store(mission, "patrol_b", report_body(lat=1.3 + i * 0.02, lon=30.0 + (i % 7) * 0.03, author="patrol_b",
                                               contingent="BRAVO", event_time=t0))
    return mission


def _bins(fc: dict) -> dict[str, tuple[int, int]]:
    return {f["properties"]["h3"]: (f["properties"]["count"], f["properties"]["bin"]) for f in fc["features"]}


def _map(mission: Mission, filters: ReportFilters | None = None, **params: int) -> dict:
    """The analyst's hotspot GeoJSON, computed afresh (empty cache)."""
    with mission.engine.connect() as conn, conn.begin():
        principal = principal_for(conn, "analyst")
        return service.hotspots(conn, principal=principal, filters=filters or ReportFilters(),
                                params=service.HotspotParams(**params), cache=service.HotspotCache())


def _points(mission: Mission) -> tuple[np.ndarray, np.ndarray]:
    with mission.engine.connect() as conn:
        rows = conn.execute(sa.select(reports.c.lat, reports.c.lon)).all()
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


@pytest.mark.parametrize("resolution", [6, 8, 9])
def test_database_counts_match_the_engine_on_the_points(placed: Mission, resolution: int) -> None:
    # 8: counted in SQL per stored cell; 6: the same, then each stored cell's ancestor; 9: finer
    # than the stored cell, so the points are binned.
    lat, lon = _points(placed)
    if resolution < STORED_RESOLUTION:
        parents = [h3i.cell_to_parent(h3i.latlng_to_cell(a, b, STORED_RESOLUTION), resolution)
                   for a, b in zip(lat.tolist(), lon.tolist(), strict=True)]
        cells, counts = np.unique(np.array(parents, dtype=np.uint64), return_counts=True)
        expected = counts_map(cells, counts, resolution=resolution)
    else:
        expected = hotspot_map(lat, lon, resolution=resolution)
    fc = _map(placed, resolution=resolution)
    assert _bins(fc) == dict(zip(grid.cells_to_str(expected.cells),
                                 zip(expected.counts.tolist(), expected.gi.bin.tolist(), strict=True), strict=True))
    assert fc["metadata"]["k"] == expected.k and fc["metadata"]["reports"] == 50


def test_polygon_area_counts_only_the_points_inside(placed: Mission) -> None:
    area = {"type": "Polygon", "coordinates": [[[30.2, 1.5], [30.3, 1.5], [30.3, 1.62], [30.2, 1.62], [30.2, 1.5]]]}
    lat, lon = _points(placed)
    inside = shapely.intersects_xy(shapely.geometry.shape(area), lon, lat)
    expected = hotspot_map(lat[inside], lon[inside], area=area)
    fc = _map(placed, ReportFilters(area=json.dumps(area)))
    assert _bins(fc) == dict(zip(grid.cells_to_str(expected.cells),
                                 zip(expected.counts.tolist(), expected.gi.bin.tolist(), strict=True), strict=True))
    assert 0 < fc["metadata"]["reports"] == int(inside.sum()) < 50


def test_rows_without_a_stored_cell_are_binned_from_their_position(placed: Mission) -> None:
    before = {res: _map(placed, resolution=res) for res in (7, 8)}
    with placed.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        ids = conn.execute(sa.select(reports.c.id).order_by(reports.c.id).limit(12)).scalars().all()
        conn.execute(sa.update(reports).where(reports.c.id.in_(ids)).values(h3_res8=None))
    for res, fc in before.items():
        assert _map(placed, resolution=res) == fc
