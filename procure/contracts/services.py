"""Contract operations: drafting from a final award, the PDF of a version (rendered by the
worker, ``rendering.py``), signing by both parties, which commits the money in the
ledger. Each checks permission, validates, audits, flushes; the caller commits once.
State changes go through ``CONTRACT_MACHINE`` / ``VERSION_MACHINE`` (compare-and-set)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import audit, pades, policy, signals, signing, workflow
from ..auth.models import User, UserStatus
from ..budgets import ledger
from ..budgets.models import ZERO, ContractFunding
from ..documents.services import read_document, store_document
from ..errors import BudgetExceeded, Conflict, InvalidTransition, NotPermitted, ValidationError
from ..extensions import db
from ..jobs.services import create_job, register_task
from ..money import format_money
from ..notifications.services import app_path, notify, register_topic
from ..parsing import has_control_chars, parse_amount
from ..permissions import can, define, own_department, own_organization, require, role_in
from ..projects.models import PROJECT_MACHINE, ProjectState
from ..projects.services import ensure_open
from ..roles import Role
from ..tenders import services as tender_rules  # noqa: F401 - defines tender.manage, checked here
from ..tenders.models import Tender, TenderState
from ..timeutil import long_day, to_local, utcnow
from .models import (
    CONTRACT_MACHINE,
    VERSION_MACHINE,
    Contract,
    ContractState,
    ContractVersion,
    Installment,
    Milestone,
    Party,
    Release,
    Signature,
    VersionState,
)

C, V = ContractState, VersionState
HUNDRED = Decimal("100")
FEN = Decimal("0.01")
#: The job kind and Celery task that render a version's PDF (workers/contracts.py).
PDF_JOB = "contract_pdf"
PDF_TASK = "workers.contracts.render_version"
register_task(PDF_JOB, PDF_TASK)
BATCH_JOB = "contract_pdf_batch"
BATCH_TASK = "workers.contracts.regenerate"
register_task(BATCH_JOB, BATCH_TASK)
MAX_INSTALLMENTS = 12

# Who sees a contract: admin and finance all; officers of the department; the
# organization's staff its own. Drafting: officers of the tender's department. Signing:
# the department's officers for Party A, the organization's staff for Party B.
_DEPT_OFFICER = role_in(Role.OFFICER) & own_department()
_ORG_STAFF = role_in(Role.ORG) & own_organization()
define("contract.view", {Role.ADMIN, Role.FINANCE, Role.OFFICER, Role.ORG},
       role_in(Role.ADMIN, Role.FINANCE) | _DEPT_OFFICER | _ORG_STAFF, model=Contract)
define("contract.draft", {Role.OFFICER})
define("contract.manage", {Role.OFFICER}, own_department(), model=Contract)
define("contract.sign", {Role.OFFICER, Role.ORG}, _DEPT_OFFICER | _ORG_STAFF, model=Contract)
#: Regenerating the PDFs of many contracts (after a template change): administrators.
define("contract.regenerate", {Role.ADMIN})

register_topic("contract.to_sign", _l("Contracts waiting for your signature"), roles={Role.OFFICER, Role.ORG})
register_topic("contract.signed", _l("Contracts signed"), roles={Role.OFFICER, Role.ORG, Role.FINANCE})


# --- drafting ----------------------------------------------------------------------

@dataclass
class InstallmentData:
    share: object
    releases_on: object
    title: str = ""
    due_on: date | None = None
    deliverables: str = ""


@dataclass
class DraftData:
    period_start: date | None
    period_end: date | None
    service_content: str
    is_continuous: bool = False
    installments: list[InstallmentData] = field(default_factory=list)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, month=3, day=1)


def term_limit(start: date, continuous: bool) -> tuple[date, int, str]:
    """The last day a contract starting on ``start`` may run to, the years and the rule's source."""
    key = "contract.max_term_years.continuous" if continuous else "contract.max_term_years"
    years = int(policy.value(key))
    return _add_years(start, years) - timedelta(days=1), years, policy.rule(key).source


