"""trgm: trigram (pg_trgm, GIN) indexes for the organization search by name or credit code

On PostgreSQL only: ``ILIKE '%…%'`` on ``organizations.name`` / ``credit_code`` is then an
index search instead of a scan of every row. SQLite keeps its plain LIKE scan (nothing to do).

Revision ID: 0004_trgm
Revises: 0003_notify
Create Date: 2026-11-27 17:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004_trgm'
down_revision = '0003_notify'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_organizations_name_trgm", "organizations", ["name"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops"})
    op.create_index("ix_organizations_credit_code_trgm", "organizations", ["credit_code"],
                    postgresql_using="gin", postgresql_ops={"credit_code": "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_organizations_credit_code_trgm", table_name="organizations")
    op.drop_index("ix_organizations_name_trgm", table_name="organizations")
    # the extension stays: other objects may use it, and dropping it needs more rights
