"""Devices can be marked lost: the server then answers their next request with ``device_wiped``.

Revision ID: 0007_devices
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from peacewatch.server.db.types import UTCDateTime

revision = '0007_devices'
down_revision = '0004_sync'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lost_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('lost_at')
