"""tenders rest: upheld challenges with their remedy; invitation lists of invited and single-source calls

Revision ID: 0009_tenders_rest
Revises: 0008_contract_fk
Create Date: 2026-11-27 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_tenders_rest'
down_revision = '0008_contract_fk'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tender_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_tender_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_tender_invitations_organization_id_organizations')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_tender_invitations_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_invitations')),
    sa.UniqueConstraint('tender_id', 'organization_id', name='uq_tender_invitations_organization')
    )
    with op.batch_alter_table('tender_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_invitations_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_invitations_tender_id'), ['tender_id'], unique=False)

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remedy', sa.Enum('reevaluate', 'retender', name='challengeremedy', native_enum=False, length=20), nullable=True))
        batch_op.alter_column('state', existing_type=sa.VARCHAR(length=20),
                              type_=sa.Enum('open', 'answered', 'upheld', 'withdrawn', name='challengestate', native_enum=False, length=20),
                              existing_nullable=False)
        batch_op.drop_constraint(batch_op.f('ck_challenges_challenge_answer_complete'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_challenges_challenge_answer_complete'),
                                         "state NOT IN ('answered', 'upheld') OR (answer IS NOT NULL AND answered_at IS NOT NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_challenges_challenge_upheld_remedy'),
                                         "(state = 'upheld') = (remedy IS NOT NULL)")


def downgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_challenges_challenge_upheld_remedy'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_challenges_challenge_answer_complete'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_challenges_challenge_answer_complete'),
                                         "state <> 'answered' OR (answer IS NOT NULL AND answered_at IS NOT NULL)")
        batch_op.drop_column('remedy')

    with op.batch_alter_table('tender_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_invitations_tender_id'))
        batch_op.drop_index(batch_op.f('ix_tender_invitations_organization_id'))

    op.drop_table('tender_invitations')
