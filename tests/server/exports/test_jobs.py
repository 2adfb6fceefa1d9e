"""Export jobs through the API: prepared in the background with progress, downloaded by their owner
only, the same bytes as the streamed export, audited, and a bad job or format refused by name."""

from __future__ import annotations

import time

from sqlalchemy import select

from factories import Mission, report_body, store
from peacewatch.server.db.tables import audit_log


def _wait(mission: Mission, user: str, job_id: str) -> dict:
    for _ in range(200):  # bounded: at most ~20 s
        job = mission.client.get(f"/api/v1/exports/jobs/{job_id}", headers=mission.headers(user)).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"export job {job_id} did not finish: {job}")


def test_a_job_prepares_the_same_file_as_the_stream_for_its_owner_only(mission: Mission) -> None:
    for i in range(12):
        store(mission, "patrol_a", report_body(title=f"incident {i}"))
    r = mission.client.post("/api/v1/exports/csv/jobs", params={"contingent": "ALPHA"}, headers=mission.headers("analyst"))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["records_total"] == 12 and job["filters"] == {"contingent": "ALPHA"}
    done = _wait(mission, "analyst", job["id"])
    assert done["state"] == "done", done
    assert done["percent"] == 100 and done["filename"].endswith(".csv")
    file = mission.client.get(f"/api/v1/exports/jobs/{job['id']}/file", headers=mission.headers("analyst"))
    assert file.status_code == 200 and file.headers["content-type"].startswith("text/csv")
    streamed = mission.client.get("/api/v1/exports/csv", params={"contingent": "ALPHA"}, headers=mission.headers("analyst"))
    assert file.content == streamed.content
    # Another exporter (even one who could export the same reports) cannot see or fetch it.
    for path in (f"/api/v1/exports/jobs/{job['id']}", f"/api/v1/exports/jobs/{job['id']}/file"):
        assert mission.client.get(path, headers=mission.headers("protection")).status_code == 404
    with mission.engine.connect() as conn:
        targets = conn.execute(select(audit_log.c.target).where(audit_log.c.action == "export")).scalars().all()
    assert targets.count("csv") == 2  # the job and the stream are both on record


def test_bad_jobs_are_refused_by_name(mission: Mission) -> None:
    h = mission.headers("analyst")
    assert mission.client.get("/api/v1/exports/jobs/../../etc", headers=h).status_code == 404
    r = mission.client.get("/api/v1/exports/jobs/" + "0" * 32, headers=h)
    assert r.status_code == 404
    r = mission.client.post("/api/v1/exports/docx/jobs", headers=h)
    assert r.status_code == 422 and "fmt" in r.text
    r = mission.client.post("/api/v1/exports/csv/jobs", params={"severity_min": 9}, headers=h)
    assert r.status_code == 422 and "severity_min" in r.text
    assert mission.client.post("/api/v1/exports/csv/jobs", headers=mission.headers("patrol_a")).status_code == 403
