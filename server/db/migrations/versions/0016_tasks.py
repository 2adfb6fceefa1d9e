"""Tasks and their events (server/tasks); follow-up of human-rights concerns.

Revision ID: 0016_tasks
Revises: 0015_sharing_delivery
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from peacewatch.server.db.types import JSONType, UTCDateTime

revision = '0016_tasks'
down_revision = '0015_sharing_delivery'
branch_labels = None
depends_on = None

SeqInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('instructions', sa.Text(), server_default='', nullable=False),
        sa.Column('priority', sa.String(length=8), server_default='normal', nullable=False),
        sa.Column('place', JSONType, nullable=True),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('window_start', UTCDateTime(timezone=True), nullable=True),
        sa.Column('window_end', UTCDateTime(timezone=True), nullable=True),
        sa.Column('contingent_id', sa.Integer(), nullable=True),
        sa.Column('assignee_user_id', sa.Integer(), nullable=True),
        sa.Column('report_id', sa.String(length=36), nullable=True),
        sa.Column('source_kind', sa.String(length=32), server_default='manual', nullable=False),
        sa.Column('source_ref', sa.String(length=64), nullable=True),
        sa.Column('cells', JSONType, nullable=True),
        sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('done_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['contingent_id'], ['contingents.id'], name=op.f('fk_tasks_contingent_id_contingents')),
        sa.ForeignKeyConstraint(['assignee_user_id'], ['users.id'], name=op.f('fk_tasks_assignee_user_id_users')),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_tasks_created_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    )
    op.create_index(op.f('ix_tasks_contingent_id'), 'tasks', ['contingent_id'])
    op.create_index(op.f('ix_tasks_assignee_user_id'), 'tasks', ['assignee_user_id'])
    op.create_index(op.f('ix_tasks_report_id'), 'tasks', ['report_id'])
    op.create_index(op.f('ix_tasks_status'), 'tasks', ['status'])
    op.create_table(
        'task_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=True),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('report_id', sa.String(length=36), nullable=True),
        sa.Column('device_time', UTCDateTime(timezone=True), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.String(length=36), nullable=True),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('seq', SeqInt, nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_events_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events')),
        sa.UniqueConstraint('event_id', name=op.f('uq_task_events_event_id')),
    )
    op.create_index(op.f('ix_task_events_task_id'), 'task_events', ['task_id'])
    op.create_table(
        'case_followups',
        sa.Column('report_id', sa.String(length=36), nullable=False),
        sa.Column('case_status', sa.String(length=32), nullable=False),
        sa.Column('next_action', sa.Text(), server_default='', nullable=False),
        sa.Column('due_date', sa.String(length=10), nullable=True),
        sa.Column('officer_user_id', sa.Integer(), nullable=True),
        sa.Column('updated_by', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_case_followups_report_id_reports')),
        sa.ForeignKeyConstraint(['officer_user_id'], ['users.id'],
                                name=op.f('fk_case_followups_officer_user_id_users')),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_case_followups_updated_by_users')),
        sa.PrimaryKeyConstraint('report_id', name=op.f('pk_case_followups')),
    )


def downgrade() -> None:
    op.drop_table('case_followups')
    op.drop_index(op.f('ix_task_events_task_id'), table_name='task_events')
    op.drop_table('task_events')
    for column in ('status', 'report_id', 'assignee_user_id', 'contingent_id'):
        op.drop_index(op.f(f'ix_tasks_{column}'), table_name='tasks')
    op.drop_table('tasks')
