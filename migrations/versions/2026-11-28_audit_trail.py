"""Audit trail: look-up by actor; on PostgreSQL entries refuse UPDATE and DELETE

Revision ID: b2d7e9a40011
Revises: a1c4e0a10007
Create Date: 2026-11-28 10:00:00
"""

from alembic import op

revision = 'b2d7e9a40011'
down_revision = 'a1c4e0a10007'
branch_labels = None
depends_on = None

# A row trigger refuses every UPDATE and DELETE, whatever code sends it. Emptying the whole
# table (TRUNCATE, which row triggers do not see) stays a maintenance act, as in the tests.
APPEND_ONLY = ("""
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit entries cannot be changed or deleted (' || TG_OP || ' refused)';
END
$$
""", """
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()
""")


def upgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_actor', ['actor'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for statement in APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_actor')
