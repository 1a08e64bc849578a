"""Payment operations: raising an installment (from an approved milestone report, from a
passed acceptance, or by hand after a rejection), the approval chain with separation of
duties, rejection, recording it paid in the ledger, and the payment notice. Each checks
permission and state, audits, flushes; the caller commits once. State changes go
through ``PAYMENT_MACHINE`` (compare-and-set on the revision).

Money under concurrency. Every action on a payment takes, in this order, the contract's
row lock, then (to pay) the ledger's locks (``ledger.lock_for_money(contract_id=…)``),
then the payment's row lock — the order contract signing uses (contract, then ledger) —
so two actions never wait on each other in a cycle. Under the contract's lock the money
check is exact: a payment never takes more than the contract's unpaid amount counting
the payments already requested or approved, and the ledger refuses to pay beyond the
contract's commitment. A payment recorded twice (a double click, two finance officers
at once) answers once: the second finds it paid and changes nothing.

The chain (policy values): the department's officer confirms (``payment.officer_confirms``),
then ``payment.finance_approvals`` finance approvals, one more above
``payment.second_approval_above``. Nobody approves twice; whoever requested the payment
or reviewed what raised it never approves it as finance."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit, policy, signals, workflow
from ..acceptance.models import Acceptance, AcceptanceState
from ..auth.models import User, UserStatus
from ..budgets import ledger
from ..budgets.models import ZERO, ContractFunding
from ..contracts import services as contract_rules  # noqa: F401 - defines contract.view
from ..contracts.models import Contract, ContractState, Installment, Release
from ..delivery.models import MilestoneReport, ReportState
from ..documents.services import store_document
from ..errors import BudgetExceeded, Conflict, DomainError, InvalidTransition, NotFound, NotPermitted, ValidationError
from ..extensions import db
from ..jobs.services import create_job, register_task
from ..money import format_money
from ..notifications.services import app_path, notify, register_topic
from ..parsing import has_control_chars
from ..permissions import define, own_department, own_organization, require, role_in
from ..projects.services import ensure_open
from ..roles import Role
from ..timeutil import long_day, to_local, utcnow
from .models import PAYMENT_MACHINE, Payment, PaymentApproval, PaymentState, Step, Waiting

log = logging.getLogger(__name__)

P = PaymentState
#: Payments that still hold money of the contract (requested or approved, not yet paid).
OUTSTANDING = (P.REQUESTED, P.APPROVED)
#: The job kind and Celery task that render the payment notice (workers/payments.py).
NOTICE_JOB = "payment_notice"
NOTICE_TASK = "workers.payments.render_notice"
register_task(NOTICE_JOB, NOTICE_TASK)

# Who sees a payment: admin and finance all; the department's officers theirs; the
# organization's staff its own. Who acts: the department's officers confirm (and may
# request an installment by hand); finance approves and records.
_DEPT_OFFICER = role_in(Role.OFFICER) & own_department()
define("payment.view", {Role.ADMIN, Role.FINANCE, Role.OFFICER, Role.ORG},
       role_in(Role.ADMIN, Role.FINANCE) | _DEPT_OFFICER | (role_in(Role.ORG) & own_organization()), model=Payment)
define("payment.confirm", {Role.OFFICER}, own_department(), model=Payment)
define("payment.approve", {Role.FINANCE}, model=Payment)
define("payment.record", {Role.FINANCE}, model=Payment)
#: Raising an installment by hand (after a rejection, or when the automatic raise was
#: refused): the department's officers, or finance.
define("payment.request", {Role.OFFICER, Role.FINANCE}, role_in(Role.FINANCE) | _DEPT_OFFICER, model=Contract)

register_topic("payment.to_confirm", _l("Payments waiting for your confirmation"), roles={Role.OFFICER})
register_topic("payment.to_approve", _l("Payments waiting for finance approval"), roles={Role.FINANCE})
register_topic("payment.to_record", _l("Approved payments to record as paid"), roles={Role.FINANCE})
register_topic("payment.paid", _l("Payments made"), roles={Role.ORG, Role.OFFICER})
register_topic("payment.rejected", _l("Payments rejected"), roles={Role.OFFICER, Role.FINANCE, Role.ORG})

VOUCHER_MAX = 60


class DutiesSeparated(DomainError):
    """Separation of duties refused the approval (the message says why; shown to the user,
    not a bare 403)."""



REASON_MAX = 2000


# --- the chain ----------------------------------------------------------------------------

def chain_for(amount: Decimal) -> list[str]:
    """The approval steps a payment of ``amount`` needs, from the policy values in force."""
    steps = [Step.OFFICER.value] if policy.value("payment.officer_confirms") else []
    finance = max(1, int(policy.value("payment.finance_approvals")))
    if amount > policy.value("payment.second_approval_above"):
        finance += 1
    return steps + [Step.FINANCE.value] * finance


def _waiting(payment: Payment) -> Waiting | None:
    if payment.state == P.APPROVED:
        return Waiting.RECORD
    step = payment.next_step
    return None if step is None else Waiting(step.value)


# --- money of a contract ------------------------------------------------------------------

@dataclass(frozen=True)
class ContractMoney:
    amount: Decimal
    committed: Decimal
    paid: Decimal
    #: Requested or approved, not yet paid.
    outstanding: Decimal

    @property
    def available(self) -> Decimal:
        """What a new payment may still take: the contract's (and its commitment's)
        unpaid amount less what is already requested or approved."""
        return max(min(self.amount, self.committed) - self.paid - self.outstanding, ZERO)

    @property
    def unpaid(self) -> Decimal:
        return max(self.amount - self.paid, ZERO)


def contract_money(contract: Contract, *, exclude: int | None = None) -> ContractMoney:
    """The contract's money as the ledger and the payments hold it (two aggregate
    queries); ``exclude`` leaves one payment out of the outstanding sum."""
    committed, paid = db.session.execute(
        select(func.coalesce(func.sum(ContractFunding.committed), ZERO),
               func.coalesce(func.sum(ContractFunding.paid), ZERO))
        .where(ContractFunding.contract_id == contract.id)).one()
    stmt = select(func.coalesce(func.sum(Payment.amount), ZERO)).where(
        Payment.contract_id == contract.id, Payment.state.in_(OUTSTANDING))
    if exclude is not None:
        stmt = stmt.where(Payment.id != exclude)
    return ContractMoney(contract.amount, committed, paid, db.session.scalar(stmt))


def _check_money(contract: Contract, amount: Decimal, *, exclude: int | None = None) -> None:
    money = contract_money(contract, exclude=exclude)
    if amount > money.available:
        raise BudgetExceeded(_l(
            "This payment of %(amount)s would exceed what remains unpaid of the contract (%(available)s, after "
            "%(paid)s paid and %(outstanding)s requested or approved); nothing was saved.",
            amount=format_money(amount), available=format_money(money.available), paid=format_money(money.paid),
            outstanding=format_money(money.outstanding)), field="amount")


# --- locks ----------------------------------------------------------------------------------

def _lock_contract(contract_id: int) -> Contract:
    contract = db.session.scalars(select(Contract).where(Contract.id == contract_id).with_for_update()
                                  .execution_options(populate_existing=True)).one_or_none()
    if contract is None:
        raise NotFound(_l("This contract does not exist."))
    return contract


def _lock_payment(payment_id: int) -> Payment:
    payment = db.session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update(of=Payment)
                                 .execution_options(populate_existing=True)).one_or_none()
    if payment is None:
        raise NotFound(_l("This payment does not exist."))
    return payment


def _seen(payment: Payment, seen: int | None) -> None:
    """Compare-and-set against the revision the user's page showed (under the row lock)."""
    if seen is not None and int(seen) != payment.revision:
        raise Conflict(workflow.STALE)


