"""tenders: calls for bids, their criteria, documents and clarifications; bids sealed by
encryption; the committee draw, its members, scores, award decisions and challenges

tenders.awarded_bid_id → bids.id is added after bids exist (the two tables refer to each
other).

Revision ID: 0005_tenders
Revises: 0005_revision
Create Date: 2026-11-27 18:15:17.776798

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_tenders'
down_revision = '0005_revision'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tenders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('public_tender', 'invited_tender', 'consultation', 'negotiation', 'inquiry', 'single_source', 'application', name='procurementmethod', native_enum=False, length=20), nullable=False),
    sa.Column('state', sa.Enum('draft', 'published', 'closed', 'evaluating', 'awarded', 'final', 'failed', 'cancelled', name='tenderstate', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('deadline_at', sa.DateTime(), nullable=True),
    sa.Column('opening_at', sa.DateTime(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('next_event_at', sa.DateTime(), nullable=True),
    sa.Column('next_event', sa.Enum('deadline', 'opening', 'publicity_end', 'challenge_end', name='tenderevent', native_enum=False, length=20), nullable=True),
    sa.Column('min_rating', sa.Integer(), nullable=True),
    sa.Column('min_years_registered', sa.Integer(), nullable=True),
    sa.Column('require_annual_report', sa.Boolean(), nullable=False),
    sa.Column('require_good_credit', sa.Boolean(), nullable=False),
    sa.Column('bar_failed_grade', sa.Boolean(), nullable=False),
    sa.Column('admit_filed', sa.Boolean(), nullable=False),
    sa.Column('price_weight', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('single_source_organization_id', sa.Integer(), nullable=True),
    sa.Column('wrapped_data_key', sa.LargeBinary(), nullable=True),
    sa.Column('data_key_id', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('awarded_bid_id', sa.Integer(), nullable=True),
    sa.Column('award_notice_at', sa.DateTime(), nullable=True),
    sa.Column('publicity_ends_at', sa.DateTime(), nullable=True),
    sa.Column('challenge_ends_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(method = 'single_source') = (single_source_organization_id IS NOT NULL)", name=op.f('ck_tenders_tender_single_source_names_one')),
    sa.CheckConstraint("state IN ('draft', 'cancelled') OR (published_at IS NOT NULL AND deadline_at IS NOT NULL AND opening_at IS NOT NULL AND wrapped_data_key IS NOT NULL)", name=op.f('ck_tenders_tender_published_complete')),
    sa.CheckConstraint("state NOT IN ('awarded', 'final') OR (awarded_bid_id IS NOT NULL AND award_notice_at IS NOT NULL)", name=op.f('ck_tenders_tender_award_complete')),
    sa.CheckConstraint("state NOT IN ('failed', 'cancelled') OR reason IS NOT NULL", name=op.f('ck_tenders_tender_end_has_reason')),
    sa.CheckConstraint('(next_event IS NULL) = (next_event_at IS NULL)', name=op.f('ck_tenders_tender_next_event_complete')),
    sa.CheckConstraint('(wrapped_data_key IS NULL) = (data_key_id IS NULL)', name=op.f('ck_tenders_tender_key_with_id')),
    sa.CheckConstraint('deadline_at IS NULL OR published_at IS NULL OR deadline_at > published_at', name=op.f('ck_tenders_tender_deadline_after_publication')),
    sa.CheckConstraint('min_rating IS NULL OR (min_rating >= 1 AND min_rating <= 5)', name=op.f('ck_tenders_tender_min_rating_range')),
    sa.CheckConstraint('min_years_registered IS NULL OR min_years_registered >= 0', name=op.f('ck_tenders_tender_min_years_not_negative')),
    sa.CheckConstraint('opening_at IS NULL OR deadline_at IS NULL OR opening_at >= deadline_at', name=op.f('ck_tenders_tender_opening_after_deadline')),
    sa.CheckConstraint('price_weight >= 0 AND price_weight <= 100', name=op.f('ck_tenders_tender_price_weight_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tenders_created_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_tenders_department_id_departments')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_tenders_project_id_projects')),
    sa.ForeignKeyConstraint(['single_source_organization_id'], ['organizations.id'], name=op.f('fk_tenders_single_source_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenders'))
    )
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenders_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenders_next_event_at'), ['next_event_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenders_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenders_state'), ['state'], unique=False)

    op.create_table('bids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'withdrawn', 'opened', 'qualified', 'disqualified', 'scored', 'awarded', 'not_awarded', name='bidstate', native_enum=False, length=20), nullable=False),
    sa.Column('sealed_content', sa.LargeBinary(), nullable=True),
    sa.Column('sealed_sha256', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('receipt_no', sa.String(length=40), nullable=True),
    sa.Column('needs_reconfirmation', sa.Boolean(), nullable=False),
    sa.Column('eligibility_failures', sa.JSON(), nullable=True),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('open_error', sa.Text(), nullable=True),
    sa.Column('disqualification_reason', sa.Text(), nullable=True),
    sa.Column('total_score', sa.Numeric(precision=7, scale=3), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state <> 'disqualified' OR disqualification_reason IS NOT NULL", name=op.f('ck_bids_bid_disqualified_has_reason')),
    sa.CheckConstraint("state IN ('draft', 'submitted', 'withdrawn') OR opened_at IS NOT NULL", name=op.f('ck_bids_bid_opened_has_time')),
    sa.CheckConstraint("state IN ('draft', 'withdrawn') OR (sealed_content IS NOT NULL AND sealed_sha256 IS NOT NULL AND submitted_at IS NOT NULL AND receipt_no IS NOT NULL)", name=op.f('ck_bids_bid_submitted_complete')),
    sa.CheckConstraint("state NOT IN ('qualified', 'scored', 'awarded', 'not_awarded') OR (price IS NOT NULL AND opened_at IS NOT NULL)", name=op.f('ck_bids_bid_qualified_opened')),
    sa.CheckConstraint('price IS NULL OR price >= 0', name=op.f('ck_bids_bid_price_not_negative')),
    sa.CheckConstraint('sealed_sha256 IS NULL OR length(sealed_sha256) = 64', name=op.f('ck_bids_bid_sha256_length')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bids_created_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_bids_organization_id_organizations')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_bids_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bids')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_bids_receipt_no')),
    sa.UniqueConstraint('tender_id', 'organization_id', name='uq_bids_tender_organization')
    )
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bids_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_bids_tender_id'), ['tender_id'], unique=False)
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_tenders_awarded_bid_id_bids', 'bids', ['awarded_bid_id'], ['id'])

    op.create_table('challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('open', 'answered', 'withdrawn', name='challengestate', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('lodged_at', sa.DateTime(), nullable=False),
    sa.Column('lodged_by_id', sa.Integer(), nullable=False),
    sa.Column('answer_due_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state <> 'answered' OR (answer IS NOT NULL AND answered_at IS NOT NULL)", name=op.f('ck_challenges_challenge_answer_complete')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_challenges_answered_by_id_users')),
    sa.ForeignKeyConstraint(['lodged_by_id'], ['users.id'], name=op.f('fk_challenges_lodged_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_challenges_organization_id_organizations')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_challenges_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenges'))
    )
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenges_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenges_tender_id'), ['tender_id'], unique=False)

    op.create_table('clarifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('affects_bids', sa.Boolean(), nullable=False),
    sa.Column('old_deadline_at', sa.DateTime(), nullable=True),
    sa.Column('new_deadline_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(old_deadline_at IS NULL) = (new_deadline_at IS NULL)', name=op.f('ck_clarifications_clarification_deadline_pair')),
    sa.CheckConstraint('new_deadline_at IS NULL OR affects_bids', name=op.f('ck_clarifications_clarification_moves_only_if_affecting')),
    sa.CheckConstraint('new_deadline_at IS NULL OR new_deadline_at > old_deadline_at', name=op.f('ck_clarifications_clarification_deadline_later')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_clarifications_published_by_id_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_clarifications_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clarifications'))
    )
    with op.batch_alter_table('clarifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clarifications_tender_id'), ['tender_id'], unique=False)

    op.create_table('committee_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=40), nullable=False),
    sa.Column('seed', sa.String(length=128), nullable=False),
    sa.Column('pool', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('size > 0 AND size % 2 = 1', name=op.f('ck_committee_draws_draw_size_odd')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['users.id'], name=op.f('fk_committee_draws_drawn_by_id_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_committee_draws_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_draws'))
    )
    with op.batch_alter_table('committee_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_draws_tender_id'), ['tender_id'], unique=False)

    op.create_table('tender_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('weight', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('max_score', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('is_price', sa.Boolean(), nullable=False),
    sa.CheckConstraint('max_score > 0', name=op.f('ck_tender_criteria_criterion_max_score_positive')),
    sa.CheckConstraint('weight >= 0 AND weight <= 100', name=op.f('ck_tender_criteria_criterion_weight_range')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_tender_criteria_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_criteria')),
    sa.UniqueConstraint('tender_id', 'position', name='uq_tender_criteria_position')
    )
    with op.batch_alter_table('tender_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_criteria_tender_id'), ['tender_id'], unique=False)
        batch_op.create_index('uq_tender_criteria_one_price', ['tender_id'], unique=True, postgresql_where=sa.text('is_price'), sqlite_where=sa.text('is_price'))

    op.create_table('award_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('award', 'skip', name='awarddecisionkind', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("decision <> 'skip' OR reason IS NOT NULL", name=op.f('ck_award_decisions_award_skip_has_reason')),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_award_decisions_bid_id_bids')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_award_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_award_decisions_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_decisions')),
    sa.UniqueConstraint('tender_id', 'bid_id', name='uq_award_decisions_tender_bid')
    )
    with op.batch_alter_table('award_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_decisions_tender_id'), ['tender_id'], unique=False)

    op.create_table('committee_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_backup', sa.Boolean(), nullable=False),
    sa.Column('is_expert', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('drawn', 'declared', 'conflicted', 'replaced', name='memberstate', native_enum=False, length=20), nullable=False),
    sa.Column('declared_at', sa.DateTime(), nullable=True),
    sa.Column('conflict_note', sa.Text(), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state <> 'conflicted' OR conflict_note IS NOT NULL", name=op.f('ck_committee_members_member_conflict_has_note')),
    sa.CheckConstraint("state NOT IN ('declared', 'conflicted') OR declared_at IS NOT NULL", name=op.f('ck_committee_members_member_declaration_time')),
    sa.ForeignKeyConstraint(['draw_id'], ['committee_draws.id'], name=op.f('fk_committee_members_draw_id_committee_draws')),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['committee_members.id'], name=op.f('fk_committee_members_replaced_by_id_committee_members')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_committee_members_tender_id_tenders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_committee_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_members')),
    sa.UniqueConstraint('tender_id', 'position', name='uq_committee_members_position'),
    sa.UniqueConstraint('tender_id', 'user_id', name='uq_committee_members_tender_user')
    )
    with op.batch_alter_table('committee_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_members_tender_id'), ['tender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_committee_members_user_id'), ['user_id'], unique=False)

    op.create_table('tender_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('clarification_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clarification_id'], ['clarifications.id'], name=op.f('fk_tender_documents_clarification_id_clarifications')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_tender_documents_document_id_documents')),
    sa.ForeignKeyConstraint(['tender_id'], ['tenders.id'], name=op.f('fk_tender_documents_tender_id_tenders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_documents')),
    sa.UniqueConstraint('tender_id', 'document_id', name='uq_tender_documents_document')
    )
    with op.batch_alter_table('tender_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_documents_tender_id'), ['tender_id'], unique=False)

    op.create_table('scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('score >= 0', name=op.f('ck_scores_score_not_negative')),
    sa.ForeignKeyConstraint(['bid_id'], ['bids.id'], name=op.f('fk_scores_bid_id_bids')),
    sa.ForeignKeyConstraint(['criterion_id'], ['tender_criteria.id'], name=op.f('fk_scores_criterion_id_tender_criteria')),
    sa.ForeignKeyConstraint(['member_id'], ['committee_members.id'], name=op.f('fk_scores_member_id_committee_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scores')),
    sa.UniqueConstraint('member_id', 'bid_id', 'criterion_id', name='uq_scores_member_bid_criterion')
    )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scores_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scores_member_id'), ['member_id'], unique=False)



def downgrade():

    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scores_member_id'))
        batch_op.drop_index(batch_op.f('ix_scores_bid_id'))

    op.drop_table('scores')
    with op.batch_alter_table('tender_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_documents_tender_id'))

    op.drop_table('tender_documents')
    with op.batch_alter_table('committee_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_committee_members_tender_id'))

    op.drop_table('committee_members')
    with op.batch_alter_table('award_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_decisions_tender_id'))

    op.drop_table('award_decisions')
    with op.batch_alter_table('tender_criteria', schema=None) as batch_op:
        batch_op.drop_index('uq_tender_criteria_one_price', postgresql_where=sa.text('is_price'), sqlite_where=sa.text('is_price'))
        batch_op.drop_index(batch_op.f('ix_tender_criteria_tender_id'))

    op.drop_table('tender_criteria')
    with op.batch_alter_table('committee_draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_draws_tender_id'))

    op.drop_table('committee_draws')
    with op.batch_alter_table('clarifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clarifications_tender_id'))

    op.drop_table('clarifications')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenges_tender_id'))
        batch_op.drop_index(batch_op.f('ix_challenges_state'))
        batch_op.drop_index(batch_op.f('ix_challenges_organization_id'))

    op.drop_table('challenges')
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.drop_constraint('fk_tenders_awarded_bid_id_bids', type_='foreignkey')
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bids_tender_id'))
        batch_op.drop_index(batch_op.f('ix_bids_state'))
        batch_op.drop_index(batch_op.f('ix_bids_organization_id'))

    op.drop_table('bids')
    with op.batch_alter_table('tenders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenders_state'))
        batch_op.drop_index(batch_op.f('ix_tenders_project_id'))
        batch_op.drop_index(batch_op.f('ix_tenders_next_event_at'))
        batch_op.drop_index(batch_op.f('ix_tenders_department_id'))

    op.drop_table('tenders')
