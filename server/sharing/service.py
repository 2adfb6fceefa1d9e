"""Sharing agreements: create, change (always a new version), approve, revoke, key, push endpoint, deliver.

An agreement is *active* when it is not revoked and its current version either does not touch
human-rights concerns or restricted cases, or has been approved by a protection officer. Only an
active agreement delivers; revoking takes effect on the partner's next request. Every delivery
(and every preview) is written to the audit log with the partner, the agreement's version, the
cursor range and the ids of the reports and attachments that left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from peacewatch.server import clock
from peacewatch.server.access import Permission, Principal
from peacewatch.server.alerts.webhooks import shown_url
from peacewatch.server.audit.service import record
from peacewatch.server.auth.secrets import digest, new_token
from peacewatch.server.community.protection import encrypt
from peacewatch.server.db.tables import sharing_agreement_versions as versions_t
from peacewatch.server.db.tables import sharing_agreements as agreements_t
from peacewatch.server.db.tables import sharing_deliveries as deliveries_t
from peacewatch.server.problems import Code, Problem, forbidden, invalid, not_found
from peacewatch.server.sharing.models import AgreementIn, AgreementUpdate, Policy
from peacewatch.server.sharing.policy import touches_human_rights

PUSH_SECRET_COLUMN = "sharing_agreements.push_secret_enc"  # bound into its encryption (protection.encrypt)
KEY_PREFIX = "pwp_"  # recognisable in logs and secret scanners as a peacewatch partner key


@dataclass(frozen=True)
class Partner:
    """A partner calling with its key: the agreement and the version it receives under."""

    agreement_id: int
    partner: str
    version: int
    policy: dict[str, Any]


def _version_row(conn: Connection, agreement_id: int, version: int) -> dict[str, Any]:
    row = conn.execute(select(versions_t).where(versions_t.c.agreement_id == agreement_id,
                                                versions_t.c.version == version)).mappings().one()
    return dict(row)


def _state(policy: dict[str, Any], version_row: dict[str, Any], revoked: bool) -> str:
    if revoked:
        return "revoked"
    if touches_human_rights(policy) and version_row["approved_by"] is None:
        return "awaiting_approval"
    return "active"


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def describe(conn: Connection, agreement_id: int, *, with_history: bool = False) -> dict[str, Any]:
    row = conn.execute(select(agreements_t).where(agreements_t.c.id == agreement_id)).mappings().one_or_none()
    if row is None:
        raise not_found(f"agreement {agreement_id}")
    current = _version_row(conn, agreement_id, row["version"])
    out = {
        "id": row["id"], "partner": row["partner"], "name": row["name"], "version": row["version"],
        "state": _state(current["policy"], current, row["revoked"]),
        "needs_approval": touches_human_rights(current["policy"]),
        "approved_by": current["approved_by"], "approved_at": _iso(current["approved_at"]),
        "has_key": row["key_hash"] is not None, "push": _push_state(conn, row), "policy": current["policy"],
        "created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"]),
    }
    if with_history:
        rows = conn.execute(select(versions_t).where(versions_t.c.agreement_id == agreement_id)
                            .order_by(versions_t.c.version)).mappings()
        out["versions"] = [{"version": v["version"], "policy": v["policy"], "created_by": v["created_by"],
                            "created_at": _iso(v["created_at"]), "approved_by": v["approved_by"],
                            "approved_at": _iso(v["approved_at"])} for v in rows]
    return out


def _push_state(conn: Connection, row: Any) -> dict[str, Any] | None:
    if not row["push_url"]:
        return None
    latest = conn.execute(select(deliveries_t).where(deliveries_t.c.agreement_id == row["id"])
                          .order_by(deliveries_t.c.id.desc()).limit(1)).mappings().one_or_none()
    address = httpx.URL(row["push_url"])
    # An error message may repeat the address, with a password or a token in its query.
    hidden = [s for s in (address.password, address.query.decode()) if s]
    return {"url": shown_url(row["push_url"]), "cursor": row["push_cursor"],
            "latest": None if latest is None else {
                "id": latest["id"], "status": latest["status"], "attempts": latest["attempts"],
                "last_status": latest["last_status"], "last_error": _masked(latest["last_error"], hidden),
                "cursor": latest["cursor"], "next_cursor": latest["next_cursor"],
                "next_attempt_at": _iso(latest["next_attempt_at"]), "delivered_at": _iso(latest["delivered_at"])}}


def _masked(text: str | None, hidden: list[str]) -> str | None:
    for secret in hidden:
        text = text.replace(secret, "•••") if text else text
    return text


def list_agreements(conn: Connection) -> list[dict[str, Any]]:
    ids = conn.execute(select(agreements_t.c.id).order_by(agreements_t.c.partner)).scalars().all()
    return [describe(conn, i) for i in ids]


def _policy_json(policy: Policy) -> dict[str, Any]:
    return policy.model_dump(mode="json")


def create(conn: Connection, actor: Principal | str, data: AgreementIn) -> dict[str, Any]:
    """A new agreement at version 1 (inactive until approved if it touches human-rights concerns)."""
    who = actor if isinstance(actor, str) else actor.username
    now = clock.now()
    try:
        with conn.begin_nested():
            agreement_id = conn.execute(insert(agreements_t).values(
                partner=data.partner, name=data.name, version=1, revoked=False, created_at=now, updated_at=now,
            ).returning(agreements_t.c.id)).scalar_one()
    except IntegrityError:
        raise Problem(Code.CONFLICT, f"partner {data.partner!r} already has an agreement", field="partner") from None
    policy = _policy_json(data.policy)
    conn.execute(insert(versions_t).values(agreement_id=agreement_id, version=1, policy=policy, created_by=who,
                                           created_at=now))
    _audit(conn, actor, "sharing_agreement_created", data.partner, {"agreement_id": agreement_id, "version": 1,
                                                                    "policy": policy})
    return describe(conn, agreement_id)


def change(conn: Connection, actor: Principal | str, agreement_id: int, data: AgreementUpdate) -> dict[str, Any]:
    """A new version of the agreement's policy (any earlier approval does not carry over)."""
    row = _agreement(conn, agreement_id)
    if row["revoked"]:
        raise Problem(Code.CONFLICT, "a revoked agreement cannot change; make a new one")
    who = actor if isinstance(actor, str) else actor.username
    now = clock.now()
    version = row["version"] + 1
    policy = _policy_json(data.policy)
    conn.execute(insert(versions_t).values(agreement_id=agreement_id, version=version, policy=policy,
                                           created_by=who, created_at=now))
    values: dict[str, Any] = {"version": version, "updated_at": now}
    if data.name:
        values["name"] = data.name
    conn.execute(update(agreements_t).where(agreements_t.c.id == agreement_id).values(**values))
    cancel_pending(conn, agreement_id)  # built under the old policy; rebuilt under the new one
    _audit(conn, actor, "sharing_agreement_changed", row["partner"], {"agreement_id": agreement_id,
                                                                     "version": version, "policy": policy})
    return describe(conn, agreement_id)