# --- people ---------------------------------------------------------------------------------

def _active(stmt) -> list[User]:
    return list(db.session.scalars(stmt.where(User.status == UserStatus.ACTIVE).order_by(User.id)))


def department_officers(payment: Payment) -> list[User]:
    return _active(select(User).where(User.role == Role.OFFICER, User.department_id == payment.department_id))


def finance_users() -> list[User]:
    return _active(select(User).where(User.role == Role.FINANCE))


def organization_users(payment: Payment) -> list[User]:
    return _active(select(User).where(User.role == Role.ORG, User.organization_id == payment.organization_id))


def excluded_from_finance(payment: Payment) -> set[int]:
    """Who may not approve ``payment`` as finance: whoever requested it or reviewed what
    raised it, and everyone who already approved a step."""
    return {i for i in (payment.requested_by_id, payment.reviewed_by_id) if i} | \
        {a.user_id for a in payment.approvals}


def _tell_next(actor, payment: Payment) -> None:
    """Tell whoever must act next (never the actor, never someone the chain excludes)."""
    waiting = _waiting(payment)
    link = app_path("payments.detail", payment_id=payment.id)
    ctx = {"payment": payment, "contract": payment.contract, "amount": format_money(payment.amount)}
    if waiting == Waiting.OFFICER:
        # The actor too: the officer whose report approval raised it is the one to confirm.
        done = {a.user_id for a in payment.approvals}
        people = [u for u in department_officers(payment) if u.id not in done]
        notify(people, "payment_to_confirm", payment, context=ctx, rule="payment.to_confirm", link=link)
    elif waiting == Waiting.FINANCE:
        out = excluded_from_finance(payment) | {actor.id}
        people = [u for u in finance_users() if u.id not in out]
        notify(people, "payment_to_approve", payment, context=ctx, rule="payment.to_approve", link=link)
    elif waiting == Waiting.RECORD:
        people = [u for u in finance_users() if u.id != actor.id]
        notify(people, "payment_to_record", payment, context=ctx, rule="payment.to_record", link=link)


