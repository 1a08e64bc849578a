"""ledger: contract fundings, de-commitment and reversal entries, a payment recorded once

Revision ID: 0003_ledger
Revises: 0002_registry
Create Date: 2026-11-27 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_ledger'
down_revision = '0003_perms'
branch_labels = None
depends_on = None

OLD_KINDS = ('allocate', 'release', 'commit', 'pay', 'adjust')
NEW_KINDS = ('allocate', 'release', 'commit', 'decommit', 'pay', 'reverse', 'adjust')


def upgrade():
    # contract_id stays a plain integer until the contracts issue adds its table.
    op.create_table('contract_fundings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('allocation_id', sa.Integer(), nullable=False),
    sa.Column('committed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('committed >= 0', name=op.f('ck_contract_fundings_contract_funding_committed_not_negative')),
    sa.CheckConstraint('paid >= 0 AND paid <= committed', name=op.f('ck_contract_fundings_contract_funding_paid_within_committed')),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocations.id'], name=op.f('fk_contract_fundings_allocation_id_allocations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_fundings')),
    sa.UniqueConstraint('contract_id', 'allocation_id', name='uq_contract_funding_contract_allocation')
    )
    with op.batch_alter_table('contract_fundings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_fundings_allocation_id'), ['allocation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_fundings_contract_id'), ['contract_id'], unique=False)

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.alter_column('kind',
               existing_type=sa.Enum(*OLD_KINDS, name='entrykind', native_enum=False, length=20),
               type_=sa.Enum(*NEW_KINDS, name='entrykind', native_enum=False, length=20),
               existing_nullable=False)
        batch_op.create_check_constraint(
            op.f('ck_ledger_entries_ledger_contract_set'), "kind NOT IN ('commit', 'decommit', 'pay', 'reverse') OR contract_id IS NOT NULL")
        batch_op.create_check_constraint(
            op.f('ck_ledger_entries_ledger_payment_set'), "kind NOT IN ('pay', 'reverse') OR payment_id IS NOT NULL")
        batch_op.create_unique_constraint('uq_ledger_payment_once', ['kind', 'payment_id', 'allocation_id'])


def downgrade():
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ledger_payment_once', type_='unique')
        batch_op.drop_constraint(op.f('ck_ledger_entries_ledger_payment_set'), type_='check')
        batch_op.drop_constraint(op.f('ck_ledger_entries_ledger_contract_set'), type_='check')
        batch_op.alter_column('kind',
               existing_type=sa.Enum(*NEW_KINDS, name='entrykind', native_enum=False, length=20),
               type_=sa.Enum(*OLD_KINDS, name='entrykind', native_enum=False, length=20),
               existing_nullable=False)

    with op.batch_alter_table('contract_fundings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_fundings_contract_id'))
        batch_op.drop_index(batch_op.f('ix_contract_fundings_allocation_id'))

    op.drop_table('contract_fundings')
