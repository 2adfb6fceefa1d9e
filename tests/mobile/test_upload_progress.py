"""Each attachment's own upload progress, as the sync screen shows it, against the real server."""

from __future__ import annotations

import os

import pytest
from e2e.tablets import Tablet

from factories import build_mission, report_body
from peacewatch.mobile.core.sync_client import SyncProgress

BASE = "http://testserver"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # client-side bookkeeping only
def test_each_file_reports_its_own_progress(tmp_path, client, engine) -> None:
    mission = build_mission(client, engine, enrol_for=("patrol_a",))
    device_id, credential = mission.devices["patrol_a"]
    tablet = Tablet(tmp_path / "tablet", username="patrol_a", device_id=device_id, credential=credential)
    try:
        first = tablet.attach(os.urandom(70_000), "first.jpg")  # random: no two chunks alike
        second = tablet.attach(os.urandom(30_000), "second.jpg")
        body = report_body(author="patrol_a", attachments=[first.as_body(), second.as_body()])
        tablet.file(body)
        seen: list[SyncProgress] = []

        def record(p: SyncProgress) -> None:
            seen.append(SyncProgress(**{k: getattr(p, k) for k in ("state", "bytes_done", "current_file",
                                                                    "current_file_size", "current_file_start")}))

        final = tablet.client(client, BASE, on_progress=record, chunk_size=16_384).run()
        assert final.state == "done"
        per_file: dict[str, int] = {}
        for p in seen:
            if p.state == "uploading" and p.current_file:
                per_file[p.current_file] = max(per_file.get(p.current_file, 0), p.bytes_done - p.current_file_start)
                assert p.bytes_done - p.current_file_start <= p.current_file_size
        assert per_file == {"first.jpg": 70_000, "second.jpg": 30_000}
    finally:
        tablet.close()
