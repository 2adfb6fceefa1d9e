"""Possession of chunks and files, and per-version attachment references (the access rules of issue 16).

``chunk_holders`` and ``attachment_holders`` record who sent a chunk's bytes and who committed a
file: content addressing dedupes storage, never possession. ``version_attachments`` records which
version references which file at the version's own confidentiality, and whether the reference was
legitimate when pushed. Files committed before this revision are held by their uploader, and their
chunks too; references already stored are taken as granted at each report's current level.

Revision ID: 0008_access
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_access'
down_revision = '0006_basemaps'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chunk_holders',
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chunk_holders_user_id_users')),
                    sa.PrimaryKeyConstraint('sha256', 'user_id', name=op.f('pk_chunk_holders')))
    op.create_table('attachment_holders',
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attachment_holders_user_id_users')),
                    sa.PrimaryKeyConstraint('sha256', 'user_id', name=op.f('pk_attachment_holders')))
    op.create_table('version_attachments',
                    sa.Column('version_id', sa.String(length=64), nullable=False),
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('report_id', sa.String(length=36), nullable=False),
                    sa.Column('confidentiality', sa.String(length=16), nullable=False),
                    sa.Column('writer_user_id', sa.Integer(), nullable=False),
                    sa.Column('granted', sa.Boolean(), nullable=False),
                    sa.PrimaryKeyConstraint('version_id', 'sha256', name=op.f('pk_version_attachments')))
    op.create_index(op.f('ix_version_attachments_sha256'), 'version_attachments', ['sha256'])
    op.create_index(op.f('ix_version_attachments_report_id'), 'version_attachments', ['report_id'])
    conn = op.get_bind()
    conn.execute(sa.text(
        "INSERT INTO attachment_holders (sha256, user_id) "
        "SELECT sha256, uploaded_by FROM attachments WHERE uploaded_by IS NOT NULL"))
    attachments = sa.table('attachments', sa.column('sha256', sa.String), sa.column('chunks', sa.JSON),
                           sa.column('uploaded_by', sa.Integer))
    holders = sa.table('chunk_holders', sa.column('sha256', sa.String), sa.column('user_id', sa.Integer))
    pairs = {(h, uid) for sha, chunks, uid in conn.execute(sa.select(attachments.c.sha256, attachments.c.chunks,
                                                                           attachments.c.uploaded_by))
             if uid is not None for h in (chunks or [])}
    if pairs:
        conn.execute(sa.insert(holders), [{'sha256': h, 'user_id': uid} for h, uid in sorted(pairs)])
    conn.execute(sa.text(
        "INSERT INTO version_attachments (version_id, sha256, report_id, confidentiality, writer_user_id, granted) "
        "SELECT r.head_version_id, ra.sha256, ra.report_id, r.confidentiality, r.author_user_id, :granted "
        "FROM report_attachments ra JOIN reports r ON r.id = ra.report_id "
        "WHERE r.head_version_id IS NOT NULL"), {'granted': True})


def downgrade() -> None:
    op.drop_index('ix_version_attachments_report_id', table_name='version_attachments')
    op.drop_index('ix_version_attachments_sha256', table_name='version_attachments')
    op.drop_table('version_attachments')
    op.drop_table('attachment_holders')
    op.drop_table('chunk_holders')
