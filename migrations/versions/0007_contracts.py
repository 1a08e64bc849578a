"""contracts: contracts drafted from an award, their versions (PDFs and hashes), payment schedule
(milestones, installments) and signatures

Revision ID: 0007_contracts
Revises: 0006_portal
Create Date: 2026-11-27 19:06:55.698993

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_contracts'
down_revision = '0006_portal'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'pending_signature', 'active', 'completed', 'terminated', name='contractstate', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('service_content', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('is_continuous', sa.Boolean(), nullable=False),
    sa.Column('awarded_at', sa.DateTime(), nullable=False),
    sa.Column('sign_due_on', sa.Date(), nullable=False),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('settlement', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_contracts_contract_amount_positive')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_contracts_contract_period_ordered')),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_contracts_bid_id_bids')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_contracts_created_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_contracts_department_id_departments')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_contracts_organization_id_organizations')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_contracts_project_id_projects')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_contracts_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('number', name=op.f('uq_contracts_number')),
    sa.UniqueConstraint('tender_id', name=op.f('uq_contracts_tender_id'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contracts_state'), ['state'], unique=False)

    op.create_table('contract_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('deliverables', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_milestones_contract_id_contracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_milestones')),
    sa.UniqueConstraint('contract_id', 'position', name='uq_contract_milestone_position')
    )
    with op.batch_alter_table('contract_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_milestones_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('rendering', 'ready', 'signed', 'superseded', name='versionstate', native_enum=False, length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('verify_code', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('pdf_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('signed_sha256', sa.String(length=64), nullable=True),
    sa.Column('rendered_at', sa.DateTime(), nullable=True),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_versions_contract_id_contracts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_contract_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_contract_versions_job_id_jobs')),
    sa.ForeignKeyConstraint(['pdf_document_id'], ['documents.id'], name=op.f('fk_contract_versions_pdf_document_id_documents')),
    sa.ForeignKeyConstraint(['signed_document_id'], ['documents.id'], name=op.f('fk_contract_versions_signed_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_versions')),
    sa.UniqueConstraint('contract_id', 'number', name='uq_contract_version_number'),
    sa.UniqueConstraint('verify_code', name=op.f('uq_contract_versions_verify_code'))
    )
    with op.batch_alter_table('contract_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_versions_content_sha256'), ['content_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_versions_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_versions_pdf_sha256'), ['pdf_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_versions_signed_sha256'), ['signed_sha256'], unique=False)

    op.create_table('contract_installments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('share', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('releases_on', sa.Enum('milestone', 'acceptance', name='release', native_enum=False, length=20), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(releases_on = 'milestone') = (milestone_id IS NOT NULL)", name=op.f('ck_contract_installments_installment_milestone_iff_released_by_one')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_contract_installments_installment_amount_not_negative')),
    sa.CheckConstraint('share > 0 AND share <= 100', name=op.f('ck_contract_installments_installment_share_range')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_installments_contract_id_contracts')),
    sa.ForeignKeyConstraint(['milestone_id'], ['contract_milestones.id'], name=op.f('fk_contract_installments_milestone_id_contract_milestones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_installments')),
    sa.UniqueConstraint('contract_id', 'position', name='uq_contract_installment_position')
    )
    with op.batch_alter_table('contract_installments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_installments_contract_id'), ['contract_id'], unique=False)

    op.create_table('contract_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.Enum('department', 'organization', name='party', native_enum=False, length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.Column('certificate_serial', sa.String(length=48), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_signatures_contract_id_contracts')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_contract_signatures_document_id_documents')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contract_signatures_user_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['contract_versions.id'], name=op.f('fk_contract_signatures_version_id_contract_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_signatures')),
    sa.UniqueConstraint('version_id', 'party', name='uq_contract_signature_party'),
    sa.UniqueConstraint('version_id', 'user_id', name='uq_contract_signature_user')
    )
    with op.batch_alter_table('contract_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_signatures_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_signatures_document_sha256'), ['document_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_signatures_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('contract_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_signatures_version_id'))
        batch_op.drop_index(batch_op.f('ix_contract_signatures_document_sha256'))
        batch_op.drop_index(batch_op.f('ix_contract_signatures_contract_id'))

    op.drop_table('contract_signatures')
    with op.batch_alter_table('contract_installments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_installments_contract_id'))

    op.drop_table('contract_installments')
    with op.batch_alter_table('contract_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_versions_signed_sha256'))
        batch_op.drop_index(batch_op.f('ix_contract_versions_pdf_sha256'))
        batch_op.drop_index(batch_op.f('ix_contract_versions_contract_id'))
        batch_op.drop_index(batch_op.f('ix_contract_versions_content_sha256'))

    op.drop_table('contract_versions')
    with op.batch_alter_table('contract_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_milestones_contract_id'))

    op.drop_table('contract_milestones')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_state'))
        batch_op.drop_index(batch_op.f('ix_contracts_project_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_organization_id'))
        batch_op.drop_index(batch_op.f('ix_contracts_department_id'))

    op.drop_table('contracts')
