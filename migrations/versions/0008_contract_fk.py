"""contract_fk: contract_fundings.contract_id and ledger_entries.contract_id become foreign keys
to contracts; contracts.published_at (publication on the portal) and its portal index

Revision ID: 0008_contract_fk
Revises: 0008_mail_sender
Create Date: 2026-11-27 21:30:00

Before this revision the projects demo committed and paid money with a project's id standing
in for a contract's. Such rows name no contract and would violate the new keys: the upgrade
stops with a message instead (a demo database is loaded afresh; a production database has
no such rows, since commitments were only ever written by the demo before contracts).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_contract_fk'
down_revision = '0008_mail_sender'
branch_labels = None
depends_on = None


def _orphans(table: str) -> int:
    return op.get_bind().execute(sa.text(
        f"SELECT count(*) FROM {table} t WHERE t.contract_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.id = t.contract_id)")).scalar() or 0


def upgrade():
    for table in ('contract_fundings', 'ledger_entries'):
        if _orphans(table):
            raise RuntimeError(
                f"{table} has rows whose contract_id names no contract (the old demo's stand-in ids). "
                "Load the demo into a fresh database (flask demo) instead of upgrading this one.")
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_contracts_portal_published', ['published_at', 'id'], unique=False)
    # Contracts already in force were published when they came into force.
    op.execute("UPDATE contracts SET published_at = activated_at "
               "WHERE activated_at IS NOT NULL AND state IN ('active', 'completed', 'terminated')")
    with op.batch_alter_table('contract_fundings', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_contract_fundings_contract_id_contracts'), 'contracts',
                                    ['contract_id'], ['id'])
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_contract_id_contracts'), 'contracts',
                                    ['contract_id'], ['id'])


def downgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_contract_id_contracts'), type_='foreignkey')
    with op.batch_alter_table('contract_fundings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contract_fundings_contract_id_contracts'), type_='foreignkey')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_contracts_portal_published')
        batch_op.drop_column('published_at')
