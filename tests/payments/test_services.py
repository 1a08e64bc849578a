"""Payments at the service level: raising from the domain events, the approval chain with
separation of duties, recording paid in the ledger (once), and every refusal — with a
clear message and nothing written."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from procure import signals
from procure.acceptance.models import AcceptanceState
from procure.audit import AuditEvent
from procure.auth.models import User
from procure.budgets import ledger
from procure.budgets import services as bs
from procure.budgets.models import ContractFunding, EntryKind, LedgerEntry
from procure.contracts.models import Installment
from procure.delivery.models import ReportState
from procure.errors import BudgetExceeded, Conflict, InvalidTransition, NotPermitted, ValidationError
from procure.notifications.models import Notice
from procure.payments import services as ps
from procure.payments.models import Payment, PaymentApproval, PaymentState, Step, Waiting
from procure.timeutil import to_local, utcnow

from .conftest import acceptance, report, world

P = PaymentState
TODAY = to_local(utcnow()).date()


def _counts(db):
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Payment, PaymentApproval, LedgerEntry))


def _payment(db, installment_id) -> Payment:
    db.session.expire_all()
    return db.session.scalar(select(Payment).where(Payment.installment_id == installment_id,
                                                   Payment.state != P.REJECTED))


def _refused(db, exc_type, fn, *args, text=None, **kw):
    """``fn`` is refused with ``exc_type`` (message containing ``text``) and nothing is written."""
    before = _counts(db)
    with pytest.raises(exc_type) as info:
        fn(*args, **kw)
    db.session.rollback()
    assert _counts(db) == before
    if text is not None:
        assert text in str(info.value.message), str(info.value.message)
    return info.value


def _user(db, uid) -> User:
    return db.session.get(User, uid)


def test_report_approved_raises_its_installment_and_the_chain_runs_to_paid(make, db):
    ns = world(make, db)
    inst = ns.contract.installments[0]
    p = _payment(db, inst.id)
    assert p.state == P.REQUESTED and p.amount == Decimal("18000.00") == inst.amount
    assert p.steps == ["officer", "finance"] and p.waiting_for == Waiting.OFFICER
    assert p.requested_by_id == ns.officer.id and p.reviewed_by_id == ns.officer.id
    told = {n.user_id for n in db.session.scalars(select(Notice).where(Notice.rule == "payment.to_confirm"))}
    assert told == {ns.officer.id, ns.officer2.id}
    # only the milestone whose report was approved is raised
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1

    ps.confirm_payment(ns.officer, p, comment="核对无误")
    db.session.commit()
    p = _payment(db, inst.id)
    assert p.state == P.REQUESTED and p.steps_done == 1 and p.waiting_for == Waiting.FINANCE
    told = {n.user_id for n in db.session.scalars(select(Notice).where(Notice.rule == "payment.to_approve"))}
    assert {ns.fin1.id, ns.fin2.id, ns.fin3.id} <= told and ns.officer.id not in told

    ps.approve_payment(ns.fin1, p)
    db.session.commit()
    p = _payment(db, inst.id)
    assert p.state == P.APPROVED and p.approved_at and p.waiting_for == Waiting.RECORD
    assert [(a.step, a.user_id) for a in p.approvals] == [(Step.OFFICER, ns.officer.id), (Step.FINANCE, ns.fin1.id)]

    ps.record_paid(ns.fin2, p, "PZ-2026-001", TODAY)
    db.session.commit()  # eager: the worker rendered the notice
    p = _payment(db, inst.id)
    assert p.state == P.PAID and p.voucher_number == "PZ-2026-001" and p.paid_by_id == ns.fin2.id
    assert p.waiting_for is None and p.notice_document_id
    # the notice as a bureau prints it: the purchasing department, the Chinese date, who prepared it
    from pypdf import PdfReader

    from procure.payments.rendering import render_notice

    text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(render_notice(p))).pages)
    assert f"编制单位：{p.contract.department.name}" in text and f"制表人：{ns.fin2.name}" in text
    assert f"编制日期：{TODAY.year}年{TODAY.month}月{TODAY.day}日" in text and "审核人：" in text
    assert "单位：元" in text
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.payment_id == p.id)).all()
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.PAY, Decimal("18000.00"))]
    assert db.session.scalar(select(func.sum(ContractFunding.paid))
                             .where(ContractFunding.contract_id == ns.contract.id)) == Decimal("18000.00")
    told = {n.user_id for n in db.session.scalars(select(Notice).where(Notice.rule == "payment.paid"))}
    assert ns.org_user.id in told
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "payments")))
    assert {"payment.request", "payment.step", "payment.approve", "payment.pay"} <= actions
    assert bs.reconcile() == []


def test_acceptance_passed_raises_the_final_installment(make, db):
    ns = world(make, db, approved=(), passed=True)
    final = ns.contract.installments[-1]
    p = _payment(db, final.id)
    assert p is not None and p.amount == final.amount and p.state == P.REQUESTED


def test_second_finance_approval_above_the_policy_amount(app, make, db, monkeypatch):
    monkeypatch.setitem(app.config, "POLICY_OVERRIDES", {"payment.second_approval_above": "17999.99"})
    ns = world(make, db)  # 30% = 18,000.00 > 17,999.99
    p = _payment(db, ns.contract.installments[0].id)
    assert p.steps == ["officer", "finance", "finance"]
    ps.confirm_payment(ns.officer2, p)
    ps.approve_payment(ns.fin1, p)
    db.session.commit()
    p = _payment(db, p.installment_id)
    assert p.state == P.REQUESTED and p.waiting_for == Waiting.FINANCE
    # nobody approves twice
    _refused(db, ps.DutiesSeparated, ps.approve_payment, _user(db, ns.fin1.id), p, text="已审批过")
    p = _payment(db, p.installment_id)
    ps.approve_payment(_user(db, ns.fin2.id), p)
    db.session.commit()
    assert _payment(db, p.installment_id).state == P.APPROVED


def test_policy_chain_is_configurable(app, db, monkeypatch):
    assert ps.chain_for(Decimal("100000.00")) == ["officer", "finance"]
    assert ps.chain_for(Decimal("100000.01")) == ["officer", "finance", "finance"]
    monkeypatch.setitem(app.config, "POLICY_OVERRIDES", {"payment.officer_confirms": "false",
                                                         "payment.finance_approvals": "2"})
    assert ps.chain_for(Decimal("10.00")) == ["finance", "finance"]
    assert ps.chain_for(Decimal("100000.01")) == ["finance", "finance", "finance"]


def test_refused_installment_whose_milestone_report_is_not_approved(make, db):
    ns = world(make, db, approved=())
    second = ns.contract.installments[1]
    _refused(db, InvalidTransition, ps.request_payment, ns.officer, second, text="尚未审核通过")
    report(db, ns.contract, ns.contract.milestones[1], ns.officer, state=ReportState.SUBMITTED)
    db.session.commit()
    _refused(db, InvalidTransition, ps.request_payment, _user(db, ns.officer.id),
             db.session.get(Installment, second.id), text="尚未审核通过")


def test_refused_final_installment_before_acceptance_passed(make, db):
    ns = world(make, db, approved=())
    final_id = ns.contract.installments[-1].id
    _refused(db, InvalidTransition, ps.request_payment, ns.fin1, db.session.get(Installment, final_id),
             text="验收通过后")
    acceptance(db, ns.contract, ns.officer, state=AcceptanceState.EVALUATING)
    db.session.commit()
    _refused(db, InvalidTransition, ps.request_payment, _user(db, ns.fin1.id), db.session.get(Installment, final_id),
             text="验收通过后")


def _pay_outside(make, db, ns, amount: str) -> int:
    """Money of the contract paid under another payment (outside its schedule's
    installments, as an earlier system would); that payment's id."""
    other = make.payment(ns.contract, amount, state=P.PAID).id
    locked = ledger.lock_for_money(contract_id=ns.contract.id)
    (_cid, alloc_id), = locked.fundings
    ledger.pay(locked, alloc_id, ns.contract.id, Decimal(amount), payment_id=other, actor=ns.fin3)
    db.session.commit()
    return other


