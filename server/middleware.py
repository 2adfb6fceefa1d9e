"""ASGI middleware: request size limits, gzip request bodies, security headers.

Bodies are counted as they arrive, so an oversized upload is refused without being held in
memory; a gzip body is inflated incrementally with the same limit on the inflated size, so a
small compressed bomb is refused too. A gzip body must be one complete stream, CRC trailer
included: a truncated or corrupt one is refused (400 ``invalid_json``, field ``body``), never read
as whatever part of it inflated. Text no database can hold in a JSON or form body is refused here
too (``input_checks``), naming the field.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .input_checks import body_problem

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
     b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
]


async def _problem(send: Send, status: int, code: str, message: str, field: str | None = None,
                   **extra: Any) -> None:
    payload: dict[str, Any] = {"error": code, "message": message}
    if field is not None:
        payload["field"] = field
    body = json.dumps(payload | extra).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (413) and inflate ``Content-Encoding: gzip`` bodies.

    The body is read (at most ``max_bytes``, inflated at most ``max_bytes``) before the app sees
    it: a refusal raised from inside the app's body parsing would be turned into a generic 400.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        encoding = headers.get(b"content-encoding", b"").decode("latin-1").lower().strip()
        if encoding not in ("", "identity", "gzip"):
            await _problem(send, 415, "unsupported_media_type", f"Content-Encoding {encoding!r} is not supported; use gzip")
            return
        too_large = f"the request body is over {self.max_bytes} bytes"
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _problem(send, 413, "body_too_large", too_large)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _problem(send, 413, "body_too_large", too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if encoding == "gzip":
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                body = inflater.decompress(body, self.max_bytes + 1)
            except zlib.error:
                await _problem(send, 400, "invalid_json", "body: the gzip body is corrupt", "body")
                return
            if len(body) > self.max_bytes or inflater.unconsumed_tail:
                await _problem(send, 413, "body_too_large", f"the inflated request body is over {self.max_bytes} bytes")
                return
            # ``eof`` is only set once the whole stream, CRC and length trailer included, was read
            # and checked; bytes after it are not part of the body either.
            if not inflater.eof or inflater.unused_data:
                await _problem(send, 400, "invalid_json",
                               "body: the gzip body is truncated or has data after its end", "body")
                return
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")]
            scope["headers"].append((b"content-length", str(len(body)).encode()))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        refusal = body_problem(content_type, body)
        if refusal is not None:
            await _problem(send, refusal.status, refusal.code.value, refusal.message, refusal.field, **refusal.extra)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class InFlightLimitMiddleware:
    """Let at most ``limit`` requests into the app at once; the rest wait here, holding no thread.

    Handlers run on a thread pool, and a request waiting for the database's write lock or a pooled
    connection holds its thread. With fifty tablets syncing at once, waiting requests took every
    thread and the one holding the lock never got one back to commit. Waiting on an asyncio
    semaphore instead costs nothing and keeps the pool for work that can finish.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._sem: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._sem is None:  # created inside the server's event loop
            self._sem = asyncio.Semaphore(self.limit)
        async with self._sem:
            await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Add conservative security headers to every response (the dashboard is served by this app)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra: list[Any] = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = dict(message) | {"headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
