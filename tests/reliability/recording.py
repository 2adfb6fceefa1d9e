"""A requests session that records the sync client's push batches and what the server acknowledged.

Fault tests use it to check "all or none" per batch after a crash, and to stop the server at a
chosen moment: ``kill_point`` is set when push number ``kill_at`` starts, and later pushes wait
for ``killed`` (bounded), so a fast server cannot finish the whole outbox before the kill.
"""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any

import requests


class RecordingSession(requests.Session):
    """A requests session that remembers each push batch it sent and which versions were acknowledged."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.acked: set[str] = set()
        self.pushes_started = 0
        self.kill_point = threading.Event()
        self.killed = threading.Event()  # set by the test once the server is down
        self.kill_at = 3  # the push during which the server is to be killed

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if not url.endswith("/sync/push"):
            return super().request(method, url, *args, **kwargs)
        sent = json.loads(gzip.decompress(kwargs["data"]))
        self.batches.append([v["version_id"] for v in sent["versions"]])
        self.pushes_started += 1
        if self.pushes_started == self.kill_at:
            self.kill_point.set()
        elif self.pushes_started > self.kill_at:
            self.killed.wait(60)
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 200:
            self.acked |= {r["version_id"] for r in response.json()["results"]
                           if r["status"] in ("stored", "duplicate")}
        return response
