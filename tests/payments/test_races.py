"""Payments racing on PostgreSQL with real threads: many recordings of one contract at
once never pay beyond it; a double-submitted "record paid" pays once; two finance
officers approving the same step at once — one wins, the other is told to reload; the
ledger reconciles clean after each."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from procure.auth.models import User
from procure.budgets import ledger
from procure.budgets import services as bs
from procure.budgets.models import ContractFunding, EntryKind, LedgerEntry
from procure.payments import services as ps
from procure.payments.models import Payment, PaymentState
from procure.timeutil import to_local, utcnow

from ..threads import race
from .conftest import world

P = PaymentState


def _all_approved(db, ns, installments=None) -> list[int]:
    out = []
    for inst in installments or ns.contract.installments:
        p = db.session.scalar(select(Payment).where(Payment.installment_id == inst.id))
        ps.confirm_payment(db.session.get(User, ns.officer.id), p)
        ps.approve_payment(db.session.get(User, ns.fin1.id), p)
        db.session.commit()
        out.append(p.id)
    return out


def _record(d, pid, uid, voucher):
    ps.record_paid(d.session.get(User, uid), d.session.get(Payment, pid), voucher, to_local(utcnow()).date())


def test_concurrent_recordings_never_pay_beyond_the_contract(app, db, make):
    ns = world(make, db, approved=(0, 1), passed=True)  # 18,000 + 24,000 + 18,000 requested
    pids = _all_approved(db, ns)
    # 20,000.00 of the contract paid meanwhile under another payment: 40,000.00 left
    locked = ledger.lock_for_money(contract_id=ns.contract.id)
    (_cid, alloc_id), = locked.fundings
    other = make.payment(ns.contract, "20000.00", state=P.PAID).id
    ledger.pay(locked, alloc_id, ns.contract.id, Decimal("20000.00"), payment_id=other, actor=ns.fin3)
    db.session.commit()
    fin = ns.fin2.id
    ok, refused = race(app, [lambda d, p=p, i=i: _record(d, p, fin, f"PZ-{i}") for i, p in enumerate(pids)])
    db.session.expire_all()
    paid = db.session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.state == P.PAID,
                                                                                     Payment.id != other))
    assert 0 < paid <= Decimal("40000.00") and len(ok) >= 1 and refused, (ok, refused)
    assert all(kind == "BudgetExceeded" for _i, kind, _m in refused), refused
    funding = db.session.scalar(select(ContractFunding).where(ContractFunding.contract_id == ns.contract.id))
    assert funding.paid == paid + Decimal("20000.00") <= funding.committed == ns.contract.amount
    for pid in pids:
        p = db.session.get(Payment, pid)
        entries = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.payment_id == pid, LedgerEntry.kind == EntryKind.PAY))
        assert entries == (1 if p.state == P.PAID else 0)
    assert bs.reconcile() == []


def test_double_submitted_record_pays_once(app, db, make):
    ns = world(make, db)
    [pid] = _all_approved(db, ns, ns.contract.installments[:1])
    fin = ns.fin2.id
    ok, refused = race(app, [lambda d: _record(d, pid, fin, "PZ-DOUBLE")] * 4)
    assert sorted(ok) == [0, 1, 2, 3] and refused == []
    db.session.expire_all()
    p = db.session.get(Payment, pid)
    assert p.state == P.PAID and p.voucher_number == "PZ-DOUBLE"
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.payment_id == pid)).all()
    assert [(e.kind, e.amount) for e in entries] == [(EntryKind.PAY, p.amount)]
    assert db.session.scalar(select(func.sum(ContractFunding.paid))
                             .where(ContractFunding.contract_id == ns.contract.id)) == p.amount
    assert bs.reconcile() == []


def test_two_finance_officers_approve_the_same_step_at_once(app, db, make, monkeypatch):
    monkeypatch.setitem(app.config, "POLICY_OVERRIDES", {"payment.second_approval_above": "1000.00"})
    ns = world(make, db)
    p = db.session.scalar(select(Payment))
    ps.confirm_payment(ns.officer, p)
    db.session.commit()
    seen, pid = p.revision, p.id
    users = [ns.fin1.id, ns.fin2.id]

    def approve(d, uid):
        ps.approve_payment(d.session.get(User, uid), d.session.get(Payment, pid), seen=seen)

    ok, refused = race(app, [lambda d, u=u: approve(d, u) for u in users])
    assert len(ok) == 1 and [kind for _i, kind, _m in refused] == ["Conflict"], (ok, refused)
    db.session.expire_all()
    p = db.session.get(Payment, pid)
    assert p.steps_done == 2 and p.state == P.REQUESTED and len(p.approvals) == 2


def test_approvals_and_recordings_at_once_never_go_beyond(app, db, make):
    """Two approved payments recorded (one of them twice) while a third is approved, with
    room for only the two: the recordings pass once each, the approval is refused."""
    ns = world(make, db, shares=("25", "25", "25", "25"), approved=(0, 1, 2))  # 15,000.00 each
    p0, p1 = _all_approved(db, ns, ns.contract.installments[:2])
    p2 = db.session.scalar(select(Payment).where(Payment.installment_id == ns.contract.installments[2].id))
    ps.confirm_payment(db.session.get(User, ns.officer.id), p2)
    db.session.commit()
    p2 = p2.id
    locked = ledger.lock_for_money(contract_id=ns.contract.id)
    (_cid, alloc_id), = locked.fundings
    other = make.payment(ns.contract, "20000.00", state=P.PAID).id
    ledger.pay(locked, alloc_id, ns.contract.id, Decimal("20000.00"), payment_id=other, actor=ns.fin3)
    db.session.commit()  # 40,000.00 unpaid; 30,000.00 approved; the third needs 15,000.00 more
    fin, approver = ns.fin2.id, ns.fin3.id

    def approve(d):
        ps.approve_payment(d.session.get(User, approver), d.session.get(Payment, p2))

    ok, refused = race(app, [lambda d: _record(d, p0, fin, "PZ-A"), lambda d: _record(d, p1, fin, "PZ-B"),
                             lambda d: _record(d, p0, fin, "PZ-A"), approve])
    assert sorted(ok) == [0, 1, 2] and [(i, kind) for i, kind, _m in refused] == [(3, "BudgetExceeded")], refused
    db.session.expire_all()
    assert db.session.get(Payment, p2).state == P.REQUESTED
    funding = db.session.scalar(select(ContractFunding).where(ContractFunding.contract_id == ns.contract.id))
    assert funding.paid == Decimal("50000.00") <= funding.committed
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.payment_id.in_([p0, p1]))) == 2
    assert bs.reconcile() == []
