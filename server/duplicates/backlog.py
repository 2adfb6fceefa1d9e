"""Keeping duplicate proposals current with the change feed, outside the push that stored the reports.

Proposals are derived data: a pure function of the reports' current state. Computing them inside a
push would make every tablet wait for a spatial search that has nothing to do with keeping its
reports, so a push only appends to the feed and this module catches up afterwards: the feed
sequence up to which every stored version has been through ``propose_for_reports`` is kept in
``meta`` (``WATERMARK_KEY``), advanced in the same transaction as the proposals it covers, under
the feed's write lock. So catching up is idempotent, safe from any number of threads or server
processes at once, and survives a crash (the next catch-up redoes the unfinished chunk).

Two things call it:

* ``ProposalWorker``, a thread the app starts, woken by each push and run once the pushes have
  paused (``quiet_s``) or at the latest ``max_delay_s`` after the first waiting one;
* ``ensure_current`` before anyone reads proposals (API and dashboard), so a reader never sees a
  list that is behind the reports already stored.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import Request
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import feed
from ..db.engine import WRITE
from ..db.tables import changes, meta
from .service import propose_for_reports

log = logging.getLogger(__name__)

WATERMARK_KEY = "duplicates.proposed_through_seq"
CHUNK = 1000  # versions per transaction: bounded lock time, and a crash redoes at most this much


def watermark(conn: Connection) -> int:
    """The feed sequence up to which every stored version has had its proposals computed."""
    value = conn.execute(select(meta.c.value).where(meta.c.key == WATERMARK_KEY)).scalar_one_or_none()
    return int(value["seq"]) if value else 0


def _set_watermark(conn: Connection, seq: int) -> None:
    # An object, not a bare number: SQLite's JSON column has numeric affinity and would store a
    # bare number as an integer, which is then no JSON text to read back.
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(meta).values(key=WATERMARK_KEY, value={"seq": seq})
    conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": stmt.excluded.value}))


def behind(conn: Connection) -> bool:
    """Whether a stored version still awaits its proposals."""
    first = conn.execute(select(changes.c.seq).where(changes.c.seq > watermark(conn), changes.c.kind == "version")
                         .order_by(changes.c.seq).limit(1)).first()
    return first is not None


def catch_up(conn: Connection, *, max_versions: int | None = None) -> int:
    """Compute the proposals of every report with a version after the watermark, in this transaction.

    Works through the feed ``CHUNK`` versions at a time, stopping after ``max_versions`` (all if
    None); returns how many versions were covered. The caller's transaction must be a write
    transaction: the feed lock taken here makes concurrent catch-ups wait, then find nothing to do.
    """
    feed.take_write_lock(conn)
    done = 0
    while max_versions is None or done < max_versions:
        rows = conn.execute(
            select(changes.c.seq, changes.c.report_id)
            .where(changes.c.seq > watermark(conn), changes.c.kind == "version")
            .order_by(changes.c.seq).limit(CHUNK if max_versions is None else min(CHUNK, max_versions - done))
        ).all()
        if not rows:
            break
        propose_for_reports(conn, list(dict.fromkeys(r.report_id for r in rows)))
        _set_watermark(conn, rows[-1].seq)
        done += len(rows)
    return done


def ensure_current(engine: Engine) -> int:
    """Catch up if anything is waiting (one cheap read when nothing is), a transaction per chunk."""
    with engine.connect() as conn, conn.begin():
        if not behind(conn):
            return 0
    done = 0
    while True:
        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            n = catch_up(conn, max_versions=CHUNK)
        done += n
        if n < CHUNK:
            return done


class ProposalWorker:
    """A daemon thread that catches up after pushes pause, so proposals never slow a push down."""

    def __init__(self, engine: Engine, *, quiet_s: float = 0.5, max_delay_s: float = 30.0) -> None:
        self.engine = engine
        self.quiet_s = quiet_s
        self.max_delay_s = max_delay_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="duplicate-proposals", daemon=True)
        self._thread.start()
        self.poke()  # versions stored while the server was down are caught up at start

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def poke(self) -> None:
        """Something was stored: catch up once things are quiet."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            first = time.monotonic()
            # Wait for a pause in the pushes (each push pokes again), but not forever.
            while not self._stop.is_set() and time.monotonic() - first < self.max_delay_s:
                if not self._wake.wait(self.quiet_s):
                    break
                self._wake.clear()
            if self._stop.is_set():
                return
            try:
                ensure_current(self.engine)
            except Exception:  # noqa: BLE001 - derived data: log, and the next poke or reader retries
                log.exception("catching up duplicate proposals failed; the reports are stored and will be "
                              "proposed on the next attempt")


def proposals_waiting(request: Request) -> None:
    """Tell the app's worker (if it runs) that versions were stored."""
    worker: ProposalWorker | None = getattr(request.app.state, "proposal_worker", None)
    if worker is not None:
        worker.poke()


def current_proposals(request: Request) -> None:
    """Route dependency: catch up before the route opens its read transaction.

    A failure here is logged and the list served as it stands: a bug in the derived data must
    not also hide the proposals already made.
    """
    try:
        ensure_current(request.app.state.engine)
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("catching up duplicate proposals failed; serving the proposals as they stand")