def _text(value, field_name: str, message, *, max_len: int, multiline: bool = True) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(message, field=field_name)
    if has_control_chars(text, multiline=multiline):
        raise ValidationError(_l("Remove the control characters from this text."), field=field_name)
    if len(text) > max_len:
        raise ValidationError(_l("At most %(n)s characters.", n=max_len), field=field_name)
    return text


def _share(raw) -> Decimal:
    try:
        share = Decimal(str(raw).strip().rstrip("%").strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_l("Each share is a percentage such as 30 or 12.5."), field="installments") from None
    if not share.is_finite() or share <= 0 or share > HUNDRED or share != share.quantize(FEN):
        raise ValidationError(_l("Each share is a percentage above 0 and at most 100, with at most two decimals."),
                              field="installments")
    return share


def _schedule(data: DraftData, amount: Decimal, start: date, end: date) -> list[dict]:
    rows = [i for i in data.installments
            if str(i.share or "").strip() or (i.title or "").strip() or (i.deliverables or "").strip()]
    if not rows:
        raise ValidationError(_l("Give the payment schedule: at least one installment."), field="installments")
    if len(rows) > MAX_INSTALLMENTS:
        raise ValidationError(_l("At most %(n)s installments.", n=MAX_INSTALLMENTS), field="installments")
    out = []
    for pos, row in enumerate(rows):
        share = _share(row.share)
        try:
            release = Release(getattr(row.releases_on, "value", row.releases_on))
        except ValueError:
            raise ValidationError(_l("Say what releases each installment."), field="installments") from None
        last = pos == len(rows) - 1
        if last and release != Release.ACCEPTANCE:
            raise ValidationError(_l("The final installment is paid only after acceptance passed: tie it to "
                                     "acceptance."), field="installments")
        if not last and release != Release.MILESTONE:
            raise ValidationError(_l("Only the final installment follows acceptance; tie installment %(n)s to a "
                                     "milestone.", n=pos + 1), field="installments")
        item = {"share": share, "releases_on": release, "milestone": None}
        if release == Release.MILESTONE:
            title = _text(row.title, "installments", _l("Name the milestone of installment %(n)s.", n=pos + 1),
                          max_len=200, multiline=False)
            deliverables = _text(row.deliverables, "installments",
                                 _l("Say what installment %(n)s's milestone delivers.", n=pos + 1), max_len=2000)
            if row.due_on is None:
                raise ValidationError(_l("Give the due date of installment %(n)s's milestone.", n=pos + 1),
                                      field="installments")
            if not start <= row.due_on <= end:
                raise ValidationError(_l("The milestone of installment %(n)s is due outside the contract period.",
                                         n=pos + 1), field="installments")
            item["milestone"] = {"title": title, "due_on": row.due_on, "deliverables": deliverables}
        out.append(item)
    total = sum((i["share"] for i in out), ZERO)
    if total != HUNDRED:
        raise ValidationError(_l("The shares of the installments add up to %(total)s%%; they must add up to exactly "
                                 "100%%.", total=format(total.normalize(), "f")), field="installments")
    # Amounts: each share of the amount to the fen; the final installment takes the rest,
    # so the installments add up to the contract amount exactly.
    paid = ZERO
    for item in out[:-1]:
        item["amount"] = (amount * item["share"] / HUNDRED).quantize(FEN, rounding=ROUND_HALF_UP)
        paid += item["amount"]
    out[-1]["amount"] = amount - paid
    return out


def sign_due_on(tender: Tender) -> date:
    """The last day to sign: the award notice's (Shanghai) date plus the policy period."""
    return to_local(tender.award_notice_at).date() + timedelta(days=int(policy.value("contract.sign_within_days")))


