"""Longer than 500 lines because it is the one schema Alembic compares the migrations with: every
table of every domain in one place, each a plain declaration.

Every server table, as SQLAlchemy Core.

Append-only tables (``versions``, ``changes``, ``audit_log``, ``reviews``, ``comments``) are never
updated in place; ``reports`` and ``report_heads`` are projections derived from versions and may be
rebuilt from them at any time. The Alembic migrations must match this module (tested).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .types import JSONType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only autoincrements INTEGER primary keys; PostgreSQL wants BIGINT for the feeds.
SeqInt = BigInteger().with_variant(Integer(), "sqlite")

contingents = Table(
    "contingents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("country", String(100), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("contingent_id", Integer, ForeignKey("contingents.id"), nullable=True),
    Column("language", String(8), nullable=False, server_default="en"),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    # TOTP two-factor sign-in (server/auth/two_factor.py): the active secret (base32), a secret
    # being enrolled (active once a code from it is confirmed), and the last time step accepted
    # (a code is good once: replaying an observed code is refused).
    Column("totp_secret", String(64), nullable=True),
    Column("totp_pending_secret", String(64), nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    # A session of a user whom the mission requires to use two-factor sign-in and who has not
    # enrolled yet: it may only enrol (Permission.SIGN_IN) until a TOTP code is confirmed.
    Column("two_factor_pending", Boolean, nullable=False, server_default="0"),
)

# Single-use recovery codes for two-factor sign-in, stored as SHA-256 (they are random, ~60 bits).
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

# Failed sign-ins per (username, client address): the delay before the next attempt from that
# address grows with each failure; another address (the real user) is not slowed.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("label", String(200), nullable=False, server_default=""),
    Column("credential_hash", String(64), nullable=False, unique=True),
    Column("enrolled_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_seen_at", UTCDateTime, nullable=True),
    # Marked lost by an administrator: its next request is answered device_wiped (it destroys its store).
    Column("lost_at", UTCDateTime, nullable=True),
)

enrolment_codes = Table(
    "enrolment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("device_id", String(36), nullable=True),
)

# The change feed: every stored change gets a server sequence number here. Devices pull by it.
changes = Table(
    "changes",
    metadata,
    Column("seq", SeqInt, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("report_id", String(36), nullable=True, index=True),
    Column("ref", String(128), nullable=True),
    Column("contingent_id", Integer, nullable=True),
    Column("confidentiality", String(16), nullable=True),
    Column("author_user_id", Integer, nullable=True),
    Column("device_id", String(36), nullable=True),
    Column("payload", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("version_id", String(64), primary_key=True),
    Column("report_id", String(36), nullable=False, index=True),
    Column("parents", JSONType, nullable=False),
    Column("body", JSONType, nullable=False),
    Column("author_user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("device_id", String(36), nullable=True),
    Column("device_time", UTCDateTime, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("seq", SeqInt, nullable=False, index=True),
    # The body as the schema normalises it, only where that differs from the body as pushed
    # (which the version id hashes): the projection reads it instead of validating again.
    Column("canonical", JSONType, nullable=True),
)

# Projection of each report's current state, rebuilt from its heads by a feed consumer
# (reports/projection.py) right after every commit that stored a version.
reports = Table(
    "reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("category", String(64), nullable=False, index=True),
    Column("contingent_id", Integer, ForeignKey("contingents.id"), nullable=False, index=True),
    Column("author_user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("confidentiality", String(16), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("event_time", UTCDateTime, nullable=False, index=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    # The H3 cell (v4, integer form) of lat/lon at resolution 8, the hotspot grid's default, so
    # hotspot maps aggregate in SQL instead of binning every point per request.
    Column("h3_res8", BigInteger, nullable=True),
    Column("title", Text, nullable=False, server_default=""),
    Column("body", JSONType, nullable=False),
    Column("head_version_id", String(64), nullable=False),
    Column("heads_count", Integer, nullable=False),
    Column("review_status", String(32), nullable=False, server_default="unreviewed"),
    Column("incident_id", String(36), nullable=True, index=True),
    Column("first_seq", SeqInt, nullable=False),
    Column("last_seq", SeqInt, nullable=False, index=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_reports_lat_lon", reports.c.lat, reports.c.lon)
# Covers the hotspot count (GROUP BY h3_res8 under the access clause and the usual filters), so
# the database reads this index instead of every report row with its body.
Index(
    "ix_reports_hotspots",
    reports.c.h3_res8,
    reports.c.kind,
    reports.c.confidentiality,
    reports.c.author_user_id,
    reports.c.contingent_id,
    reports.c.event_time,
    reports.c.category,
    reports.c.lat,
    reports.c.lon,
)

report_heads = Table(
    "report_heads",
    metadata,
    Column("report_id", String(36), primary_key=True),
    Column("version_id", String(64), primary_key=True),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", String(36), ForeignKey("reports.id"), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seq", SeqInt, nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", String(36), ForeignKey("reports.id"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seq", SeqInt, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    Column("ts", UTCDateTime, nullable=False),
    Column("actor_user_id", Integer, nullable=True),
    Column("actor", String(64), nullable=False, server_default=""),
    Column("device_id", String(36), nullable=True),
    Column("action", String(64), nullable=False, index=True),
    Column("target", String(200), nullable=False, server_default=""),
    Column("detail", JSONType, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

chunks = Table(
    "chunks",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("chunks", JSONType, nullable=False),
    Column("uploaded_by", Integer, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Which reports reference which attachment: reading an attachment needs read access to one of them.
report_attachments = Table(
    "report_attachments",
    metadata,
    Column("report_id", String(36), primary_key=True),
    Column("sha256", String(64), primary_key=True, index=True),
)

# Possession: who sent a chunk's bytes, who committed a file. Content addressing dedupes storage,
# never possession: a caller holds a chunk or file only by sending it (see attachments.service).
chunk_holders = Table(
    "chunk_holders",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
)

attachment_holders = Table(
    "attachment_holders",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
)

# Which version references which file, at the version's own confidentiality. A reference grants a
# download only when legitimate: its writer holds the file, or could read it when pushing (``granted``).
version_attachments = Table(
    "version_attachments",
    metadata,
    Column("version_id", String(64), primary_key=True),
    Column("sha256", String(64), primary_key=True, index=True),
    Column("report_id", String(36), nullable=False, index=True),
    Column("confidentiality", String(16), nullable=False),
    Column("writer_user_id", Integer, nullable=False),
    Column("granted", Boolean, nullable=False),
)

# Reference data pulled by devices: place names, sensitive sites, the mission area, boundaries.
reference_items = Table(
    "reference_items",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("names", JSONType, nullable=False),
    Column("geometry", JSONType, nullable=False),
    Column("properties", JSONType, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("seq", SeqInt, nullable=False),
)

duplicate_proposals = Table(
    "duplicate_proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_a", String(36), nullable=False, index=True),
    Column("report_b", String(36), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("reasons", JSONType, nullable=False),
    Column("status", String(16), nullable=False, server_default="proposed"),
    Column("incident_id", String(36), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", Integer, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    UniqueConstraint("report_a", "report_b"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("values", JSONType, nullable=False),
    Column("created_by", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("seq", SeqInt, nullable=False),
)

incident_sources = Table(
    "incident_sources",
    metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("report_id", String(36), primary_key=True, index=True),
)

# Key/value facts about the store itself (e.g. the seed's mission name).
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSONType, nullable=False),
)

# Base maps (server/basemaps): each name points at one immutable MBTiles file in the data dir,
# named by its SHA-256, so a re-import swaps the row and never rewrites a file being served.
basemaps = Table(
    "basemaps",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("file", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(8), nullable=False),
    Column("minzoom", Integer, nullable=False),
    Column("maxzoom", Integer, nullable=False),
    Column("bounds", JSONType, nullable=False),
    Column("center", JSONType, nullable=False),
    Column("tile_count", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("attribution", String(500), nullable=False, server_default=""),
    Column("imported_at", UTCDateTime, nullable=False),
)

# A contingent's area of responsibility: the part of a base map its tablets carry offline.
contingent_areas = Table(
    "contingent_areas",
    metadata,
    Column("contingent_id", Integer, ForeignKey("contingents.id"), primary_key=True),
    Column("bounds", JSONType, nullable=False),
    Column("minzoom", Integer, nullable=False),
    Column("maxzoom", Integer, nullable=False),
    Column("max_bytes", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# -- early warning (server/alerts) ------------------------------------------------------------------
# Rules that turn a report, or a cluster of reports, into an alert. Deleting a rule only disables
# it (``deleted_at``), so the alerts it raised keep naming it.
alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("conditions", JSONType, nullable=False),
    Column("audience", JSONType, nullable=False),
    Column("escalation", JSONType, nullable=False),
    Column("shareable", Boolean, nullable=False, server_default="0"),
    Column("created_by", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
)

# One alert per (rule, trigger): the unique constraint is what makes raising exactly-once however
# many workers or replays see the same version.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id"), nullable=False, index=True),
    Column("trigger_key", String(200), nullable=False),
    # The most restrictive level of the triggering versions when raised: a restricted origin keeps
    # the alert restricted even if its report is downgraded later.
    Column("confidentiality", String(16), nullable=False),
    Column("status", String(16), nullable=False, server_default="new"),
    Column("level", Integer, nullable=False, server_default="0"),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("event_time", UTCDateTime, nullable=True),
    Column("raised_seq", SeqInt, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False, index=True),
    Column("acknowledged_by", Integer, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("first_action_at", UTCDateTime, nullable=True),
    Column("closed_by", Integer, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("outcome", Text, nullable=True),
    UniqueConstraint("rule_id", "trigger_key"),
)

# The reports an alert names: an alert is readable only by those who may read every one of them.
alert_reports = Table(
    "alert_reports",
    metadata,
    Column("alert_id", Integer, primary_key=True),
    Column("report_id", String(36), primary_key=True, index=True),
)

# Whom an alert is addressed to (role, contingent code or '*'), grown by escalation.
alert_recipients = Table(
    "alert_recipients",
    metadata,
    Column("alert_id", Integer, primary_key=True),
    Column("role", String(32), primary_key=True),
    Column("contingent", String(32), primary_key=True),
    Column("level", Integer, nullable=False),
)

alert_actions = Table(
    "alert_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("user_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Every change of every alert, in order: the live stream's resumable log (Last-Event-ID).
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", SeqInt, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("type", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(500), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
)

def delivery_columns() -> list[Column[Any]]:
    """The columns of an outbox of signed deliveries to partner systems, retried with backoff
    (``alerts.webhooks.after_attempt`` writes them): fresh objects for each table."""
    return [
        Column("status", String(16), nullable=False, server_default="pending"),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("next_attempt_at", UTCDateTime, nullable=False, index=True),
        Column("last_status", Integer, nullable=True),
        Column("last_error", Text, nullable=True),
        Column("delivered_at", UTCDateTime, nullable=True),
        Column("created_at", UTCDateTime, nullable=False),
    ]


# The outbox of webhook deliveries, written in the transaction that raised the alert, so nothing
# is lost across a restart; one row per (endpoint, event).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("endpoint_id", Integer, ForeignKey("webhook_endpoints.id"), nullable=False, index=True),
    Column("event_id", BigInteger, nullable=False),
    Column("payload", JSONType, nullable=False),
    *delivery_columns(),
    UniqueConstraint("endpoint_id", "event_id"),
)

# -- community alerts (server/community) -------------------------------------------------------------
# SMS gateways allowed to post to the intake; the shared HMAC secret is kept encrypted with the
# mission key (it must be read back to check signatures, so it cannot be hashed).
community_gateways = Table(
    "community_gateways",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("secret_enc", Text, nullable=False),
    Column("outbound_url", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Alternate spellings of gazetteer places, added by admins, matched beside the place's names.
community_place_aliases = Table(
    "community_place_aliases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference_id", String(64), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("reference_id", "name"),
)

# One alert from a community (a call logged by a liaison, or an SMS). Caller identity columns hold
# AES-GCM ciphertext under the mission key and are emptied by the retention purge; ``caller_key``
# is a keyed hash of the phone number (throttling and "same sender" without decrypting).
community_alerts = Table(
    "community_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(16), nullable=False),
    Column("gateway_id", Integer, ForeignKey("community_gateways.id"), nullable=True),
    Column("message_id", String(200), nullable=True),
    Column("caller_phone_enc", Text, nullable=True),
    Column("caller_name_enc", Text, nullable=True),
    Column("caller_relationship_enc", Text, nullable=True),
    Column("caller_key", String(64), nullable=True, index=True),
    Column("caller_language", String(8), nullable=False, server_default="en"),
    Column("text", Text, nullable=False),
    Column("place_text", String(200), nullable=False, server_default=""),
    Column("candidates", JSONType, nullable=False),
    Column("place_id", String(64), nullable=True),
    Column("category", String(64), nullable=True),
    Column("urgency", Integer, nullable=False, server_default="3"),
    Column("event_time", UTCDateTime, nullable=True),
    Column("how_known", String(32), nullable=False, server_default="unknown"),
    Column("status", String(16), nullable=False, server_default="triage", index=True),
    Column("throttled", Boolean, nullable=False, server_default="0"),
    Column("dismiss_reason", Text, nullable=True),
    Column("report_id", String(36), nullable=True),
    Column("linked_report_id", String(36), nullable=True),
    Column("linked_incident_id", String(36), nullable=True),
    Column("contingent_id", Integer, nullable=True),
    Column("logged_by", Integer, nullable=True),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("identity_purged_at", UTCDateTime, nullable=True),
    UniqueConstraint("gateway_id", "message_id"),
)

# Messages to callers through their gateway's outbound side, retried until delivered.
community_outbox = Table(
    "community_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("community_alert_id", Integer, ForeignKey("community_alerts.id"), nullable=False, index=True),
    Column("gateway_id", Integer, ForeignKey("community_gateways.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("to_enc", Text, nullable=True),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending", index=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    UniqueConstraint("community_alert_id", "kind"),
)

# Sharing agreements (server/sharing): one row per partner, its current policy version and key.
sharing_agreements = Table(
    "sharing_agreements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partner", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default="0"),
    # SHA-256 of the partner's API key (random, high entropy: see auth.secrets.digest).
    Column("key_hash", String(64), nullable=True, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Push delivery (server/sharing/push.py): the partner's endpoint, its signing secret (encrypted
    # with the mission key: it must be read back to sign, so it cannot be hashed) and the feed
    # position delivered up to. No URL: the partner only pulls.
    Column("push_url", String(2000), nullable=True),
    Column("push_secret_enc", String(400), nullable=True),
    Column("push_cursor", BigInteger, nullable=False, server_default="0"),
)

# Pages pushed to partners' endpoints: one row per page, sent and retried by the push worker.
# status: pending, delivered, or cancelled (the agreement was revoked or changed, or its endpoint).
sharing_deliveries = Table(
    "sharing_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agreement_id", Integer, ForeignKey("sharing_agreements.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("cursor", BigInteger, nullable=False),
    Column("next_cursor", BigInteger, nullable=False),
    Column("payload", JSONType, nullable=False),
    *delivery_columns(),
)

# Every version of every agreement's policy, never updated except to record its approval.
sharing_agreement_versions = Table(
    "sharing_agreement_versions",
    metadata,
    Column("agreement_id", Integer, ForeignKey("sharing_agreements.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("policy", JSONType, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", UTCDateTime, nullable=True),
)

# Saved filters of the reports list (server/saved_filters): a user's named query strings. A saved
# filter reveals nothing by itself; the list it opens is read under the access policy.
saved_filters = Table(
    "saved_filters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("query", String(4000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name"),
)

# Tasks (server/tasks): HQ's and commanders' requests to patrols, with their place and assignee.
# ``status`` is derived from ``task_events`` in server order (``tasks.service.fold``) and kept here
# only so lists and the board can filter in SQL; the events are the record.
tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("instructions", Text, nullable=False, server_default=""),
    Column("priority", String(8), nullable=False, server_default="normal"),
    Column("place", JSONType, nullable=True),  # a GeoJSON geometry: Point, LineString or Polygon
    Column("lat", Float, nullable=True),  # the place's representative point, for maps
    Column("lon", Float, nullable=True),
    Column("window_start", UTCDateTime, nullable=True),
    Column("window_end", UTCDateTime, nullable=True),
    Column("contingent_id", Integer, ForeignKey("contingents.id"), nullable=True, index=True),
    Column("assignee_user_id", Integer, ForeignKey("users.id"), nullable=True, index=True),
    Column("report_id", String(36), nullable=True, index=True),  # the report it is about: read policy
    Column("source_kind", String(32), nullable=False, server_default="manual"),
    Column("source_ref", String(64), nullable=True),
    Column("cells", JSONType, nullable=True),  # H3 cells of a coverage gap or hot spot (hex strings)
    Column("status", String(16), nullable=False, server_default="open", index=True),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
)

# What happened to a task, from the tablets (client-made ``event_id``: stored once) and from HQ.
task_events = Table(
    "task_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", Integer, ForeignKey("tasks.id"), nullable=False, index=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("status", String(16), nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("report_id", String(36), nullable=True),
    Column("device_time", UTCDateTime, nullable=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("device_id", String(36), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("seq", SeqInt, nullable=False),
)

# Follow-up of a human-rights concern: read and written by the protection team only.
case_followups = Table(
    "case_followups",
    metadata,
    Column("report_id", String(36), ForeignKey("reports.id"), primary_key=True),
    Column("case_status", String(32), nullable=False),
    Column("next_action", Text, nullable=False, server_default=""),
    Column("due_date", String(10), nullable=True),  # ISO date: a due day, not an instant
    Column("officer_user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("updated_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Federation (server/federation). On the mission server: the contingents a sector server (a user
# of role ``sector``) reads and writes for. On a sector server: the versions it has sent upstream
# (stored or already there, or refused for good with the reason) and the files it has uploaded,
# so each goes up exactly once.
sector_contingents = Table(
    "sector_contingents",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("contingent_id", Integer, ForeignKey("contingents.id"), primary_key=True),
)

federation_files = Table(
    "federation_files",
    metadata,
    Column("sha256", String(64), primary_key=True),  # an attachment the mission has committed
    Column("uploaded_at", UTCDateTime, nullable=False),
)

federation_sent = Table(
    "federation_sent",
    metadata,
    Column("version_id", String(64), primary_key=True),
    Column("seq", SeqInt, nullable=False, index=True),  # its place in this server's feed
    Column("refused", Text, nullable=True),
    Column("sent_at", UTCDateTime, nullable=False),
)
