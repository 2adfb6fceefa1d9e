"""The HTTP seam of the sync client: one ``request`` call over a requests or httpx session.

The sync client never imports an HTTP library directly. It is handed a session: a
``requests.Session`` on the tablet (certificate verification always on, optionally against the
mission CA bundle), or an ``httpx.Client`` such as Starlette's ``TestClient`` in tests, which
runs the real server in-process (the habit from encode/starlette and httpx's mock transport).

Every failure of the link itself - refused connection, reset, timeout, a response cut short or
unreadable - becomes :class:`LinkError`; a certificate that does not verify becomes
:class:`CertificateRejected` (not a link problem: retrying cannot fix it), which the client treats as "try again later". An HTTP
answer, whatever its status, is returned as-is for the client to interpret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

import requests

from peacewatch.mobile.core.errors import CoreError, InvalidInput


class LinkError(CoreError):
    """The link failed before a complete answer arrived (no connection, reset, timeout, truncated)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class CertificateRejected(CoreError):
    """The server's TLS certificate did not verify against the trusted CAs: never retried silently."""


class Response(Protocol):
    """What the client reads from an answer (``requests.Response`` and ``httpx.Response`` both fit)."""

    status_code: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...


class Transport:
    """Sends requests to ``base_url`` through ``session``; raises :class:`LinkError` for link failures."""

    def __init__(self, session: Any, base_url: str, *, verify: str | os.PathLike[str] | bool = True) -> None:
        if verify is False:
            # A field tablet talking to an unauthenticated peer would hand reports to anyone on the path.
            raise InvalidInput("verify", "certificate verification cannot be turned off; pass the mission CA path")
        if verify is not True:
            path = os.fspath(verify)
            if not os.path.exists(path):
                raise InvalidInput("verify", f"no CA bundle at {path}")
            verify = path
        if not base_url or "://" not in base_url:
            raise InvalidInput("base_url", "must be an absolute URL such as https://hq.example:8443")
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.verify = verify
        self._httpx = _is_httpx(session)
        # Starlette's TestClient runs the app in-process: there is no link to time out, and it
        # warns when given a timeout.
        self._in_process = any(c.__name__ == "TestClient" for c in type(session).__mro__)

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        timeout: float,
    ) -> Response:
        """One HTTP exchange with the body fully read; LinkError if the link failed on the way."""
        url = self.base_url + path
        try:
            if self._httpx:
                # httpx clients fix TLS verification when built; per-request ``verify`` does not exist.
                extra = {} if self._in_process else {"timeout": timeout}
                response = self.session.request(
                    method, url, content=content, headers=dict(headers or {}), params=params, **extra
                )
                response.read()
            else:
                response = self.session.request(
                    method,
                    url,
                    data=content,
                    headers=dict(headers or {}),
                    params=params,
                    # (connect, read): connecting should be quick; reading a big answer may not be.
                    timeout=(min(timeout, 10.0), timeout),
                    verify=self.verify,
                )
                _ = response.content  # read the whole body now so a cut shows up here, not later
        except requests.exceptions.SSLError as exc:
            raise CertificateRejected(f"the server's certificate was not accepted ({exc})") from exc
        except requests.RequestException as exc:
            raise LinkError(_plain(exc), timed_out=isinstance(exc, requests.Timeout)) from exc
        except Exception as exc:
            if self._httpx and _is_httpx_transport_error(exc):
                raise LinkError(_plain(exc), timed_out="Timeout" in type(exc).__name__) from exc
            raise
        return response


def _is_httpx(session: Any) -> bool:
    # Duck-typed on purpose: Starlette's TestClient is built on a vendored httpx ("httpx2"), so
    # an isinstance check against one httpx would miss it. Anything not requests speaks httpx.
    return not isinstance(session, requests.Session)


def _is_httpx_transport_error(exc: Exception) -> bool:
    """httpx's (or a vendored copy's) TransportError: connect/read/write failures and timeouts."""
    return any(c.__name__ == "TransportError" and c.__module__.startswith("httpx") for c in type(exc).__mro__)


def _plain(exc: BaseException) -> str:
    """A short description of a link failure for logs (the UI shows its own words)."""
    name = type(exc).__name__
    if isinstance(exc, requests.Timeout) or "Timeout" in name:
        return "the server did not answer in time"
    return f"the connection failed ({name})"
