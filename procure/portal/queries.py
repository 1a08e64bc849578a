"""The portal's reads. Each selects named columns only (never a whole Organization or
User row, so no personal field can reach a page) and runs one statement; what is
public is decided here, in SQL, once:

- a call is public once published (``published_at`` set and come) and not a draft;
- a bid is public only in an opening record: its tender opened (``opened_at`` set) and
  past the closed state, the bid itself opened (``Bid.opened_at`` set);
- a contract is public once published (``Contract.published_at`` set, which happens when
  both parties have signed); of its terms the portal shows the version signed last,
  through a list of public keys (``public_terms``): no contact person or phone, nothing
  of the bid behind it (proposal, budget breakdown, attachments)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import DateTime, Integer, Text, and_, bindparam, func, select, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from ..auth.models import Department
from ..contracts.models import Contract, ContractState, ContractVersion, VersionState
from ..documents.models import Document
from ..extensions import db
from ..organizations.models import Organization
from ..organizations.services import SHORT_SEARCH, like_escape
from ..projects.models import Project
from ..tenders import invitations
from ..tenders.models import Bid, Clarification, Tender, TenderDocument, TenderState
from ..timeutil import utcnow

T = TenderState

#: The portal's sections: the states each lists, and the column it is ordered by
#: (the soonest deadline first for open calls, the latest event first for the others).
#:
#: Calls by invitation (邀请招标, 单一来源) have their own section beside the open calls.
#: A bureau publishes that such a procurement exists and when its bids are due (the
#: public may follow it, and object to a single source), but the call is not open to
#: all: listed among the open calls, it would read as an invitation to every
#: organization, which then prepares a bid only to be refused. So "Open calls" lists the
#: calls any eligible organization may answer, "Calls by invitation" the others, marked
#: as such and with no invitation to bid (never who is invited: 招标投标法 第二十二条).
#: Once the bids are opened every call, whatever its method, goes on to the same
#: sections (opening records, awards, failed and cancelled): the results are public.
SECTIONS = {
    "open": (T.PUBLISHED,),
    "invited": (T.PUBLISHED,),
    "opened": (T.CLOSED, T.EVALUATING),
    "awards": (T.AWARDED, T.FINAL),
    "ended": (T.FAILED, T.CANCELLED),
}
#: The methods of the calls by invitation (their own section while open for bids).
INVITED_METHODS = tuple(sorted(invitations.INVITED_METHODS))


def section_filter(section: str):
    """The section's condition besides its states (the method, for the two sections of
    calls open for bids), or None."""
    if section == "open":
        return Tender.method.not_in(INVITED_METHODS)
    if section == "invited":
        return Tender.method.in_(INVITED_METHODS)
    return None


def section_of(state, method) -> str:
    """The section a public call is listed in."""
    if state == T.PUBLISHED:
        return "invited" if method in invitations.INVITED_METHODS else "open"
    return next(key for key, states in SECTIONS.items() if state in states)


#: States after which the opening record is public (with ``opened_at`` set).
RECORD_STATES = (T.CLOSED, T.EVALUATING, T.AWARDED, T.FINAL, T.FAILED)
PER_PAGE = 20
MAX_QUERY = 100


def public_clause(now=None):
    """Tenders the public may see: published, and the publication time has come
    (``now``: a time, or a bound parameter; the current time by default)."""
    if now is None:
        now = utcnow()
    return and_(Tender.state != T.DRAFT, Tender.published_at.is_not(None), Tender.published_at <= now)


def record_public(state, opened_at) -> bool:
    """Whether the opening record of a tender in ``state`` opened at ``opened_at`` is public."""
    return opened_at is not None and state in RECORD_STATES


def _order(section: str):
    if section in ("open", "invited"):
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
        """The page numbers a pager shows (the edges and around the current page), None
        for each gap: the shown numbers only, not every page (thousands of pages)."""
        pages = self.pages
        shown = sorted({*range(1, min(left_edge, pages) + 1),
                        *range(max(1, self.page - left_current), min(pages, self.page + right_current - 1) + 1),
                        *range(max(1, pages - right_edge + 1), pages + 1)})
        last = 0
        for num in shown:
            if last + 1 != num:
                yield None
            yield num
            last = num


def _grams_search(q: str) -> bool:
    return len(q) < SHORT_SEARCH and db.session.get_bind().dialect.name == "postgresql"


def _title_match(grams: bool):
    """Tenders whose title contains the bound ``match`` (case-insensitive). On PostgreSQL
    a search of 3 characters or more is served by the title's trigram index, a shorter
    one (``grams``) by its indexed 1- and 2-character substrings (portal models,
    migration 0006_portal), as the registry searches names."""
    if grams:
        return func.org_name_grams(Tender.title).op("@>")(bindparam("match", type_=postgresql.ARRAY(Text)))
    return Tender.title.ilike(bindparam("match", type_=Text()), escape="\\")


def _match_value(q: str, grams: bool):
    """What ``match`` is bound to for the search ``q`` (``%`` and ``_`` taken literally)."""
    return [q.lower()] if grams else f"%{like_escape(q)}%"


def _section_where(section: str, now) -> list:
    where = [public_clause(now), Tender.state.in_(SECTIONS[section])]
    if (narrow := section_filter(section)) is not None:
        where.append(narrow)
    return where


def _page_of(section: str, candidates):
    """The rows of a page among ``candidates`` (tender ids), with their ceiling and
    department, in the section's order."""
    return (select(Tender.id, Tender.title, Tender.method, Tender.state, Tender.published_at, Tender.deadline_at,
                   Tender.opening_at, Tender.opened_at, Tender.award_notice_at, Tender.publicity_ends_at,
                   Tender.challenge_ends_at, Tender.reason, Project.budget_ceiling,
                   Department.name.label("department"))
            .join(Project, Project.id == Tender.project_id).join(Department, Department.id == Tender.department_id)
            .where(Tender.id.in_(candidates)).order_by(*_order(section)))


