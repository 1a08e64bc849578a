"""delivery indexes: the reminder rules' day look-ups (milestones by due date, report
submissions by submission time, acceptances by decision time and rectification day) and
installments by milestone

Revision ID: 0010_delivery_indexes
Revises: 0009_payments
Create Date: 2026-11-27 22:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_delivery_indexes'
down_revision = '0009_payments'
branch_labels = None
depends_on = None

INDEXES = (
    ('contract_milestones', 'due_on'),
    ('contract_installments', 'milestone_id'),
    ('milestone_report_submissions', 'submitted_at'),
    ('acceptances', 'decided_at'),
    ('acceptances', 'rectify_by'),
)


def upgrade():
    for table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def downgrade():
    for table, column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
