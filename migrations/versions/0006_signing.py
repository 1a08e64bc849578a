"""signing: the certificates that people sign PDFs with on behalf of an organization or
department, each with its private key sealed under the master key (procure/signing.py)

Revision ID: 0006_signing
Revises: 0005_tenders
Create Date: 2026-11-27 18:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_signing'
down_revision = '0005_tenders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signing_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('person_name', sa.String(length=200), nullable=False),
    sa.Column('organization', sa.String(length=200), nullable=False),
    sa.Column('serial', sa.String(length=48), nullable=False),
    sa.Column('certificate_pem', sa.Text(), nullable=False),
    sa.Column('wrapped_data_key', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_private_key', sa.LargeBinary(), nullable=False),
    sa.Column('ca_sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('not_before', sa.DateTime(), nullable=False),
    sa.Column('not_after', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signing_credentials_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_credentials')),
    sa.UniqueConstraint('serial', name=op.f('uq_signing_credentials_serial'))
    )
    op.create_index('ix_signing_credentials_user_org', 'signing_credentials', ['user_id', 'organization'],
                    unique=False)


def downgrade():
    op.drop_index('ix_signing_credentials_user_org', table_name='signing_credentials')
    op.drop_table('signing_credentials')
