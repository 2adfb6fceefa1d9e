"""A fake SMS gateway on loopback: it posts received SMS to the server (signed, like a real
gateway) and records the replies the server sends to its outbound URL (checking their signature)."""

from __future__ import annotations

import json
import threading
from contextlib import AbstractContextManager
from email.message import Message
from typing import Any

import httpx
from loopback import post_receiver

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


def running(gateway: FakeGateway) -> AbstractContextManager[str]:
    """Serve the gateway's outbound side on a free loopback port; yields its URL."""

    def answer(headers: Message, body: bytes) -> int:
        with gateway.lock:
            if not valid(gateway.secret, body, headers.get(HEADER)):
                return 401
            if gateway.fail_next > 0:
                gateway.fail_next -= 1
                return 503
            gateway.sent.append(json.loads(body))
            return 200

    return post_receiver(answer, "/send")
