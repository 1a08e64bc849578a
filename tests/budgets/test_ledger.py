"""The money ledger: each primitive and each hard stop, a payment recorded once, the
ceiling, the lock order, adjustments, reconciliation, bad input."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from procure.audit import AuditEvent
from procure.budgets import ledger
from procure.budgets import services as bs
from procure.budgets.models import (
    Allocation,
    Appropriation,
    AppropriationAdjustment,
    ContractFunding,
    EntryKind,
    LedgerEntry,
)
from procure.errors import BudgetExceeded, Conflict, NotFound, NotPermitted, ValidationError
from procure.projects import services as ps
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
    c7 = make.contract(project).id
    p1, p3, p4, p5 = (make.payment(c7).id for _ in range(4))
    with pytest.raises(BudgetExceeded, match="500.00"):
        bs.commit_funds(fin, alloc.id, "500.01", contract_id=c7)
    bs.commit_funds(fin, alloc.id, "400.00", contract_id=c7)
    with pytest.raises(BudgetExceeded, match="400.00"):
        bs.pay(fin, alloc.id, "400.01", contract_id=c7, payment_id=p1)
    bs.pay(fin, alloc.id, "399.99", contract_id=c7, payment_id=p3)
    bs.pay(fin, alloc.id, "0.01", contract_id=c7, payment_id=p4)
    with pytest.raises(BudgetExceeded):
        bs.pay(fin, alloc.id, "0.01", contract_id=c7, payment_id=p5)
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


# --- the primitives (procure.budgets.ledger) -------------------------------------

D = Decimal


@pytest.fixture()
def funded(make, db, officer):
    """An appropriation of 1000.00 and an approved project holding 500.00 of it
    (ceiling 600.00)."""
    appr = make.appropriation(officer.department, "1000.00")
    project = make.approved_project(officer, appr, "500.00", ceiling="600.00")
    contracts = Contracts(make, project)
    return SimpleNamespace(appr=appr, project=project, alloc=project.allocations[0], actor=make.finance(),
                           c=contracts, p=Payments(make, contracts))


class Contracts(dict):
    """Real contracts of the project (the ledger's contract ids are foreign keys), made
    on first use: ``c[7]`` is the test's "contract 7"."""

    def __init__(self, make, project):
        super().__init__()
        self.make, self.project = make, project

    def __missing__(self, key):
        self[key] = self.make.contract(self.project).id
        return self[key]


class Payments(dict):
    """Real payments (the ledger's payment ids are foreign keys too), made on first use:
    ``p[7, 1]`` is the test's "payment 1" of its contract 7."""

    def __init__(self, make, contracts: Contracts):
        super().__init__()
        self.make, self.contracts = make, contracts

    def __missing__(self, key):
        contract, _n = key
        self[key] = self.make.payment(self.contracts[contract]).id
        return self[key]


def _locked(w, contract_id=None):
    return ledger.lock_for_money(allocation_ids=[w.alloc.id], contract_id=contract_id)


def _totals(*rows):
    return [tuple(getattr(r, c) for c in ("allocated", "committed", "paid") if hasattr(r, c)) for r in rows]


def test_lock_for_money_takes_the_closure_in_one_order(make, db, funded):
    w = funded
    ledger.commit(_locked(w, w.c[9]), w.alloc.id, w.c[9], D("10.00"), actor=w.actor)
    db.session.commit()
    statements = []

    def before(conn, cursor, statement, *args):
        if "FOR UPDATE" in statement:
            statements.append(statement.split("FOR UPDATE OF ")[1].split()[0])

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        locked = ledger.lock_for_money(contract_id=w.c[9])
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert statements == ["appropriations", "projects", "allocations", "contract_fundings"]
    assert set(locked.appropriations) == {w.appr.id} and locked.project.id == w.project.id
    assert set(locked.allocations) == {w.alloc.id} and set(locked.fundings) == {(w.c[9], w.alloc.id)}
    with pytest.raises(ledger.LockNotHeld):
        ledger.release(ledger.Locked(), w.alloc.id, actor=w.actor)


def test_lock_for_money_refuses_unknown_ids(make, db, funded):
    for kw in ({"allocation_ids": [987654]}, {"appropriation_ids": [987654]}, {"project_id": 987654}):
        with pytest.raises(NotFound):
            ledger.lock_for_money(**kw)


def test_allocate_and_release(make, db, officer, funded):
    w = funded
    p = make.project(officer, ceiling="300.00")
    locked = ledger.lock_for_money(appropriation_ids=[w.appr.id], project_id=p.id)
    entry = ledger.allocate(locked, w.appr.id, D("200.00"), actor=w.actor, reason="r")
    alloc = db.session.get(Allocation, entry.allocation_id)
    assert entry.kind == EntryKind.ALLOCATE and alloc.allocated == D("200.00") and w.appr.allocated == D("700.00")
    # beyond what the project's ceiling still admits (300.00 - 200.00)
    with pytest.raises(BudgetExceeded, match="100.00") as exc:
        ledger.allocate(locked, w.appr.id, D("100.01"), actor=w.actor)
    assert "最高限价" in str(exc.value.message)
    # beyond what remains of the appropriation (1000.00 - 700.00)
    big = make.project(officer, ceiling="9000.00")
    locked2 = ledger.lock_for_money(appropriation_ids=[w.appr.id], project_id=big.id)
    with pytest.raises(BudgetExceeded, match="300.00") as exc:
        ledger.allocate(locked2, w.appr.id, D("300.01"), actor=w.actor)
    assert "该预算指标仅剩" in str(exc.value.message)
    # release: at most the uncommitted part
    with pytest.raises(BudgetExceeded, match="200.00"):
        ledger.release(locked, alloc.id, D("200.01"), actor=w.actor)
    assert ledger.release(locked, alloc.id, D("50.00"), actor=w.actor).amount == D("50.00")
    assert ledger.release(locked, alloc.id, actor=w.actor).amount == D("150.00")
    assert ledger.release(locked, alloc.id, actor=w.actor) is None  # nothing left
    assert alloc.allocated == D("0.00") and w.appr.allocated == D("500.00")
    assert bs.reconcile() == []


def test_commit_decommit_pay_reverse(make, db, funded):
    w = funded
    locked = _locked(w, w.c[7])
    ledger.commit(locked, w.alloc.id, w.c[7], D("400.00"), actor=w.actor)
    with pytest.raises(BudgetExceeded, match="100.00"):  # 500.00 allocated, 400.00 committed
        ledger.commit(locked, w.alloc.id, w.c[7], D("100.01"), actor=w.actor)
    ledger.pay(locked, w.alloc.id, w.c[7], D("150.00"), payment_id=w.p[7, 1], actor=w.actor)
    with pytest.raises(BudgetExceeded, match="250.00"):  # 400.00 committed, 150.00 paid
        ledger.pay(locked, w.alloc.id, w.c[7], D("250.01"), payment_id=w.p[7, 2], actor=w.actor)
    with pytest.raises(BudgetExceeded, match="250.00"):  # de-commit only the unpaid part
        ledger.decommit(locked, w.alloc.id, w.c[7], D("250.01"), actor=w.actor)
    ledger.decommit(locked, w.alloc.id, w.c[7], D("50.00"), actor=w.actor, reason="合同变更")
    funding = locked.funding(w.c[7], w.alloc.id)
    assert (funding.committed, funding.paid) == (D("350.00"), D("150.00"))
    assert (w.alloc.committed, w.alloc.paid) == (D("350.00"), D("150.00"))
    assert (w.appr.committed, w.appr.paid) == (D("350.00"), D("150.00"))
    # reverse: at most what that payment paid; an unknown payment has nothing to reverse
    with pytest.raises(BudgetExceeded, match="150.00"):
        ledger.reverse(locked, w.alloc.id, w.c[7], payment_id=w.p[7, 1], amount=D("150.01"), actor=w.actor)
    with pytest.raises(BudgetExceeded, match="无可冲销"):
        ledger.reverse(locked, w.alloc.id, w.c[7], payment_id=w.p[7, 99], actor=w.actor)
    entry = ledger.reverse(locked, w.alloc.id, w.c[7], payment_id=w.p[7, 1], actor=w.actor, reason="退票")
    assert entry.kind == EntryKind.REVERSE and entry.amount == D("150.00")
    assert (funding.committed, funding.paid) == (D("350.00"), D("0.00"))
    assert w.alloc.paid == w.appr.paid == D("0.00")
    # a second contract on the same allocation gets its own funding row
    locked8 = _locked(w, w.c[8])
    ledger.commit(locked8, w.alloc.id, w.c[8], D("150.00"), actor=w.actor)
    with pytest.raises(BudgetExceeded, match="0.00"):
        ledger.pay(locked8, w.alloc.id, w.c[8], D("150.01"), payment_id=w.p[8, 3], actor=w.actor)
    assert w.alloc.committed == D("500.00")
    assert db.session.scalar(select(func.count()).select_from(ContractFunding)) == 2
    kinds = [e.kind.value for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.contract_id.is_not(None))
                                                      .order_by(LedgerEntry.id))]
    assert kinds == ["commit", "pay", "decommit", "reverse", "commit"]
    assert bs.reconcile() == []


