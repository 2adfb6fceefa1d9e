"""Saved filters: a user's named query strings for the reports list.

A saved filter is only the list's query string, validated as the list validates its filters and
stored in a normal form (filter keys only, in a fixed order). It reveals nothing by itself: the
list it opens is read under the access policy of whoever opens it, and only its owner sees,
applies or deletes it (another user's filter is "not found", never "forbidden").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..access import Principal
from ..clock import now
from ..db.tables import saved_filters
from ..problems import Code, Problem, invalid, not_found
from ..reports.filters import filter_query, filters_from_query

__all__ = ["MAX_PER_USER", "NAME_MAX", "QUERY_MAX", "delete_filter", "get_filter", "list_filters", "normal_query",
           "save_filter"]

MAX_PER_USER = 50
NAME_MAX = 100
QUERY_MAX = 4000


def normal_query(query: str) -> str:
    """The query string's filters in normal form, or an ``invalid_input`` problem naming the field."""
    if len(query) > QUERY_MAX:
        raise invalid("query", f"at most {QUERY_MAX} characters")
    query = query.lstrip("?")
    _filters, raw, error = filters_from_query(query)
    if error:
        field = error.split(":", 1)[0]
        raise invalid(f"query.{field}", error.split(":", 1)[1].strip())
    return filter_query({k: v for k, v in raw.items() if v})


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise invalid("name", "give the filter a name")
    if len(name) > NAME_MAX:
        raise invalid("name", f"at most {NAME_MAX} characters")
    if any(ord(c) < 32 for c in name):
        raise invalid("name", "no control characters")
    return name


def _out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "query": row.query, "created_at": row.created_at}


def list_filters(conn: Connection, me: Principal) -> list[dict[str, Any]]:
    """The caller's saved filters, by name."""
    rows = conn.execute(select(saved_filters).where(saved_filters.c.user_id == me.user_id)
                        .order_by(saved_filters.c.name, saved_filters.c.id))
    return [_out(r) for r in rows]


def get_filter(conn: Connection, me: Principal, filter_id: int) -> dict[str, Any]:
    row = conn.execute(select(saved_filters).where(saved_filters.c.id == filter_id,
                                                   saved_filters.c.user_id == me.user_id)).first()
    if row is None:
        raise not_found("saved filter")
    return _out(row)


def save_filter(conn: Connection, me: Principal, *, name: str, query: str) -> tuple[dict[str, Any], bool]:
    """Save the query under the name (replacing the caller's filter of that name); (filter, created)."""
    name = _clean_name(name)
    query = normal_query(query)
    existing = conn.execute(select(saved_filters.c.id).where(saved_filters.c.user_id == me.user_id,
                                                             saved_filters.c.name == name)).scalar()
    if existing is not None:
        conn.execute(update(saved_filters).where(saved_filters.c.id == existing).values(query=query))
        return get_filter(conn, me, existing), False
    count = conn.execute(select(func.count()).select_from(saved_filters)
                         .where(saved_filters.c.user_id == me.user_id)).scalar_one()
    if count >= MAX_PER_USER:
        raise Problem(Code.CONFLICT, f"at most {MAX_PER_USER} saved filters; delete one first", field="name")
    new_id = conn.execute(insert(saved_filters).values(user_id=me.user_id, name=name, query=query,
                                                       created_at=now())).inserted_primary_key[0]
    return get_filter(conn, me, int(new_id)), True


def delete_filter(conn: Connection, me: Principal, filter_id: int) -> dict[str, Any]:
    found = get_filter(conn, me, filter_id)
    conn.execute(delete(saved_filters).where(saved_filters.c.id == filter_id))
    return found
