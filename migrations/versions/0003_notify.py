"""notify: dedupe keys optional on emails and notices; a notice may have no link

Revision ID: 0003_notify
Revises: 0002_registry
Create Date: 2026-11-27 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_notify'
down_revision = '0003_ledger'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('dedupe_key', existing_type=sa.String(length=200), nullable=True)
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('dedupe_key', existing_type=sa.String(length=200), nullable=True)
        batch_op.alter_column('link', existing_type=sa.String(length=300), nullable=True)


def downgrade():
    # One-off rows get a key of their own again before the columns become required.
    op.execute("UPDATE notifications SET dedupe_key = 'once:' || id WHERE dedupe_key IS NULL")
    op.execute("UPDATE notices SET dedupe_key = 'once:' || id WHERE dedupe_key IS NULL")
    op.execute("UPDATE notices SET link = '' WHERE link IS NULL")
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('link', existing_type=sa.String(length=300), nullable=False)
        batch_op.alter_column('dedupe_key', existing_type=sa.String(length=200), nullable=False)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('dedupe_key', existing_type=sa.String(length=200), nullable=False)
