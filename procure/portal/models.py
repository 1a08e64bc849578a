"""The portal's indexes on the tenders table (the table is the tenders module's; the
portal reads it in its own orders). Each section of the portal is one state range read
in the section's order, its count an index-only scan: the publication time is carried
in the index (``INCLUDE``, PostgreSQL) so no row is read to decide whether a call is
public yet. Migration 0006_portal (and 0008_contract_fk for the contracts' index)."""

from __future__ import annotations

from sqlalchemy import Index, func

from ..contracts.models import Contract
from ..tenders.models import Tender

_t = Tender.__table__
#: Open calls and calls by invitation, soonest deadline first; the method is carried too
#: (the two sections differ by it; migration 0011_tenders_more).
PORTAL_OPEN = Index("ix_tenders_portal_deadline", _t.c.state, _t.c.deadline_at, _t.c.id,
                    postgresql_include=["published_at", "method"])
#: Opening records, latest first.
PORTAL_OPENED = Index("ix_tenders_portal_opened", _t.c.state, _t.c.opened_at, _t.c.id,
                      postgresql_include=["published_at"])
#: Award notices, latest first.
PORTAL_AWARDS = Index("ix_tenders_portal_award", _t.c.state, _t.c.award_notice_at, _t.c.id,
                      postgresql_include=["published_at"])
#: Failed and cancelled calls, latest first.
PORTAL_ENDED = Index("ix_tenders_portal_updated", _t.c.state, _t.c.updated_at, _t.c.id,
                     postgresql_include=["published_at"])

#: The search by title (PostgreSQL, like the registry's by name, migration 0004_trgm):
#: 3 characters or more through the trigram index, 1–2 (a Chinese search is often two)
#: through the titles' indexed 1- and 2-character substrings (``org_name_grams``).
PORTAL_TITLE_TRGM = Index("ix_tenders_title_trgm", _t.c.title, postgresql_using="gin",
                          postgresql_ops={"title": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
PORTAL_TITLE_GRAMS = Index("ix_tenders_title_grams", func.org_name_grams(_t.c.title),
                           postgresql_using="gin").ddl_if(dialect="postgresql")

# Signed contracts on the portal, latest publication first (``Contract.published_at`` is
# set when a contract comes into force; unsigned contracts have none and never show).
# The contracts table is the contracts module's; migration 0008_contract_fk.

PORTAL_CONTRACTS = Index("ix_contracts_portal_published", Contract.__table__.c.published_at,
                         Contract.__table__.c.id)