# --- raising ----------------------------------------------------------------------------------

def _check_released(installment: Installment) -> None:
    """Refuse an installment whose milestone report is not approved, or the final one
    before acceptance passed."""
    if installment.releases_on == Release.MILESTONE:
        state = db.session.scalar(select(MilestoneReport.state).where(
            MilestoneReport.milestone_id == installment.milestone_id))
        if state != ReportState.APPROVED:
            raise InvalidTransition(_l("The milestone report of this installment is not approved; its payment "
                                       "cannot be requested yet."))
    else:
        state = db.session.scalar(select(Acceptance.state).where(Acceptance.contract_id == installment.contract_id))
        if state != AcceptanceState.PASSED:
            raise InvalidTransition(_l("The final installment is paid only after acceptance passed; acceptance "
                                       "of this contract has not passed."))


def request_payment(actor, installment: Installment, *, reviewed_by_id: int | None = None,
                    raised: bool = False) -> Payment:
    """Raise ``installment`` as a payment (state requested, its chain frozen from the
    policy values). ``raised``: by a domain event (report approved, acceptance passed),
    whose sender checked the actor; otherwise the actor needs ``payment.request``.
    Refused, nothing written: a contract not in force, an installment already raised
    (and not rejected), its milestone report not approved, the final installment before
    acceptance passed, an amount beyond the contract's unpaid amount."""
    contract = _lock_contract(installment.contract_id)
    if not raised:
        require(actor, "payment.request", contract)
    ensure_open(contract.project)
    if contract.state not in (ContractState.ACTIVE, ContractState.COMPLETED):
        raise InvalidTransition(_l("Payments are made on a contract in force; this contract is “%(state)s”.",
                                   state=contract.state.label))
    taken = db.session.scalar(select(Payment).where(Payment.installment_id == installment.id,
                                                    Payment.state != P.REJECTED))
    if taken is not None:
        raise Conflict(_l("This installment already has a payment (“%(state)s”).", state=taken.state.label))
    _check_released(installment)
    amount = installment.amount
    _check_money(contract, amount)
    payment = Payment(contract_id=contract.id, installment_id=installment.id, organization_id=contract.organization_id,
                      department_id=contract.department_id, amount=amount, state=P.REQUESTED,
                      steps=chain_for(amount), steps_done=0, requested_by_id=actor.id, requested_at=utcnow(),
                      reviewed_by_id=reviewed_by_id)
    payment.waiting_for = _waiting(payment)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
            db.session.flush()
    except IntegrityError as exc:  # raised meanwhile by someone without the contract's lock
        raise Conflict(_l("This installment already has a payment.")) from exc
    audit.record(actor, "payment.request", payment, after={**payment.snapshot(), "raised": raised})
    _tell_next(actor, payment)
    return payment


def _raise_quietly(actor, installment: Installment, reviewed_by_id: int | None) -> Payment | None:
    """Raise from a domain event: a refusal (e.g. the contract's money is used up) must
    not refuse the report's approval or the acceptance; it is audited instead, and the
    officer may raise the installment by hand later."""
    try:
        with db.session.begin_nested():
            return request_payment(actor, installment, reviewed_by_id=reviewed_by_id, raised=True)
    except (Conflict, InvalidTransition, ValidationError) as exc:
        audit.record(actor, "payment.not_raised", "contract_installments", installment.id,
                     after={"reason": str(exc.message)})
        log.info("installment %s not raised: %s", installment.id, exc.message)
        return None


