"""Tests for peacewatch.mobile.core.store: PIN open, back-off and wipe, PIN change, migrations, pragmas."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlite_utils

from peacewatch.mobile.core import keys, migrations
from peacewatch.mobile.core.attachments import Attachments
from peacewatch.mobile.core.drafts import Drafts
from peacewatch.mobile.core.errors import InvalidInput, LockedOut, NoStore, StoreLocked, StoreWiped, WrongPin
from peacewatch.mobile.core.keys import TEST_KDF, BackoffPolicy
from peacewatch.mobile.core.store import DB_NAME, Store
from tests.mobile.conftest import PIN, raw_bytes
from tests.mobile.helpers import place_change


class Clock:
    """A settable wall clock so back-off is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _seed(store: Store) -> str:
    rid = str(uuid.uuid4())
    Drafts(store).save_draft(rid, "incident", {"title": "QUOKKA-SECRET-TITLE"})
    return rid


def test_right_pin_opens_and_reads(store: Store, store_path: Path) -> None:
    rid = _seed(store)
    store.close()
    with Store.open(store_path, PIN) as again:
        assert Drafts(again).load_draft(rid).fields == {"title": "QUOKKA-SECRET-TITLE"}
        assert again.integrity_check() == "ok"


def test_wrong_pin_reads_nothing(store: Store, store_path: Path) -> None:
    _seed(store)
    store.close()
    with pytest.raises(WrongPin) as info:
        Store.open(store_path, "0000", policy=BackoffPolicy(base_s=0))
    assert info.value.failures == 1
    # Without the key the file is not even recognisable as SQLite, and holds no plaintext.
    plain = sqlite3.connect(store_path / DB_NAME)
    with pytest.raises(sqlite3.DatabaseError):
        plain.execute("SELECT * FROM sqlite_master").fetchall()
    plain.close()
    assert not any(b"QUOKKA" in data for data in raw_bytes(store_path).values())


def test_closed_store_refuses_use(store: Store) -> None:
    store.close()
    with pytest.raises(StoreLocked):
        Drafts(store).list_drafts()


def test_no_store_and_double_create(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NoStore):
        Store.open(tmp_path / "nowhere", PIN)
    with pytest.raises(InvalidInput, match="path"):
        Store.create(store.path, PIN, kdf=TEST_KDF)


def test_backoff_is_exponential_and_survives_restart(store: Store, store_path: Path) -> None:
    store.close()
    clock = Clock()
    policy = BackoffPolicy(base_s=10, cap_s=1000, wipe_after=10)
    with pytest.raises(WrongPin) as first:
        Store.open(store_path, "0000", policy=policy, clock=clock)
    assert first.value.retry_after == 10
    # Even the right PIN is refused (without running the KDF) until the delay has passed.
    clock.now += 9
    with pytest.raises(LockedOut) as locked:
        Store.open(store_path, PIN, policy=policy, clock=clock)
    assert 0 < locked.value.retry_after <= 1
    clock.now += 1
    with pytest.raises(WrongPin) as second:
        Store.open(store_path, "0001", policy=policy, clock=clock)
    assert second.value.retry_after == 20
    # The counter lives in the header file: a "restart" (fresh read) still sees both failures.
    assert keys.read_header(store_path / keys.HEADER_NAME).failures == 2
    clock.now += 19
    with pytest.raises(LockedOut):
        Store.open(store_path, PIN, policy=policy, clock=clock)
    clock.now += 1
    Store.open(store_path, PIN, policy=policy, clock=clock).close()
    assert keys.read_header(store_path / keys.HEADER_NAME).failures == 0


def test_store_is_wiped_after_too_many_failures(store: Store, store_path: Path) -> None:
    Attachments(store).put_bytes(b"evidence", media_type="image/jpeg", name="a.jpg")
    store.close()
    policy = BackoffPolicy(base_s=0, wipe_after=3)
    for _ in range(2):
        with pytest.raises(WrongPin):
            Store.open(store_path, "9999", policy=policy)
    with pytest.raises(StoreWiped):
        Store.open(store_path, "9999", policy=policy)
    assert not Store.exists(store_path)
    assert raw_bytes(store_path) == {}
    with pytest.raises(NoStore):
        Store.open(store_path, PIN, policy=policy)


