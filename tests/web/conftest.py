"""Dashboard fixtures: an in-process app for page tests, and for browser tests one real server
(uvicorn in a thread on a free 127.0.0.1 port, seeded with the demo mission) driven by Debian's
Chromium through Playwright."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from peacewatch.server.app import create_app
from peacewatch.server.config import Settings
from tests.web.helpers import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEMO_REPORTS = 200


# -- in-process pages (both database backends) ---------------------------------------------------
@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    # https: session cookies are Secure by default, and a client only sends them back over HTTPS.
    with TestClient(create_app(settings, engine), base_url="https://testserver", follow_redirects=False) as c:
        yield c


# -- a real server and a real browser ------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import uvicorn

    from peacewatch.server.commands.seed import seed
    from peacewatch.server.db.engine import WRITE, make_engine
    from peacewatch.server.db.migrate import upgrade
    from peacewatch.server.demo_mission import DEMO_PASSWORD

    data = tmp_path_factory.mktemp("dashboard")
    # Plain HTTP on loopback: the browser gets non-Secure cookies (the Secure default is tested in
    # tests/server/auth/test_sign_in.py).
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'peacewatch.db'}", cookie_secure=False)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        out = seed(conn, reports=DEMO_REPORTS)  # with its duplicate proposals
    from peacewatch.server.basemaps.demo_render import seed_demo_basemap

    seed_demo_basemap(engine, settings)  # the dashboard map's base map, as 'peacewatch seed' makes it
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded: 10 s
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the dashboard server did not start"
    yield LiveServer(f"http://127.0.0.1:{port}", engine, out["sign_ins"], DEMO_PASSWORD)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "install Debian's Chromium: apt-get install -y chromium"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_as(live_server: LiveServer, browser: Any) -> Iterator[Callable[..., Any]]:
    """``open_as(username, lang="en")`` -> a Playwright page signed in through the sign-in form."""
    contexts: list[Any] = []

    def _open(username: str, lang: str = "en") -> Any:
        ctx = browser.new_context(viewport={"width": 1280, "height": 820}, locale=lang, accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", live_server.password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
        assert "/login" not in page.url, f"{username} could not sign in: {page.content()[:500]}"
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