def test_refused_beyond_the_contracts_unpaid_amount(make, db):
    ns = world(make, db, approved=())
    _pay_outside(make, db, ns, "50000.00")  # 10,000.00 left; the first installment is 18,000.00
    report(db, ns.contract, ns.contract.milestones[0], ns.officer)
    db.session.commit()
    inst = db.session.get(Installment, ns.contract.installments[0].id)
    _refused(db, BudgetExceeded, ps.request_payment, _user(db, ns.officer.id), inst, text="10,000.00")


def test_approval_and_recording_refused_when_the_money_went_meanwhile(make, db):
    ns = world(make, db)
    p = _payment(db, ns.contract.installments[0].id)
    ps.confirm_payment(ns.officer, p)
    db.session.commit()
    _pay_outside(make, db, ns, "50000.00")
    p = _payment(db, p.installment_id)
    _refused(db, BudgetExceeded, ps.approve_payment, _user(db, ns.fin1.id), p, text="10,000.00")


def test_raise_refused_quietly_keeps_the_report_approval(make, db):
    ns = world(make, db, approved=())
    other = _pay_outside(make, db, ns, "50000.00")
    r = report(db, ns.contract, ns.contract.milestones[0], ns.officer)
    signals.milestone_report_approved.send(r, actor=ns.officer)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.id != other)) == 0
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "payment.not_raised"))


