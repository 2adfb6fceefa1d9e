"""Sharing agreements with partners: the agreement (partner, current version, key hash) and its versions.

Revision ID: 0012_sharing
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from peacewatch.server.db.types import UTCDateTime

revision = '0012_sharing'
down_revision = '0010_community'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sharing_agreements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partner', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('revoked', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_agreements')),
        sa.UniqueConstraint('partner', name=op.f('uq_sharing_agreements_partner')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_sharing_agreements_key_hash')),
    )
    op.create_table(
        'sharing_agreement_versions',
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('policy', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('approved_by', sa.String(length=64), nullable=True),
        sa.Column('approved_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['agreement_id'], ['sharing_agreements.id'],
                                name=op.f('fk_sharing_agreement_versions_agreement_id_sharing_agreements')),
        sa.PrimaryKeyConstraint('agreement_id', 'version', name=op.f('pk_sharing_agreement_versions')),
    )


def downgrade() -> None:
    op.drop_table('sharing_agreement_versions')
    op.drop_table('sharing_agreements')
