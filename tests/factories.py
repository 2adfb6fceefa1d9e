"""Test data builders shared by every test area: a small mission, report bodies, pushed versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from peacewatch.common.versioning import version_id
from peacewatch.server.access import Role
from peacewatch.server.db.engine import WRITE
from peacewatch.server.devices.service import enrol, issue_code
from peacewatch.server.users.service import create_contingent, create_user

PASSWORD = "correct horse battery"

# username -> (role, contingent)
USERS: dict[str, tuple[Role, str | None]] = {
    "patrol_a": (Role.PATROL, "ALPHA"),
    "commander_a": (Role.COMMANDER, "ALPHA"),
    "patrol_b": (Role.PATROL, "BRAVO"),
    "commander_b": (Role.COMMANDER, "BRAVO"),
    "analyst": (Role.HQ_ANALYST, None),
    "protection": (Role.PROTECTION_OFFICER, None),
    "hr": (Role.HR_OFFICER, None),
    "admin": (Role.ADMIN, None),
    "liaison": (Role.LIAISON, "ALPHA"),
}


@dataclass
class Mission:
    client: TestClient
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)
    devices: dict[str, tuple[str, str]] = field(default_factory=dict)  # username -> (device_id, credential)

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def device_headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Device {self.devices[username][1]}"}

    def device_id(self, username: str) -> str:
        return self.devices[username][0]

    def enrol_device(self, username: str) -> tuple[str, str]:
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            code = issue_code(conn, username=username, ttl=timedelta(hours=1))["code"]
            out = enrol(conn, code=code, label=f"tablet of {username}", client="test", max_failures=100)
        self.devices[username] = (out["device_id"], out["credential"])
        return self.devices[username]


def build_mission(client: TestClient, engine: Engine, *, enrol_for: tuple[str, ...] = ("patrol_a", "patrol_b")) -> Mission:
    m = Mission(client, engine)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        create_contingent(conn, code="ALPHA", name="Alpha Battalion", country="Bangladesh")
        create_contingent(conn, code="BRAVO", name="Bravo Battalion", country="Nepal")
        for username, (role, contingent) in USERS.items():
            create_user(conn, username=username, password=PASSWORD, role=role, contingent=contingent)
    for username in USERS:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        m.tokens[username] = r.json()["token"]
    for username in enrol_for:
        m.enrol_device(username)
    return m


def report_body(
    *,
    kind: str = "incident",
    category: str = "attack_on_civilians",
    contingent: str = "ALPHA",
    author: str = "patrol_a",
    confidentiality: str = "mission",
    lat: float = 1.5667,
    lon: float = 30.25,
    event_time: datetime | None = None,
    report_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid report body of the contract in CONTRIBUTING.md."""
    body: dict[str, Any] = {
        "id": report_id or str(uuid.uuid4()),
        "kind": kind,
        "category": category,
        "event_time": (event_time or datetime(2026, 11, 20, 14, 30, tzinfo=UTC)).isoformat().replace("+00:00", "Z"),
        "location": {"lat": lat, "lon": lon, "precision_m": 10, "source": "gps"},
        "title": "Armed men fired on the market",
        "description": "Around 20 armed men entered the market and fired shots.",
        "casualties": {"killed": 1, "injured": 3, "abducted": 0, "displaced": 40},
        "severity": 4,
        "confidentiality": confidentiality,
        "attachments": [],
        "contingent": contingent,
        "author": author,
        "language": "en",
    }
    if kind == "patrol":
        body.update(
            category=category if category != "attack_on_civilians" else "patrol_routine",
            patrol_type="vehicle",
            start_time=body["event_time"],
            end_time=(datetime.fromisoformat(body["event_time"].replace("Z", "+00:00")) + timedelta(hours=3))
            .isoformat().replace("+00:00", "Z"),
            route=[{"lat": lat, "lon": lon}, {"lat": lat + 0.05, "lon": lon + 0.05}],
            observations="Road open, market busy.",
            nil_report=False,
        )
    if kind == "hr_concern":
        body.update(
            victims=[{"sex": "female", "age_group": "adult", "count": 1, "consent_to_share": False,
                      "name": "Victim Secretname"}],
            witnesses=[],
            alleged_perpetrators=[{"sex": "male", "age_group": "adult", "count": 2, "consent_to_share": False}],
        )
    body.update(extra)
    return body


def version_entry(body: dict[str, Any], device: str, parents: list[str] | None = None) -> dict[str, Any]:
    """One entry of a push batch, with its content-derived version id."""
    parents = parents or []
    return {"report_id": body["id"], "version_id": version_id(body, parents, device), "parents": parents,
            "body": body, "device_time": datetime.now(UTC).isoformat()}


def store(mission: Mission, username: str, body: dict[str, Any], parents: list[str] | None = None) -> str:
    """Store a version directly through the service layer as ``username``'s device; returns its id."""
    from peacewatch.server.auth.service import authenticate
    from peacewatch.server.reports.versions import STORED, device_key, store_version

    with mission.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if username in mission.devices:
            principal = authenticate(conn, authorization=f"Device {mission.devices[username][1]}", device_credential=None)
        else:
            principal = authenticate(conn, authorization=f"Bearer {mission.tokens[username]}", device_credential=None)
        entry = version_entry(body, device_key(principal), parents)
        out = store_version(conn, principal, report_id=body["id"], version_id=entry["version_id"],
                            parents=entry["parents"], body=body)
    assert out.status == STORED, out.as_dict()
    return entry["version_id"]


def photo_with_exif(fmt: str = "JPEG", *, lat: float = 4.8512, lon: float = 31.6047) -> bytes:
    """A small photo whose EXIF says where (GPS), when (2026-12-01 09:15) and with what ("Rugged Tab 8")."""
    import io

    from PIL import Image

    image = Image.new("RGB", (64, 48), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Rugged", "Tab 8"
    gps = exif.get_ifd(0x8825)

    def dms(value: float) -> tuple[float, float, float]:
        d = int(value)
        m = int((value - d) * 60)
        return (float(d), float(m), round(((value - d) * 60 - m) * 60, 4))

    gps[1], gps[2], gps[3], gps[4] = "N", dms(lat), "E", dms(lon)
    exif.get_ifd(0x8769)[0x9003] = "2026:12:01 09:15:00"
    buf = io.BytesIO()
    image.save(buf, fmt, exif=exif.tobytes())
    return buf.getvalue()
