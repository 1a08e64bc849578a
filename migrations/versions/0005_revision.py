"""revision: a saved-version counter on projects (edits and moves compare-and-set on it)

Revision ID: 0005_revision
Revises: 0004_trgm
Create Date: 2026-11-27 18:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005_revision'
down_revision = '0004_trgm'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('revision')
