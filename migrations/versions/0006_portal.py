"""portal: indexes of the public portal's lists on tenders (one per section, in its order,
the publication time carried for index-only counts on PostgreSQL) and of its search by title

Revision ID: 0006_portal
Revises: 0006_evaluation
Create Date: 2026-11-27 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_portal'
down_revision = '0006_evaluation'
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
    if op.get_bind().dialect.name == "postgresql":
        # the search by title: trigrams for 3 characters or more, the 1- and 2-character
        # substrings (org_name_grams, migration 0004_trgm) for shorter searches
        op.create_index("ix_tenders_title_trgm", "tenders", ["title"], postgresql_using="gin",
                        postgresql_ops={"title": "gin_trgm_ops"})
        op.execute("CREATE INDEX ix_tenders_title_grams ON tenders USING gin (org_name_grams(title))")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_tenders_title_grams")
        op.drop_index("ix_tenders_title_trgm", table_name="tenders")
    for name in INDEXES:
        op.drop_index(name, table_name="tenders")
