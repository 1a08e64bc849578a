"""holiday calendar years (complete mark citing the notice); funding sources seeded

Revision ID: 0003_calendar
Revises: 0002_registry
Create Date: 2026-11-27 15:40:00

The four funding sources (DOMAIN.md §3) are seeded here, so that no page has to create
them on a GET (the appropriation form used to, and committed).
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_calendar'
down_revision = '0003_dispatch'
branch_labels = None
depends_on = None

SOURCES = [
    ("general", "一般公共预算", 1),
    ("lottery", "福利彩票公益金", 2),
    ("central", "中央财政专项", 3),
    ("matching", "配套资金", 4),
]


def upgrade():
    op.create_table('holiday_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('is_complete', sa.Boolean(), nullable=False),
    sa.Column('notice_ref', sa.String(length=300), nullable=False),
    sa.Column('notice_date', sa.Date(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("NOT is_complete OR (notice_ref <> '' AND notice_date IS NOT NULL)",
                       name=op.f('ck_holiday_years_complete_cites_notice')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_holiday_years_changed_by_id_users')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_holiday_years'))
    )
    sources = sa.table('funding_sources', sa.column('code', sa.String), sa.column('name', sa.String),
                       sa.column('position', sa.Integer))
    conn = op.get_bind()
    existing = {row[0] for row in conn.execute(sa.select(sources.c.code))}
    rows = [{"code": c, "name": n, "position": p} for c, n, p in SOURCES if c not in existing]
    if rows:
        op.bulk_insert(sources, rows)


def downgrade():
    op.drop_table('holiday_years')
