"""A receiver of POSTs on 127.0.0.1, standing in for a partner's webhook or an SMS gateway's outbound side.

Every POST it gets is handed to a function that records or checks it and returns the status to
answer. (The app itself is served on loopback by ``e2e.live_server``.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[Message, bytes], int]  # a POST's headers and body -> the status to answer


@contextmanager
def post_receiver(answer: Answer, path: str = "/") -> Iterator[str]:
    """A tiny HTTP server on a free loopback port handing every POST to ``answer``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(answer(self.headers, body))
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
