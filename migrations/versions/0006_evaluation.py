"""evaluation: the evaluator pool (each evaluator's fields, expert or not), read by the
committee draw

Revision ID: 0006_evaluation
Revises: 0006_signing
Create Date: 2026-11-27 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_evaluation'
down_revision = '0006_signing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evaluator_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('is_expert', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['service_categories.id'], name=op.f('fk_evaluator_fields_category_id_service_categories')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_evaluator_fields_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluator_fields')),
    sa.UniqueConstraint('user_id', 'category_id', name='uq_evaluator_fields_user_category')
    )
    with op.batch_alter_table('evaluator_fields', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluator_fields_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluator_fields_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('evaluator_fields', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluator_fields_user_id'))
        batch_op.drop_index(batch_op.f('ix_evaluator_fields_category_id'))
    op.drop_table('evaluator_fields')
