"""The hard stops under concurrent requests, on PostgreSQL with real threads: many
approvals and payments against the same appropriation at once never overspend, and
every refusal says why."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from procure.auth.models import User
from procure.budgets import services as bs
from procure.budgets.models import Allocation, Appropriation, EntryKind, LedgerEntry
from procure.errors import BudgetExceeded
from procure.projects import services as ps
from procure.projects.models import Project, ProjectState
from procure.roles import Role

from ..threads import race

THREADS = 12


def _race(app, fn, n):
    """``fn(i)`` in ``n`` threads released at once; (successes, refusal messages)."""
    ok, refused = race(app, [lambda _db, i=i: fn(i) for i in range(n)], refusal=BudgetExceeded)
    return ok, [message for _i, _kind, message in refused]


def test_concurrent_approvals_and_payments_never_overspend(app, make, db):
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    appr = make.appropriation(officer.department, "1000.00")
    # one funded project whose commitment many payments race for
    funded = make.approved_project(officer, appr, "300.00", ceiling="300.00")
    c1 = make.contract(funded).id
    bs.commit_funds(fin, funded.allocations[0].id, "250.00", contract_id=c1)
    payment_ids = [make.payment(c1, "30.00").id for _ in range(THREADS)]
    projects = [make.project(officer, ceiling="100.00") for _ in range(THREADS)]
    for p in projects:
        ps.submit_project(officer, p)
    db.session.commit()
    appr_id, fin_id, alloc_id = appr.id, fin.id, funded.allocations[0].id
    project_ids = [p.id for p in projects]

    def approve(i):
        from procure.extensions import db as d

        ps.approve_project(d.session.get(User, fin_id), d.session.get(Project, project_ids[i]),
                           [(appr_id, "100.00")])

    def pay(i):
        from procure.extensions import db as d

        bs.pay(d.session.get(User, fin_id), alloc_id, "30.00", contract_id=c1, payment_id=payment_ids[i])

    ok, refused = _race(app, approve, THREADS)
    # 700.00 were free: exactly seven approvals of 100.00 fit
    assert len(ok) == 7 and len(refused) == THREADS - 7
    assert all("该预算指标仅剩" in r for r in refused), refused

    ok_pay, refused_pay = _race(app, pay, THREADS)
    # 250.00 committed: eight payments of 30.00 fit (240.00), the rest are refused
    assert len(ok_pay) == 8 and len(refused_pay) == THREADS - 8
    assert all("尚未支付的金额仅为" in r for r in refused_pay), refused_pay

    db.session.expire_all()
    appr = db.session.get(Appropriation, appr_id)
    assert appr.allocated == Decimal("1000.00") and appr.paid == Decimal("240.00")
    assert appr.allocated <= appr.amount and appr.paid <= appr.committed
    approved = db.session.scalar(select(func.count()).select_from(Project)
                                 .where(Project.state == ProjectState.APPROVED))
    assert approved == 8
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.kind == EntryKind.PAY)) == 8
    assert db.session.get(Allocation, alloc_id).paid == Decimal("240.00")
    assert bs.reconcile() == []
