"""ledger_payment_fk: ledger_entries.payment_id becomes a foreign key to payments

Revision ID: 0012_ledger_payment_fk
Revises: 0011_tenders_more
Create Date: 2026-11-28 09:00:00

Before this revision the payment id of a ledger entry was a plain integer: the tests and
the benchmark data wrote made-up ones. The upgrade first checks the rows: every payment id
must name a payment, and that payment must be one of the entry's contract (and of the
entry's project, through the contract). Offending rows are not nulled or rewritten (they
are money records): the upgrade stops and lists the first of them, to be corrected by
hand or the database loaded afresh.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_ledger_payment_fk'
down_revision = '0011_tenders_more'
branch_labels = None
depends_on = None

#: How many offending entries the message names.
SHOWN = 10

#: Entries whose payment id names no payment, or a payment of another contract or project
#: (a pay or reverse entry always names its contract: CHECK ledger_contract_set).
_OFFENDING = (
    "SELECT e.id, e.payment_id, e.contract_id, e.project_id, p.contract_id, c.project_id"
    " FROM ledger_entries e"
    " LEFT JOIN payments p ON p.id = e.payment_id"
    " LEFT JOIN contracts c ON c.id = p.contract_id"
    " WHERE e.payment_id IS NOT NULL AND (p.id IS NULL OR e.contract_id IS NULL OR p.contract_id <> e.contract_id"
    " OR (e.project_id IS NOT NULL AND c.project_id <> e.project_id))"
    " ORDER BY e.id")


def _describe(row) -> str:
    entry, payment, contract, project, paid_contract, paid_project = row
    if paid_contract is None:
        return f"entry {entry}: payment {payment} does not exist"
    if contract != paid_contract:
        return f"entry {entry}: payment {payment} is of contract {paid_contract}, the entry's contract is {contract}"
    return f"entry {entry}: payment {payment} is of project {paid_project}, the entry's project is {project}"


def upgrade():
    bind = op.get_bind()
    total = bind.execute(sa.text(f"SELECT count(*) FROM ({_OFFENDING}) AS offending")).scalar()
    if total:
        rows = bind.execute(sa.text(f"{_OFFENDING} LIMIT {SHOWN}")).all()
        raise RuntimeError(
            f"ledger_entries has {total} row(s) whose payment_id names no payment of the entry's contract; "
            f"the first: {'; '.join(_describe(r) for r in rows)}. Correct them (ledger entries are money "
            "records: they are not changed by this upgrade) or load the database afresh, then upgrade again.")
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_payment_id_payments'), 'payments',
                                    ['payment_id'], ['id'])


def downgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_payment_id_payments'), type_='foreignkey')
