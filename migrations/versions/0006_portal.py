"""portal: indexes of the public portal's lists on tenders (one per section, in its order,
the publication time carried for index-only counts on PostgreSQL)

Revision ID: 0006_portal
Revises: 0005_tenders
Create Date: 2026-11-27 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_portal'
down_revision = '0005_tenders'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tenders_portal_deadline": ["state", "deadline_at", "id"],
    "ix_tenders_portal_opened": ["state", "opened_at", "id"],
    "ix_tenders_portal_award": ["state", "award_notice_at", "id"],
    "ix_tenders_portal_updated": ["state", "updated_at", "id"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "tenders", columns, postgresql_include=["published_at"])


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="tenders")
