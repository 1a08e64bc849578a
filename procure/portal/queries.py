"""The portal's reads. Each selects named columns only (never a whole Organization or
User row, so no personal field can reach a page) and runs one statement; what is
public is decided here, in SQL, once:

- a call is public once published (``published_at`` set and come) and not a draft;
- a bid is public only in an opening record: its tender opened (``opened_at`` set) and
  past the closed state, the bid itself opened (``Bid.opened_at`` set)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Text, and_, cast, func, select, union_all
from sqlalchemy.dialects import postgresql

from ..auth.models import Department
from ..documents.models import Document
from ..extensions import db
from ..organizations.models import Organization
from ..organizations.services import SHORT_SEARCH, like_escape
from ..projects.models import Project
from ..tenders.models import Bid, Clarification, Tender, TenderDocument, TenderState
from ..timeutil import utcnow

T = TenderState

#: The portal's sections: the states each lists, and the column it is ordered by
#: (the soonest deadline first for open calls, the latest event first for the others).
SECTIONS = {
    "open": (T.PUBLISHED,),
    "opened": (T.CLOSED, T.EVALUATING),
    "awards": (T.AWARDED, T.FINAL),
    "ended": (T.FAILED, T.CANCELLED),
}
#: States after which the opening record is public (with ``opened_at`` set).
RECORD_STATES = (T.CLOSED, T.EVALUATING, T.AWARDED, T.FINAL, T.FAILED)
PER_PAGE = 20
MAX_QUERY = 100


def public_clause(now=None):
    """Tenders the public may see: published, and the publication time has come."""
    now = now or utcnow()
    return and_(Tender.state != T.DRAFT, Tender.published_at.is_not(None), Tender.published_at <= now)


def record_public(state, opened_at) -> bool:
    """Whether the opening record of a tender in ``state`` opened at ``opened_at`` is public."""
    return opened_at is not None and state in RECORD_STATES


def _order(section: str):
    if section == "open":
        return (Tender.deadline_at.asc(), Tender.id.asc())
    if section == "opened":
        return (Tender.opened_at.desc(), Tender.id.desc())
    if section == "awards":
        return (Tender.award_notice_at.desc(), Tender.id.desc())
    return (Tender.updated_at.desc(), Tender.id.desc())  # each in the order of its index (models.py)


def clean_query(raw: str | None) -> str:
    return " ".join((raw or "").split())[:MAX_QUERY]


@dataclass
class Page:
    """One page of a list (the attributes the ``pager`` macro reads)."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def iter_pages(self, left_edge=2, left_current=2, right_current=4, right_edge=2):
        last = 0
        for num in range(1, self.pages + 1):
            if (num <= left_edge or self.page - left_current - 1 < num < self.page + right_current
                    or num > self.pages - right_edge):
                if last + 1 != num:
                    yield None
                yield num
                last = num


def title_search(q: str):
    """Tenders whose title contains ``q`` (case-insensitive, ``%`` and ``_`` taken
    literally). On PostgreSQL a search of 3 characters or more is served by the title's
    trigram index, a shorter one by its indexed 1- and 2-character substrings (portal
    models, migration 0006_portal), as the registry searches names."""
    if len(q) < SHORT_SEARCH and db.session.get_bind().dialect.name == "postgresql":
        return func.org_name_grams(Tender.title).op("@>")(cast(postgresql.array([q.lower()]),
                                                                postgresql.ARRAY(Text)))
    return Tender.title.ilike(f"%{like_escape(q)}%", escape="\\")