def approve(conn: Connection, officer: Principal, agreement_id: int, version: int) -> dict[str, Any]:
    """A protection officer's approval of the agreement's current version."""
    if not officer.may(Permission.APPROVE_SHARING):
        raise forbidden("only a protection officer approves sharing agreements")
    row = _agreement(conn, agreement_id)
    if row["revoked"]:
        raise Problem(Code.CONFLICT, "the agreement is revoked")
    if version != row["version"]:
        raise Problem(Code.CONFLICT, f"version {version} is not the current version ({row['version']}); "
                      "read the current one before approving", field="version")
    conn.execute(update(versions_t).where(versions_t.c.agreement_id == agreement_id,
                                          versions_t.c.version == version)
                 .values(approved_by=officer.username, approved_at=clock.now()))
    _audit(conn, officer, "sharing_agreement_approved", row["partner"],
           {"agreement_id": agreement_id, "version": version})
    return describe(conn, agreement_id)


def revoke(conn: Connection, actor: Principal | str, agreement_id: int) -> dict[str, Any]:
    """Stop the agreement: the partner's next request is refused (403), and no page waiting to be
    pushed is sent (the push worker also checks the agreement before every send)."""
    row = _agreement(conn, agreement_id)
    conn.execute(update(agreements_t).where(agreements_t.c.id == agreement_id)
                 .values(revoked=True, updated_at=clock.now()))
    cancel_pending(conn, agreement_id)
    _audit(conn, actor, "sharing_agreement_revoked", row["partner"], {"agreement_id": agreement_id,
                                                                     "version": row["version"]})
    return describe(conn, agreement_id)


def issue_key(conn: Connection, actor: Principal | str, agreement_id: int) -> dict[str, Any]:
    """A new API key for the partner (shown once; only its hash is kept; the old key stops working)."""
    row = _agreement(conn, agreement_id)
    if row["revoked"]:
        raise Problem(Code.CONFLICT, "the agreement is revoked")
    key = KEY_PREFIX + new_token()
    conn.execute(update(agreements_t).where(agreements_t.c.id == agreement_id)
                 .values(key_hash=digest(key), updated_at=clock.now()))
    _audit(conn, actor, "sharing_key_issued", row["partner"], {"agreement_id": agreement_id})
    return {"partner": row["partner"], "key": key}


