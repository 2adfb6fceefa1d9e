"""Version identity: the canonical JSON of a report version and its content hash.

A version id is the SHA-256 (hex) of ``canonical_json({"body", "parents" (sorted), "device"})``.
The same edit therefore gets the same id on the tablet and on the server, and pushing it
twice stores it once; listing parents in another order changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces; NaN/Infinity refused (not JSON)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def version_id(body: dict[str, Any], parents: list[str], device_id: str) -> str:
    """SHA-256 hex of the canonical JSON of ``{"body", "parents" (sorted), "device"}``."""
    payload = {"body": body, "parents": sorted(parents), "device": device_id}
    return hashlib.sha256(canonical_json(payload)).hexdigest()
