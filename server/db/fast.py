"""The push's hot statements at driver speed: multi-row inserts and id-list lookups.

Measured on a batch of 100 versions, SQLAlchemy Core's ``executemany`` spends more time binding
parameters (type processors, per-row dicts) than the driver spends inserting, and an ``IN`` over
a Python list is re-rendered for every batch size. ``insert_many`` hands the driver plain tuples
(converted the way the column types would: JSON text, UTC datetimes as SQLAlchemy stores them on
SQLite), inside the caller's SQLAlchemy transaction; ``in_ids`` is one bound parameter however
many ids (``json_each`` on SQLite, ``= ANY`` on PostgreSQL), so its statement compiles once.
Used only where the profile shows it; everything else stays SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, ColumnElement, Connection, Table, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from .types import UTCDateTime


def _json_text(value: Any) -> str | None:
    # The same text the engine's json_serializer writes (db/engine.py).
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


@lru_cache(maxsize=256)
def _sqlite_time(value: datetime | None) -> str | None:
    # UTCDateTime stores naive UTC on SQLite, in SQLAlchemy's SQLite DATETIME text format. Cached:
    # a batch's rows share their time of receipt, and strftime showed in the profile.
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``INSERT INTO table`` every row (all with the same keys) with one driver ``executemany``."""
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    names = list(rows[0])
    marks: list[str] = []
    converters: list[Callable[[Any], Any] | None] = []
    for name in names:
        col_type = table.c[name].type
        if isinstance(col_type, JSON):
            marks.append("?" if sqlite else "%s::jsonb")
            converters.append(_json_text)
        elif isinstance(col_type, UTCDateTime):
            marks.append("?" if sqlite else "%s")
            converters.append(_sqlite_time if sqlite else _utc)
        else:
            marks.append("?" if sqlite else "%s")
            converters.append(None)
    sql = (f'INSERT INTO {table.name} ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
           f'VALUES ({", ".join(marks)})')
    data = [tuple(row[n] if f is None else f(row[n]) for n, f in zip(names, converters, strict=True))
            for row in rows]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, data)
    finally:
        cursor.close()


def in_ids(column: ColumnElement[Any], ids: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """``column IN ids`` as one bound parameter, so the statement compiles once for any count."""
    return _in_param(column, dialect, bindparam("ids", ids_value(ids, dialect), type_=_IDS_TYPE[dialect], unique=True))


def in_bound_ids(column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """``in_ids`` with the ids left to bind at execution as ``{"ids": ids_value(ids, dialect)}``: for
    statements built once (hot paths), whose building would otherwise cost more than running them."""
    return _in_param(column, dialect, bindparam("ids", type_=_IDS_TYPE[dialect]))


def ids_value(ids: Sequence[str], dialect: str) -> Any:
    return list(ids) if dialect == "postgresql" else orjson.dumps(list(ids)).decode()


_IDS_TYPE: dict[str, Any] = {"postgresql": ARRAY(String), "sqlite": String()}


def _in_param(column: ColumnElement[Any], dialect: str, param: Any) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column == func.any(param)
    return column.in_(select(literal_column("value")).select_from(func.json_each(param)))
