"""The audit log is hash-chained: altering or removing one row is found, by the API and the CLI."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from peacewatch.server.cli import main
from peacewatch.server.db.tables import audit_log


def test_chain_verifies_and_tampering_is_found(client, mission, engine, db_url, capsys) -> None:
    admin = mission.headers("admin")
    ok = client.get("/api/v1/audit/verify", headers=admin).json()
    assert ok["ok"] is True and ok["entries"] > 10
    assert main(["admin", "verify-audit", "--database-url", db_url]) == 0
    assert "intact" in capsys.readouterr().out

    with engine.begin() as conn:
        victim = conn.execute(select(audit_log.c.id).where(audit_log.c.action == "login").limit(1)).scalar_one()
        conn.execute(update(audit_log).where(audit_log.c.id == victim).values(actor="somebody-else"))
    bad = client.get("/api/v1/audit/verify", headers=admin).json()
    assert bad["ok"] is False and bad["first_broken_id"] == victim
    assert main(["admin", "verify-audit", "--database-url", db_url]) == 1
    assert f"BROKEN at entry {victim}" in capsys.readouterr().out


def test_removed_row_is_found(client, mission, engine) -> None:
    with engine.begin() as conn:
        ids = list(conn.execute(select(audit_log.c.id).order_by(audit_log.c.id)).scalars())
        conn.execute(delete(audit_log).where(audit_log.c.id == ids[3]))
    bad = client.get("/api/v1/audit/verify", headers=mission.headers("admin")).json()
    assert bad["ok"] is False and bad["first_broken_id"] == ids[4]


def test_audit_filters_and_paging(client, mission) -> None:
    admin = mission.headers("admin")
    page = client.get("/api/v1/audit?limit=3", headers=admin).json()
    assert len(page["entries"]) == 3 and page["more"] is True
    nxt = client.get(f"/api/v1/audit?limit=3&after={page['next']}", headers=admin).json()
    assert nxt["entries"][0]["id"] > page["entries"][-1]["id"]
    created = client.get("/api/v1/audit?action=user_created", headers=admin).json()["entries"]
    assert len(created) == 9  # one per role in the test mission (tests/factories.py USERS)
    assert client.get("/api/v1/audit?since=2020-01-01T00:00:00", headers=admin).status_code == 200
    assert client.get("/api/v1/audit?since=yesterday", headers=admin).json()["field"] == "since"
