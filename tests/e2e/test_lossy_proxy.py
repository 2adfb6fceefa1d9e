"""Tests for tests/e2e/lossy_proxy.py: it forwards, refuses, cuts and stalls as configured.

The lossy-link proof is only as good as the proxy's failures, so each kind is checked against a
small echo server that records what actually reached it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from e2e.lossy_proxy import LossyProxy


class EchoServer:
    """Echoes every byte back; ``received`` is everything that reached it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            try:
                while data := conn.recv(65536):
                    self.received += data
                    conn.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def talk(port: int, payload: bytes, wait: float = 2.0) -> bytes:
    """Send ``payload``, read until ``len(payload)`` bytes came back, EOF, reset or ``wait`` seconds."""
    out = bytearray()
    try:
        # A reset can already reach connect() when the proxy refuses at once: that is a refusal too.
        with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
            s.sendall(payload)
            deadline = time.monotonic() + wait
            while len(out) < len(payload) and time.monotonic() < deadline:
                data = s.recv(65536)
                if not data:
                    break
                out += data
    except OSError:
        pass
    return bytes(out)


def test_a_clean_proxy_forwards_and_counts(echo: EchoServer) -> None:
    payload = b"x" * 100_000
    with LossyProxy(("127.0.0.1", echo.port), refuse_rate=0, cut_after=None, stall_rate=0) as proxy:
        assert talk(proxy.port, payload) == payload
        assert proxy.stats.wait_for(lambda s: s.bytes_up == s.bytes_down == len(payload)), proxy.stats
        assert proxy.stats.connections == 1 and proxy.stats.refused == proxy.stats.cut == 0


def test_refused_connections_never_reach_the_server(echo: EchoServer) -> None:
    with LossyProxy(("127.0.0.1", echo.port), refuse_rate=0.999, cut_after=None, stall_rate=0, seed=1) as proxy:
        assert talk(proxy.port, b"hello") == b""
        assert proxy.stats.wait_for(lambda s: s.refused == 1), proxy.stats
    assert bytes(echo.received) == b""


def test_stalled_answer_is_dropped_after_the_request_was_delivered(echo: EchoServer) -> None:
    with LossyProxy(("127.0.0.1", echo.port), refuse_rate=0, cut_after=None, stall_rate=0.999,
                    stall_bytes=(3, 3), seed=2) as proxy:
        got = talk(proxy.port, b"committed request")
        assert proxy.stats.wait_for(lambda s: s.stalled == 1), proxy.stats
    assert bytes(echo.received) == b"committed request"  # the server got (and acted on) all of it
    assert got == b"com"  # ...but only the first bytes of its answer came back


def test_connections_are_cut_after_their_lifetime(echo: EchoServer) -> None:
    with LossyProxy(("127.0.0.1", echo.port), refuse_rate=0, cut_after=(0.3, 0.3), stall_rate=0) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=3) as s:
            started = time.monotonic()
            s.sendall(b"ping")
            assert s.recv(10) == b"ping"
            with pytest.raises((OSError, AssertionError)):
                for _ in range(40):  # bounded: keep talking until the cut
                    s.sendall(b"ping")
                    assert s.recv(10) == b"ping"
                    time.sleep(0.05)
            assert 0.25 <= time.monotonic() - started < 2.5
        assert proxy.stats.wait_for(lambda s: s.cut == 1), proxy.stats


def test_same_seed_same_decisions(echo: EchoServer) -> None:
    plans = []
    for _ in range(2):
        proxy = LossyProxy(("127.0.0.1", echo.port), seed=42)
        plans.append([proxy._plan() for _ in range(50)])
        proxy.close()
    assert plans[0] == plans[1]
    assert 3 <= sum(p.refuse for p in plans[0]) <= 20  # about 20 %
    assert all(0.2 <= p.lifetime <= 3.0 for p in plans[0])


def test_only_forwards_to_localhost() -> None:
    with pytest.raises(ValueError, match="upstream"):
        LossyProxy(("10.0.0.1", 80))