@functools.cache
def _browse(section: str):
    """A section's two statements without a search (the count; a page), built once per
    process and bound per request (the time, the page): building them and computing
    their cache keys each time cost as much CPU as the rest of the page."""
    now = bindparam("now", type_=DateTime())
    where = _section_where(section, now)
    count = select(func.count()).select_from(Tender).where(*where)
    # Each state of the section read in the section's order along its index, as far as
    # this page reaches, then merged: an ``IN`` over the states would read and sort
    # every row of the section (its index gives no order across states).
    reach = bindparam("reach", type_=Integer())
    firsts = [select(Tender.id).where(*where, Tender.state == state).order_by(*_order(section))
              .limit(reach).subquery() for state in SECTIONS[section]]
    candidates = union_all(*[select(sub.c.id) for sub in firsts])
    return count, _paged(_page_of(section, candidates))


@functools.cache
def _search(section: str, grams: bool):
    """A section's two statements with a search by title, built once likewise (bound:
    the time, the search, the page). The planner chooses between the search index (a
    rare term) and the section's order testing each title (a common one); forcing
    either was slower on the other."""
    where = [*_section_where(section, bindparam("now", type_=DateTime())), _title_match(grams)]
    count = select(func.count()).select_from(Tender).where(*where)
    return count, _paged(_page_of(section, select(Tender.id).where(*where)))


def _paged(stmt):
    return stmt.limit(bindparam("limit", type_=Integer())).offset(bindparam("offset", type_=Integer()))


