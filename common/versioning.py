"""Version identity: the canonical JSON of a report version and its content hash.

A version id is the SHA-256 (hex) of ``canonical_json({"body", "parents" (sorted), "device"})``.
The same edit therefore gets the same id on the tablet and on the server, and pushing it
twice stores it once; listing parents in another order changes nothing.

The canonical form is defined by the standard library's ``json.dumps`` (sorted keys, no spaces,
UTF-8, NaN/Infinity refused); see docs/sync-protocol.md. Where orjson is installed (the server)
it writes the same bytes several times faster for JSON data; it is used only when no float in
the value is one the two write differently (exponent forms, NaN, Infinity), and anything orjson
refuses goes to the standard library too (tests/common/test_versioning.py proves the bytes equal).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

try:  # the server has orjson; the tablet app does not need it
    import orjson
except ImportError:  # pragma: no cover - exercised on the tablet
    orjson = None  # type: ignore[assignment]

# Subclasses (e.g. enums of str/int), datetimes and dataclasses are not JSON data: orjson would
# write them its own way, the standard library refuses or writes them otherwise.
_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS) if orjson is not None else 0


def _stdlib_canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def _floats_written_alike(obj: Any) -> bool:
    """Whether every float in ``obj`` is one orjson writes as the standard library does.

    Python writes a float in exponent form below 1e-4 and from 1e16 on ("1e-05"), orjson
    differently ("0.00001"); NaN and Infinity are refused by one and written as null by the other.
    Every other float is written with the same shortest round-trip digits by both.
    """
    stack = [obj]
    while stack:
        o = stack.pop()
        t = type(o)
        if t is dict:
            stack.extend(o.values())
        elif t is list or t is tuple:
            stack.extend(o)
        elif t is float:
            text = float.__repr__(o)
            if "e" in text or "n" in text:  # 1e-05, 1e+16, nan, inf
                return False
    return True


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces; NaN/Infinity refused (not JSON)."""
    if orjson is not None and _floats_written_alike(obj):
        try:
            return orjson.dumps(obj, option=_ORJSON_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            pass  # e.g. an integer beyond 64 bits, a lone surrogate, a non-string key
    return _stdlib_canonical_json(obj)


def version_id(body: dict[str, Any], parents: list[str], device_id: str) -> str:
    """SHA-256 hex of the canonical JSON of ``{"body", "parents" (sorted), "device"}``."""
    payload = {"body": body, "parents": sorted(parents), "device": device_id}
    return hashlib.sha256(canonical_json(payload)).hexdigest()
