"""Enrolment: trading a one-time code for this tablet's device credential (``POST /devices/enrol``).

A code works once: a second enrolment with the same code is refused (``enrolment_code_invalid``),
so the result must be stored at once (``ui/session.py`` does).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.sync_wire import API, decode_object
from peacewatch.mobile.core.transport import Transport

__all__ = ["EnrolResult", "enrol"]


@dataclass(frozen=True)
class EnrolResult:
    """What enrolment hands the tablet: its device id, its credential and the user it acts as."""

    device_id: str
    credential: str
    username: str
    role: str = ""
    contingent: str = ""
    recovery_public_key: str = ""  # PEM, from servers that offer PIN recovery
    photo_metadata: str = "strip_except_protection"  # the mission's policy (common/media_metadata.py)


def enrol(
    session: Any, base_url: str, *, code: str, label: str = "", verify: str | os.PathLike[str] | bool = True,
    timeout: float = 30.0,
) -> EnrolResult:
    """Trade a one-time enrolment code for this tablet's device credential.

    The returned ``device_id`` must become the local store's device id before any report is
    finalised: it is part of every version id, and the server recomputes ids with it.
    """
    if not code:
        raise InvalidInput("code", "must not be empty")
    transport = Transport(session, base_url, verify=verify)
    response = transport.request(
        "POST", f"{API}/devices/enrol", content=json.dumps({"code": code, "label": label}).encode(),
        headers={"Content-Type": "application/json"}, timeout=timeout,
    )
    data = decode_object(response.content)
    if response.status_code != 201:
        raise InvalidInput("code", str(data.get("message") or data.get("error") or response.status_code))
    return EnrolResult(device_id=data["device_id"], credential=data["credential"], username=data["username"],
                       role=str(data.get("role") or ""), contingent=str(data.get("contingent") or ""),
                       recovery_public_key=str(data.get("recovery_public_key") or ""),
                       photo_metadata=str(data.get("photo_metadata") or "strip_except_protection"))
