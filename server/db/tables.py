"""Every server table, as SQLAlchemy Core.

Append-only tables (``versions``, ``changes``, ``audit_log``, ``reviews``, ``comments``) are never
updated in place; ``reports`` and ``report_heads`` are projections derived from versions and may be
rebuilt from them at any time. The Alembic migrations must match this module (tested).
"""

from __future__ import annotations

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
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
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
)

# Projection of each report's current state, rebuilt from its versions after every write.
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
