"""Feed consumers: state derived from the change feed, caught up after the commit that fed it.

The push stores; it does not compute. Everything a domain derives from stored changes (the
``reports`` projection, alerts, duplicate proposals) is a ``FeedConsumer``: a name,
the feed kinds it reacts to, and a ``write`` (plus an optional ``compute``) applied to the
changes after its own cursor. The cursor is kept in ``meta`` under the consumer's name and
advanced in the same transaction as the derived rows it covers, so catching up is idempotent,
safe from any number of threads or server processes at once, and survives a crash (the next
catch-up redoes the unfinished chunk). Nothing here ever holds the feed's write lock while it
computes: ``compute`` runs in a read transaction, and only ``write`` runs in a (short) write
transaction, which by default commits without waiting for the disk (derived rows can always be
rebuilt from the feed, and their cursor is lost with them). A consumer whose ``write`` appends to
the feed itself (alerts log an ``alert`` change) brings a durable ``transaction`` of its own: a
feed entry others may have pulled must never be lost.

When a consumer catches up (``timing``):

* ``"after_commit"``: right after every request that appended to the feed commits, before it
  answers (``run_after_commit``); and first thing in any transaction that must not read it
  behind (``catch_up_in``), e.g. the push's write checks.
* ``"soon"``: by a ``feed_worker`` loop started with the app, woken by every commit that
  appended, once commits pause for ``alerts_quiet_s`` (at most ``alerts_max_delay_s``): seconds
  matter (alerts), but the request does not wait for it, and a stream of pushes is caught up in
  a few chunks rather than one per push.
* ``"after_pause"``: by another ``feed_worker`` loop, once pushes pause.

Readers: a consumer with ``readers_wait`` is caught up before every API request opens its
transaction (``server/deps.py``), so no answer is staler than the last acknowledged push; others
are caught up by their own readers with ``ensure_current``.

Adding one: define ``CONSUMER = FeedConsumer(...)`` in the domain (``write`` takes
the write connection, the changes of its kinds in sequence order and what ``compute`` returned),
add it to ``CONSUMERS`` in ``server/subscriptions.py``, and call ``ensure_current(engine,
CONSUMER)`` wherever the derived state is read. The changes handed over are rows of ``changes``
(``seq, kind, report_id, ref, contingent_id, confidentiality, author_user_id, device_id,
payload, created_at``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Row,
    Select,
    bindparam,
    cast,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from . import feed
from .background_loop import BackgroundLoop
from .db.engine import WRITE
from .db.tables import changes, meta

log = logging.getLogger(__name__)

Compute = Callable[[Connection, Sequence[Row[Any]]], Any]
Write = Callable[[Connection, Sequence[Row[Any]], Any], None]
Transaction = Callable[[Engine], AbstractContextManager[Connection]]
Timing = Literal["after_commit", "soon", "after_pause"]


@dataclass(frozen=True)
class FeedConsumer:
    """Derived state that follows the feed: see the module docstring."""

    name: str  # also the key of its cursor in ``meta``
    kinds: frozenset[str]
    write: Write
    lock_key: int  # PostgreSQL advisory lock serialising this consumer's catch-ups
    compute: Compute | None = None  # the heavy part, run in a read transaction without any lock
    timing: Timing = "after_commit"
    readers_wait: bool = False
    # Consumers whose derived state this one reads (e.g. proposals read the projection): they are
    # caught up first, and this one never moves past their cursors.
    needs: tuple[FeedConsumer, ...] = ()
    chunk: int = 1000  # changes per transaction: bounded lock time; a crash redoes at most this
    # The write transaction; by default ``derived_transaction`` (not durable, see the docstring).
    transaction: Transaction | None = None


# The statements every catch-up runs, built once with their values bound at execution: a
# catch-up after a one-version push spent most of its time building them.
_CURSOR = select(meta.c.value).where(meta.c.key == bindparam("key"))


def _upsert_cursor(insert: Any) -> Any:
    stmt = insert(meta).values(key=bindparam("key"), value=bindparam("value", type_=meta.c.value.type))
    return stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": stmt.excluded.value})


_SET_CURSOR = {"postgresql": _upsert_cursor(pg_insert), "sqlite": _upsert_cursor(sqlite_insert)}


@lru_cache(maxsize=64)
def _pending_query(kinds: frozenset[str], chunk: int) -> Select[Any]:
    return (select(changes).where(changes.c.seq > bindparam("since"), changes.c.seq <= bindparam("upto"),
                                  changes.c.kind.in_(sorted(kinds)))
            .order_by(changes.c.seq).limit(chunk))


def cursor(conn: Connection, consumer: FeedConsumer) -> int:
    """The feed sequence up to which ``consumer`` has caught up."""
    value = conn.execute(_CURSOR, {"key": consumer.name}).scalar_one_or_none()
    return int(value["seq"]) if value else 0


def _set_cursor(conn: Connection, consumer: FeedConsumer, seq: int) -> None:
    # An object, not a bare number: SQLite's JSON column has numeric affinity and would store a
    # bare number as an integer, which is then no JSON text to read back.
    conn.execute(_SET_CURSOR[conn.dialect.name], {"key": consumer.name, "value": {"seq": seq}})


def behind(conn: Connection, consumer: FeedConsumer, *, at: int | None = None, upto: int | None = None) -> bool:
    """Whether the feed holds a change of the consumer's kinds after its cursor (``at``, read if not given).

    Changes of other kinds do not count: a consumer of versions is current after an ``alert``
    change, and its cursor moves past such changes with its next real catch-up.
    """
    at = cursor(conn, consumer) if at is None else at
    upto = feed.last_seq(conn) if upto is None else upto
    return at < upto and conn.execute(
        select(changes.c.seq).where(changes.c.seq > at, changes.c.seq <= upto,
                                    changes.c.kind.in_(sorted(consumer.kinds))).limit(1)).first() is not None


def _lock(conn: Connection, consumer: FeedConsumer) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": consumer.lock_key})


def _pending(conn: Connection, consumer: FeedConsumer, since: int) -> tuple[list[Row[Any]], int]:
    """The consumer's next chunk after ``since`` and the sequence its cursor moves to once applied."""
    # Everything at or below the feed's last sequence is committed (the feed lock makes commits
    # arrive in sequence order), so moving the cursor there can never skip a later commit.
    upto = min([feed.last_seq(conn), *(cursor(conn, n) for n in consumer.needs)])
    rows = list(conn.execute(_pending_query(consumer.kinds, consumer.chunk), {"since": since, "upto": upto}).all())
    return rows, (rows[-1].seq if len(rows) == consumer.chunk else upto)


