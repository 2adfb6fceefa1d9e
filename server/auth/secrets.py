"""Hashing of passwords (Argon2id) and of high-entropy secrets (tokens, device credentials, codes).

Passwords are low-entropy, so they get Argon2id. Tokens, device credentials and enrolment codes
are random and long, so a plain SHA-256 is enough to keep them useless if the database leaks, and
lets the server find them by hash in one indexed lookup.
"""

from __future__ import annotations

import hashlib
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile. The test suite creates
# hundreds of users, so it may ask for the cheapest valid parameters; production never should.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    if os.environ.get("PEACEWATCH_PASSWORD_HASH_COST") == "test"
    else PasswordHasher()
)

# Enrolment codes are typed by hand from a screen: no 0/O or 1/I/L to confuse.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_enrolment_code() -> str:
    """Twelve characters (~59 bits) in groups of four, e.g. ``K7QM-2XPA-9RTD``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalise_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
