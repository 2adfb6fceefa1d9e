"""Versions keep their canonical body where it differs from the pushed one; the projection's cursor.

The ``reports`` projection is now caught up from the change feed after the commit
(``reports/projection.py``) instead of inside the push, and reads each head's canonical body
from ``versions.canonical`` (NULL when the pushed body is already canonical). Reports projected
before this revision are current, so the projection's cursor starts at the feed's end.

Revision ID: 0004_sync
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004_sync'
down_revision = '0003_auth'
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
CURSOR_KEY = 'reports.projected_through_seq'


def upgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('canonical', JSONType, nullable=True))
    conn = op.get_bind()
    last = conn.execute(sa.text('SELECT COALESCE(MAX(seq), 0) FROM changes')).scalar_one()
    meta = sa.table('meta', sa.column('key', sa.String), sa.column('value', JSONType))
    conn.execute(sa.delete(meta).where(meta.c.key == CURSOR_KEY))
    conn.execute(sa.insert(meta).values(key=CURSOR_KEY, value={'seq': int(last)}))


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM meta WHERE key = 'reports.projected_through_seq'"))
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('canonical')