def calls(section: str, q: str = "", page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of a section's tenders: two statements (the count, an index-only scan;
    the rows)."""
    where = [public_clause(), Tender.state.in_(SECTIONS[section])]
    matches = None
    if q:
        # The planner chooses between the search index (a rare term) and the section's
        # order testing each title (a common one); forcing either was slower on the other.
        matches = title_search(q)
        where.append(matches)
    total = db.session.scalar(select(func.count()).select_from(Tender).where(*where)) or 0
    rows = []
    if total and (page - 1) * per_page < total:
        if matches is not None:
            candidates = select(Tender.id).where(*where)
        else:
            # Each state of the section read in the section's order along its index, as
            # far as this page reaches, then merged: an ``IN`` over the states would read
            # and sort every row of the section (its index gives no order across states).
            reach = page * per_page
            firsts = [select(Tender.id).where(*where, Tender.state == state).order_by(*_order(section))
                      .limit(reach).subquery() for state in SECTIONS[section]]
            candidates = union_all(*[select(sub.c.id) for sub in firsts])
        rows = db.session.execute(
            select(Tender.id, Tender.title, Tender.method, Tender.state, Tender.published_at, Tender.deadline_at,
                   Tender.opening_at, Tender.opened_at, Tender.award_notice_at, Tender.publicity_ends_at,
                   Tender.challenge_ends_at, Tender.reason, Project.budget_ceiling,
                   Department.name.label("department"))
            .join(Project, Project.id == Tender.project_id).join(Department, Department.id == Tender.department_id)
            .where(Tender.id.in_(candidates)).order_by(*_order(section))
            .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, page, per_page, total)


def call(tender_id: int):
    """One public tender with its ceiling and department (one statement), or None."""
    return db.session.execute(
        select(Tender.id, Tender.title, Tender.description, Tender.method, Tender.state, Tender.published_at,
               Tender.deadline_at, Tender.opening_at, Tender.opened_at, Tender.award_notice_at,
               Tender.publicity_ends_at, Tender.challenge_ends_at, Tender.reason, Tender.awarded_bid_id,
               Tender.min_rating, Tender.min_years_registered, Tender.require_annual_report,
               Tender.require_good_credit, Tender.bar_failed_grade, Tender.admit_filed, Tender.price_weight,
               Project.budget_ceiling, Project.service_area, Department.name.label("department"))
        .join(Project, Project.id == Tender.project_id).join(Department, Department.id == Tender.department_id)
        .where(Tender.id == tender_id, public_clause())).first()


def documents(tender_id: int) -> list:
    """The call's documents (and those of its clarifications): title, file name, size."""
    return db.session.execute(
        select(TenderDocument.id, TenderDocument.title, TenderDocument.clarification_id, Document.filename,
               Document.size, Document.content_type)
        .join(Document, Document.id == TenderDocument.document_id)
        .where(TenderDocument.tender_id == tender_id)
        .order_by(TenderDocument.position, TenderDocument.id)).all()


def clarifications(tender_id: int) -> list:
    """The clarifications, oldest first (never who published them)."""
    return db.session.execute(
        select(Clarification.id, Clarification.text, Clarification.affects_bids, Clarification.old_deadline_at,
               Clarification.new_deadline_at, Clarification.published_at)
        .where(Clarification.tender_id == tender_id).order_by(Clarification.published_at, Clarification.id)).all()


def opening_record(tender) -> list:
    """The opened bids of a tender whose record is public: bidder name, price (or that
    it could not be opened), state. Nothing when the record is not public yet: the
    caller cannot ask too early."""
    if not record_public(tender.state, tender.opened_at):
        return []
    return db.session.execute(
        select(Bid.id, Bid.price, Bid.open_error, Bid.state, Bid.opened_at, Bid.submitted_at,
               Organization.name.label("bidder"))
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Bid.tender_id == tender.id, Bid.opened_at.is_not(None))
        .order_by(Bid.submitted_at, Bid.id)).all()


def document(tender_id: int, tender_document_id: int):
    """A public call's document row (with its stored Document), or None."""
    return db.session.execute(
        select(Document).join(TenderDocument, TenderDocument.document_id == Document.id)
        .join(Tender, Tender.id == TenderDocument.tender_id)
        .where(TenderDocument.id == tender_document_id, TenderDocument.tender_id == tender_id,
               public_clause())).scalar_one_or_none()