def catch_up_in(conn: Connection, consumer: FeedConsumer) -> int:
    """Catch ``consumer`` up inside the caller's write transaction; how many changes it applied.

    For transactions that must read the derived state current (a push's write checks): one
    cheap read when nothing is waiting.
    """
    for needed in consumer.needs:
        catch_up_in(conn, needed)
    done = 0
    # Only changes of its kinds count (an alert appended after the last version is nothing to
    # do), asked in one statement: inside a push this runs under the feed's write lock.
    while conn.execute(_waiting_query((consumer,))).scalar():
        n = catch_up_chunk(conn, consumer)
        if n == 0:
            break
        done += n
    return done


FAST_TRY_S = 5.0
SQLITE_BUSY_MS = 30000  # the engine's busy_timeout (db.engine), restored after a fast try


@contextmanager
def durable_transaction(engine: Engine) -> Iterator[Connection]:
    """A durable write transaction for a consumer; on SQLite it asks for the write lock every millisecond.

    Durable, unlike ``derived_transaction``: for consumers that append to the feed themselves
    (alerts log ``alert`` changes, tasks ``task`` changes), which tablets may pull at once and
    must never lose. SQLite's own busy handler sleeps ever longer between tries (up to 100 ms),
    so under a steady stream of pushes (50 tablets) a waiting writer can lose the lock for seconds; an alert is worth
    more than that. After ``FAST_TRY_S`` it falls back to the engine's ordinary busy timeout.
    """
    with engine.connect().execution_options(**WRITE) as conn:
        if conn.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            raw.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
            deadline = time.monotonic() + FAST_TRY_S
            try:
                while True:
                    try:
                        trans = conn.begin()
                        break
                    except OperationalError as exc:
                        if "locked" not in str(exc) or time.monotonic() > deadline:
                            raise
                        conn.rollback()
                        time.sleep(0.001)
            except OperationalError:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")  # type: ignore[union-attr]
                trans = conn.begin()
            finally:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")  # type: ignore[union-attr]
        else:
            trans = conn.begin()
        try:
            with trans:
                yield conn
        finally:
            feed.take_appended(conn)  # the mark lives on the pooled connection: never leave it behind


