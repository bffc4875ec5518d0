"""SLA facts, rollups and live figures

Revision ID: a1c4e0a10005
Revises: a1c4e0a10004
Create Date: 2026-11-27 18:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a1c4e0a10005'
down_revision = 'a1c4e0a10004'
branch_labels = None
depends_on = None

# The additive measures, as in citizencenter/reports/models.py at this revision.
COUNTS = (
    'calls_offered', 'calls_answered', 'calls_abandoned', 'calls_abandoned_short',
    'calls_exited', 'calls_answered_within_t1', 'calls_answered_within_t2', 'calls_direct',
    'calls_transferred', 'calls_handled',
    'cases', 'cases_resolved_first_contact', 'cases_with_contact', 'cases_not_repeated',
    'cases_forwarded', 'cases_forwarded_resolved', 'cases_responded',
    'cases_responded_within_hours', 'cases_responded_within_1wd',
    'cases_responded_within_2wd',
    'feedback_n', 'feedback_courtesy_sum', 'feedback_kkik_points', 'feedback_ease_sum',
    'feedback_clarity_sum',
)
SUMS = ('calls_handle_s', 'calls_wait_answered_s', 'cases_forwarded_resolution_s',
        'cases_response_s', 'cases_response_office_s')


def _measures() -> list:
    return ([sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]
            + [sa.Column(name, sa.Double(), nullable=False) for name in SUMS]
            + [sa.Column('calls_longest_wait_s', sa.Double(), nullable=True)])


def upgrade() -> None:
    op.create_table('report_facts',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('source_id', sa.String(length=40), nullable=False),
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    *_measures(),
    sa.PrimaryKeyConstraint('kind', 'source_id', name=op.f('pk_report_facts'))
    )
    with op.batch_alter_table('report_facts', schema=None) as batch_op:
        batch_op.create_index('ix_report_facts_bucket_start', ['bucket_start'], unique=False)

    op.create_table('rollup_cells',
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=False),
    sa.Column('guide_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    *_measures(),
    sa.PrimaryKeyConstraint('bucket_start', 'channel', 'queue', 'department', 'guide_id',
                            name=op.f('pk_rollup_cells'))
    )
    with op.batch_alter_table('rollup_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_cells_local_date'), ['local_date'],
                              unique=False)

    op.create_table('rollup_days',
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('department', sa.String(length=64), nullable=False),
    *_measures(),
    sa.PrimaryKeyConstraint('local_date', 'channel', 'queue', 'department',
                            name=op.f('pk_rollup_days'))
    )
    op.create_table('rollup_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('definitions', sa.JSON(), nullable=True),
    sa.Column('calls_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cases_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_state'))
    )
    op.create_table('feedback_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('via', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_feedback_requests_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_requests')),
    sa.UniqueConstraint('case_id', name=op.f('uq_feedback_requests_case_id')),
    sa.UniqueConstraint('nonce', name=op.f('uq_feedback_requests_nonce'))
    )
    op.create_table('feedback_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('courtesy', sa.SmallInteger(), nullable=False),
    sa.Column('ease', sa.SmallInteger(), nullable=False),
    sa.Column('clarity', sa.SmallInteger(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_feedback_responses_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_requests.id'], name=op.f('fk_feedback_responses_request_id_feedback_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_responses')),
    sa.UniqueConstraint('request_id', name=op.f('uq_feedback_responses_request_id'))
    )
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_responses_case_id'), ['case_id'],
                              unique=False)
        batch_op.create_index('ix_feedback_responses_submitted_at', ['submitted_at', 'id'],
                              unique=False)

    # The rollup refresh finds changed calls and cases by updated_at.
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_report_watermark', ['updated_at'], unique=False)
        batch_op.create_index('ix_calls_report_case', ['case_id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_report_watermark', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_report_watermark')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_report_case')
        batch_op.drop_index('ix_calls_report_watermark')
    with op.batch_alter_table('feedback_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_responses_submitted_at')
        batch_op.drop_index(batch_op.f('ix_feedback_responses_case_id'))

    op.drop_table('feedback_responses')
    op.drop_table('feedback_requests')
    op.drop_table('rollup_state')
    op.drop_table('rollup_days')
    with op.batch_alter_table('rollup_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_cells_local_date'))

    op.drop_table('rollup_cells')
    with op.batch_alter_table('report_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_facts_bucket_start')

    op.drop_table('report_facts')