@signals.milestone_report_approved.connect
def _on_report_approved(report, actor=None, **_kw):
    """The officer approved a milestone report: raise the installment tied to it."""
    rows = db.session.scalars(select(Installment).where(Installment.milestone_id == report.milestone_id,
                                                        Installment.releases_on == Release.MILESTONE)).all()
    for installment in rows:
        _raise_quietly(actor, installment, getattr(report, "reviewed_by_id", None) or getattr(actor, "id", None))


@signals.acceptance_passed.connect
def _on_acceptance_passed(acceptance, actor=None, **_kw):
    """Acceptance passed: raise the installments released by acceptance."""
    rows = db.session.scalars(select(Installment).where(Installment.contract_id == acceptance.contract_id,
                                                        Installment.releases_on == Release.ACCEPTANCE)).all()
    for installment in rows:
        _raise_quietly(actor, installment, getattr(acceptance, "decided_by_id", None) or getattr(actor, "id", None))


# --- the chain -----------------------------------------------------------------------------------

def _approve_step(actor, payment_id: int, step: Step, comment: str | None, seen: int | None) -> Payment:
    contract = _lock_contract(db.session.get(Payment, payment_id).contract_id)
    payment = _lock_payment(payment_id)
    _seen(payment, seen)
    require(actor, "payment.confirm" if step == Step.OFFICER else "payment.approve", payment)
    ensure_open(contract.project)
    if payment.state != P.REQUESTED or payment.next_step is None:
        raise InvalidTransition(_l("This payment is “%(state)s”; it has no step to approve.",
                                   state=payment.state.label))
    if payment.next_step != step:
        raise InvalidTransition(_l("This payment waits for the step “%(step)s”.", step=payment.next_step.label))
    if actor.id in {a.user_id for a in payment.approvals}:
        raise DutiesSeparated(_l("You already approved this payment; the next step needs another person."))
    if step == Step.FINANCE and actor.id in excluded_from_finance(payment):
        raise DutiesSeparated(_l("You requested this payment or reviewed what raised it; another finance officer "
                              "must approve it (separation of duties)."))
    comment = _text(comment, "comment", required=False)
    position = payment.steps_done
    last = position + 1 == len(payment.steps)
    if last:
        _check_released(payment.installment)
        _check_money(contract, payment.amount, exclude=payment.id)
    db.session.add(PaymentApproval(payment_id=payment.id, position=position, step=step, user_id=actor.id,
                                   comment=comment, at=utcnow()))
    done = position + 1
    if last:
        PAYMENT_MACHINE.transition(payment, P.APPROVED, actor, values={
            "steps_done": done, "approved_at": utcnow(), "waiting_for": Waiting.RECORD},
            extra={"step": step.value, "position": position})
    else:
        workflow.claim_revision(payment, None, state=P.REQUESTED)
        payment.steps_done = done
        payment.waiting_for = Waiting(payment.steps[done])
        audit.record(actor, "payment.step", payment, before={"steps_done": position},
                     after={"steps_done": done, "step": step.value})
    db.session.flush()
    db.session.expire(payment, ["approvals"])
    _tell_next(actor, payment)
    return payment


def confirm_payment(actor, payment: Payment, *, comment: str | None = None, seen: int | None = None) -> Payment:
    """The officer's step: the department's officer confirms a requested payment.
    Accepts requested (waiting for the officer); produces requested (waiting for finance)."""
    return _approve_step(actor, payment.id, Step.OFFICER, comment, seen)


def approve_payment(actor, payment: Payment, *, comment: str | None = None, seen: int | None = None) -> Payment:
    """A finance approval. Accepts requested (waiting for finance); produces requested
    (one more approval needed) or approved. Refused to whoever requested it or reviewed
    what raised it, and to anyone who already approved it."""
    return _approve_step(actor, payment.id, Step.FINANCE, comment, seen)


