"""Export jobs: a long export prepared in the background, with progress, downloaded when ready.

A browser or a proxy gives up on a request that streams for minutes (Kobo's exports time out at
large sizes), so an export can instead be started as a job: the file is written by a background
thread through the same ``service.stream`` (the caller's visibility, redaction, pseudonyms and
audit entry), its progress is written beside it, and the finished file is downloaded by its owner.

State lives in the data directory (``exports/<job id>.json`` beside ``<job id>.<extension>``), so
every server process sees every job; the file appears under its final name only when complete
(written to ``.part``, fsynced, renamed). A job whose progress has not moved for
``STALL_AFTER`` (its server stopped) reads as ``interrupted``: start it again. Only the principal
who started a job may see or download it; a job never outlives ``KEEP_FOR``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from peacewatch.server import clock
from peacewatch.server.access import Principal
from peacewatch.server.exports import service
from peacewatch.server.exports.filters import ExportFilters
from peacewatch.server.exports.formats import FORMATS
from peacewatch.server.problems import invalid, not_found
from peacewatch.server.reports.service import visible_reports

log = logging.getLogger("peacewatch.server.exports.jobs")

__all__ = ["KEEP_FOR", "STALL_AFTER", "ExportJob", "file_of", "get", "start"]

STALL_AFTER = timedelta(minutes=2)
KEEP_FOR = timedelta(days=1)
_ID_BYTES = 16


@dataclass
class ExportJob:
    """What a job's owner sees: its state, progress and, when done, its size and file name."""

    id: str
    owner_user_id: int
    format: str
    lang: str
    filters: dict[str, str]
    state: str = "queued"  # queued -> running -> done | failed; interrupted when stalled
    records_done: int = 0
    records_total: int = 0
    bytes: int = 0
    created_at: str = ""
    updated_at: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return min(99, int(100 * self.records_done / self.records_total)) if self.records_total else 0

    @property
    def filename(self) -> str:
        return f"peacewatch-{self.created_at[:16].replace(':', '').replace('-', '')}Z.{FORMATS[self.format].extension}"

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("owner_user_id")
        out.pop("extra")
        return out | {"percent": self.percent, "filename": self.filename if self.state == "done" else None}


def _dir(data_dir: Path) -> Path:
    folder = data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _save(data_dir: Path, job: ExportJob) -> None:
    job.updated_at = clock.now().isoformat()
    path = _dir(data_dir) / f"{job.id}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(tmp, path)


def _load(data_dir: Path, job_id: str) -> ExportJob | None:
    if len(job_id) != _ID_BYTES * 2 or not all(c in "0123456789abcdef" for c in job_id):
        return None
    path = _dir(data_dir) / f"{job_id}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return ExportJob(**raw)


def start(engine: Engine, *, data_dir: Path, principal: Principal, fmt: str, filters: ExportFilters, lang: str,
          places: Sequence[Mapping[str, Any]] = (), hexagons: Sequence[Mapping[str, Any]] = (),
          bom: bool = False, background: Any = None) -> tuple[ExportJob, Callable[[], None]]:
    """Record a queued job; returns it and the function that starts writing it in a thread.

    The route schedules that function to run after its response (a background task), so the
    thread starts only once the request's transaction (with the export's audit entry) committed:
    on SQLite an export started earlier would wait on the request's write lock."""
    if fmt not in FORMATS:
        raise invalid("format", f"format must be one of {', '.join(FORMATS)}")
    service.check_may_export(principal)
    _purge(data_dir)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(
            visible_reports(conn, principal, filters).subquery())).scalar_one()
    now = clock.now().isoformat()
    job = ExportJob(id=secrets.token_hex(_ID_BYTES), owner_user_id=principal.user_id, format=fmt, lang=lang,
                    filters=filters.describe(), records_total=int(total), created_at=now)
    _save(data_dir, job)

    def launch() -> None:
        threading.Thread(target=_run, name=f"export-job-{job.id[:8]}", daemon=True,
                         kwargs={"engine": engine, "data_dir": data_dir, "job": job, "principal": principal,
                                 "filters": filters, "places": places, "hexagons": hexagons, "bom": bom,
                                 "background": background}).start()

    return job, launch


def _run(*, engine: Engine, data_dir: Path, job: ExportJob, principal: Principal, filters: ExportFilters,
         places: Sequence[Mapping[str, Any]], hexagons: Sequence[Mapping[str, Any]], bom: bool,
         background: Any) -> None:
    target = _dir(data_dir) / f"{job.id}.{FORMATS[job.format].extension}"
    partial = target.with_name(target.name + ".part")
    job.state = "running"
    _save(data_dir, job)

    def progress(n: int) -> None:
        job.records_done = n
        _save(data_dir, job)

    try:
        with open(partial, "wb") as out:
            for chunk in service.stream(engine, principal=principal, fmt=job.format, filters=filters,
                                        lang=job.lang, bom=bom, places=places, hexagons=hexagons,
                                        background=background, progress=progress):
                out.write(chunk)
                job.bytes += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
        job.state, job.records_done = "done", job.records_total
    except Exception as exc:  # noqa: BLE001 - a failed job says so to its owner instead of vanishing
        log.exception("export job %s failed", job.id)
        partial.unlink(missing_ok=True)
        job.state, job.error = "failed", type(exc).__name__
    _save(data_dir, job)


def get(data_dir: Path, principal: Principal, job_id: str) -> ExportJob:
    """The caller's own job (anyone else's, or none, is not found)."""
    job = _load(data_dir, job_id)
    if job is None or job.owner_user_id != principal.user_id:
        raise not_found(f"export job {job_id}")
    if job.state in ("queued", "running"):
        updated = datetime.fromisoformat(job.updated_at)
        if clock.now() - updated > STALL_AFTER:
            job.state = "interrupted"
    return job


def file_of(data_dir: Path, principal: Principal, job_id: str) -> tuple[ExportJob, Path]:
    """The finished file of the caller's job; a job not done yet is refused by its state."""
    job = get(data_dir, principal, job_id)
    if job.state != "done":
        raise invalid("job", f"the export is {job.state}, not ready to download")
    return job, _dir(data_dir) / f"{job.id}.{FORMATS[job.format].extension}"


def _purge(data_dir: Path) -> None:
    """Forget jobs (state and file) older than ``KEEP_FOR``: an export is a snapshot, not an archive."""
    cutoff = clock.now() - KEEP_FOR
    for state in _dir(data_dir).glob("*.json"):
        job = _load(data_dir, state.stem)
        if job is not None and datetime.fromisoformat(job.created_at) < cutoff:
            for path in _dir(data_dir).glob(f"{job.id}.*"):
                path.unlink(missing_ok=True)
