"""Push delivery of sharing agreements: a partner's endpoint, its secret and cursor, and the deliveries.

Revision ID: 0015_sharing_delivery
Revises: 0014_saved_filters
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from peacewatch.server.db.types import UTCDateTime

revision = '0015_sharing_delivery'
down_revision = '0014_saved_filters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite cannot add columns with constraints in place; PostgreSQL alters directly.
    with op.batch_alter_table('sharing_agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('push_url', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('push_secret_enc', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('push_cursor', sa.BigInteger(), server_default='0', nullable=False))
    op.create_table(
        'sharing_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('cursor', sa.BigInteger(), nullable=False),
        sa.Column('next_cursor', sa.BigInteger(), nullable=False),
        sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
        sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('delivered_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agreement_id'], ['sharing_agreements.id'],
                                name=op.f('fk_sharing_deliveries_agreement_id_sharing_agreements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_deliveries')),
    )
    with op.batch_alter_table('sharing_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_deliveries_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharing_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sharing_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_deliveries_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_sharing_deliveries_agreement_id'))
    op.drop_table('sharing_deliveries')
    with op.batch_alter_table('sharing_agreements', schema=None) as batch_op:
        batch_op.drop_column('push_cursor')
        batch_op.drop_column('push_secret_enc')
        batch_op.drop_column('push_url')