def _text(value, field: str, *, required: bool, max_len: int = REASON_MAX) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError(_l("A reason is required to reject a payment."), field=field)
        return None
    if len(value) > max_len or has_control_chars(value, multiline=True):
        raise ValidationError(_l("At most %(n)s characters, without control characters.", n=max_len), field=field)
    return value


def may_reject(user, payment: Payment) -> bool:
    """Who may reject now: whoever may act on the waiting step (officer or finance), or
    finance while it waits to be recorded."""
    from ..permissions import can

    if payment.state == P.APPROVED:
        return can(user, "payment.record", payment)
    if payment.state != P.REQUESTED or payment.next_step is None:
        return False
    return can(user, "payment.confirm" if payment.next_step == Step.OFFICER else "payment.approve", payment)


def reject_payment(actor, payment: Payment, reason: str, *, seen: int | None = None) -> Payment:
    """Reject with a reason. Accepts requested or approved; produces rejected (the
    installment may be raised again). Only whoever may act on the waiting step."""
    _lock_contract(payment.contract_id)
    payment = _lock_payment(payment.id)
    _seen(payment, seen)
    reason = _text(reason, "reason", required=True)
    if not may_reject(actor, payment):
        if payment.state in (P.PAID, P.REJECTED):
            PAYMENT_MACHINE.check(payment.state, P.REJECTED)
        raise NotPermitted(_l("You may not reject this payment at its current step."))
    ensure_open(payment.contract.project)
    PAYMENT_MACHINE.transition(payment, P.REJECTED, actor, reason=reason, values={
        "reject_reason": reason, "rejected_by_id": actor.id, "rejected_at": utcnow(), "waiting_for": None})
    link = app_path("payments.detail", payment_id=payment.id)
    people = [u for u in department_officers(payment) + organization_users(payment)
              + [payment.requested_by] if u is not None and u.id != actor.id]
    notify(people, "payment_rejected", payment, context={"payment": payment, "contract": payment.contract,
                                                         "amount": format_money(payment.amount), "reason": reason},
           rule="payment.rejected", link=link)
    return payment


# --- paying ----------------------------------------------------------------------------------------

def _voucher(value) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_l("Enter the voucher number."), field="voucher_number")
    if len(value) > VOUCHER_MAX or has_control_chars(value):
        raise ValidationError(_l("At most %(n)s characters, without control characters.", n=VOUCHER_MAX),
                              field="voucher_number")
    return value


def record_paid(actor, payment: Payment, voucher_number: str, paid_on: date, *, seen: int | None = None) -> Payment:
    """Finance records an approved payment paid (voucher number, date): the ledger pays
    it from the contract's fundings (in allocation order), the organization is told and
    the payment notice is queued for the worker. Accepts approved; produces paid.
    Recorded twice with the same voucher it answers once, changing nothing; refused
    beyond the contract's unpaid commitment."""
    voucher = _voucher(voucher_number)
    if not isinstance(paid_on, date):
        raise ValidationError(_l("Enter the date of payment."), field="paid_on")
    if paid_on > to_local(utcnow()).date():
        raise ValidationError(_l("The date of payment cannot be in the future."), field="paid_on")
    contract = _lock_contract(payment.contract_id)
    locked = ledger.lock_for_money(contract_id=contract.id)
    payment = _lock_payment(payment.id)
    require(actor, "payment.record", payment)
    ensure_open(contract.project)
    if payment.state == P.PAID:
        if payment.voucher_number == voucher and payment.paid_on == paid_on:
            return payment  # a double submission: it was recorded once, answer with it
        raise Conflict(_l("This payment was already recorded paid (voucher %(voucher)s, %(date)s).",
                          voucher=payment.voucher_number, date=long_day(payment.paid_on)))
    _seen(payment, seen)
    PAYMENT_MACHINE.check(payment.state, P.PAID)
    if paid_on < to_local(payment.approved_at).date():
        raise ValidationError(_l("The date of payment cannot be before the approval (%(date)s).",
                                 date=long_day(payment.approved_at)), field="paid_on")
    other = db.session.scalar(select(Payment.id).where(Payment.voucher_number == voucher, Payment.id != payment.id))
    if other is not None:
        raise ValidationError(_l("This voucher number is already recorded for another payment."),
                              field="voucher_number")
    _check_released(payment.installment)
    fundings = sorted(locked.fundings.items())
    unpaid = sum((f.committed - f.paid for _k, f in fundings), ZERO)
    paid_total = sum((f.paid for _k, f in fundings), ZERO)
    if payment.amount > unpaid or paid_total + payment.amount > contract.amount:
        raise BudgetExceeded(_l("Only %(unpaid)s of the contract is unpaid; this payment of %(amount)s cannot be "
                                "recorded. Nothing was saved.",
                                unpaid=format_money(min(unpaid, max(contract.amount - paid_total, ZERO))),
                                amount=format_money(payment.amount)), field="amount")
    need, split = payment.amount, {}
    for (_cid, alloc_id), funding in fundings:
        if need <= 0:
            break
        part = min(funding.committed - funding.paid, need)
        if part > 0:
            ledger.pay(locked, alloc_id, contract.id, part, payment_id=payment.id, actor=actor, reason=voucher)
            split[str(alloc_id)] = str(part)
            need -= part
    try:
        with db.session.begin_nested():
            PAYMENT_MACHINE.transition(payment, P.PAID, actor, values={
                "voucher_number": voucher, "paid_on": paid_on, "paid_at": utcnow(), "paid_by_id": actor.id,
                "waiting_for": None}, extra={"ledger": split})
    except IntegrityError as exc:  # the voucher taken meanwhile by another payment
        raise ValidationError(_l("This voucher number is already recorded for another payment."),
                              field="voucher_number") from exc
    job = create_job(actor, NOTICE_JOB, {"payment_id": payment.id})
    payment.notice_job_id = job.id
    db.session.flush()
    link = app_path("payments.detail", payment_id=payment.id)
    ctx = {"payment": payment, "contract": contract, "amount": format_money(payment.amount)}
    notify(organization_users(payment), "payment_paid", payment, context=ctx, rule="payment.paid", link=link)
    officers = [u for u in department_officers(payment) if u.id != actor.id]
    notify(officers, "payment_paid", payment, context=ctx, rule="payment.paid", link=link)
    return payment


