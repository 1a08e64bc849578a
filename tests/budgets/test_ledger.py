"""The money ledger: hard stops, adjustments, reconciliation, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from procure.audit import AuditEvent
from procure.budgets import services as bs
from procure.budgets.models import Allocation, Appropriation, AppropriationAdjustment, LedgerEntry
from procure.errors import BudgetExceeded, NotPermitted, ValidationError
from procure.roles import Role


@pytest.fixture()
def officer(make):
    return make.user(Role.OFFICER)


def test_sources_are_seeded_once(make, db):
    make.sources()
    make.sources()
    assert [s.name for s in bs.funding_sources()] == ["一般公共预算", "福利彩票公益金", "中央财政专项", "配套资金"]


def test_create_and_adjust_appropriation(make, db, officer):
    appr = make.appropriation(officer.department, "1234567.89")
    assert appr.amount == Decimal("1234567.89")
    adj = bs.adjust_appropriation(make.finance(), appr, "-0.89", "年中调减")
    assert appr.amount == Decimal("1234567.00") and adj.amount_before == Decimal("1234567.89")
    bs.adjust_appropriation(make.finance(), appr, "100.01", "追加")
    assert appr.amount == Decimal("1234667.01")
    assert db.session.scalar(select(func.count()).select_from(AppropriationAdjustment)) == 2
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "appropriation.adjust")).all()
    assert [e.after["reason"] for e in events] == ["年中调减", "追加"]
    assert bs.reconcile() == []


def test_adjustment_needs_reason_and_cannot_undercut_allocations(make, db, officer):
    appr = make.appropriation(officer.department, "1000.00")
    make.approved_project(officer, appr, "800.00", ceiling="900.00")
    with pytest.raises(ValidationError):
        bs.adjust_appropriation(make.finance(), appr, "10", "")
    with pytest.raises(BudgetExceeded, match="800.00"):
        bs.adjust_appropriation(make.finance(), appr, "-200.01", "调减")
    bs.adjust_appropriation(make.finance(), appr, "-200.00", "调减")
    assert appr.amount == appr.allocated == Decimal("800.00")


@pytest.mark.parametrize(("kw", "field"), [
    ({"amount": "-1"}, "amount"), ({"amount": "1.001"}, "amount"), ({"amount": "0"}, "amount"),
    ({"amount": "1e30"}, "amount"), ({"amount": "NaN"}, "amount"), ({"amount": "x"}, "amount"),
    ({"source_id": 987654}, "source_id"), ({"source_id": "general"}, "source_id"),
    ({"fiscal_year": 1999}, "fiscal_year"), ({"fiscal_year": 2100}, "fiscal_year"),
    ({"fiscal_year": "abc"}, "fiscal_year"), ({"department_id": 987654}, "department_id"),
    ({"source_id": "9" * 20}, "source_id"), ({"department_id": "9" * 20}, "department_id"),
])
def test_bad_appropriation_input_changes_nothing(make, db, officer, kw, field):
    args = {"source_id": make.sources()["general"].id, "fiscal_year": 2026,
            "department_id": officer.department_id, "amount": "100.00"}
    args.update(kw)
    with pytest.raises(ValidationError) as exc:
        bs.create_appropriation(make.finance(), **args)
    assert exc.value.field == field and str(exc.value.message)
    assert db.session.scalar(select(func.count()).select_from(Appropriation)) == 0


def test_duplicate_appropriation_is_refused(make, officer):
    make.appropriation(officer.department)
    with pytest.raises(ValidationError, match="请改为调整该指标"):
        make.appropriation(officer.department)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ORG, Role.EVALUATOR, Role.ADMIN])
def test_only_finance_records_money(make, officer, role):
    user = make.user(role)
    with pytest.raises(NotPermitted):
        bs.create_appropriation(user, source_id=make.sources()["general"].id, fiscal_year=2026,
                                department_id=officer.department_id, amount="1")


def test_float_is_refused():
    with pytest.raises(TypeError):
        bs.parse_amount(0.1)


def test_commit_and_pay_hard_stops(make, db, officer):
    appr = make.appropriation(officer.department, "1000.00")
    project = make.approved_project(officer, appr, "500.00", ceiling="600.00")
    alloc = project.allocations[0]
    fin = make.finance()
    with pytest.raises(BudgetExceeded, match="500.00"):
        bs.commit_funds(fin, alloc.id, "500.01", contract_id=7)
    bs.commit_funds(fin, alloc.id, "400.00", contract_id=7)
    with pytest.raises(BudgetExceeded, match="400.00"):
        bs.pay(fin, alloc.id, "400.01", contract_id=7, payment_id=1)
    bs.pay(fin, alloc.id, "399.99", contract_id=7, payment_id=3)
    bs.pay(fin, alloc.id, "0.01", contract_id=7, payment_id=4)
    with pytest.raises(BudgetExceeded):
        bs.pay(fin, alloc.id, "0.01", contract_id=7, payment_id=5)
    assert (appr.allocated, appr.committed, appr.paid) == (Decimal("500.00"), Decimal("400.00"), Decimal("400.00"))
    assert bs.reconcile() == []
    # cancelling an approved project releases only the uncommitted part
    from procure.projects.services import cancel_project

    cancel_project(officer, project, "终止")
    assert appr.allocated == Decimal("400.00") and alloc.allocated == Decimal("400.00")
    assert bs.reconcile() == []


def test_check_constraints_are_the_last_line(make, db, officer):
    appr = make.appropriation(officer.department, "10.00")
    db.session.commit()
    for stmt in ("UPDATE appropriations SET allocated = amount + 0.01",
                 "UPDATE appropriations SET committed = 0.01",
                 "UPDATE appropriations SET allocated = 5, committed = 5, paid = 5.01"):
        with pytest.raises(Exception, match="appropriation_"):
            with db.session.begin_nested():
                db.session.execute(text(stmt + f" WHERE id = {appr.id}"))


def test_reconcile_finds_a_tampered_total(app, make, db, officer):
    appr = make.appropriation(officer.department, "1000.00")
    make.approved_project(officer, appr, "300.00")
    db.session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["budgets", "reconcile"])
    assert ok.exit_code == 0, ok.output
    db.session.execute(text(f"UPDATE allocations SET allocated = 299.99 WHERE appropriation_id = {appr.id}"))
    db.session.commit()
    assert any("allocation" in p and "299.99" in p for p in bs.reconcile())
    bad = runner.invoke(args=["budgets", "reconcile"])
    assert bad.exit_code == 1 and "299.99" in bad.output


def test_ledger_is_append_only(make, db, officer):
    appr = make.appropriation(officer.department, "1000.00")
    make.approved_project(officer, appr, "300.00")
    entry = db.session.scalars(select(LedgerEntry)).first()
    entry.reason = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Allocation)) == 0