def test_a_payment_recorded_twice_answers_once(make, db, funded):
    w = funded
    bs.commit_funds(w.actor, w.alloc.id, "300.00", contract_id=w.c[5])
    first = bs.pay(w.actor, w.alloc.id, "120.00", contract_id=w.c[5], payment_id=w.p[5, 42])
    db.session.commit()
    again = bs.pay(w.actor, w.alloc.id, "120.00", contract_id=w.c[5], payment_id=w.p[5, 42])
    assert again.id == first.id
    assert w.alloc.paid == w.appr.paid == D("120.00")
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "pay")) == 1
    # the same payment asked differently is a conflict, not a second payment
    with pytest.raises(Conflict, match="120.00"):
        bs.pay(w.actor, w.alloc.id, "99.00", contract_id=w.c[5], payment_id=w.p[5, 42])
    # a reversal is recorded once too
    locked = _locked(w, w.c[5])
    r1 = ledger.reverse(locked, w.alloc.id, w.c[5], payment_id=w.p[5, 42], actor=w.actor)
    r2 = ledger.reverse(locked, w.alloc.id, w.c[5], payment_id=w.p[5, 42], actor=w.actor)
    assert r1.id == r2.id and w.alloc.paid == D("0.00")
    assert bs.reconcile() == []


def test_primitives_check_no_role_and_keep_the_session(make, db, funded):
    w = funded
    org_user = make.user(Role.ORG)  # a contract signed by an organization is not refused here
    locked = _locked(w, w.c[3])
    kept = ledger.commit(locked, w.alloc.id, w.c[3], D("100.00"), actor=org_user)
    with pytest.raises(BudgetExceeded):
        ledger.commit(locked, w.alloc.id, w.c[3], D("400.01"), actor=org_user)
    # the refusal rolled nothing back: the first commitment is still in the transaction
    assert kept in db.session and w.alloc.committed == D("100.00")
    db.session.commit()
    assert db.session.get(LedgerEntry, kept.id).actor_id == org_user.id


