"""SLA ledger: rows outlive nothing silently (RESTRICT); on PostgreSQL they refuse UPDATE and DELETE

Revision ID: c3e8f0a50021
Revises: b2d7e9a40011
Create Date: 2026-11-29 09:00:00
"""

from alembic import op

revision = 'c3e8f0a50021'
down_revision = 'b2d7e9a40011'
branch_labels = None
depends_on = None

FOREIGN_KEYS = (('fk_sla_ledger_timer_id_sla_timers', 'sla_timers', 'timer_id'),
                ('fk_sla_ledger_case_id_cases', 'cases', 'case_id'))

# As for the audit trail: a row trigger refuses every UPDATE and DELETE, whatever code sends
# it; emptying the whole table (TRUNCATE) stays a maintenance act.
APPEND_ONLY = ("""
CREATE FUNCTION sla_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'SLA ledger entries cannot be changed or deleted (' || TG_OP || ' refused)';
END
$$
""", """
CREATE TRIGGER sla_ledger_append_only BEFORE UPDATE OR DELETE ON sla_ledger
    FOR EACH ROW EXECUTE FUNCTION sla_ledger_append_only()
""")


def _foreign_keys(ondelete: str) -> None:
    with op.batch_alter_table('sla_ledger', schema=None) as batch_op:
        for name, table, column in FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_='foreignkey')
            batch_op.create_foreign_key(name, table, [column], ['id'], ondelete=ondelete)


def upgrade() -> None:
    _foreign_keys('RESTRICT')
    if op.get_bind().dialect.name == 'postgresql':
        for statement in APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER sla_ledger_append_only ON sla_ledger")
        op.execute("DROP FUNCTION sla_ledger_append_only()")
    _foreign_keys('CASCADE')
