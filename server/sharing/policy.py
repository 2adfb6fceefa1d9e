"""What an agreement may let out, and when it needs a protection officer's approval.

The partner's record is built from an allow-list, never by removing fields from a report: a field
added to reports later stays inside the mission until an agreement names it. `ALWAYS` go (they are
what makes a record a record, and are coarsened); `OPTIONAL_FIELDS` go when the agreement lists
them. Person lists (victims, witnesses, alleged perpetrators) go only as counts; the author goes
only as the mission's pseudonymous reporter id. No username or person name is in either list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...common.taxonomy import load_taxonomy
from ..exports.records import KEYS

# Column keys of peacewatch.server.exports.records.COLUMNS (so CSV and GeoJSON share one vocabulary).
ALWAYS: tuple[str, ...] = ("id", "kind", "category", "category_code", "event_time", "lat", "lon", "precision_m")
OPTIONAL_FIELDS: tuple[str, ...] = (
    "title", "description", "severity", "killed", "injured", "abducted", "displaced", "perpetrator",
    "patrol_type", "start_time", "end_time", "route_points", "nil_report", "observations",
    "victims", "witnesses", "alleged_perpetrators", "contingent", "reporter", "language",
    "review_status", "confidentiality", "received_at", "place",
)
# Fields whose values are times, coarsened like event_time.
TIME_FIELDS = frozenset({"event_time", "start_time", "end_time", "received_at"})


def shared_columns(fields: Iterable[str]) -> tuple[str, ...]:
    """The column keys a partner receives, in the exports' column order."""
    allowed = set(ALWAYS) | set(fields)
    return tuple(k for k in KEYS if k in allowed)


def policy_columns(policy: Mapping[str, Any]) -> tuple[str, ...]:
    """The column keys a partner receives under `policy`: with admin-area precision the area's
    name (``place``) goes too, since it is what the shared location means."""
    fields = set(policy.get("fields") or ())
    if policy.get("location_precision") == "admin_area":
        fields.add("place")
    return shared_columns(fields)


def touches_human_rights(policy: dict[str, Any]) -> bool:
    """Does this policy share human-rights concerns or restricted cases, so that it needs a protection
    officer's approval? True for the human-rights kind, the restricted level, and any category that
    is restricted by default (sexual violence, child recruitment, torture...), including through
    "every category" of a kind that has such categories."""
    if "hr_concern" in policy["kinds"] or "restricted" in policy["confidentiality"]:
        return True
    taxonomy = load_taxonomy()
    codes = policy.get("categories") or [c.code for kind in policy["kinds"] for c in taxonomy.for_kind(kind)]
    return any(taxonomy.is_restricted(code) for code in codes)
