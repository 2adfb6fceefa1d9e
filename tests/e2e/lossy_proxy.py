"""A test-only TCP proxy on 127.0.0.1 that behaves like a bad field link.

Between a client and a server it:

* **refuses** a share of connections (accepts and resets them at once: to the client that is
  indistinguishable from a refusal for an HTTP request);
* **cuts** every other connection after a random lifetime (default 0.2-3 s), mid-request or
  mid-response, with a reset;
* **stalls** a share of connections *after the server has answered*: the request is forwarded
  whole (so the server commits it), then the answer is dropped - before its first byte or part
  way through - and the connection is reset. This is the case that makes idempotency matter.

Decisions come from one seeded ``random.Random`` drawn in accept order, so a run is repeatable
up to thread timing. Every connection is served by one thread with a ``selectors`` loop whose
timeout is the time left to the cut; ``max_connections`` bounds the whole proxy. Byte counters
(``bytes_up`` client->server, ``bytes_down`` server->client) measure what crossed the wire; with
all losses at zero the proxy is a plain byte counter (the sync benchmark uses it that way).
"""

from __future__ import annotations

import random
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# SO_LINGER on with a zero timeout: close() sends RST, like a radio link dropping.
_RESET = struct.pack("ii", 1, 0)


@dataclass
class ProxyStats:
    connections: int = 0
    refused: int = 0
    cut: int = 0
    stalled: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def add(self, **counts: int) -> None:
        with self.changed:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[ProxyStats], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(self)`` holds (the proxy's threads count after the client returns)
        or ``timeout`` seconds pass; returns whether it holds."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout=timeout)


@dataclass(frozen=True)
class _Plan:
    refuse: bool
    lifetime: float  # seconds until the cut (inf: never)
    stall_after: int | None  # bytes of the answer to forward before dropping it (None: no stall)
    cut_up_bytes: float = float("inf")  # cut once this many request bytes went up (mid-upload)


class LossyProxy:
    """``with LossyProxy(("127.0.0.1", port), seed=1) as proxy: url = proxy.url``."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        seed: int = 0,
        refuse_rate: float = 0.2,
        cut_after: tuple[float, float] | None = (0.2, 3.0),
        stall_rate: float = 0.1,
        stall_bytes: tuple[int, int] = (0, 400),
        max_connections: int = 200_000,
        every_fault_early: bool = False,
    ) -> None:
        if upstream[0] != "127.0.0.1":
            raise ValueError("upstream: the lossy proxy only forwards to 127.0.0.1")
        if not 0 <= refuse_rate < 1 or not 0 <= stall_rate < 1:
            raise ValueError("refuse_rate and stall_rate must be in [0, 1)")
        if cut_after is not None and not 0 < cut_after[0] <= cut_after[1]:
            raise ValueError("cut_after: need 0 < low <= high")
        self.upstream = upstream
        self.refuse_rate = refuse_rate
        self.cut_after = cut_after
        self.stall_rate = stall_rate
        self.stall_bytes = stall_bytes
        self.max_connections = max_connections
        # A short run may draw no fault of some kind at all; this makes the first three connections
        # a refusal, a stalled answer and a cut in the middle of an upload (after 48 KiB, or the
        # shortest lifetime), so every kind of fault is exercised whatever the seed and speed.
        self._forced: list[str] = ["refuse", "stall", "cut"] if every_fault_early else []
        self.stats = ProxyStats()
        self._rng = random.Random(seed)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="lossy-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LossyProxy:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        if self._acceptor.ident is not None:  # started
            self._acceptor.join(timeout=5)
        self._listener.close()
        for t in self._threads:
            t.join(timeout=5)

    def _plan(self) -> _Plan:
        rng = self._rng
        refuse = rng.random() < self.refuse_rate
        lifetime = rng.uniform(*self.cut_after) if self.cut_after else float("inf")
        stall = rng.randint(*self.stall_bytes) if rng.random() < self.stall_rate else None
        cut_up_bytes = float("inf")
        if self._forced:
            fault = self._forced.pop(0)
            refuse = fault == "refuse"
            if fault == "stall":
                stall = rng.randint(*self.stall_bytes)
                lifetime = max(lifetime, self.cut_after[1] if self.cut_after else lifetime)
            if fault == "cut":
                stall = None
                lifetime = self.cut_after[0] if self.cut_after else lifetime
                cut_up_bytes = 48 * 1024
        return _Plan(refuse, lifetime, stall, cut_up_bytes)

    def _accept_loop(self) -> None:
        while not self._closing.is_set() and self.stats.connections < self.max_connections:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.stats.add(connections=1)
            plan = self._plan()
            if plan.refuse:
                self.stats.add(refused=1)
                _reset(client)
                continue
            t = threading.Thread(target=self._serve, args=(client, plan), daemon=True)
            t.start()
            # Forget finished threads so a long run keeps a short list.
            self._threads = [x for x in self._threads if x.is_alive()] + [t]

    def _serve(self, client: socket.socket, plan: _Plan) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        deadline = time.monotonic() + plan.lifetime
        sel = selectors.DefaultSelector()
        client.setblocking(False)
        server.setblocking(False)
        sel.register(client, selectors.EVENT_READ, "up")
        sel.register(server, selectors.EVENT_READ, "down")
        answer_budget = plan.stall_after
        sent_up = 0
        how = "closed"
        try:
            while not self._closing.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    how = "cut"
                    break
                events = sel.select(timeout=min(left, 0.25))
                done = False
                for key, _ in events:
                    src = key.fileobj
                    try:
                        data = src.recv(65536)  # type: ignore[union-attr]
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        done = True
                        break
                    if not data:
                        done = True
                        break
                    if key.data == "up":
                        if sent_up + len(data) > plan.cut_up_bytes:
                            how = "cut"
                            done = True
                            break
                        _send_all(server, data)
                        sent_up += len(data)
                        self.stats.add(bytes_up=len(data))
                    else:
                        if answer_budget is not None:
                            # The server has answered (so it has committed): drop the answer here.
                            part = data[:answer_budget]
                            if part:
                                _send_all(client, part)
                                self.stats.add(bytes_down=len(part))
                            if len(data) >= answer_budget:
                                how = "stalled"
                                done = True
                                break
                            answer_budget -= len(data)
                            continue
                        _send_all(client, data)
                        self.stats.add(bytes_down=len(data))
                if done:
                    break
        except OSError:
            pass
        finally:
            sel.close()
            if how == "cut":
                self.stats.add(cut=1)
            elif how == "stalled":
                self.stats.add(stalled=1)
            if how == "closed":
                client.close()
                server.close()
            else:
                _reset(client)
                _reset(server)


def _send_all(sock: socket.socket, data: bytes) -> None:
    # Non-blocking sockets: sendall may raise BlockingIOError under back-pressure, so wait for room.
    view = memoryview(data)
    deadline = time.monotonic() + 10
    while view:
        try:
            sent = sock.send(view)
            view = view[sent:]
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise OSError("peer stopped reading") from None
            select.select([], [sock], [], 0.05)


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    except OSError:
        pass
    sock.close()
