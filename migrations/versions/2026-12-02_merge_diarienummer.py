"""Merge: the diarienummer branch and the protected-identity one, so the history has one head

Revision ID: e5d2b8f40131
Revises: e4c1a7d30121, e3b7d2a50101
Create Date: 2026-12-02 16:20:00
"""

revision = 'e5d2b8f40131'
down_revision = ('e4c1a7d30121', 'e3b7d2a50101')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