@contextmanager
def derived_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction for derived rows: it commits without waiting for the disk.

    Derived rows and their cursor are lost together if the machine loses power before the next
    durable commit, and rebuilt from the feed by the next catch-up; the feed itself stays durable.
    """
    with engine.connect().execution_options(**WRITE) as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Outside any transaction (the driver runs in autocommit mode; our BEGIN comes next).
            conn.connection.driver_connection.execute("PRAGMA synchronous=NORMAL")
        try:
            with conn.begin():
                if not sqlite:
                    conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
                yield conn
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA synchronous=FULL")


def catch_up(engine: Engine, consumer: FeedConsumer, *, max_chunks: int | None = None) -> int:
    """Catch ``consumer`` up, a transaction per chunk; how many changes it applied.

    With a ``compute``, each chunk is computed in a read transaction first and written in a short
    write transaction only if nobody else moved the cursor meanwhile (else it is read again).
    """
    ensure_current(engine, *consumer.needs)
    transaction = consumer.transaction or derived_transaction
    done = chunks = 0
    while max_chunks is None or chunks < max_chunks:
        chunks += 1
        if consumer.compute is None:
            with transaction(engine) as conn:
                n = catch_up_chunk(conn, consumer)
        else:
            with engine.connect() as conn, conn.begin():
                since = cursor(conn, consumer)
                rows, end = _pending(conn, consumer, since)
                if end <= since:
                    return done
                computed = consumer.compute(conn, rows)
            with transaction(engine) as conn:
                _lock(conn, consumer)
                if cursor(conn, consumer) != since:
                    continue  # another catch-up wrote this chunk first: read again
                consumer.write(conn, rows, computed)
                _set_cursor(conn, consumer, end)
                n = max(len(rows), 1)
        if n == 0:
            return done
        done += n
        if n < consumer.chunk:
            # A short chunk reached the feed's end as it was: no second transaction just to find
            # nothing (anything committed since is caught up by the commit that stored it).
            return done
    return done


def catch_up_chunk(conn: Connection, consumer: FeedConsumer) -> int:
    """Apply one chunk in the caller's write transaction (0 when current)."""
    _lock(conn, consumer)
    since = cursor(conn, consumer)
    rows, end = _pending(conn, consumer, since)
    if end <= since:
        return 0
    consumer.write(conn, rows, consumer.compute(conn, rows) if consumer.compute else None)
    _set_cursor(conn, consumer, end)
    return max(len(rows), 1)


def ensure_current(engine: Engine, *consumers: FeedConsumer) -> None:
    """Catch up whichever of ``consumers`` has a change of its kinds waiting (cheap reads when none has).

    A consumer behind only by changes of other kinds is left alone: its cursor moves past them
    with its next real catch-up, and no write transaction is taken for nothing.
    """
    if not consumers:
        return
    with engine.connect() as conn:
        flags = conn.execute(_waiting_query(consumers)).one()
    for consumer, waiting in zip(consumers, flags, strict=True):
        if waiting:
            catch_up(engine, consumer)


@lru_cache(maxsize=64)
def _waiting_query(consumers: tuple[FeedConsumer, ...]) -> Select[Any]:
    """One statement (one round trip, compiled once): for each consumer, whether a change of its
    kinds lies after its cursor. Every request asks it before opening its transaction."""
    def waiting(c: FeedConsumer) -> Any:
        at = select(cast(meta.c.value["seq"].as_string(), BigInteger)).where(meta.c.key == c.name).scalar_subquery()
        return exists(select(changes.c.seq).where(changes.c.seq > func.coalesce(at, 0),
                                                  changes.c.kind.in_(sorted(c.kinds))))
    return select(*(waiting(c).label(f"waiting_{i}") for i, c in enumerate(consumers)))


def feed_worker(engine: Engine, consumers: Sequence[FeedConsumer], *, name: str, quiet_s: float = 0.0,
                max_delay_s: float = 30.0) -> BackgroundLoop:
    """A background loop catching ``consumers`` up when poked by a commit that appended.

    With ``quiet_s`` (the ``after_pause`` consumers) it waits for ``quiet_s`` without a poke, or at
    most ``max_delay_s`` after the first one. Started with the app, it first catches up what was
    stored while the server was down.
    """
    return BackgroundLoop(name, [(f"catching up feed consumer {c.name}", partial(ensure_current, engine, c))
                                 for c in consumers],
                          quiet_s=quiet_s, max_delay_s=max_delay_s, run_at_start=True)


def run_after_commit(engine: Engine, consumers: Sequence[FeedConsumer],
                     workers: Sequence[BackgroundLoop | None]) -> None:
    """After a commit that appended: catch ``after_commit`` consumers up, wake the feed workers."""
    for consumer in consumers:
        if consumer.timing == "after_commit":
            try:
                catch_up(engine, consumer)
            except Exception:  # noqa: BLE001 - the commit stands; every reader catches up first and retries
                log.exception("feed consumer %s failed to catch up after a commit", consumer.name)
    for worker in workers:
        if worker is not None:
            worker.poke()
