"""server/db/fast.py writes exactly what SQLAlchemy Core would, and reads id lists of any size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, insert, select

from peacewatch.server.access import Role
from peacewatch.server.db.engine import WRITE
from peacewatch.server.db.fast import in_ids, insert_many
from peacewatch.server.db.tables import meta, report_heads, versions
from peacewatch.server.users.service import create_contingent, create_user


def test_insert_many_round_trips_like_core(engine: Engine) -> None:
    when = datetime(2026, 12, 2, 10, 0, 0, tzinfo=timezone(timedelta(hours=3)))  # not UTC: converted
    rows = [{"version_id": f"{i:064x}", "report_id": f"r{i % 3}", "parents": [f"{i - 1:064x}"] if i else [],
             "body": {"title": "é 漢字", "n": i, "nested": {"x": [1.5, None]}}, "author_user_id": 1,
             "device_id": None, "device_time": when if i % 2 else None, "received_at": when, "seq": i + 1,
             "canonical": None} for i in range(5)]
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        conn.execute(insert(meta).values(key="k", value={"seq": 1}))  # a core write in the same transaction
        create_contingent(conn, code="ALPHA", name="Alpha", country="")
        user_id = create_user(conn, username="u", password="correct horse battery", role=Role.PATROL,
                              contingent="ALPHA")["id"]
        for r in rows:
            r["author_user_id"] = user_id
        insert_many(conn, versions, rows)
        insert_many(conn, report_heads, [{"report_id": "r0", "version_id": rows[0]["version_id"]}])
    with engine.connect() as conn:
        got = {r.version_id: r for r in conn.execute(select(versions))}
        assert set(got) == {r["version_id"] for r in rows}
        for r in rows:
            g = got[r["version_id"]]
            assert g.body == r["body"] and g.parents == r["parents"] and g.seq == r["seq"]
            assert g.received_at == when.astimezone(UTC) and g.received_at.tzinfo is not None
            assert g.device_time == (when if r["device_time"] else None)
        many = [r["version_id"] for r in rows] + [f"{9:064x}"] * 3
        assert set(conn.execute(select(versions.c.version_id).where(
            in_ids(versions.c.version_id, many, conn.dialect.name))).scalars()) == set(got)
        assert list(conn.execute(select(versions.c.version_id).where(
            in_ids(versions.c.version_id, [], conn.dialect.name)))) == []
