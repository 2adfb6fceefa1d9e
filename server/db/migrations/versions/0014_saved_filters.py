"""Saved filters of the reports list: a user's named query strings.

Revision ID: 0014_saved_filters
Revises: 0012_sharing
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from peacewatch.server.db.types import UTCDateTime

revision = '0014_saved_filters'
# Built beside 0013_tasks (both after 0012_sharing); re-chained after it at merge.
down_revision = '0012_sharing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'saved_filters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('query', sa.String(length=4000), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_filters_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters')),
        sa.UniqueConstraint('user_id', 'name', name=op.f('uq_saved_filters_user_id_name')),
    )


def downgrade() -> None:
    op.drop_table('saved_filters')