def test_change_pin_rekeys_and_rewraps(store: Store, store_path: Path) -> None:
    rid = _seed(store)
    ref = Attachments(store).put_bytes(b"photo bytes" * 1000, media_type="image/jpeg", name="p.jpg")
    old_salt = keys.read_header(store_path / keys.HEADER_NAME).salt
    with pytest.raises(InvalidInput, match="old_pin"):
        store.change_pin("9999", "24680")
    store.change_pin(PIN, "24680")
    # Still usable in this session, under the new keys.
    assert Attachments(store).read_bytes(ref.sha256) == b"photo bytes" * 1000
    store.close()
    assert keys.read_header(store_path / keys.HEADER_NAME).salt != old_salt
    assert not (store_path / keys.PENDING_HEADER_NAME).exists()
    with pytest.raises(WrongPin):
        Store.open(store_path, PIN, policy=BackoffPolicy(base_s=0))
    with Store.open(store_path, "24680", policy=BackoffPolicy(base_s=0)) as again:
        assert Drafts(again).load_draft(rid).fields["title"] == "QUOKKA-SECRET-TITLE"
        assert Attachments(again).read_bytes(ref.sha256) == b"photo bytes" * 1000


def test_change_pin_interrupted_after_rekey_completes_on_next_open(
    store: Store, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = Attachments(store).put_bytes(b"voice note", media_type="audio/ogg", name="v.ogg")

    def die(self: Store) -> None:
        raise KeyboardInterrupt("power cut before the header swap")

    monkeypatch.setattr(Store, "_promote_pending_header", die)
    with pytest.raises(KeyboardInterrupt):
        store.change_pin(PIN, "13579")
    store.close()
    monkeypatch.undo()
    assert (store_path / keys.PENDING_HEADER_NAME).exists()
    with pytest.raises(WrongPin):
        Store.open(store_path, PIN, policy=BackoffPolicy(base_s=0))
    with Store.open(store_path, "13579", policy=BackoffPolicy(base_s=0)) as again:
        assert Attachments(again).read_bytes(ref.sha256) == b"voice note"
    assert not (store_path / keys.PENDING_HEADER_NAME).exists()
    Store.open(store_path, "13579", policy=BackoffPolicy(base_s=0)).close()


def test_stale_pending_header_is_dropped(store: Store, store_path: Path) -> None:
    # A PIN change that died before its rekey leaves only a pending header behind.
    store.close()
    keys.write_header(store_path / keys.PENDING_HEADER_NAME, keys.Header.new(TEST_KDF))
    Store.open(store_path, PIN).close()
    assert not (store_path / keys.PENDING_HEADER_NAME).exists()


def test_pragmas(store: Store) -> None:
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA synchronous")[0][0] == 2  # FULL
    assert store.query("PRAGMA foreign_keys")[0][0] == 1


def test_migrations_are_recorded_in_order_and_run_once(store: Store, store_path: Path) -> None:
    names = [name for name, _ in migrations.MIGRATIONS]
    assert migrations.applied(store.db) == names
    store.close()
    with Store.open(store_path, PIN) as again:
        assert migrations.migrate(again.db) == []
        assert migrations.applied(again.db) == names


def test_failed_migration_rolls_back_and_is_not_recorded(tmp_path: Path) -> None:
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "m.db", isolation_level=None))

    def good(d: sqlite_utils.Database) -> None:
        d["a"].create({"x": int})

    def bad(d: sqlite_utils.Database) -> None:
        d["b"].create({"x": int})
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrations.migrate(db, [("1", good), ("2", bad)])
    assert migrations.applied(db) == ["1"]
    assert "b" not in db.table_names()
    assert migrations.migrate(db, [("1", good), ("2", lambda d: d["b"].create({"x": int}))]) == ["2"]
    assert migrations.applied(db) == ["1", "2"]


