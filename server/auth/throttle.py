"""Sign-in throttling per (username, client address), with growing delays instead of a lock.

A lock after N failures per username lets anyone keep an account (admin's) out by guessing
wrong on purpose. Here each (username, address) pair has its own count: the first
``free_failures`` cost nothing, then each further failure doubles the wait before the next
attempt *from that address* (1 s, 2 s, 4 s ... up to ``max_delay_s``). The real user signing in
from another address is not slowed at all. A success, or a day without failures, clears the count.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..db.tables import login_throttle
from ..problems import Code, Problem

FORGET_AFTER = timedelta(days=1)


def delay_after(failures: int, *, free_failures: int, max_delay_s: int) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0 while they are free)."""
    if failures < free_failures:
        return 0.0
    return float(min(max_delay_s, 2 ** min(failures - free_failures, 62)))


def _row(conn: Connection, username: str, client: str) -> tuple[int, datetime] | None:
    row = conn.execute(select(login_throttle.c.failures, login_throttle.c.last_failure_at).where(
        login_throttle.c.username == username, login_throttle.c.client == client)).one_or_none()
    if row is None or clock.now() - row.last_failure_at > FORGET_AFTER:
        return None
    return int(row.failures), row.last_failure_at


def check(conn: Connection, *, username: str, client: str, free_failures: int, max_delay_s: int) -> None:
    """Refuse (429, ``Retry-After``) while this pair's wait is not over; the password is not tried."""
    found = _row(conn, username, client)
    if found is None:
        return
    failures, last = found
    wait = delay_after(failures, free_failures=free_failures, max_delay_s=max_delay_s)
    remaining = (last + timedelta(seconds=wait) - clock.now()).total_seconds()
    if remaining > 0:
        raise Problem(Code.RATE_LIMITED, f"too many failed sign-ins from this address; wait {math.ceil(remaining)} s",
                      retry_after=math.ceil(remaining))


def record_failure(conn: Connection, *, username: str, client: str) -> int:
    """Count one more failure for the pair; returns the new count."""
    found = _row(conn, username, client)
    failures = (found[0] if found else 0) + 1
    now = clock.now()
    where = (login_throttle.c.username == username, login_throttle.c.client == client)
    if conn.execute(update(login_throttle).where(*where).values(failures=failures, last_failure_at=now)).rowcount:
        return failures
    try:
        with conn.begin_nested():
            conn.execute(insert(login_throttle).values(username=username, client=client, failures=failures,
                                                       last_failure_at=now))
    except IntegrityError:  # a concurrent failure inserted the row first
        conn.execute(update(login_throttle).where(*where).values(failures=login_throttle.c.failures + 1,
                                                                 last_failure_at=now))
    return failures


def clear(conn: Connection, *, username: str, client: str) -> None:
    conn.execute(delete(login_throttle).where(login_throttle.c.username == username,
                                              login_throttle.c.client == client))
