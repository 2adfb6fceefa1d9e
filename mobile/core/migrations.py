"""The local schema of the tablet store as an ordered list of recorded migrations.

Each migration runs in its own transaction together with the row that records it in
``_migrations``, so a crash mid-migration leaves the store at the previous step and the next open
simply runs it again. Migrations are only ever appended; a released one is never edited.
(The habit comes from sqlite-utils' migrations plugin.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from peacewatch.mobile.core.dag import refresh_report

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]


def _m001_core(db: sqlite_utils.Database) -> None:
    """Drafts, reports, the version DAG and the outbox state."""
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("drafts").create(
        {
            "report_id": str,
            "kind": str,
            "fields": str,  # JSON of the form's state
            "base_heads": str,  # JSON list: the heads the edit started from ([] for a new report)
            "revision": int,
            "updated_at": str,
        },
        pk="report_id",
        not_null={"kind", "fields", "base_heads", "revision", "updated_at"},
    )
    db.table("reports").create(
        {
            "report_id": str,
            "kind": str,
            "title": str,
            "created_at": str,
            "updated_at": str,
            "review_status": str,
            "hq_updated": int,  # 1 when HQ changed something the user has not looked at yet
        },
        pk="report_id",
        not_null={"kind", "created_at", "updated_at", "hq_updated"},
        defaults={"hq_updated": 0},
    )
    db.table("reports").create_index(["updated_at"], index_name="reports_updated_at")
    # Raw SQL: AUTOINCREMENT gives a strictly increasing local order that is never reused.
    db.execute(
        """
        CREATE TABLE versions (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            version_id TEXT NOT NULL UNIQUE,
            report_id TEXT NOT NULL REFERENCES reports(report_id),
            body TEXT NOT NULL,
            parents TEXT NOT NULL,
            device_id TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'rejected', 'remote')),
            reject_reason TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX versions_report ON versions(report_id)")
    db.execute("CREATE INDEX versions_state ON versions(state, seq)")
    db.execute(
        """
        CREATE TABLE version_parents (
            report_id TEXT NOT NULL,
            version_id TEXT NOT NULL,
            parent_id TEXT NOT NULL,
            PRIMARY KEY (version_id, parent_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX version_parents_parent ON version_parents(report_id, parent_id)")
    db.table("reviews").create(
        {"report_id": str, "status": str, "by": str, "at": str, "note": str, "server_seq": int},
        pk=("report_id", "server_seq"),
    )
    db.table("comments").create(
        {"comment_id": str, "report_id": str, "author": str, "text": str, "at": str, "server_seq": int},
        pk="comment_id",
    )
    db.table("comments").create_index(["report_id"], index_name="comments_report")


def _m002_attachments(db: sqlite_utils.Database) -> None:
    """Encrypted attachment files: where each lives and its wrapped data key."""
    db.table("attachments").create(
        {
            "sha256": str,
            "file_name": str,  # random, so file names on disk reveal nothing about contents
            "wrapped_key": bytes,
            "size": int,
            "media_type": str,
            "name": str,
            "uploaded": int,
            "created_at": str,
        },
        pk="sha256",
        not_null={"file_name", "wrapped_key", "size", "uploaded", "created_at"},
        defaults={"uploaded": 0},
    )


def _m003_reference(db: sqlite_utils.Database) -> None:
    """Place names and sensitive sites pulled from HQ, with a normalised prefix index."""
    db.table("places").create(
        {
            "place_id": str,
            "kind": str,
            "lat": float,
            "lon": float,
            "name_en": str,
            "name_fr": str,
            "name_ar": str,
            "sensitive": int,
            "extra": str,
        },
        pk="place_id",
        not_null={"lat", "lon", "sensitive"},
        defaults={"sensitive": 0},
    )
    # One row per (normalised word-start suffix of a name, place): a prefix search is an index
    # range scan, "jub" finds "Juba" and "Mount Juba", "dé" finds "Deim" and "Dème".
    db.execute(
        """
        CREATE TABLE place_terms (
            term TEXT NOT NULL,
            place_id TEXT NOT NULL REFERENCES places(place_id) ON DELETE CASCADE,
            PRIMARY KEY (term, place_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX place_terms_place ON place_terms(place_id)")


def _m004_report_status(db: sqlite_utils.Database) -> None:
    """Keep each report's list status and head count on its row (maintained by dag.refresh_report).

    Computing them per row from the versions table made the home screen O(all versions) at 50,000
    reports; the list and the counts now read one row per report through ``reports_recent``.
    """
    db.execute("ALTER TABLE reports ADD COLUMN status TEXT NOT NULL DEFAULT 'received'")
    db.execute("ALTER TABLE reports ADD COLUMN heads INTEGER NOT NULL DEFAULT 0")
    db.execute("DROP INDEX IF EXISTS reports_updated_at")
    db.table("reports").create_index(["updated_at", "report_id"], index_name="reports_recent")
    db.execute("DROP INDEX IF EXISTS versions_report")
    db.table("versions").create_index(["report_id", "seq"], index_name="versions_report_seq")
    for (report_id,) in db.execute("SELECT report_id FROM reports").fetchall():
        refresh_report(db.conn, report_id)


def _m006_feed_vocabulary(db: sqlite_utils.Database) -> None:
    """Reviews and comments in the change feed's own words, so pulled changes are stored as they come.

    ``reviews.note`` becomes ``comment``; a comment is identified by its feed ``seq`` (kept in
    ``server_seq`` like a review's; the feed gives comments no other id, older rows were keyed
    ``seq:<n>``) and its ``author`` becomes ``by``. (Numbered 006: the tablet branch's 005 adds
    ``reports.answered_review_seq``; the two are independent.)
    """
    db.execute("ALTER TABLE reviews RENAME COLUMN note TO comment")
    db.execute(
        """
        CREATE TABLE comments_by_seq (
            server_seq INTEGER PRIMARY KEY,
            report_id TEXT NOT NULL,
            by TEXT,
            text TEXT NOT NULL,
            at TEXT
        )
        """
    )
    db.execute(
        "INSERT OR IGNORE INTO comments_by_seq (server_seq, report_id, by, text, at)"
        " SELECT server_seq, report_id, author, text, at FROM comments WHERE server_seq IS NOT NULL"
    )
    db.execute("DROP TABLE comments")
    db.execute("ALTER TABLE comments_by_seq RENAME TO comments")
    db.execute("CREATE INDEX comments_report ON comments(report_id, server_seq)")
def _tiles_001(db: sqlite_utils.Database) -> None:
    """Offline base map tiles (mobile/core/tiles.py)."""
    from peacewatch.mobile.core.tiles import create_schema  # here: tiles imports store, which imports this

    create_schema(db)


def _m005_hq_requests(db: sqlite_utils.Database) -> None:
    """Remember which of HQ's "needs more information" reviews the user answered with an edit.

    The to-do list shows a report while its newest such review is newer (by the server's sequence)
    than the one answered; HQ asking again later puts it back on the list."""
    db.execute("ALTER TABLE reports ADD COLUMN answered_review_seq INTEGER NOT NULL DEFAULT 0")
    db.table("reports").create_index(["status", "updated_at"], index_name="reports_status_recent")


def _m005_alerts(db: sqlite_utils.Database) -> None:
    """Alerts pulled from HQ (latest state of each) and when this tablet's user read them."""
    db.execute(
        "CREATE TABLE alerts (alert_id INTEGER PRIMARY KEY, status TEXT NOT NULL, raised_at TEXT NOT NULL, "
        "data TEXT NOT NULL, read_at TEXT)"
    )


def _m007_tasks(db: sqlite_utils.Database) -> None:
    """Tasks pulled from HQ (latest state of each) and the patrol's events on them until sent."""
    db.execute("CREATE TABLE tasks (task_id INTEGER PRIMARY KEY, status TEXT NOT NULL, data TEXT NOT NULL, "
               "updated_at TEXT NOT NULL)")
    db.execute("CREATE TABLE task_events (event_id TEXT PRIMARY KEY, task_id INTEGER NOT NULL, status TEXT, "
               "note TEXT NOT NULL DEFAULT '', report_id TEXT, device_time TEXT NOT NULL, created_at TEXT NOT NULL, "
               "sent_at TEXT, refused TEXT)")
    db.execute("CREATE INDEX task_events_pending ON task_events (sent_at, refused, created_at)")


MIGRATIONS: list[Migration] = [
    ("001_core", _m001_core),
    ("002_attachments", _m002_attachments),
    ("003_reference", _m003_reference),
    ("004_report_status", _m004_report_status),
    ("005_hq_requests", _m005_hq_requests),
    ("006_feed_vocabulary", _m006_feed_vocabulary),
    ("tiles_001", _tiles_001),
    ("005_alerts", _m005_alerts),
    ("007_tasks", _m007_tasks),
]


def applied(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations already applied, in order."""
    if "_migrations" not in db.table_names():
        return []
    return [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY id")]


def migrate(db: sqlite_utils.Database, migrations: list[Migration] | None = None) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; return what ran."""
    migrations = MIGRATIONS if migrations is None else migrations
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations ("
        "id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
    )
    done = set(applied(db))
    ran: list[str] = []
    for name, step in migrations:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        ran.append(name)
    return ran
