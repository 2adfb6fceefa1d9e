"""ASGI middleware: request size limits, gzip request bodies, security headers.

Bodies are counted as they arrive, so an oversized upload is refused without being held in
memory; a gzip body is inflated incrementally with the same limit on the inflated size, so a
small compressed bomb is refused too.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class _TooLarge(Exception):
    pass


async def _problem(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (413) and inflate ``Content-Encoding: gzip`` bodies."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        encoding = headers.get(b"content-encoding", b"").decode().lower().strip()
        if encoding not in ("", "identity", "gzip"):
            await _problem(send, 415, "unsupported_media_type", f"Content-Encoding {encoding!r} is not supported; use gzip")
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _problem(send, 413, "body_too_large", f"the request body is over {self.max_bytes} bytes")
            return
        limit = self.max_bytes
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise _TooLarge
            if inflater is not None:
                try:
                    out = inflater.decompress(chunk, limit + 1)
                    if not message.get("more_body", False):
                        out += inflater.flush()
                except zlib.error:
                    raise _TooLarge("gzip") from None
                if len(out) > limit or inflater.unconsumed_tail:
                    raise _TooLarge
                message = dict(message) | {"body": out}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        if inflater is not None:
            # Downstream sees an identity body of unknown length.
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")]
        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge as exc:
            if started:
                raise
            if exc.args and exc.args[0] == "gzip":
                await _problem(send, 400, "invalid_json", "the gzip body is corrupt")
            else:
                await _problem(send, 413, "body_too_large", f"the request body is over {self.max_bytes} bytes")


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
