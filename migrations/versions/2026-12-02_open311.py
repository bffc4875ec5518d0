"""Open311 GeoReport v2: categories published as services, cases with a position, requests

Categories gain what an Open311 service list and definition show (service code,
description, group, keywords, attributes); cases gain a WGS84 position and an address;
`open311_requests` keeps what an app posted beside the case it became.

Revision ID: f3a1b7c40511
Revises: c2f6a9d10501
Create Date: 2026-12-02 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'f3a1b7c40511'
down_revision = 'c2f6a9d10501'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('service_description', sa.String(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column('service_group', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('service_keywords', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('service_attributes', sa.JSON(), nullable=True))
        batch_op.create_unique_constraint('uq_categories_service_code', ['service_code'])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
    op.create_table(
        'open311_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('token', sa.String(length=40), nullable=False),
        sa.Column('service_code', sa.String(length=64), nullable=False),
        sa.Column('api_token_id', sa.Integer(), nullable=True),
        sa.Column('attributes', sa.JSON(), nullable=False),
        sa.Column('address_id', sa.String(length=100), nullable=True),
        sa.Column('media_url', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_open311_requests_case_id_cases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_requests')),
        sa.UniqueConstraint('case_id', name=op.f('uq_open311_requests_case_id')),
        sa.UniqueConstraint('token', name=op.f('uq_open311_requests_token')),
    )
    op.create_index('ix_open311_requests_created_at', 'open311_requests', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_open311_requests_created_at', table_name='open311_requests')
    op.drop_table('open311_requests')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_constraint('uq_categories_service_code', type_='unique')
        for name in ('service_attributes', 'service_keywords', 'service_group',
                     'service_description', 'service_code'):
            batch_op.drop_column(name)
