"""The HMAC-SHA256 signature an SMS gateway and the server put on each other's requests.

Header ``X-Peacewatch-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>``, the same form
GitHub uses for webhooks, which most gateway apps and relays can produce.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Peacewatch-Signature"
GATEWAY_HEADER = "X-Peacewatch-Gateway"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def valid(secret: str, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(sign(secret, body), header.strip())  # type: ignore[union-attr]
