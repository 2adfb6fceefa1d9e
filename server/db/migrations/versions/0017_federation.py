"""Federation: a sector server's contingents on the mission server; versions a sector has sent upstream.

Revision ID: 0017_federation
Revises: 0016_tasks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from peacewatch.server.db.types import UTCDateTime

revision = '0017_federation'
down_revision = '0016_tasks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sector_contingents',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('contingent_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sector_contingents_user_id_users')),
        sa.ForeignKeyConstraint(['contingent_id'], ['contingents.id'],
                                name=op.f('fk_sector_contingents_contingent_id_contingents')),
        sa.PrimaryKeyConstraint('user_id', 'contingent_id', name=op.f('pk_sector_contingents')),
    )
    op.create_table(
        'federation_sent',
        sa.Column('version_id', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('refused', sa.Text(), nullable=True),
        sa.Column('sent_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('version_id', name=op.f('pk_federation_sent')),
    )
    op.create_index(op.f('ix_federation_sent_seq'), 'federation_sent', ['seq'])
    op.create_table(
        'federation_files',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_federation_files')),
    )


def downgrade() -> None:
    op.drop_table('federation_files')
    op.drop_index(op.f('ix_federation_sent_seq'), table_name='federation_sent')
    op.drop_table('federation_sent')
    op.drop_table('sector_contingents')