def draft_contract(actor, tender: Tender, data: DraftData) -> Contract:
    """The contract of a final award: parties, content, targets carried from the project,
    the awarded price, the period within the term limit, the payment schedule; then its
    first version, whose PDF the worker renders."""
    require(actor, "contract.draft")
    require(actor, "tender.manage", tender)
    ensure_open(tender.project)
    if tender.state != TenderState.FINAL or tender.awarded_bid_id is None:
        raise InvalidTransition(_l("A contract is drafted from a final award; this call is not final yet."))
    if db.session.scalar(select(Contract.id).where(Contract.tender_id == tender.id)) is not None:
        raise Conflict(_l("This award already has its contract."))
    bid = tender.awarded_bid
    project = tender.project
    if bid is None or bid.price is None:
        raise ValidationError(_l("The awarded bid has no price."))
    if project.state != ProjectState.AWARDED:
        raise InvalidTransition(_l("The project is not in the awarded state."))
    content = _text(data.service_content, "service_content", _l("Describe the services the contract buys."),
                    max_len=20000)
    start, end = data.period_start, data.period_end
    if start is None or end is None:
        raise ValidationError(_l("Give the contract period."), field="period_start")
    if end < start:
        raise ValidationError(_l("The period ends before it starts."), field="period_end")
    limit, years, source = term_limit(start, bool(data.is_continuous))
    if end > limit:
        raise ValidationError(_l("The term may run at most %(years)s year(s), to %(limit)s at the latest (%(source)s).",
                                 years=years, limit=long_day(limit), source=source), field="period_end")
    amount = bid.price
    schedule = _schedule(data, amount, start, end)
    contract = Contract(
        number=f"HT-{project.fiscal_year}-{tender.id:05d}", project_id=project.id, tender_id=tender.id,
        bid_id=bid.id, department_id=tender.department_id, organization_id=bid.organization_id,
        state=C.DRAFT, title=project.title[:200], service_content=content, amount=amount, period_start=start,
        period_end=end, is_continuous=bool(data.is_continuous), awarded_at=tender.award_notice_at,
        sign_due_on=sign_due_on(tender), created_by_id=actor.id)
    db.session.add(contract)
    db.session.flush()
    for pos, item in enumerate(schedule):
        ms = None
        if item["milestone"]:
            ms = Milestone(contract_id=contract.id, position=pos, **item["milestone"])
            db.session.add(ms)
            db.session.flush()
        db.session.add(Installment(contract_id=contract.id, position=pos, share=item["share"], amount=item["amount"],
                                   releases_on=item["releases_on"], milestone_id=ms.id if ms else None))
    db.session.flush()
    db.session.refresh(contract)
    audit.record(actor, "contract.create", contract, after=contract.snapshot())
    new_version(actor, contract, str(_l("Original contract")))
    return contract


# --- versions and their PDF ----------------------------------------------------------

def _d(value) -> str | None:
    return value.isoformat() if value is not None else None


def version_content(contract: Contract) -> dict:
    """The terms as the PDF shows them, frozen in the version (JSON: strings for money and dates)."""
    org, dept, project = contract.organization, contract.department, contract.project
    return {
        "number": contract.number, "title": contract.title,
        "parties": {
            "department": {"name": dept.name, "code": dept.code},
            "organization": {"name": org.name, "credit_code": org.credit_code,
                             "legal_representative": org.legal_representative, "address": org.address,
                             "contact_name": org.contact_name, "contact_phone": org.contact_phone},
        },
        "project": {"title": project.title, "service_area": project.service_area,
                    "target_group": project.target_group, "category": project.category.name,
                    "fiscal_year": project.fiscal_year},
        "service_content": contract.service_content,
        "targets": [{"indicator": t.indicator, "unit": t.unit, "target_value": str(t.target_value)}
                    for t in project.targets],
        "amount": str(contract.amount), "period_start": _d(contract.period_start),
        "period_end": _d(contract.period_end), "is_continuous": contract.is_continuous,
        "sign_due_on": _d(contract.sign_due_on),
        "schedule": [{"position": i.position, "share": str(i.share), "amount": str(i.amount),
                      "releases_on": i.releases_on.value,
                      "milestone": None if i.milestone is None else {
                          "title": i.milestone.title, "due_on": _d(i.milestone.due_on),
                          "deliverables": i.milestone.deliverables}} for i in contract.installments],
    }


