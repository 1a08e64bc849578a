"""Milestone reports (issue 11 item 1): the organization opens and saves a draft report
on a milestone of its contract in force — indicator actuals against the project's
targets, a narrative, evidence files and spending lines by budget category — submits it;
the officer approves it or requests a revision with a comment; a resubmission is a new
version. Also: the approved budget breakdown of a contract (filled from the awarded
bid when the contract enters force) and the derived "overdue" of a milestone.

Each service checks permission, validates everything before writing, audits and
flushes; the caller commits once. Edits are compare-and-set on the report's
``revision`` (``workflow.claim_revision``), moves go through ``REPORT_MACHINE``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, not_, select
from sqlalchemy.exc import IntegrityError

from .. import audit, signals, workflow
from ..auth.models import User, UserStatus
from ..calendar import local_today
from ..contracts.models import Contract, ContractState, Milestone
from ..documents.services import store_document
from ..documents.uploads import LABELS as TYPE_LABELS
from ..documents.uploads import check_upload
from ..errors import Conflict, DomainError, InvalidTransition, NotPermitted, ValidationError
from ..extensions import db
from ..notifications.services import app_path, notify, register_topic
from ..parsing import has_control_chars, parse_amount, parse_id
from ..permissions import can, define, own_department, own_organization, related, require, role_in
from ..projects.models import PROJECT_MACHINE, Project, ProjectState
from ..projects.services import ensure_open
from ..roles import Role
from ..tenders.bidding import BREAKDOWN_CATEGORIES
from ..tenders.content import open_bundle
from ..tenders.models import Bid, Tender
from ..timeutil import utcnow
from .models import (
    REPORT_MACHINE,
    BudgetLine,
    MilestoneReport,
    ReportEvidence,
    ReportState,
    ReportSubmission,
    SpendingLine,
)

R = ReportState
MAX_SPENDING_LINES = 50
MAX_EVIDENCE = 30
MAX_NARRATIVE = 20000
MAX_COMMENT = 4000
#: Evidence: photos, sign-in sheets, receipts (DOMAIN.md §3), by content.
EVIDENCE_TYPES = frozenset({"png", "jpeg", "pdf", "xlsx", "docx"})
#: What a file name's extension claims, to refuse a file whose content is another type.
_EXTENSION_TYPES = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "pdf": "pdf", "xlsx": "xlsx", "docx": "docx"}
#: A report the organization may still edit.
EDITABLE = (R.DRAFT, R.REVISION_REQUESTED)
#: A milestone is not overdue once its report is in one of these states.
DELIVERED = (R.SUBMITTED, R.APPROVED)

# --- permissions -------------------------------------------------------------------------
# Reading: administrators and finance all; officers their department's contracts; the
# organization's staff its own. Reporting: the contracted organization's staff. Review:
# the officers of the contract's department.
_DEPT = related("contract", own_department())
define("milestone.view", {Role.ADMIN, Role.FINANCE, Role.OFFICER, Role.ORG},
       role_in(Role.ADMIN, Role.FINANCE) | (role_in(Role.OFFICER) & _DEPT)
       | (role_in(Role.ORG) & related("contract", own_organization())), model=Milestone)
define("milestone.report", {Role.ORG}, related("contract", own_organization()), model=Milestone)
define("milestone_report.view", {Role.ADMIN, Role.FINANCE, Role.OFFICER, Role.ORG},
       role_in(Role.ADMIN, Role.FINANCE) | (role_in(Role.OFFICER) & _DEPT) | (role_in(Role.ORG) & own_organization()),
       model=MilestoneReport)
define("milestone_report.review", {Role.OFFICER}, _DEPT, model=MilestoneReport)

register_topic("milestone_report.submitted", _l("Milestone reports waiting for review"), roles={Role.OFFICER})
register_topic("milestone_report.decided", _l("Decisions on your milestone reports"), roles={Role.ORG})


def max_evidence_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))


# --- reads -------------------------------------------------------------------------------

def overdue_condition(today: date | None = None):
    """SQL: the milestone (``Milestone``) is overdue on ``today`` — its contract is in
    force, its due date has passed and its report is neither submitted nor approved.
    Derived, never stored; usable in any list or count (no per-row query)."""
    today = today or local_today()
    delivered = exists().where(MilestoneReport.milestone_id == Milestone.id,
                               MilestoneReport.state.in_(DELIVERED)).correlate(Milestone)
    active = exists().where(Contract.id == Milestone.contract_id,
                            Contract.state == ContractState.ACTIVE).correlate(Milestone)
    return and_(Milestone.due_on < today, active, not_(delivered))


def milestones_of(contract: Contract, today: date | None = None) -> list[tuple]:
    """(milestone, report or None, is_overdue) for each milestone of ``contract``, in
    one statement."""
    return milestones_of_many([contract.id], today).get(contract.id, [])


def milestones_of_many(contract_ids: list[int], today: date | None = None) -> dict[int, list[tuple]]:
    """:func:`milestones_of` for several contracts in one statement: contract id →
    [(milestone, report or None, is_overdue)] in milestone order."""
    if not contract_ids:
        return {}
    today = today or local_today()
    rows = db.session.execute(
        select(Milestone, MilestoneReport, overdue_condition(today).label("overdue"))
        .outerjoin(MilestoneReport, MilestoneReport.milestone_id == Milestone.id)
        .where(Milestone.contract_id.in_(contract_ids)).order_by(Milestone.contract_id, Milestone.position)).all()
    out: dict[int, list[tuple]] = {}
    for m, r, o in rows:
        out.setdefault(m.contract_id, []).append((m, r, bool(o)))
    return out


def report_of(milestone: Milestone) -> MilestoneReport | None:
    return db.session.scalar(select(MilestoneReport).where(MilestoneReport.milestone_id == milestone.id))


def blank_actuals(contract: Contract) -> list[dict]:
    """The actuals table of a new report: the project's targets, no actual yet."""
    project = db.session.get(Project, contract.project_id)
    return [{"indicator": t.indicator, "unit": t.unit, "target_value": str(t.target_value), "actual": "",
             "note": ""} for t in project.targets]