def calls(section: str, q: str = "", page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of a section's tenders, searched by title or not: two statements (the
    count, an index-only scan without a search; the rows)."""
    params = {"now": utcnow()}
    if q:
        grams = _grams_search(q)
        count, stmt = _search(section, grams)
        params["match"] = _match_value(q, grams)
    else:
        count, stmt = _browse(section)
    total = db.session.scalar(count, params) or 0
    offset = (page - 1) * per_page
    rows = []
    if total and offset < total:
        rows = db.session.execute(stmt, {**params, "reach": page * per_page, "limit": per_page,
                                         "offset": offset}).all()
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


# --- signed contracts -------------------------------------------------------------------

#: The states a published contract can be in (it never leaves them once signed).
CONTRACT_STATES = (ContractState.ACTIVE, ContractState.COMPLETED, ContractState.TERMINATED)


def contract_public_clause():
    return and_(Contract.published_at.is_not(None), Contract.state.in_(CONTRACT_STATES))


def _last_signed_number():
    return (select(func.max(ContractVersion.number))
            .where(ContractVersion.contract_id == Contract.id, ContractVersion.state == VersionState.SIGNED)
            .correlate(Contract).scalar_subquery())


def contracts(q: str = "", page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the published contracts, latest publication first: two statements
    (the count, the rows with their department and organization names)."""
    where = [contract_public_clause()]
    if q:
        where.append(Contract.title.ilike(f"%{like_escape(q)}%", escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(Contract).where(*where)) or 0
    rows = []
    if total and (page - 1) * per_page < total:
        # Amount and period as last signed (an amendment waiting for signatures is not public).
        sv = aliased(ContractVersion)
        rows = db.session.execute(
            select(Contract.id, Contract.number, Contract.title, Contract.state, sv.amount, sv.period_start,
                   sv.period_end, Contract.published_at,
                   Department.name.label("department"), Organization.name.label("organization"))
            .select_from(Contract)
            .join(sv, and_(sv.contract_id == Contract.id, sv.number == _last_signed_number()))
            .join(Department, Department.id == Contract.department_id)
            .join(Organization, Organization.id == Contract.organization_id)
            .where(*where).order_by(Contract.published_at.desc(), Contract.id.desc())
            .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, page, per_page, total)


def contract(contract_id: int):
    """One published contract (one statement): its number, state, dates, termination,
    the organization's registered name, the call it came from; or None."""
    return db.session.execute(
        select(Contract.id, Contract.number, Contract.title, Contract.state, Contract.activated_at,
               Contract.published_at, Contract.ended_at,
               Contract.end_reason, Contract.settlement, Contract.tender_id,
               Department.name.label("department"), Organization.name.label("organization"))
        .join(Department, Department.id == Contract.department_id)
        .join(Organization, Organization.id == Contract.organization_id)
        .where(Contract.id == contract_id, contract_public_clause())).first()


def signed_versions(contract_id: int) -> list:
    """The contract's signed versions, latest first (one statement): number, reason, when
    signed, the hashes and the verification code; and the terms as signed."""
    return db.session.execute(
        select(ContractVersion.id, ContractVersion.number, ContractVersion.reason, ContractVersion.signed_at,
               ContractVersion.content_sha256, ContractVersion.signed_sha256, ContractVersion.verify_code,
               ContractVersion.content)
        .where(ContractVersion.contract_id == contract_id, ContractVersion.state == VersionState.SIGNED)
        .order_by(ContractVersion.number.desc())).all()


def contract_of_call(tender_id: int):
    """The published contract of a call (id, number), or None (one statement)."""
    return db.session.execute(select(Contract.id, Contract.number).where(
        Contract.tender_id == tender_id, contract_public_clause())).first()


#: What of a version's frozen terms (``ContractVersion.content``) is public: the parties'
#: registered data (the legal representative is registered, public data; the contact
#: person and phone are personal and left out), the project, the services, targets,
#: amount, period and payment schedule.
_PUBLIC_PARTY = {"department": ("name", "code"),
                 "organization": ("name", "credit_code", "legal_representative", "address")}
_PUBLIC_PROJECT = ("title", "service_area", "target_group", "category", "fiscal_year")
_PUBLIC_TOP = ("number", "title", "service_content", "amount", "period_start", "period_end", "is_continuous")


def public_terms(content: dict | None) -> dict:
    """The public part of a version's terms, by a list of keys (anything not listed,
    now or added later, stays out)."""
    content = content or {}
    parties = content.get("parties") or {}
    out = {key: content.get(key) for key in _PUBLIC_TOP}
    out["parties"] = {side: {k: (parties.get(side) or {}).get(k) for k in keys}
                      for side, keys in _PUBLIC_PARTY.items()}
    out["project"] = {k: (content.get("project") or {}).get(k) for k in _PUBLIC_PROJECT}
    out["targets"] = [{k: t.get(k) for k in ("indicator", "unit", "target_value")}
                      for t in content.get("targets") or []]
    out["schedule"] = []
    for row in content.get("schedule") or []:
        m = row.get("milestone")
        out["schedule"].append({
            "position": row.get("position"), "share": row.get("share"), "amount": row.get("amount"),
            "releases_on": row.get("releases_on"),
            "milestone": None if not m else {k: m.get(k) for k in ("title", "due_on", "deliverables")}})
    return out