def new_version(actor, contract: Contract, reason: str) -> ContractVersion:
    """A new version of the contract's current terms; its PDF is queued for the worker."""
    ensure_open(contract.project)
    number = (db.session.scalar(select(func.max(ContractVersion.number))
                                .where(ContractVersion.contract_id == contract.id)) or 0) + 1
    version = ContractVersion(contract_id=contract.id, number=number, reason=reason, state=V.RENDERING,
                              amount=contract.amount, period_start=contract.period_start,
                              period_end=contract.period_end, content=version_content(contract),
                              verify_code=secrets.token_urlsafe(9)[:12], created_by_id=actor.id)
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "contract_version.create", version, after=version.snapshot())
    job = create_job(actor, PDF_JOB, {"version_id": version.id})
    version.job_id = job.id
    db.session.flush()
    return version


def verify_path(version: ContractVersion) -> str:
    return f"/verify/{version.verify_code}"


def signatories(contract: Contract, party: Party) -> list[User]:
    """Who may sign for ``party``: the department's active officers, or the organization's active staff."""
    if party == Party.DEPARTMENT:
        where = (User.role == Role.OFFICER, User.department_id == contract.department_id)
    else:
        where = (User.role == Role.ORG, User.organization_id == contract.organization_id)
    return list(db.session.scalars(select(User).where(*where, User.status == UserStatus.ACTIVE).order_by(User.id)))


def rendered(actor, version: ContractVersion, pdf: bytes, content_sha256: str, *,
             tell: bool = True) -> ContractVersion:
    """Store the rendered PDF of ``version`` (the worker calls this), make it ready for
    signatures, and tell the signatories of both parties."""
    contract = version.contract
    ensure_open(contract.project)
    doc = store_document(actor, pdf, f"{contract.number}-v{version.number}.pdf", "application/pdf",
                         kind="contract_pdf", obj=contract, permission="contract.view")
    VERSION_MACHINE.transition(version, V.READY, actor, values={
        "pdf_document_id": doc.id, "pdf_sha256": doc.sha256, "content_sha256": content_sha256,
        "rendered_at": utcnow()})
    if contract.state == C.DRAFT:
        CONTRACT_MACHINE.transition(contract, C.PENDING_SIGNATURE, actor)
    if tell:
        people = [u for p in Party for u in signatories(contract, p) if u.id != getattr(actor, "id", None)]
        notify(people, "contract_to_sign", contract, context={"contract": contract, "version": version},
               rule="contract.to_sign", link=app_path("contracts.detail", contract_id=contract.id))
    return version


# --- signing -------------------------------------------------------------------------

def party_of(user) -> Party | None:
    return {Role.OFFICER: Party.DEPARTMENT, Role.ORG: Party.ORGANIZATION}.get(getattr(user, "role", None))