def budget_lines(contract_id: int) -> list[BudgetLine]:
    return list(db.session.scalars(select(BudgetLine).where(BudgetLine.contract_id == contract_id)
                                   .order_by(BudgetLine.id)))


# --- the approved budget breakdown ------------------------------------------------------

@signals.contract_activated.connect
def _fill_budget_lines(contract: Contract, actor=None, **_extra) -> None:
    """When a contract enters force, copy the awarded bid's breakdown (sealed content,
    opened here) into ``BudgetLine`` rows, one per category. A bid that cannot be opened
    leaves no lines (the spending page then says there is no approved breakdown)."""
    fill_budget_lines(actor, contract)


def fill_budget_lines(actor, contract: Contract) -> list[BudgetLine]:
    """The contract's approved breakdown from its bid (idempotent: existing lines stay)."""
    existing = budget_lines(contract.id)
    if existing:
        return existing
    bid = db.session.get(Bid, contract.bid_id)
    tender = db.session.get(Tender, contract.tender_id)
    try:
        content = open_bundle(tender, bid)
    except (DomainError, ValueError, KeyError, TypeError):
        current_app.logger.warning("contract %s: the awarded bid could not be opened; no budget lines", contract.id)
        return []
    sums: dict[str, Decimal] = {}
    for line in content.get("breakdown") or []:
        category = line.get("category") if isinstance(line, dict) else None
        if category not in BREAKDOWN_CATEGORIES:
            continue
        try:
            amount = Decimal(str(line.get("amount")))
        except (InvalidOperation, ValueError):
            continue
        if not amount.is_finite() or amount < 0:
            continue
        sums[category] = sums.get(category, Decimal("0")) + amount
    lines = [BudgetLine(contract_id=contract.id, category=c, amount=a.quantize(Decimal("0.01")))
             for c, a in sorted(sums.items())]
    db.session.add_all(lines)
    db.session.flush()
    if lines:
        audit.record(actor, "budget_line.fill", contract, after={"budget": {ln.category: str(ln.amount)
                                                                            for ln in lines}})
    return lines


# --- people --------------------------------------------------------------------------------

def _officers(contract: Contract) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.department_id == contract.department_id, User.role == Role.OFFICER,
        User.status == UserStatus.ACTIVE).order_by(User.id)))


def _org_staff(contract: Contract) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organization_id == contract.organization_id, User.role == Role.ORG,
        User.status == UserStatus.ACTIVE).order_by(User.id)))


# --- input ---------------------------------------------------------------------------------

@dataclass
class SpendingData:
    category: str = ""
    amount: object = ""
    description: str = ""


@dataclass
class ReportData:
    narrative: str = ""
    #: One value per row of the report's actuals table (the project's targets), in order.
    actuals: list = field(default_factory=list)
    spending: list[SpendingData] = field(default_factory=list)
    #: A new evidence file (werkzeug FileStorage) and its caption, or None.
    evidence_file: object = None
    evidence_caption: str = ""
    #: Ids of ReportEvidence rows to remove.
    remove_evidence: list = field(default_factory=list)