def notice_rendered(actor, payment: Payment, pdf: bytes) -> Payment:
    """Store the rendered payment notice (the worker calls this). A closed project still
    takes the notice of a payment recorded before it closed, once (the worker may render
    it after a quick close, and the archive keeps it); replacing a notice it already has
    is refused with the closed project's message (``ensure_open``), nothing stored."""
    contract = payment.contract
    if payment.notice_document_id is not None:
        ensure_open(contract.project)
    doc = store_document(actor, pdf, f"拨付通知-{contract.number}-{payment.installment.position + 1}.pdf",
                         "application/pdf", kind="payment_notice", obj=payment, permission="payment.view")
    payment.notice_document_id = doc.id
    db.session.flush()
    return payment


# --- what a user may do now ------------------------------------------------------------------------

def actions_for(user, payment: Payment) -> set[str]:
    """The actions ``user`` may take on ``payment`` now: confirm, approve, reject, record."""
    from ..permissions import can

    out: set[str] = set()
    step = payment.next_step
    done = {a.user_id for a in payment.approvals}
    if step == Step.OFFICER and can(user, "payment.confirm", payment) and user.id not in done:
        out.add("confirm")
    if step == Step.FINANCE and can(user, "payment.approve", payment) and \
            user.id not in excluded_from_finance(payment):
        out.add("approve")
    if payment.state == P.APPROVED and can(user, "payment.record", payment):
        out.add("record")
    if may_reject(user, payment):
        out.add("reject")
    return out


def requestable(user, contract: Contract) -> list[Installment]:
    """Installments of ``contract`` that ``user`` may raise by hand now: released (report
    approved / acceptance passed) and without a live payment."""
    from ..permissions import can

    if not can(user, "payment.request", contract) or contract.state not in (ContractState.ACTIVE,
                                                                             ContractState.COMPLETED):
        return []
    live = set(db.session.scalars(select(Payment.installment_id).where(Payment.contract_id == contract.id,
                                                                       Payment.state != P.REJECTED)))
    approved = set(db.session.scalars(select(MilestoneReport.milestone_id).where(
        MilestoneReport.contract_id == contract.id, MilestoneReport.state == ReportState.APPROVED)))
    passed = db.session.scalar(select(Acceptance.state).where(Acceptance.contract_id == contract.id)) == \
        AcceptanceState.PASSED
    return [i for i in contract.installments if i.id not in live and (
        i.milestone_id in approved if i.releases_on == Release.MILESTONE else passed)]