def _lock(contract: Contract) -> Contract:
    return db.session.scalars(select(Contract).where(Contract.id == contract.id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def sign_contract(actor, contract: Contract, password: str) -> Signature:
    """``actor`` signs the current version for their party, re-entering their password:
    a PAdES signature added to the PDF with their certificate. When both parties have
    signed, the contract is in force, its money is committed from the project's
    allocations and the project is contracted."""
    party = party_of(actor)
    if party is None or not can(actor, "contract.sign", contract):
        raise NotPermitted(_l("Only the purchasing department's officers and the contracted organization's staff "
                              "sign this contract."))
    if not actor.check_password(password or ""):
        raise ValidationError(_l("The password is not right; the contract was not signed."), field="password")
    ensure_open(contract.project)
    contract = _lock(contract)
    if contract.state not in (C.PENDING_SIGNATURE, C.ACTIVE):
        raise InvalidTransition(_l("This contract is not waiting for signatures."))
    # Read fresh under the lock: the other party may have signed while we waited for it
    # (its signed PDF is the one this signature must add to).
    version = db.session.scalars(select(ContractVersion).where(
        ContractVersion.contract_id == contract.id, ContractVersion.state != V.SUPERSEDED)
        .order_by(ContractVersion.number.desc()).limit(1).execution_options(populate_existing=True)).first()
    if contract.state == C.ACTIVE and (version is None or version.state == V.SIGNED):
        raise InvalidTransition(_l("This contract is not waiting for signatures."))
    if version is None or version.state != V.READY:
        raise InvalidTransition(_l("The PDF of this version is not ready yet; sign once it is."))
    done = list(db.session.scalars(select(Signature).where(Signature.version_id == version.id)))
    if any(s.user_id == actor.id for s in done):
        raise Conflict(_l("You have already signed this version; the same person cannot sign for both parties or "
                          "twice."))
    if any(s.party == party for s in done):
        raise Conflict(_l("%(party)s has already signed this version.", party=party.label))
    source = version.signed_document if done else version.pdf_document
    for_whom = contract.department.name if party == Party.DEPARTMENT else contract.organization.name
    credential = signing.credential_for(actor, actor.id, actor.name, for_whom)
    signed = pades.sign_pdf(read_document(source), signing.signer_key(credential), field_name=f"sig_{party.value}",
                            name=actor.name, reason=f"{contract.number} v{version.number} {party.value}")
    doc = store_document(actor, signed, f"{contract.number}-v{version.number}-signed.pdf", "application/pdf",
                         kind="contract_signed", obj=contract, permission="contract.view")
    sig = Signature(version_id=version.id, contract_id=contract.id, party=party, user_id=actor.id,
                    signed_at=utcnow(), certificate_serial=credential.serial, document_id=doc.id,
                    document_sha256=doc.sha256)
    db.session.add(sig)
    version.signed_document_id, version.signed_sha256 = doc.id, doc.sha256
    db.session.flush()
    audit.record(actor, "contract.sign", contract, after={
        "version": version.number, "party": party.value, "certificate_serial": credential.serial,
        "document_sha256": doc.sha256})
    if len(done) + 1 < len(Party):
        others = [u for u in signatories(contract, Party.ORGANIZATION if party == Party.DEPARTMENT
                                         else Party.DEPARTMENT)]
        notify(others, "contract_to_sign", contract, context={"contract": contract, "version": version},
               rule="contract.to_sign", link=app_path("contracts.detail", contract_id=contract.id))
        return sig
    _activate(actor, contract, version)
    return sig


def _activate(actor, contract: Contract, version: ContractVersion) -> None:
    VERSION_MACHINE.transition(version, V.SIGNED, actor, values={"signed_at": utcnow()})
    committed = commit_money(actor, contract)
    if contract.state == C.ACTIVE:  # an amendment signed: the commitment followed it
        audit.record(actor, "contract.amendment_signed", contract, after={
            "version": version.number, "amount": contract.amount,
            "committed": {str(k): str(v) for k, v in committed.items()}})
        return
    # In force and on the public portal in the same commit: publication is automatic, so
    # it can never fall behind the policy period (contract.publish_within_working_days)
    # and no "publication due" reminder is needed. ``published_at`` records it.
    now = utcnow()
    CONTRACT_MACHINE.transition(contract, C.ACTIVE, actor, values={"activated_at": now, "published_at": now},
                                extra={"committed": {str(k): str(v) for k, v in committed.items()}})
    signals.contract_activated.send(contract, actor=actor)
    people = [u for p in Party for u in signatories(contract, p) if u.id != actor.id]
    notify(people, "contract_signed", contract, context={"contract": contract, "version": version},
           rule="contract.signed", link=app_path("contracts.detail", contract_id=contract.id))


def commit_money(actor, contract: Contract) -> dict[int, Decimal]:
    """Commit the contract amount (what it does not hold yet) from the project's
    allocations, in allocation order, each up to what it has not committed; under the
    ledger's locks. The project moves to contracted. Refused, with nothing written, when
    the allocations do not hold enough uncommitted money. Returns allocation id → amount."""
    ensure_open(contract.project)
    locked = ledger.lock_for_money(project_id=contract.project_id, contract_id=contract.id)
    held = sum((f.committed for f in locked.fundings.values()), ZERO)
    need = contract.amount - held
    if need < 0:  # an amendment lowered the amount: give back the unpaid commitment, last first
        give = -need
        taken = {}
        for (_cid, alloc_id), funding in sorted(locked.fundings.items(), reverse=True):
            back = min(funding.committed - funding.paid, give)
            if back > 0:
                ledger.decommit(locked, alloc_id, contract.id, back, actor=actor, reason=contract.number)
                taken[alloc_id] = -back
                give -= back
        if give > 0:
            raise BudgetExceeded(_l("More than the new amount was already paid; the amount cannot go below what "
                                    "was paid."))
        return taken
    free = sum((a.allocated - a.committed for a in locked.allocations.values()), ZERO)
    if need > free:
        raise BudgetExceeded(_l("The project's allocations have only %(free)s not yet committed; this contract needs "
                                "%(need)s. Nothing was signed.", free=format_money(free), need=format_money(need)))
    taken: dict[int, Decimal] = {}
    for alloc_id in sorted(locked.allocations):
        if need <= 0:
            break
        alloc = locked.allocations[alloc_id]
        take = min(alloc.allocated - alloc.committed, need)
        if take > 0:
            ledger.commit(locked, alloc_id, contract.id, take, actor=actor, reason=contract.number)
            taken[alloc_id] = take
            need -= take
    project = locked.project
    if project.state == ProjectState.AWARDED:
        PROJECT_MACHINE.transition(project, ProjectState.CONTRACTED, actor, extra={"contract": contract.number})
    return taken


def fundings(contract: Contract) -> list[ContractFunding]:
    return list(db.session.scalars(select(ContractFunding).where(ContractFunding.contract_id == contract.id)
                                   .order_by(ContractFunding.allocation_id)))


# --- amendments (变更) -------------------------------------------------------------------

@dataclass
class AmendData(DraftData):
    reason: str = ""
    amount: object = None


def original_amount(contract: Contract) -> Decimal:
    return contract.versions[0].amount


def amend_contract(actor, contract: Contract, data: AmendData) -> ContractVersion:
    """A new version of an active contract with a reason: amount (supplements capped at
    the policy share of the original amount in total, 政府采购法 Art. 49), period and
    schedule. Both parties sign it again; the commitment follows when they have."""
    require(actor, "contract.manage", contract)
    contract = _lock(contract)
    ensure_open(contract.project)
    if contract.state != C.ACTIVE:
        raise InvalidTransition(_l("Only a contract in force can be amended."))
    current = contract.current_version
    if current is None or current.state != V.SIGNED:
        raise Conflict(_l("An amendment is already waiting for signatures; it must be signed first."))
    reason = _text(data.reason, "reason", _l("Say why the contract is amended."), max_len=2000)
    content = _text(data.service_content, "service_content", _l("Describe the services the contract buys."),
                    max_len=20000)
    amount = parse_amount(data.amount, "amount")
    original = original_amount(contract)
    share = Decimal(str(policy.value("contract.max_supplement_share")))
    cap = (original * (1 + share)).quantize(FEN)
    if amount > cap:
        raise ValidationError(_l("Supplements may add at most %(share)s%% of the original amount (%(original)s) in "
                                 "total: at most %(cap)s, not %(amount)s (%(source)s).",
                                 share=format((share * HUNDRED).normalize(), "f"), original=format_money(original),
                                 cap=format_money(cap), amount=format_money(amount),
                                 source=policy.rule("contract.max_supplement_share").source), field="amount")
    paid = sum((f.paid for f in fundings(contract)), ZERO)
    if amount < paid:
        raise ValidationError(_l("%(paid)s was already paid; the amount cannot be lower.", paid=format_money(paid)),
                              field="amount")
    start, end = data.period_start, data.period_end
    if start is None or end is None:
        raise ValidationError(_l("Give the contract period."), field="period_start")
    if end < start:
        raise ValidationError(_l("The period ends before it starts."), field="period_end")
    limit, years, source = term_limit(start, bool(data.is_continuous))
    if end > limit:
        raise ValidationError(_l("The term may run at most %(years)s year(s), to %(limit)s at the latest (%(source)s).",
                                 years=years, limit=long_day(limit), source=source), field="period_end")
    schedule = _schedule(data, amount, start, end)
    before = contract.snapshot()
    workflow.claim_revision(contract, None, state=C.ACTIVE)
    contract.installments.clear()
    contract.milestones.clear()
    db.session.flush()
    contract.amount, contract.period_start, contract.period_end = amount, start, end
    contract.is_continuous, contract.service_content = bool(data.is_continuous), content
    for pos, item in enumerate(schedule):
        ms = None
        if item["milestone"]:
            ms = Milestone(contract_id=contract.id, position=pos, **item["milestone"])
            contract.milestones.append(ms)
            db.session.flush()
        contract.installments.append(Installment(position=pos, share=item["share"], amount=item["amount"],
                                                 releases_on=item["releases_on"], milestone_id=ms.id if ms else None))
    db.session.flush()
    db.session.refresh(contract)
    b, a = audit.diff(before, contract.snapshot())
    audit.record(actor, "contract.amend", contract, before=b, after={**a, "reason": reason})
    return new_version(actor, contract, reason)


# --- termination -----------------------------------------------------------------------

def terminate_contract(actor, contract: Contract, reason: str, settlement) -> Contract:
    """End an active contract early with a reason and a settlement amount: what is neither
    paid nor settled is de-committed and returns to the allocations. An amendment still
    waiting for signatures is superseded."""
    require(actor, "contract.manage", contract)
    return end_contract(actor, contract, reason, settlement)


def end_contract(actor, contract: Contract, reason: str, settlement=None) -> Contract:
    """:func:`terminate_contract` without the permission check, for the callers that
    have checked theirs (acceptance failed for good, also when its rectification period
    ran out, a time-driven move with no user). ``settlement`` None: what was paid."""
    contract = _lock(contract)
    ensure_open(contract.project)
    CONTRACT_MACHINE.check(contract.state, C.TERMINATED)
    reason = _text(reason, "reason", _l("Say why the contract is terminated."), max_len=2000)
    locked = ledger.lock_for_money(project_id=contract.project_id, contract_id=contract.id)
    held = sum((f.committed for f in locked.fundings.values()), ZERO)
    paid = sum((f.paid for f in locked.fundings.values()), ZERO)
    settlement = paid if settlement is None else parse_amount(settlement, "settlement", allow_zero=True)
    if settlement < paid:
        raise ValidationError(_l("%(paid)s was already paid; the settlement cannot be lower.",
                                 paid=format_money(paid)), field="settlement")
    if settlement > held:
        raise ValidationError(_l("The settlement cannot exceed the contract's commitment (%(held)s).",
                                 held=format_money(held)), field="settlement")
    give, released = held - settlement, {}
    for (_cid, alloc_id), funding in sorted(locked.fundings.items(), reverse=True):
        back = min(funding.committed - funding.paid, give)
        if back > 0:
            ledger.decommit(locked, alloc_id, contract.id, back, actor=actor, reason=reason)
            released[alloc_id] = back
            give -= back
    for version in contract.versions:
        if version.state in (V.RENDERING, V.READY):
            VERSION_MACHINE.transition(version, V.SUPERSEDED, actor, reason=reason)
    CONTRACT_MACHINE.transition(contract, C.TERMINATED, actor, reason=reason, values={
        "ended_at": utcnow(), "end_reason": reason, "settlement": settlement},
        extra={"released": {str(k): str(v) for k, v in released.items()}})
    people = [u for p in Party for u in signatories(contract, p) if u.id != getattr(actor, "id", None)]
    notify(people, "contract_terminated", contract, context={"contract": contract, "reason": reason,
                                                             "settlement": settlement},
           rule="contract.signed", link=app_path("contracts.detail", contract_id=contract.id))
    return contract


# --- batch regeneration ---------------------------------------------------------------------

def regenerable() -> list[int]:
    """Versions whose PDF may be rendered again: ready and not signed by anyone (a signed
    PDF is never replaced; its bytes are what the signatures cover)."""
    signed = select(Signature.version_id)
    return list(db.session.scalars(select(ContractVersion.id).where(
        ContractVersion.state == V.READY, ContractVersion.id.not_in(signed)).order_by(ContractVersion.id)))


def request_regeneration(actor):
    """A job that renders the PDFs of every regenerable version again, with progress."""
    require(actor, "contract.regenerate")
    return create_job(actor, BATCH_JOB, {"count": len(regenerable())})