def _clean(text, field_name: str, max_len: int, *, multiline: bool = True) -> str:
    text = (text or "").strip()
    if has_control_chars(text, multiline=multiline):
        raise ValidationError(_l("This text contains control characters (such as a NUL byte) that cannot be "
                                 "stored. Please retype it."), field=field_name)
    if len(text) > max_len:
        raise ValidationError(_l("At most %(n)s characters.", n=max_len), field=field_name)
    return text


def parse_actual(raw, indicator: str) -> str:
    """An indicator's actual: blank (not filled yet), or a number ≥ 0 with at most two
    decimals, as a string."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return ""
    if has_control_chars(text):
        raise ValidationError(_l("This text contains control characters (such as a NUL byte) that cannot be "
                                 "stored. Please retype it."), field="actuals")
    try:
        value = parse_amount(text, "actuals", allow_zero=True)
    except ValidationError:
        raise ValidationError(_l("The actual of “%(indicator)s” must be a number of at least 0 with at most two "
                                 "decimals, e.g. 120 or 35.5.", indicator=indicator), field="actuals") from None
    return str(value)


def parse_spending(rows: list[SpendingData]) -> list[dict]:
    """Spending lines: a known budget category, an amount ≥ 0 with at most two
    decimals, a short description; blank rows skipped; at most 50."""
    filled = [r for r in rows if str(r.category or "").strip() or str(r.amount or "").strip()
              or str(r.description or "").strip()]
    if len(filled) > MAX_SPENDING_LINES:
        raise ValidationError(_l("At most %(n)d spending lines.", n=MAX_SPENDING_LINES), field="spending")
    out = []
    for n, row in enumerate(filled, start=1):
        category = str(row.category or "").strip()
        if category not in BREAKDOWN_CATEGORIES:
            raise ValidationError(_l("Spending line %(n)d: choose one of the budget categories of the bid.", n=n),
                                  field="spending")
        try:
            amount = parse_amount(row.amount, "spending", allow_zero=True)
        except ValidationError as exc:
            raise ValidationError(_l("Spending line %(n)d: %(reason)s", n=n, reason=exc.message),
                                  field="spending") from None
        out.append({"category": category, "amount": amount,
                    "description": _clean(row.description, "spending", 200, multiline=False)})
    return out


def check_evidence(file_storage):
    """An evidence upload: PNG, JPEG, PDF, Excel or Word by its content, within the size
    limit, and not named as another type than its content is (a disguised file)."""
    checked = check_upload(file_storage, EVIDENCE_TYPES, max_evidence_bytes())
    ext = checked.filename.rsplit(".", 1)[-1].lower() if "." in checked.filename else ""
    named = _EXTENSION_TYPES.get(ext)
    if named is None or named != checked.type:
        raise ValidationError(_l("“%(name)s” is named as %(named)s but its content is %(actual)s. Upload the file "
                                 "with its real type (PNG, JPEG, PDF, Excel or Word).",
                                 name=checked.filename, named=ext.upper() or _l("no type"),
                                 actual=TYPE_LABELS[checked.type]), field="evidence_file")
    return checked


# --- open and save -------------------------------------------------------------------------

def _check_reporter(actor, milestone: Milestone) -> Contract:
    if milestone is None or not can(actor, "milestone.report", milestone):
        raise NotPermitted(_l("Only the contracted organization's staff report on this milestone."))
    contract = milestone.contract
    ensure_open(contract.project)
    if contract.state != ContractState.ACTIVE:
        raise InvalidTransition(_l("Reports are written while the contract is in force."))
    return contract


def open_report(actor, milestone: Milestone) -> MilestoneReport:
    """The report on ``milestone`` (its contract in force, the actor one of the
    organization's staff): the existing one, or a new draft whose actuals table lists the
    project's targets. Two opening at once get the same report."""
    contract = _check_reporter(actor, milestone)
    report = report_of(milestone)
    if report is not None:
        return report
    report = MilestoneReport(milestone_id=milestone.id, contract_id=contract.id,
                             organization_id=contract.organization_id, state=R.DRAFT, narrative="",
                             actuals=blank_actuals(contract), created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:  # another request opened it first
        existing = report_of(milestone)
        if existing is None:
            raise
        return existing
    audit.record(actor, "milestone_report.open", report, after=report.snapshot())
    return report


def save_report(actor, milestone: Milestone, data: ReportData, seen_revision: int | None = None
                ) -> MilestoneReport:
    """Save the draft (state draft or revision_requested, unchanged): actuals,
    narrative, spending lines, an evidence file added and others removed. Everything is
    checked before anything is written; ``seen_revision`` is the revision the form was
    loaded at (0: no report existed yet) — a report saved meanwhile by someone else is
    refused (Conflict), never overwritten."""
    contract = _check_reporter(actor, milestone)
    report = report_of(milestone)
    if report is not None and report.state not in EDITABLE:
        raise InvalidTransition(_l("This report was submitted; it can be changed again only if a revision is "
                                   "requested."))
    if report is not None and seen_revision == 0:
        raise Conflict(workflow.STALE)
    # --- validate everything first: a refusal writes nothing
    base = report.actuals if report is not None else blank_actuals(contract)
    values = list(data.actuals or [])
    actuals = []
    for i, row in enumerate(base):
        raw = values[i] if i < len(values) else row.get("actual", "")
        actuals.append({**row, "actual": parse_actual(raw, row.get("indicator", ""))})
    narrative = _clean(data.narrative, "narrative", MAX_NARRATIVE)
    spending = parse_spending(data.spending or [])
    caption = _clean(data.evidence_caption, "evidence_caption", 200, multiline=False)
    checked = None
    if data.evidence_file is not None and getattr(data.evidence_file, "filename", None):
        checked = check_evidence(data.evidence_file)
    remove = {parse_id(x) for x in (data.remove_evidence or [])} - {None}
    kept = [e for e in (report.evidence if report is not None else []) if e.id not in remove]
    if len(kept) + (1 if checked else 0) > MAX_EVIDENCE:
        raise ValidationError(_l("At most %(n)d evidence files.", n=MAX_EVIDENCE), field="evidence_file")
    # --- write
    if report is None:
        report = open_report(actor, milestone)
        if seen_revision not in (None, 0):
            raise Conflict(workflow.STALE)
        seen = report.revision
    else:
        seen = report.revision if seen_revision is None else seen_revision
    before = current_content(report)
    workflow.claim_revision(report, seen, state=report.state)
    report.narrative, report.actuals = narrative, actuals
    report.spending.clear()
    db.session.flush()
    for pos, line in enumerate(spending):
        report.spending.append(SpendingLine(contract_id=contract.id, position=pos, **line))
    for ev in list(report.evidence):
        if ev.id in remove:
            report.evidence.remove(ev)
            audit.record(actor, "milestone_report.remove_evidence", report,
                         before={"document_id": ev.document_id, "filename": ev.document.filename})
    if checked is not None:
        doc = store_document(actor, checked.data, checked.filename, checked.content_type, kind="report_evidence",
                             obj=report, permission="milestone_report.view")
        report.evidence.append(ReportEvidence(document_id=doc.id, caption=caption, added_by_id=actor.id))
        audit.record(actor, "milestone_report.add_evidence", report,
                     after={"document_id": doc.id, "filename": doc.filename, "sha256": doc.sha256})
    db.session.flush()
    db.session.refresh(report)
    b, a = audit.diff(before, current_content(report))
    if b or a:
        audit.record(actor, "milestone_report.save", report, before=b, after=a)
    return report


def current_content(report: MilestoneReport) -> dict:
    """What a submission freezes (money as strings)."""
    return {
        "narrative": report.narrative,
        "actuals": [dict(a) for a in report.actuals],
        "spending": [{"category": s.category, "amount": str(s.amount), "description": s.description}
                     for s in report.spending],
        "evidence": [{"document_id": e.document_id, "filename": e.document.filename, "sha256": e.document.sha256,
                      "caption": e.caption} for e in report.evidence],
    }


class _Joined:
    """Translated parts joined when the message is read (in the reader's language)."""

    def __init__(self, parts: list, sep: str = "; "):
        self.parts, self.sep = parts, sep

    def __str__(self) -> str:
        return self.sep.join(str(p) for p in self.parts)


def missing_for_submission(report: MilestoneReport) -> list:
    """What a report still lacks before it may be submitted (empty: complete)."""
    missing = []
    if not (report.narrative or "").strip():
        missing.append(_l("the narrative"))
    empty = [a.get("indicator", "") for a in report.actuals if not str(a.get("actual", "")).strip()]
    if empty:
        missing.append(_l("the actuals of: %(names)s", names="、".join(empty)))
    if not report.evidence:
        missing.append(_l("at least one evidence file"))
    return missing


# --- submit and review -----------------------------------------------------------------------

def _check_seen(report: MilestoneReport, seen_revision: int | None) -> None:
    if seen_revision is not None and seen_revision != report.revision:
        raise Conflict(workflow.STALE)


def submit_report(actor, report: MilestoneReport, seen_revision: int | None = None) -> ReportSubmission:
    """draft | revision_requested → submitted: freezes what is submitted as version
    1, 2, … (``ReportSubmission``); needs the narrative, every actual and at least one
    evidence file. The first report submitted on a contracted project moves the project
    to in progress. The department's officers are told."""
    contract = _check_reporter(actor, report.milestone)
    REPORT_MACHINE.check(report.state, R.SUBMITTED)
    _check_seen(report, seen_revision)
    missing = missing_for_submission(report)
    if missing:
        raise ValidationError(_l("Before submitting, add %(what)s.", what=_Joined(missing)))
    number = report.submissions_count + 1
    now = utcnow()
    REPORT_MACHINE.transition(report, R.SUBMITTED, actor, values={"submitted_at": now, "submissions_count": number},
                              extra={"version": number})
    submission = ReportSubmission(report_id=report.id, number=number, content=current_content(report),
                                  submitted_by_id=actor.id, submitted_at=now)
    db.session.add(submission)
    db.session.flush()
    project = db.session.scalars(select(Project).where(Project.id == contract.project_id).with_for_update(of=Project)
                                 .execution_options(populate_existing=True)).one()
    if project.state == ProjectState.CONTRACTED:
        PROJECT_MACHINE.transition(project, ProjectState.IN_PROGRESS, actor, extra={"contract": contract.number})
    milestone = report.milestone
    notify(_officers(contract), "report_submitted", report,
           context={"contract": contract, "milestone": milestone, "version": number, "org": contract.organization},
           rule="milestone_report.submitted", link=app_path("delivery.report", report_id=report.id))
    return submission


def _latest(report: MilestoneReport) -> ReportSubmission:
    return db.session.scalars(select(ReportSubmission).where(ReportSubmission.report_id == report.id)
                              .order_by(ReportSubmission.number.desc()).limit(1)).one()


def _decide(actor, report: MilestoneReport, to: ReportState, comment: str, seen_revision: int | None):
    if report is None or not can(actor, "milestone_report.review", report):
        raise NotPermitted(_l("Only the officers of the contract's department review its reports."))
    ensure_open(report.contract.project)
    REPORT_MACHINE.check(report.state, to)
    _check_seen(report, seen_revision)
    now = utcnow()
    REPORT_MACHINE.transition(report, to, actor, values={"reviewed_at": now, "reviewed_by_id": actor.id,
                                                         "review_comment": comment or None},
                              extra={"version": report.submissions_count, "comment": comment or None})
    submission = _latest(report)
    submission.decision, submission.decision_comment = to, comment or None
    submission.decided_by_id, submission.decided_at = actor.id, now
    db.session.flush()
    contract = report.contract
    notify([u for u in _org_staff(contract) if u.id != actor.id],
           "report_approved" if to == R.APPROVED else "report_revision_requested", report,
           context={"contract": contract, "milestone": report.milestone, "version": submission.number,
                    "comment": comment}, rule="milestone_report.decided",
           link=app_path("delivery.report", report_id=report.id))
    return submission


def approve_report(actor, report: MilestoneReport, comment: str = "", seen_revision: int | None = None
                   ) -> ReportSubmission:
    """submitted → approved, by an officer of the contract's department (an optional
    note). Sends ``signals.milestone_report_approved`` (payments raise the installment);
    the organization is told."""
    comment = _clean(comment, "comment", MAX_COMMENT)
    submission = _decide(actor, report, R.APPROVED, comment, seen_revision)
    signals.milestone_report_approved.send(report, actor=actor)
    return submission


def request_revision(actor, report: MilestoneReport, comment: str, seen_revision: int | None = None
                     ) -> ReportSubmission:
    """submitted → revision_requested, with the officer's comment (required); the
    organization edits and resubmits (a new version)."""
    comment = _clean(comment, "comment", MAX_COMMENT)
    if not comment:
        raise ValidationError(_l("Say what must be revised: the comment is required."), field="comment")
    return _decide(actor, report, R.REVISION_REQUESTED, comment, seen_revision)


def require_view(actor, report: MilestoneReport) -> None:
    require(actor, "milestone_report.view", report)
