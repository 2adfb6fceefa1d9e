"""Reports carry their H3 cell at resolution 8, so hotspot maps aggregate counts in SQL.

``reports.h3_res8`` is set by the projection whenever a version is stored; this revision fills it
for the reports already there and adds the index that covers the hotspot count query.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import h3.api.basic_int as h3i
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

RESOLUTION = 8
BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('h3_res8', sa.BigInteger(), nullable=True))
    # Reports stored before this revision get their cell from their stored position, as the
    # projection computes it for new versions (h3 v4, integer form, resolution 8).
    conn = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.String), sa.column('lat', sa.Float),
                       sa.column('lon', sa.Float), sa.column('h3_res8', sa.BigInteger))
    rows = conn.execute(sa.select(reports.c.id, reports.c.lat, reports.c.lon).where(
        reports.c.lat.is_not(None), reports.c.lon.is_not(None))).all()
    update = sa.update(reports).where(reports.c.id == sa.bindparam('_id')).values(h3_res8=sa.bindparam('_cell'))
    for start in range(0, len(rows), BATCH):
        conn.execute(update, [{'_id': rid, '_cell': h3i.latlng_to_cell(lat, lon, RESOLUTION)}
                              for rid, lat, lon in rows[start:start + BATCH]])
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_hotspots', ['h3_res8', 'kind', 'confidentiality', 'author_user_id',
                                                      'contingent_id', 'event_time', 'category', 'lat', 'lon'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_hotspots')
        batch_op.drop_column('h3_res8')
