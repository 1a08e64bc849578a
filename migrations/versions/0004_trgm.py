"""trgm: trigram (pg_trgm, GIN) indexes for the organization search by name or credit code

On PostgreSQL only: ``ILIKE '%…%'`` on ``organizations.name`` / ``credit_code`` is then an
index search instead of a scan of every row. A trigram index cannot serve a search of 1 or 2
characters (Chinese names are often searched by two), so the names' 1- and 2-character
substrings (lowercased) are indexed too, as an array (``org_name_grams(name)``, GIN): a short
search is ``org_name_grams(name) @> ARRAY[q]``. SQLite keeps its plain LIKE scan (nothing to do).

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


GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION org_name_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    s text := lower(t);
    k int := char_length(s);
    grams text[] := '{}';
BEGIN
    FOR i IN 1..k LOOP
        grams := grams || substr(s, i, 1);
        IF i < k THEN
            grams := grams || substr(s, i, 2);
        END IF;
    END LOOP;
    RETURN grams;
END
$$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(GRAMS_FUNCTION)
    op.execute("CREATE INDEX ix_organizations_name_grams ON organizations USING gin (org_name_grams(name))")
    op.create_index("ix_organizations_name_trgm", "organizations", ["name"], postgresql_using="gin",
                    postgresql_ops={"name": "gin_trgm_ops"})
    op.create_index("ix_organizations_credit_code_trgm", "organizations", ["credit_code"],
                    postgresql_using="gin", postgresql_ops={"credit_code": "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_organizations_name_grams")
    op.execute("DROP FUNCTION org_name_grams(text)")
    op.drop_index("ix_organizations_credit_code_trgm", table_name="organizations")
    op.drop_index("ix_organizations_name_trgm", table_name="organizations")
    # the extension stays: other objects may use it, and dropping it needs more rights