def test_a_check_constraint_is_the_last_line_and_leaves_the_session_usable(make, db, funded):
    w = funded
    locked = _locked(w, w.c[4])
    w.alloc.allocated = D("9000.00")  # a total the appropriation does not back
    db.session.flush()
    with pytest.raises(BudgetExceeded) as exc:
        ledger.commit(locked, w.alloc.id, w.c[4], D("600.00"), actor=w.actor)
    assert isinstance(exc.value.__cause__, IntegrityError)
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.kind == "commit")) == 0
    assert db.session.scalar(text("SELECT 1")) == 1  # only the savepoint was rolled back


def test_other_database_errors_propagate(make, db, funded):
    w = funded
    ghost = SimpleNamespace(id=987654)  # no such user: a foreign key error, not "budget exceeded"
    with pytest.raises(IntegrityError):
        ledger.commit(_locked(w, w.c[4]), w.alloc.id, w.c[4], D("1.00"), actor=ghost)


def test_ceiling_counts_existing_allocations(make, db, officer):
    """Fault 1's end state: money already reserved for a project (by an approval a stale
    return overwrote) counts against its ceiling when it is approved again."""
    appr = make.appropriation(officer.department, "1000.00")
    p = ps.submit_project(officer, make.project(officer, ceiling="100.00"))
    locked = ledger.lock_for_money(appropriation_ids=[appr.id], project_id=p.id)
    ledger.allocate(locked, appr.id, D("100.00"), actor=make.finance())
    with pytest.raises(BudgetExceeded, match="最高限价"):
        ps.approve_project(make.finance(), p, [(appr.id, "100.00")])
    assert appr.allocated == D("100.00")


