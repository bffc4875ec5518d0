"""routing engine

Revision ID: a1c4e0a10003
Revises: a1c4e0a10002
Create Date: 2026-11-27 18:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'a1c4e0a10003'
down_revision = 'a1c4e0a10002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
