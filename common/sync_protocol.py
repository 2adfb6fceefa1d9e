"""Sync protocol v1's messages, defined once: push entry, push result, pull change, and their codes.

The server validates and documents its sync answers with these models (``server/sync``), the
tablet builds its push entries from them and reads results and changes by their names
(``mobile/core/sync_wire.py``), and ``docs/sync-protocol.md`` is checked against the catalogue
below. The prose around them is in that document.

Codes a push result can carry are in ONE catalogue, :data:`REJECTIONS`: each says whether the
client should keep the version and send it again later (``retryable``) and what it means. The
answer's own ``retryable`` flag is computed from it on the server; a client reading an older
server that omits the flag falls back to :func:`is_retryable`.

Pull changes are a tagged union on ``kind``. A client must skip kinds it does not know, so the
server can add kinds later; :data:`CHANGE_KINDS` lists the ones this version knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "CHANGE_KINDS",
    "DEFAULT_PULL_LIMIT",
    "MAX_PARENTS",
    "MAX_PULL_LIMIT",
    "MAX_PUSH_BATCH",
    "REJECTIONS",
    "RETRYABLE",
    "ChangeKind",
    "CommentChange",
    "FieldProblem",
    "IncidentChange",
    "PullChange",
    "PullPage",
    "PushAnswer",
    "PushEntry",
    "PushRequest",
    "PushResult",
    "PushStatus",
    "ReferenceChange",
    "RejectionCode",
    "RejectionInfo",
    "ReviewChange",
    "VersionChange",
    "is_retryable",
]

MAX_PUSH_BATCH = 500  # versions per push request
MAX_PARENTS = 64  # parents per version
DEFAULT_PULL_LIMIT = 200
MAX_PULL_LIMIT = 1000

SHA256 = r"^[0-9a-f]{64}$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


# ----- push ------------------------------------------------------------------------------------
class PushStatus(StrEnum):
    """What happened to one pushed version."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class RejectionCode(StrEnum):
    """Why one pushed version was refused (the batch itself was accepted)."""

    MISSING_PARENT = "missing_parent"
    INVALID_REPORT = "invalid_report"
    ID_MISMATCH = "id_mismatch"
    VERSION_ID_MISMATCH = "version_id_mismatch"
    DEVICE_MISMATCH = "device_mismatch"
    UNKNOWN_CONTINGENT = "unknown_contingent"
    FORBIDDEN = "forbidden"
    CONTINGENT_CHANGED = "contingent_changed"
    CONFIDENTIALITY_WIDENED = "confidentiality_widened"
    HIDDEN_FIELDS = "hidden_fields"


@dataclass(frozen=True)
class RejectionInfo:
    """One entry of the rejection catalogue."""

    retryable: bool  # True: sending something else first cures it; keep the version pending
    meaning: str


#: The rejection catalogue: every code a push result can carry, whether it is retryable, what it means.
REJECTIONS: dict[RejectionCode, RejectionInfo] = {
    RejectionCode.MISSING_PARENT: RejectionInfo(
        True, "a parent is not on the server yet (or a first version names parents); push the parent, then this"),
    RejectionCode.INVALID_REPORT: RejectionInfo(
        False, "the body fails the schema; `field` is `body.<path>`, `errors` lists every problem"),
    RejectionCode.ID_MISMATCH: RejectionInfo(False, "`body.id` differs from `report_id`"),
    RejectionCode.VERSION_ID_MISMATCH: RejectionInfo(
        False, "`version_id` is not the hash of body, parents and the authenticated device"),
    RejectionCode.DEVICE_MISMATCH: RejectionInfo(False, "the entry's `device_id` is not the authenticated device"),
    RejectionCode.UNKNOWN_CONTINGENT: RejectionInfo(False, "`body.contingent` does not exist"),
    RejectionCode.FORBIDDEN: RejectionInfo(
        False, "reporting for another contingent, or editing a report you may not read"),
    RejectionCode.CONTINGENT_CHANGED: RejectionInfo(False, "a report stays with the contingent that first filed it"),
    RejectionCode.CONFIDENTIALITY_WIDENED: RejectionInfo(
        False, "only the report's author, its reviewers and the protection team may lower its confidentiality"),
    RejectionCode.HIDDEN_FIELDS: RejectionInfo(
        False, "the version would change or drop names the writer cannot see (the parents disagree on them, or a "
               "hidden person is removed or overwritten)"),
}

#: The codes that mean "not yet": the client keeps the version and sends it again later.
RETRYABLE: frozenset[str] = frozenset(code.value for code, info in REJECTIONS.items() if info.retryable)


