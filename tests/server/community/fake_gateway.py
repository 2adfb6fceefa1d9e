"""A fake SMS gateway on loopback: it posts received SMS to the server (signed, like a real
gateway) and records the replies the server sends to its outbound URL (checking their signature)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from peacewatch.server.community.signing import GATEWAY_HEADER, HEADER, sign, valid


class FakeGateway:
    def __init__(self, name: str, secret: str = "") -> None:
        self.name, self.secret = name, secret
        self.sent: list[dict[str, Any]] = []  # replies delivered to phones
        self.fail_next = 0  # answer 503 this many times (the server must retry)
        self.lock = threading.Lock()

    def receive_sms(self, server_url: str, *, sender: str, text: str, message_id: str) -> httpx.Response:
        body = json.dumps({"from": sender, "text": text, "message_id": message_id,
                           "received_at": "2026-12-02T06:00:00Z"}).encode()
        return httpx.post(f"{server_url}/api/v1/community/sms", content=body, timeout=10, headers={
            "Content-Type": "application/json", GATEWAY_HEADER: self.name, HEADER: sign(self.secret, body)})


@contextmanager
def running(gateway: FakeGateway) -> Iterator[str]:
    """Serve the gateway's outbound side on a free loopback port; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with gateway.lock:
                if not valid(gateway.secret, body, self.headers.get(HEADER)):
                    self.send_response(401)
                elif gateway.fail_next > 0:
                    gateway.fail_next -= 1
                    self.send_response(503)
                else:
                    gateway.sent.append(json.loads(body))
                    self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/send"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
