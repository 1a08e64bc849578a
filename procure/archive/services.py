"""Closing a project and reading the archive.

The closing rule (DOMAIN.md §4 Contract, §5): a project closes when its contract has
ended and nothing remains to pay —

* **completed**: the contract is completed, its acceptance passed, the project is in
  acceptance, and the ledger shows every committed yuan of the contract paid (every
  installment paid); or
* **terminated**: the contract is terminated with a settlement, and the ledger shows the
  settlement paid in full (what was not settled was de-committed at termination); the
  project may then be contracted, in progress or in acceptance —

and, in both cases, no milestone report is still waiting for review and no other contract
of the project is still in force or being signed. The project's officer (its department)
closes it; the move is compare-and-set under the project's money lock, so two closes at
once close it once; the record keeps the retention date (closing date in Beijing +
``records.retention_years``). Audited as ``project.close`` with the basis and the date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, func, literal, or_, select, union
from sqlalchemy.orm import joinedload

from .. import policy
from ..acceptance.models import Acceptance, AcceptanceState
from ..budgets import ledger
from ..budgets.models import ZERO, ContractFunding
from ..contracts.models import Contract, ContractState, ContractVersion
from ..delivery.models import MilestoneReport, ReportEvidence, ReportState
from ..documents.models import Document
from ..errors import InvalidTransition, NotFound, ValidationError
from ..extensions import db
from ..money import format_money
from ..parsing import CONTROL_CHARS_MESSAGE, has_control_chars
from ..payments.models import Payment
from ..permissions import define, own_department, require, role_in, visible
from ..projects.models import PROJECT_MACHINE, Project, ProjectState
from ..projects.services import ensure_open
from ..roles import Role
from ..timeutil import to_local, utcnow
from .models import ArchiveRecord, Basis

S = ProjectState
C = ContractState
#: The states a project can close from (the machine's table says the same).
CLOSABLE_FROM = frozenset({S.CONTRACTED, S.IN_PROGRESS, S.ACCEPTANCE})
PER_PAGE = 25
#: The longest closing note (the page's field says the same).
NOTE_MAX = 2000

#: The archive: staff (finance and admin every project, an officer their department's).
define("archive.view", {Role.ADMIN, Role.FINANCE, Role.OFFICER},
       role_in(Role.ADMIN, Role.FINANCE) | own_department(), model=Project)
define("project.close", {Role.OFFICER}, own_department(), model=Project)


def retain_until(closed_on: date, years: int | None = None) -> date:
    """``closed_on`` plus the retention period (29 February → 28 February)."""
    years = int(policy.value("records.retention_years")) if years is None else years
    try:
        return closed_on.replace(year=closed_on.year + years)
    except ValueError:
        return closed_on.replace(year=closed_on.year + years, day=28)


def _contract_of(project: Project) -> Contract:
    contracts = db.session.scalars(select(Contract).where(Contract.project_id == project.id)
                                   .order_by(Contract.id)).all()
    live = [c for c in contracts if c.state in (C.DRAFT, C.PENDING_SIGNATURE, C.ACTIVE)]
    if live:
        raise InvalidTransition(_l("Contract %(number)s is still in force (or being signed): a project closes once "
                                   "its contract is completed or terminated.", number=live[0].number))
    ended = [c for c in contracts if c.state in (C.COMPLETED, C.TERMINATED)]
    if not ended:
        raise InvalidTransition(_l("The project has no contract that was completed or terminated: it cannot be "
                                   "closed yet."))
    return ended[-1]


def check_closable(project: Project) -> tuple[Contract, Basis]:
    """The contract and basis on which ``project`` may close, or InvalidTransition saying
    what is missing. Reads only (the caller holds the locks when it matters)."""
    ensure_open(project)
    if project.state not in CLOSABLE_FROM:
        raise InvalidTransition(_l("Only a project under contract can be closed (this one is “%(state)s”).",
                                   state=project.state.label))
    contract = _contract_of(project)
    waiting = db.session.scalar(select(func.count()).select_from(MilestoneReport).where(
        MilestoneReport.contract_id == contract.id, MilestoneReport.state == ReportState.SUBMITTED))
    if waiting:
        raise InvalidTransition(_l("A milestone report still waits for review: review it before closing."))
    committed, paid = db.session.execute(
        select(func.coalesce(func.sum(ContractFunding.committed), 0),
               func.coalesce(func.sum(ContractFunding.paid), 0))
        .where(ContractFunding.contract_id == contract.id)).one()
    unpaid = committed - paid
    if contract.state == C.COMPLETED:
        if project.state != S.ACCEPTANCE:
            raise InvalidTransition(_l("The contract is completed but the project is not in acceptance."))
        passed = db.session.scalar(select(Acceptance.id).where(Acceptance.contract_id == contract.id,
                                                              Acceptance.state == AcceptanceState.PASSED))
        if passed is None:
            raise InvalidTransition(_l("The acceptance has not passed: the project cannot be closed yet."))
        if unpaid > ZERO or paid < contract.amount:
            raise InvalidTransition(_l("%(unpaid)s of the contract is not paid yet: close the project once every "
                                       "installment is paid.",
                                       unpaid=format_money(max(unpaid, contract.amount - paid))))
        return contract, Basis.COMPLETED
    if contract.settlement is None:
        raise InvalidTransition(_l("The terminated contract has no settlement."))
    if unpaid > ZERO or paid < contract.settlement:
        raise InvalidTransition(_l("%(unpaid)s of the settlement is not paid yet: close the project once the "
                                   "settlement is paid.", unpaid=format_money(contract.settlement - paid)))
    return contract, Basis.TERMINATED


def close_project(actor, project: Project, note: str | None = None) -> ArchiveRecord:
    """contracted | in_progress | acceptance → closed, on the closing rule (module
    docstring). Takes the project's money lock, re-reads and re-checks, then moves it
    compare-and-set and writes the archive record; the loser of two closes at once is
    told the project is closed. Flushes, never commits."""
    require(actor, "project.close", project)
    note = (note or "").strip()
    if has_control_chars(note):
        raise ValidationError(CONTROL_CHARS_MESSAGE, field="note")
    if len(note) > NOTE_MAX:
        raise ValidationError(_l("At most %(n)s characters.", n=NOTE_MAX), field="note")
    check_closable(project)  # a clear refusal before any lock
    locked = ledger.lock_for_money(project_id=project.id)
    project = locked.project
    db.session.refresh(project)
    contract, basis = check_closable(project)
    PROJECT_MACHINE.check(project.state, S.CLOSED)
    closed_at = utcnow()
    keep = retain_until(to_local(closed_at).date())
    note = note or None
    PROJECT_MACHINE.transition(project, S.CLOSED, actor, reason=note, extra={
        "basis": basis.value, "contract": contract.number, "retain_until": keep.isoformat()})
    record = ArchiveRecord(project_id=project.id, contract_id=contract.id, basis=basis, closed_at=closed_at,
                           closed_by_id=actor.id, retain_until=keep, note=note, contract_number=contract.number)
    db.session.add(record)
    db.session.flush()
    return record


# --- reading the archive ---------------------------------------------------------------

def archive_page(user, q: str | None = None, year: int | None = None, page: int = 1):
    """Closed projects ``user`` may see (newest closing first), searched by project title
    or contract number, filtered by fiscal year; one page (two queries)."""
    require(user, "archive.view")
    stmt = (select(ArchiveRecord).join(Project, Project.id == ArchiveRecord.project_id)
            .options(joinedload(ArchiveRecord.project), joinedload(ArchiveRecord.closed_by)))
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        stmt = stmt.where(or_(Project.title.ilike(like), ArchiveRecord.contract_number.ilike(like)))
    if year:
        stmt = stmt.where(Project.fiscal_year == year)
    stmt = visible(user, "archive.view", stmt, Project).order_by(ArchiveRecord.closed_at.desc(),
                                                                  ArchiveRecord.id.desc())
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)


def ready_to_close(user, limit: int = 50) -> list[tuple[Project, Contract]]:
    """Projects of ``user``'s department under contract whose contract has ended (the
    candidates for closing; the full rule is checked when closing). One query."""
    if user.role != Role.OFFICER:
        return []
    stmt = (select(Project, Contract).join(Contract, Contract.project_id == Project.id)
            .where(Project.state.in_(CLOSABLE_FROM), Contract.state.in_((C.COMPLETED, C.TERMINATED)))
            .order_by(Project.id).limit(limit))
    return list(db.session.execute(visible(user, "project.close", stmt, Project)).all())


@dataclass
class ArchivedDocument:
    document: Document
    role: str  # what it is in the project


DOC_ROLES = {
    "contract_pdf": _l("Contract (PDF)"), "contract_signed": _l("Signed contract"),
    "evidence": _l("Milestone report evidence"), "opinion": _l("Beneficiaries' opinion"),
    "certificate": _l("Acceptance certificate"), "payment_notice": _l("Payment notice"),
    "attached": _l("Document"),
}


def project_documents(project: Project) -> list[ArchivedDocument]:
    """Every document that belongs to the project and its contracts: contract PDFs
    (unsigned and signed, every version), reports' evidence, the beneficiaries' opinion,
    the acceptance certificate and the payment notices, and documents stored against the project or a
    contract. Two queries (the ids with their role, then the documents)."""
    cids = select(Contract.id).where(Contract.project_id == project.id)
    parts = [
        select(ContractVersion.pdf_document_id.label("doc"), cast(literal("contract_pdf"), String).label("role"))
        .where(ContractVersion.contract_id.in_(cids), ContractVersion.pdf_document_id.is_not(None)),
        select(ContractVersion.signed_document_id, cast(literal("contract_signed"), String))
        .where(ContractVersion.contract_id.in_(cids), ContractVersion.signed_document_id.is_not(None)),
        select(ReportEvidence.document_id, cast(literal("evidence"), String))
        .join(MilestoneReport, MilestoneReport.id == ReportEvidence.report_id)
        .where(MilestoneReport.contract_id.in_(cids)),
        select(Acceptance.opinion_document_id, cast(literal("opinion"), String))
        .where(Acceptance.contract_id.in_(cids), Acceptance.opinion_document_id.is_not(None)),
        select(Acceptance.certificate_document_id, cast(literal("certificate"), String))
        .where(Acceptance.contract_id.in_(cids), Acceptance.certificate_document_id.is_not(None)),
        select(Payment.notice_document_id, cast(literal("payment_notice"), String))
        .where(Payment.contract_id.in_(cids), Payment.notice_document_id.is_not(None)),
        select(Document.id, cast(literal("attached"), String))
        .where(or_(and_(Document.object_type == Project.__tablename__, Document.object_id == str(project.id)),
                   and_(Document.object_type == Contract.__tablename__,
                        Document.object_id.in_(select(cast(Contract.id, String)).where(
                            Contract.project_id == project.id))))),
    ]
    rows = db.session.execute(union(*parts)).all()
    roles: dict[int, str] = {}
    for doc_id, role in rows:  # a union has no order: the specific role wins over "attached"
        if roles.get(doc_id, "attached") == "attached":
            roles[doc_id] = role
    docs = db.session.scalars(select(Document).where(Document.id.in_(roles)).order_by(Document.created_at,
                                                                                       Document.id)).all() \
        if roles else []
    return [ArchivedDocument(d, roles[d.id]) for d in docs]


def record_of(project: Project) -> ArchiveRecord:
    record = db.session.scalar(select(ArchiveRecord).where(ArchiveRecord.project_id == project.id))
    if record is None:
        raise NotFound(_l("This project is not in the archive."))
    return record