def set_push(conn: Connection, actor: Principal | str, agreement_id: int, url: str | None,
             *, mission_key: bytes) -> dict[str, Any]:
    """Push pages to `url` (a new signing secret, shown once), or stop pushing (None).

    Pages waiting for the old endpoint are dropped: they were signed for, and addressed to, it. The
    new endpoint receives from where the previous one stopped (from the start the first time)."""
    row = _agreement(conn, agreement_id)
    if row["revoked"]:
        raise Problem(Code.CONFLICT, "the agreement is revoked")
    secret = new_token() if url else None
    cancel_pending(conn, agreement_id)
    conn.execute(update(agreements_t).where(agreements_t.c.id == agreement_id).values(
        push_url=url, push_secret_enc=encrypt(mission_key, secret, column=PUSH_SECRET_COLUMN),
        updated_at=clock.now()))
    _audit(conn, actor, "sharing_push_set", row["partner"],
           {"agreement_id": agreement_id, "url": shown_url(url) if url else None})
    return {"partner": row["partner"], "url": url, "secret": secret}


def cancel_pending(conn: Connection, agreement_id: int) -> int:
    """Cancel the agreement's pages not yet delivered (revoked, changed, or a new endpoint)."""
    return conn.execute(update(deliveries_t).where(deliveries_t.c.agreement_id == agreement_id,
                                                   deliveries_t.c.status == "pending")
                        .values(status="cancelled")).rowcount


def _agreement(conn: Connection, agreement_id: int) -> dict[str, Any]:
    row = conn.execute(select(agreements_t).where(agreements_t.c.id == agreement_id)).mappings().one_or_none()
    if row is None:
        raise not_found(f"agreement {agreement_id}")
    return dict(row)


def by_partner(conn: Connection, partner: str) -> int:
    found = conn.execute(select(agreements_t.c.id).where(agreements_t.c.partner == partner)).scalar_one_or_none()
    if found is None:
        raise not_found(f"partner {partner}")
    return int(found)


def authenticate_partner(conn: Connection, *, key: str | None, partner: str) -> Partner:
    """The partner of this key, allowed to read `partner`'s feed now: 401 for no or an unknown key,
    403 for another partner's feed, a revoked agreement or one awaiting approval."""
    if not key:
        raise Problem(Code.NOT_AUTHENTICATED, "a partner API key is required (X-Partner-Key header)")
    row = conn.execute(select(agreements_t).where(agreements_t.c.key_hash == digest(key))).mappings().one_or_none()
    if row is None:
        raise Problem(Code.NOT_AUTHENTICATED, "unknown partner key")
    if row["partner"] != partner:
        raise forbidden("this key is for another partner's feed")
    if row["revoked"]:
        raise forbidden("the sharing agreement with this partner has been revoked")
    current = _version_row(conn, row["id"], row["version"])
    if _state(current["policy"], current, row["revoked"]) != "active":
        raise forbidden("this agreement shares human-rights concerns or restricted cases and awaits a protection "
                        "officer's approval")
    return Partner(row["id"], row["partner"], row["version"], current["policy"])


def active_terms(conn: Connection, agreement_id: int) -> Partner:
    """The terms the partner would receive under now (for the preview); refused as the feed would be."""
    row = _agreement(conn, agreement_id)
    current = _version_row(conn, agreement_id, row["version"])
    state = _state(current["policy"], current, row["revoked"])
    if state != "active":
        raise forbidden(f"the agreement is {state.replace('_', ' ')}: the partner receives nothing")
    return Partner(row["id"], row["partner"], row["version"], current["policy"])


def audit_delivery(conn: Connection, partner: Partner, *, action: str, fmt: str, cursor: int, next_cursor: int,
                   report_ids: list[str], attachments: list[str], actor: Principal | None = None,
                   extra: dict[str, Any] | None = None) -> None:
    """What left (or would leave), to whom, under which version of the agreement; `extra` says
    more about how (faces blurred in a photo, a push attempt's outcome)."""
    detail: dict[str, Any] = {"agreement_id": partner.agreement_id, "version": partner.version, "format": fmt,
                              "cursor": cursor, "next_cursor": next_cursor, "reports": report_ids,
                              "attachments": attachments} | (extra or {})
    record(conn, action=action, actor=actor.username if actor else f"partner:{partner.partner}",
           actor_user_id=actor.user_id if actor else None, target=partner.partner, detail=detail)


def _audit(conn: Connection, actor: Principal | str, action: str, target: str, detail: dict[str, Any]) -> None:
    if isinstance(actor, str):
        record(conn, action=action, actor=actor, target=target, detail=detail)
    else:
        record(conn, action=action, actor=actor.username, actor_user_id=actor.user_id, target=target, detail=detail)


def parse_cursor(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise invalid("cursor", "not a cursor returned by this feed")
    return int(raw)