def test_feed_vocabulary_migration_keeps_reviews_and_comments(tmp_path: Path) -> None:
    """A store made before 005 keeps its pulled reviews and comments, renamed to the feed's words."""
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "old.db", isolation_level=None))
    before = [m for m in migrations.MIGRATIONS if m[0] < "006"]
    migrations.migrate(db, before)
    rid = str(uuid.uuid4())
    db.execute("INSERT INTO reviews (report_id, status, by, at, note, server_seq) VALUES (?, 'verified', 'hq', 't', 'ok', 7)",
               [rid])
    db.execute("INSERT INTO comments (comment_id, report_id, author, text, at, server_seq)"
               " VALUES ('seq:8', ?, 'hq', 'which market?', 't', 8)", [rid])
    assert "006_feed_vocabulary" in migrations.migrate(db)
    assert db.execute("SELECT report_id, status, by, comment, server_seq FROM reviews").fetchall() == [
        (rid, "verified", "hq", "ok", 7)]
    assert db.execute("SELECT server_seq, report_id, by, text FROM comments").fetchall() == [
        (8, rid, "hq", "which market?")]


def test_no_plaintext_at_rest(store: Store, store_path: Path) -> None:
    """Distinctive strings in a draft, a finalised report, an attachment and reference data never hit disk in clear."""
    from peacewatch.mobile.core.outbox import Outbox
    from peacewatch.mobile.core.reports import Reports
    from tests.mobile.helpers import incident_fields, new_id

    secrets_ = {
        "draft": "ZQX-DRAFT-MARKER-7731",
        "report": "ZQX-REPORT-MARKER-9146",
        "attachment": "ZQX-ATTACHMENT-MARKER-2208",
        "place": "Zqxplace-Marker-5150",
        "arabic": "زقكس-علامة",
    }
    Drafts(store).save_draft(new_id(), "hr_concern", {"description": secrets_["draft"] * 50})
    rid = new_id()
    Drafts(store).save_draft(
        rid, "incident", incident_fields(description=secrets_["report"], title=secrets_["arabic"])
    )
    assert Reports(store).finalise(rid).ok
    Attachments(store).put_bytes(
        secrets_["attachment"].encode() * 5000, media_type="text/plain", name="n.txt"
    )
    Outbox(store).apply_pull_page(
        [place_change("p", lat=1, lon=2, names={"en": secrets_["place"]})], "c"
    )

    def leaks() -> list[str]:
        found = []
        for name, data in raw_bytes(store_path).items():
            for label, marker in secrets_.items():
                for form in (marker.encode(), marker.encode("utf-16-le"), marker.lower().encode()):
                    if form in data:
                        found.append(f"{label} in {name}")
        return found

    # While open (WAL and shm present) and after close (checkpointed into the main file).
    assert any(name.endswith("-wal") for name in raw_bytes(store_path))
    assert leaks() == []
    store.close()
    assert leaks() == []
    # And the markers really are in the store: decryption with the PIN finds them.
    with Store.open(store_path, PIN) as again:
        assert Drafts(again).list_drafts()[0].fields["description"].startswith(secrets_["draft"])


def test_change_pin_failing_midway_changes_nothing(
    store: Store, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import peacewatch.mobile.core.attachments as attachments_module

    files = Attachments(store)
    refs = [
        files.put_bytes(f"photo {i}".encode(), media_type="image/jpeg", name=f"{i}.jpg") for i in range(3)
    ]
    real = attachments_module.rewrap_keys

    def half_then_fail(conn: object, old: bytes, new: bytes) -> int:
        real(conn, old, new)  # every key re-wrapped under the new PIN ...
        raise OSError("flash write error")  # ... then the change fails before the rekey

    monkeypatch.setattr(attachments_module, "rewrap_keys", half_then_fail)
    with pytest.raises(OSError):
        store.change_pin(PIN, "97531")
    monkeypatch.undo()
    # Rolled back: the session and a fresh open with the old PIN read every attachment.
    assert [files.read_bytes(r.sha256) for r in refs] == [f"photo {i}".encode() for i in range(3)]
    store.close()
    assert not (store_path / keys.PENDING_HEADER_NAME).exists()
    with Store.open(store_path, PIN) as again:
        assert Attachments(again).read_bytes(refs[2].sha256) == b"photo 2"
