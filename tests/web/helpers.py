"""Helpers shared by the dashboard tests: form sign-in, CSRF scraping, the live server handle, screenshots."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from peacewatch.common.versioning import version_id
from peacewatch.server.db.engine import WRITE
from peacewatch.server.devices.service import enrol, issue_code

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str) -> None:
    """Sign in through the form, as a browser does (pre-sign-in cookie + CSRF field)."""
    form = client.get("/login")
    r = client.post("/login", data={"username": username, "password": password, "csrf": csrf_of(form.text),
                                    "next": ""})
    assert r.status_code == 303, r.text


class LiveServer:
    def __init__(self, url: str, engine: Engine, sign_ins: list[tuple[str, str]], password: str) -> None:
        self.url = url
        self.engine = engine
        self.sign_ins = sign_ins
        self.password = password


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=False)



def tablet_push(live_server: LiveServer, *, title: str, category: str = "attack_on_civilians", severity: int = 5,
                confidentiality: str = "mission", killed: int = 0, injured: int = 0,
                lat: float = 1.56, lon: float = 30.25) -> str:
    """Enrol a tablet for a BANBAT patrol and push one report over HTTP, as the app would; its id."""
    with live_server.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        code = issue_code(conn, username="banbat.patrol1", ttl=timedelta(hours=1))["code"]
        tablet = enrol(conn, code=code, label="browser test tablet", client="test", max_failures=100)
    body = {"id": str(uuid.uuid4()), "kind": "incident", "category": category,
            "event_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "location": {"lat": lat, "lon": lon, "precision_m": 10, "source": "gps"},
            "title": title, "description": "Seen by the patrol.",
            "casualties": {"killed": killed, "injured": injured, "abducted": 0, "displaced": 0},
            "severity": severity, "confidentiality": confidentiality, "attachments": [], "contingent": "BANBAT",
            "author": "banbat.patrol1", "language": "en"}
    entry = {"report_id": body["id"], "version_id": version_id(body, [], tablet["device_id"]), "parents": [],
             "body": body}
    r = httpx.post(f"{live_server.url}/api/v1/sync/push", json={"versions": [entry]},
                   headers={"Authorization": f"Device {tablet['credential']}"}, timeout=30)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    return body["id"]
