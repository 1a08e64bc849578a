"""acceptance: the organization's performance record

Revision ID: 0009_acceptance
Revises: 0009_archive
Create Date: 2026-11-27 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_acceptance'
down_revision = '0009_archive'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('performance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('acceptance_id', sa.Integer(), nullable=False),
    sa.Column('contract_number', sa.String(length=40), nullable=False),
    sa.Column('project_title', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('grade', sa.String(length=20), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('is_final', sa.Boolean(), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('acceptance_id', 'round', 'is_final', name='uq_performance_record_decision')
    )
    with op.batch_alter_table('performance_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performance_records_acceptance_id'), ['acceptance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_performance_records_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_performance_records_org_year', ['organization_id', 'year'], unique=False)


def downgrade():
    with op.batch_alter_table('performance_records', schema=None) as batch_op:
        batch_op.drop_index('ix_performance_records_org_year')
        batch_op.drop_index(batch_op.f('ix_performance_records_organization_id'))
        batch_op.drop_index(batch_op.f('ix_performance_records_acceptance_id'))
    op.drop_table('performance_records')