def is_retryable(code: str | None) -> bool:
    """Whether a rejection with ``code`` should stay pending (unknown codes: no)."""
    return code in RETRYABLE


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _utc(value: datetime) -> datetime:
    """An aware time in UTC; refused when converting leaves the years 1 to 9999 (never a server error)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None


class PushEntry(_Message):
    """One version in a push: its report, its content-hash id, its parents and the report body."""

    report_id: str = Field(pattern=UUID, description="The report's client-made UUID (equals body.id)")
    version_id: str = Field(pattern=SHA256, description="version_id(body, parents, device) as lowercase hex")
    parents: list[Annotated[str, Field(pattern=SHA256)]] = Field(default_factory=list, max_length=MAX_PARENTS)
    body: dict[str, Any] = Field(description="The report body (docs/sync-protocol.md, 'The report body')")
    device_time: Annotated[AwareDatetime, AfterValidator(_utc)] | None = Field(
        default=None, description="The tablet's clock when the version was saved; kept, never used for order")
    device_id: str | None = Field(
        default=None, max_length=80,
        description="Optional: the device the client computed version_id with; must be the authenticated one")


class PushRequest(_Message):
    """``POST /sync/push``'s body."""

    versions: list[PushEntry] = Field(max_length=MAX_PUSH_BATCH,
                                      description=f"At most {MAX_PUSH_BATCH} versions, in any order")


class FieldProblem(BaseModel):
    """One invalid field of a rejected report body."""

    field: str
    code: str
    message: str


class PushResult(BaseModel):
    """The answer for one pushed version (keys absent where they do not apply)."""

    version_id: str
    report_id: str
    status: PushStatus
    retryable: bool = Field(description="True only for a rejection the client cures by sending something first")
    seq: int | None = Field(default=None, description="stored: the version's place in the change feed")
    in_conflict: bool | None = Field(default=None, description="stored: the report now has several heads")
    code: RejectionCode | None = Field(default=None, description="rejected: why (the rejection catalogue)")
    field: str | None = Field(default=None, description="rejected: the offending field, dotted")
    reason: str | None = Field(default=None, description="rejected: plain words for the user")
    errors: list[FieldProblem] | None = Field(default=None, description="rejected: every invalid field")


class PushAnswer(BaseModel):
    """``POST /sync/push``'s answer: one result per entry, in input order."""

    results: list[PushResult]
    last_seq: int = Field(description="The feed's newest seq after the batch (informational)")


# ----- pull ------------------------------------------------------------------------------------
class ChangeKind(StrEnum):
    """The kinds of change the feed sends (clients skip any other)."""

    VERSION = "version"
    REVIEW = "review"
    COMMENT = "comment"
    REFERENCE = "reference"
    INCIDENT = "incident"


CHANGE_KINDS: frozenset[str] = frozenset(k.value for k in ChangeKind)


class _Change(BaseModel):
    seq: int = Field(description="The change's place in the server's order")


class VersionChange(_Change):
    """A stored version of a report, its body redacted for the caller."""

    kind: Literal["version"] = "version"
    report_id: str
    version_id: str
    parents: list[str]
    body: dict[str, Any]
    author: str | None = Field(description="The username that pushed it")
    device_id: str | None = Field(description="The device that made it; null for a web or API edit")
    received_at: str | None = None


class ReviewChange(_Change):
    """An HQ review decision on a report."""

    kind: Literal["review"] = "review"
    report_id: str
    status: str | None
    comment: str = ""
    by: str | None = None
    at: str | datetime | None = None


class CommentChange(_Change):
    """A comment on a report; its ``seq`` is its identity."""

    kind: Literal["comment"] = "comment"
    report_id: str
    text: str | None
    by: str | None = None
    at: str | datetime | None = None


class ReferenceChange(_Change):
    """A reference-data item written or deleted (``item.deleted``), as ``GET /reference`` shows it."""

    kind: Literal["reference"] = "reference"
    item: dict[str, Any] | None


class IncidentChange(_Change):
    """A duplicate-incident decision; its other keys are the duplicates domain's and passed through."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["incident"] = "incident"
    report_id: str | None = None


PullChange = Annotated[
    VersionChange | ReviewChange | CommentChange | ReferenceChange | IncidentChange, Field(discriminator="kind")]


class PullPage(BaseModel):
    """``GET /sync/pull``'s answer."""

    changes: list[PullChange]
    next: int = Field(description="The last seq examined: pull again with since=next")
    more: bool = Field(description="True while there is more to examine; false means up to date")
