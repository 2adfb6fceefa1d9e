"""Run the real mission server on 127.0.0.1 in a background thread (uvicorn), for end-to-end tests and the bench."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from sqlalchemy import Engine

from peacewatch.server.app import create_app
from peacewatch.server.config import Settings


@contextmanager
def live_server(settings: Settings, engine: Engine, *, start_timeout: float = 20.0,
                lifespan: Literal["on", "off"] = "on") -> Iterator[tuple[str, int]]:
    """Serve the app on a free port; yield ``(host, port)``; stop and join on exit.

    ``lifespan="off"`` serves it without its background loops (readers then catch up themselves).
    """
    app = create_app(settings, engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan,
                            http="h11", ws="none", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=15)
