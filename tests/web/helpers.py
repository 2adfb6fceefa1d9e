"""Helpers shared by the dashboard tests: form sign-in, CSRF scraping, the live server handle, screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

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

