"""One catalogue of problems with stable codes, turned into JSON HTTP responses.

Every refusal the server gives is a ``Problem``: ``{"error": code, "message": text, "field": name}``
with the status below. Clients (the tablet, the dashboard, scripts) switch on ``error``, never on text.

| code | status | meaning |
| --- | --- | --- |
| invalid_input | 422 | a field is missing or wrong; ``field`` names it |
| invalid_json | 400 | the body is not JSON (or too deeply nested) |
| unsupported_media_type | 415 | wrong Content-Type or Content-Encoding |
| body_too_large | 413 | the request body is over the limit |
| not_authenticated | 401 | no or unknown credentials |
| token_expired | 401 | the bearer token has expired; sign in again |
| device_revoked | 401 | this device was revoked by an administrator |
| device_wiped | 401 | this device was marked lost: destroy its keys and local store, stop syncing |
| bad_credentials | 401 | wrong username or password (or two-factor code) |
| two_factor_required | 401 | the password was right; now give ``two_factor_code`` (TOTP or recovery code) |
| forbidden | 403 | the role may not do this |
| not_found | 404 | no such thing, or not visible to the caller |
| conflict | 409 | different content under an existing id, or a state that forbids the action |
| enrolment_code_invalid | 400 | the enrolment code is unknown, used or expired |
| hash_mismatch | 422 | uploaded bytes do not match their SHA-256 |
| rate_limited | 429 | too many attempts; retry later |
| storage_full | 507 | the server's disk is full; nothing was kept |
| database_unavailable | 503 | the database cannot be reached; retry later |
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class Code(StrEnum):
    INVALID_INPUT = "invalid_input"
    INVALID_JSON = "invalid_json"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    BODY_TOO_LARGE = "body_too_large"
    NOT_AUTHENTICATED = "not_authenticated"
    TOKEN_EXPIRED = "token_expired"
    DEVICE_REVOKED = "device_revoked"
    DEVICE_WIPED = "device_wiped"
    BAD_CREDENTIALS = "bad_credentials"
    TWO_FACTOR_REQUIRED = "two_factor_required"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    ENROLMENT_CODE_INVALID = "enrolment_code_invalid"
    HASH_MISMATCH = "hash_mismatch"
    RATE_LIMITED = "rate_limited"
    STORAGE_FULL = "storage_full"
    DATABASE_UNAVAILABLE = "database_unavailable"


STATUS: dict[Code, int] = {
    Code.INVALID_INPUT: 422,
    Code.INVALID_JSON: 400,
    Code.UNSUPPORTED_MEDIA_TYPE: 415,
    Code.BODY_TOO_LARGE: 413,
    Code.NOT_AUTHENTICATED: 401,
    Code.TOKEN_EXPIRED: 401,
    Code.DEVICE_REVOKED: 401,
    Code.DEVICE_WIPED: 401,
    Code.BAD_CREDENTIALS: 401,
    Code.TWO_FACTOR_REQUIRED: 401,
    Code.FORBIDDEN: 403,
    Code.NOT_FOUND: 404,
    Code.CONFLICT: 409,
    Code.ENROLMENT_CODE_INVALID: 400,
    Code.HASH_MISMATCH: 422,
    Code.RATE_LIMITED: 429,
    Code.STORAGE_FULL: 507,
    Code.DATABASE_UNAVAILABLE: 503,
}


class Problem(Exception):
    """A refusal with a stable code; raised anywhere, answered as JSON by the app."""

    def __init__(self, code: Code, message: str, *, field: str | None = None, keep_writes: bool = False,
                 **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        # A refusal that must leave a trace (a failed sign-in's audit entry) commits what was written
        # before it; every other refusal rolls the request back.
        self.keep_writes = keep_writes
        self.extra = extra

    @property
    def status(self) -> int:
        return STATUS[self.code]

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code.value, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        out.update(self.extra)
        return out


def not_found(what: str) -> Problem:
    return Problem(Code.NOT_FOUND, f"{what} not found")


def forbidden(message: str = "your role may not do this") -> Problem:
    return Problem(Code.FORBIDDEN, message)


def invalid(field: str, message: str, **extra: Any) -> Problem:
    return Problem(Code.INVALID_INPUT, f"{field}: {message}", field=field, **extra)


def problem_response(problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    if problem.code is Code.RATE_LIMITED and "retry_after" in problem.extra:
        headers = {"Retry-After": str(int(problem.extra["retry_after"]))}
    return JSONResponse(problem.body(), status_code=problem.status, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    # Drop the "body"/"query"/"path" prefix and pydantic's union-tag segments so the name is the user's.
    if loc and loc[0] in ("query", "path", "header"):
        # A repeated query parameter is one field to the user: "kind", not "kind.0".
        parts = [str(p) for p in loc[1:] if not isinstance(p, int)]
    elif loc and loc[0] == "body":
        parts = [str(p) for p in loc[1:]]
    else:
        parts = [str(p) for p in loc]
    return ".".join(parts) or str(loc[0] if loc else "body")


async def handle_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def handle_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_path(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid"), "type": e.get("type")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    if first.get("type") == "json_invalid":
        return problem_response(Problem(Code.INVALID_JSON, "the request body is not valid JSON", field="body"))
    return problem_response(
        Problem(Code.INVALID_INPUT, f"{first['field']}: {first['message']}", field=first["field"], errors=errors)
    )


async def handle_http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    by_status = {404: Code.NOT_FOUND, 405: Code.INVALID_INPUT, 401: Code.NOT_AUTHENTICATED, 403: Code.FORBIDDEN}
    code = by_status.get(exc.status_code, Code.INVALID_INPUT)
    resp = JSONResponse({"error": code.value, "message": str(exc.detail)}, status_code=exc.status_code)
    return resp
