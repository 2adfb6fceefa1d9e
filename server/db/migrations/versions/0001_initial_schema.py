"""Initial schema: people, devices, versions, the change feed, audit log, attachments, reference data, duplicates.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import peacewatch.server.db.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ts', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), server_default='', nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), server_default='', nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)

    op.create_table('changes',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=True),
    sa.Column('ref', sa.String(length=128), nullable=True),
    sa.Column('contingent_id', sa.Integer(), nullable=True),
    sa.Column('confidentiality', sa.String(length=16), nullable=True),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_changes'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_changes_report_id'), ['report_id'], unique=False)

    op.create_table('chunks',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_chunks'))
    )
    op.create_table('contingents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=100), server_default='', nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contingents')),
    sa.UniqueConstraint('code', name=op.f('uq_contingents_code'))
    )
    op.create_table('duplicate_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_a', sa.String(length=36), nullable=False),
    sa.Column('report_b', sa.String(length=36), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='proposed', nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_proposals')),
    sa.UniqueConstraint('report_a', 'report_b', name=op.f('uq_duplicate_proposals_report_a_report_b'))
    )
    with op.batch_alter_table('duplicate_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_proposals_report_a'), ['report_a'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_proposals_report_b'), ['report_b'], unique=False)

    op.create_table('incident_sources',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('incident_id', 'report_id', name=op.f('pk_incident_sources'))
    )
    with op.batch_alter_table('incident_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_sources_report_id'), ['report_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('values', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('reference_items',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('names', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('geometry', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('properties', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('updated_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_items'))
    )
    with op.batch_alter_table('reference_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reference_items_kind'), ['kind'], unique=False)

    op.create_table('report_attachments',
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('report_id', 'sha256', name=op.f('pk_report_attachments'))
    )
    with op.batch_alter_table('report_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_attachments_sha256'), ['sha256'], unique=False)

    op.create_table('report_heads',
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('version_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('report_id', 'version_id', name=op.f('pk_report_heads'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('contingent_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), server_default='en', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contingent_id'], ['contingents.id'], name=op.f('fk_users_contingent_id_contingents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('attachments',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('chunks', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_attachments_uploaded_by_users')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachments'))
    )
    op.create_table('devices',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), server_default='', nullable=False),
    sa.Column('credential_hash', sa.String(length=64), nullable=False),
    sa.Column('enrolled_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_devices_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('credential_hash', name=op.f('uq_devices_credential_hash'))
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_user_id'), ['user_id'], unique=False)

    op.create_table('enrolment_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_enrolment_codes_created_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enrolment_codes_user_id_users')),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_enrolment_codes'))
    )
    op.create_table('reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('contingent_id', sa.Integer(), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=False),
    sa.Column('confidentiality', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('event_time', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('title', sa.Text(), server_default='', nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('head_version_id', sa.String(length=64), nullable=False),
    sa.Column('heads_count', sa.Integer(), nullable=False),
    sa.Column('review_status', sa.String(length=32), server_default='unreviewed', nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('first_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('received_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_reports_author_user_id_users')),
    sa.ForeignKeyConstraint(['contingent_id'], ['contingents.id'], name=op.f('fk_reports_contingent_id_contingents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_contingent_id'), ['contingent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_event_time'), ['event_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_last_seq'), ['last_seq'], unique=False)
        batch_op.create_index('ix_reports_lat_lon', ['lat', 'lon'], unique=False)

    op.create_table('sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_sessions'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('versions',
    sa.Column('version_id', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('parents', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('device_time', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_versions_author_user_id_users')),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_versions'))
    )
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_versions_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_versions_seq'), ['seq'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_comments_report_id_reports')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_comments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_report_id'), ['report_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), server_default='', nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_reviews_report_id_reports')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reviews_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_report_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_report_id'))

    op.drop_table('comments')
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_versions_seq'))
        batch_op.drop_index(batch_op.f('ix_versions_report_id'))

    op.drop_table('versions')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_user_id'))

    op.drop_table('sessions')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_lat_lon')
        batch_op.drop_index(batch_op.f('ix_reports_last_seq'))
        batch_op.drop_index(batch_op.f('ix_reports_incident_id'))
        batch_op.drop_index(batch_op.f('ix_reports_event_time'))
        batch_op.drop_index(batch_op.f('ix_reports_contingent_id'))
        batch_op.drop_index(batch_op.f('ix_reports_category'))

    op.drop_table('reports')
    op.drop_table('enrolment_codes')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_user_id'))

    op.drop_table('devices')
    op.drop_table('attachments')
    op.drop_table('users')
    op.drop_table('report_heads')
    with op.batch_alter_table('report_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_attachments_sha256'))

    op.drop_table('report_attachments')
    with op.batch_alter_table('reference_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reference_items_kind'))

    op.drop_table('reference_items')
    op.drop_table('meta')
    op.drop_table('incidents')
    with op.batch_alter_table('incident_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_sources_report_id'))

    op.drop_table('incident_sources')
    with op.batch_alter_table('duplicate_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_proposals_report_b'))
        batch_op.drop_index(batch_op.f('ix_duplicate_proposals_report_a'))

    op.drop_table('duplicate_proposals')
    op.drop_table('contingents')
    op.drop_table('chunks')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_changes_report_id'))

    op.drop_table('changes')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
