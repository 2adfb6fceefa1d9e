"""Base maps and contingents' areas of responsibility (offline maps, issue 21).

Revision ID: 0006_basemaps
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import peacewatch.server.db.types

revision = '0006_basemaps'
down_revision = '0002'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('basemaps',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('file', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('minzoom', sa.Integer(), nullable=False),
    sa.Column('maxzoom', sa.Integer(), nullable=False),
    sa.Column('bounds', JSON, nullable=False),
    sa.Column('center', JSON, nullable=False),
    sa.Column('tile_count', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('attribution', sa.String(length=500), server_default='', nullable=False),
    sa.Column('imported_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_basemaps'))
    )
    op.create_table('contingent_areas',
    sa.Column('contingent_id', sa.Integer(), nullable=False),
    sa.Column('bounds', JSON, nullable=False),
    sa.Column('minzoom', sa.Integer(), nullable=False),
    sa.Column('maxzoom', sa.Integer(), nullable=False),
    sa.Column('max_bytes', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', peacewatch.server.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contingent_id'], ['contingents.id'],
                            name=op.f('fk_contingent_areas_contingent_id_contingents')),
    sa.PrimaryKeyConstraint('contingent_id', name=op.f('pk_contingent_areas'))
    )


def downgrade() -> None:
    op.drop_table('contingent_areas')
    op.drop_table('basemaps')
