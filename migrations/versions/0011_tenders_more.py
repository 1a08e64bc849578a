"""tenders more: a challenge closed when another to the same award is upheld; the portal's
open-calls index carries the method (calls by invitation have their own section)

Revision ID: 0011_tenders_more
Revises: 0010_delivery_indexes
Create Date: 2026-11-28 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_tenders_more'
down_revision = '0010_delivery_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.VARCHAR(length=20),
                              type_=sa.Enum('open', 'answered', 'upheld', 'withdrawn', 'closed', name='challengestate', native_enum=False, length=20),
                              existing_nullable=False)
        batch_op.drop_constraint(batch_op.f('ck_challenges_challenge_answer_complete'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_challenges_challenge_answer_complete'),
                                         "state NOT IN ('answered', 'upheld', 'closed') OR (answer IS NOT NULL AND answered_at IS NOT NULL)")

    # The portal's open calls and calls by invitation differ by the method: carried in
    # the index, so each section's count stays an index-only scan (INCLUDE: PostgreSQL).
    op.drop_index('ix_tenders_portal_deadline', table_name='tenders')
    op.create_index('ix_tenders_portal_deadline', 'tenders', ['state', 'deadline_at', 'id'], unique=False,
                    postgresql_include=['published_at', 'method'])


def downgrade():
    op.drop_index('ix_tenders_portal_deadline', table_name='tenders')
    op.create_index('ix_tenders_portal_deadline', 'tenders', ['state', 'deadline_at', 'id'], unique=False,
                    postgresql_include=['published_at'])
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_challenges_challenge_answer_complete'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_challenges_challenge_answer_complete'),
                                         "state NOT IN ('answered', 'upheld') OR (answer IS NOT NULL AND answered_at IS NOT NULL)")