def test_requester_cannot_approve_and_rejection_needs_a_reason(make, db):
    ns = world(make, db)
    p = _payment(db, ns.contract.installments[0].id)
    _refused(db, ValidationError, ps.reject_payment, _user(db, ns.officer.id), p, "  ", text="理由")
    p = _payment(db, p.installment_id)
    ps.reject_payment(_user(db, ns.officer.id), p, "进度报告附件不全")
    db.session.commit()
    rejected = db.session.get(Payment, p.id)
    assert rejected.state == P.REJECTED and rejected.reject_reason == "进度报告附件不全"
    # raised again by hand, by finance: fin1 is the requester now
    p = ps.request_payment(_user(db, ns.fin1.id), db.session.get(Installment, p.installment_id))
    db.session.commit()
    p = _payment(db, p.installment_id)
    assert p.id != rejected.id and p.requested_by_id == ns.fin1.id
    ps.confirm_payment(_user(db, ns.officer2.id), p)
    db.session.commit()
    p = _payment(db, p.installment_id)
    _refused(db, ps.DutiesSeparated, ps.approve_payment, _user(db, ns.fin1.id), p, text="不相容岗位分离")
    # the officer cannot act as finance, nor finance as the officer
    p = _payment(db, p.installment_id)
    _refused(db, NotPermitted, ps.approve_payment, _user(db, ns.officer.id), p)
    assert ps.actions_for(_user(db, ns.fin1.id), p) == {"reject"}
    assert ps.actions_for(_user(db, ns.fin2.id), p) == {"approve", "reject"}
    ps.approve_payment(_user(db, ns.fin2.id), p)
    db.session.commit()


def test_reviewer_cannot_approve_as_finance(make, db):
    ns = world(make, db, approved=())
    r = report(db, ns.contract, ns.contract.milestones[0], ns.officer)
    r.reviewed_by_id = ns.fin3.id  # whoever reviewed what raised it
    signals.milestone_report_approved.send(r, actor=ns.officer)
    db.session.commit()
    p = _payment(db, ns.contract.installments[0].id)
    ps.confirm_payment(_user(db, ns.officer.id), p)
    db.session.commit()
    p = _payment(db, p.installment_id)
    _refused(db, ps.DutiesSeparated, ps.approve_payment, _user(db, ns.fin3.id), p, text="不相容岗位分离")


def test_installment_raised_once(make, db):
    ns = world(make, db)
    inst = db.session.get(Installment, ns.contract.installments[0].id)
    _refused(db, Conflict, ps.request_payment, _user(db, ns.officer.id), inst, text="已有拨付")


def _approved(db, ns, index=0) -> Payment:
    p = _payment(db, ns.contract.installments[index].id)
    ps.confirm_payment(_user(db, ns.officer.id), p)
    ps.approve_payment(_user(db, ns.fin1.id), p)
    db.session.commit()
    return _payment(db, p.installment_id)


def test_recorded_twice_answers_once(make, db):
    ns = world(make, db)
    p = _approved(db, ns)
    ps.record_paid(_user(db, ns.fin2.id), p, "PZ-7", TODAY)
    db.session.commit()
    before = _counts(db)
    again = ps.record_paid(_user(db, ns.fin2.id), _payment(db, p.installment_id), "PZ-7", TODAY)
    db.session.commit()
    assert again.id == p.id and _counts(db) == before
    _refused(db, Conflict, ps.record_paid, _user(db, ns.fin2.id), _payment(db, p.installment_id), "PZ-8", TODAY,
             text="已登记付款")
    assert bs.reconcile() == []


def test_record_refusals(make, db):
    ns = world(make, db, approved=(0, 1))
    p = _approved(db, ns)
    fin = _user(db, ns.fin2.id)
    _refused(db, ValidationError, ps.record_paid, fin, p, "", TODAY, text="凭证号")
    _refused(db, ValidationError, ps.record_paid, fin, p, "PZ-1", TODAY + timedelta(days=2), text="不能晚于今天")
    # a payment still requested cannot be recorded
    q = _payment(db, ns.contract.installments[1].id)
    _refused(db, InvalidTransition, ps.record_paid, fin, q, "PZ-2", TODAY)
    ps.record_paid(fin, _payment(db, p.installment_id), "PZ-1", TODAY)
    db.session.commit()
    q = _approved(db, ns, 1)
    _refused(db, ValidationError, ps.record_paid, _user(db, ns.fin2.id), q, "PZ-1", TODAY, text="凭证号已登记")
    # stale page: the revision the form was loaded at
    _refused(db, Conflict, ps.record_paid, _user(db, ns.fin2.id), q, "PZ-3", TODAY, seen=q.revision - 1)
