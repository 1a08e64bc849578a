"""dispatch: one job system — the registry import is a job kind

The registry import's own job table goes (its jobs are now rows of ``jobs``, its file a
stored document); a job keeps a summary of its outcome for its page (``jobs.result``).

Revision ID: 0003_dispatch
Revises: 0002_registry
Create Date: 2026-11-27 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_dispatch'
down_revision = '0002_registry'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sa.JSON(), nullable=True))

    with op.batch_alter_table('org_import_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_import_jobs_user_id'))
    op.drop_table('org_import_jobs')


def downgrade():
    op.create_table('org_import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('is_only_good', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'rejected', 'failed', name='jobstate', native_enum=False, length=20), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=200), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_org_import_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_import_jobs'))
    )
    with op.batch_alter_table('org_import_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_import_jobs_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('result')