def test_reconcile_covers_contract_fundings(app, make, db, funded):
    w = funded
    bs.commit_funds(w.actor, w.alloc.id, "300.00", contract_id=w.c[5])
    bs.pay(w.actor, w.alloc.id, "100.00", contract_id=w.c[5], payment_id=w.p[5, 1])
    db.session.commit()
    assert bs.reconcile() == []
    db.session.execute(text("UPDATE contract_fundings SET paid = 100.01"))
    db.session.commit()
    problems = bs.reconcile()
    assert any(p.startswith(f"contract {w.c[5]} on allocation {w.alloc.id}: paid 100.01") for p in problems), problems
    assert any(p.startswith(f"allocation {w.alloc.id}: paid 100.00 but its contract fundings") for p in problems)


def test_a_payment_id_names_a_real_payment(make, db, funded):
    w = funded
    bs.commit_funds(w.actor, w.alloc.id, "300.00", contract_id=w.c[5])
    with pytest.raises(IntegrityError, match="fk_ledger_entries_payment_id_payments"):
        bs.pay(w.actor, w.alloc.id, "100.00", contract_id=w.c[5], payment_id=987654)


def test_reconcile_reports_a_payment_of_another_contract(app, make, db, officer, funded):
    """The primitives take the payment id as given; an entry whose payment is one of
    another contract (or, through its contract, of another project) is reported."""
    w = funded
    bs.commit_funds(w.actor, w.alloc.id, "300.00", contract_id=w.c[5])
    first = bs.pay(w.actor, w.alloc.id, "100.00", contract_id=w.c[5], payment_id=w.p[5, 1])
    db.session.commit()
    assert bs.reconcile() == []
    stray = bs.pay(w.actor, w.alloc.id, "50.00", contract_id=w.c[5], payment_id=w.p[6, 1])
    db.session.commit()
    assert bs.reconcile() == [f"ledger entry {stray.id}: payment {w.p[6, 1]} is of contract {w.c[6]}, "
                              f"not of the entry's contract {w.c[5]}"]
    bad = app.test_cli_runner().invoke(args=["budgets", "reconcile"])
    assert bad.exit_code == 1 and f"payment {w.p[6, 1]} is of contract {w.c[6]}" in bad.output
    # the entry's contract is its payment's, but that contract is now another project's
    elsewhere = make.project(officer)
    db.session.execute(text(f"UPDATE contracts SET project_id = {elsewhere.id} WHERE id = {w.c[5]}"))
    db.session.commit()
    assert f"ledger entry {first.id}: payment {w.p[5, 1]} is of project {elsewhere.id}, not of the entry's " \
           f"project {w.project.id}" in bs.reconcile()


def test_new_entry_kinds_are_translated(db):
    assert str(EntryKind.DECOMMIT.label) == "撤销承诺" and str(EntryKind.REVERSE.label) == "支付冲销"


@pytest.mark.sqlite
def test_primitives_on_sqlite(tmp_path, services_ready):
    """The embedded default: a CHECK refusal rolls back only its savepoint, a payment is
    recorded once, and the totals reconcile."""
    from flask_migrate import upgrade

    from procure import create_app
    from procure.extensions import db as sdb

    from ..conftest import app_config
    from ..factories import Factory

    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'ledger.sqlite'}"))
    with app.app_context():
        upgrade()
        make = Factory(sdb)
        officer = make.user(Role.OFFICER)
        appr = make.appropriation(officer.department, "1000.00")
        alloc = make.approved_project(officer, appr, "500.00", ceiling="600.00").allocations[0]
        fin = make.finance()
        c1 = make.contract(alloc.project).id
        p1 = make.payment(c1).id
        bs.commit_funds(fin, alloc.id, "300.00", contract_id=c1)
        first = bs.pay(fin, alloc.id, "100.00", contract_id=c1, payment_id=p1)
        assert bs.pay(fin, alloc.id, "100.00", contract_id=c1, payment_id=p1).id == first.id
        locked = ledger.lock_for_money(allocation_ids=[alloc.id], contract_id=c1)
        alloc.allocated = D("9000.00")
        sdb.session.flush()
        with pytest.raises(BudgetExceeded) as exc:
            ledger.commit(locked, alloc.id, c1, D("8000.00"), actor=fin)
        assert isinstance(exc.value.__cause__, IntegrityError)
        alloc.allocated = D("500.00")
        sdb.session.commit()  # the work before the refusal is kept
        assert alloc.paid == appr.paid == D("100.00") and alloc.committed == D("300.00")
        assert bs.reconcile() == []
        sdb.session.remove()
