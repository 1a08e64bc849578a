"""The ledger under concurrency, on PostgreSQL with real threads (each with its own app
context and session, committing or rolling back like a request): a mixed run of every
primitive ends reconciled with no deadlock and no CHECK constraint reached; a payment
sent many times at once is recorded once; approvals sharing appropriations never
overspend and one project is never approved twice."""

from __future__ import annotations

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from procure.audit import AuditEvent
from procure.auth.models import User
from procure.budgets import ledger
from procure.budgets import services as bs
from procure.budgets.models import Allocation, Appropriation, ContractFunding, EntryKind, LedgerEntry
from procure.errors import BudgetExceeded, Conflict, DomainError, InvalidTransition
from procure.extensions import db as _db
from procure.projects import services as ps
from procure.projects.models import Project, ProjectState
from procure.roles import Role

D = Decimal


def _run(app, fn, n: int) -> list[tuple[str, object]]:
    """``fn(i)`` in ``n`` threads released together, each in its own app context and
    session, committing on success. Returns one (outcome, value) per thread: ("ok",
    result), ("refused", DomainError) or ("error", repr)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                value = fn(i)
                _db.session.commit()
                results[i] = ("ok", value)
            except DomainError as exc:
                _db.session.rollback()
                results[i] = ("refused", exc)
            except Exception as exc:  # a deadlock, a 500: reported by the caller
                _db.session.rollback()
                results[i] = ("error", repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


def _user(user_id: int) -> User:
    return _db.session.get(User, user_id)


# --- a mixed run of every primitive -------------------------------------------------

THREADS, OPS = 8, 50
PAYMENTS_A_CONTRACT = 50


def test_mixed_concurrent_run_reconciles(app, make, db):
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    apprs = [make.appropriation(officer.department, "6000.00", source=s) for s in ("general", "lottery")]
    projects = []
    for _ in range(4):
        p = ps.submit_project(officer, make.project(officer, ceiling="2500.00"))
        ps.approve_project(fin, p, [(apprs[0].id, "500.00"), (apprs[1].id, "500.00")])
        projects.append(p)
    # six contracts (real rows: the ledger's contract ids are foreign keys), each funded
    # by one or both allocations of a project
    real = {c: make.contract(projects[c % 4], officer=officer).id for c in range(1, 7)}
    # and real payments of each (a foreign key too), taken one per "pay": about 17 a
    # contract are taken (a quarter of the operations, over six contracts); a run that
    # took more would fail (StopIteration), not pass quietly
    payment_ids = {cid: iter([make.payment(cid).id for _ in range(PAYMENTS_A_CONTRACT)]) for cid in real.values()}
    make.commit()
    appr_ids = [a.id for a in apprs]
    project_ids = [p.id for p in projects]
    allocs = {p.id: sorted(a.id for a in p.allocations) for p in projects}
    contracts = {real[c]: (project_ids[c % 4], allocs[project_ids[c % 4]][: 1 + c % 2]) for c in range(1, 7)}
    fin_id = fin.id
    paid_log: list[tuple[int, int, int, Decimal, int]] = []  # payment, allocation, contract, amount, entry
    log_lock = threading.Lock()
    tally = Counter()

    def amount(rng) -> Decimal:
        return D(rng.randint(1, 30000)) / 100

    def op(rng, kind):
        actor = _user(fin_id)
        if kind in ("allocate", "release", "cancel"):
            pid = rng.choice(project_ids)
            locked = ledger.lock_for_money(appropriation_ids=appr_ids, project_id=pid)
            if kind == "allocate":  # an approval's shape: several appropriations, any line order
                for appr_id in rng.sample(appr_ids, 2):
                    ledger.allocate(locked, appr_id, amount(rng), actor=actor)
            elif kind == "release":
                ledger.release(locked, rng.choice(allocs[pid]), amount(rng), actor=actor)
            else:  # a cancellation's shape: everything uncommitted of the project
                for alloc_id in sorted(locked.allocations):
                    ledger.release(locked, alloc_id, actor=actor)
        elif kind == "adjust":
            appr_id = rng.choice(appr_ids)
            locked = ledger.lock_for_money(appropriation_ids=[appr_id])
            ledger.adjust(locked, appr_id, amount(rng) * rng.choice((1, -1)), actor=actor, reason="调整")
        elif kind in ("commit", "decommit", "pay"):
            c = real[rng.randint(1, 6)]
            alloc_ids = contracts[c][1]
            locked = ledger.lock_for_money(allocation_ids=alloc_ids, contract_id=c)
            for alloc_id in rng.sample(alloc_ids, len(alloc_ids)):
                if kind == "commit":
                    ledger.commit(locked, alloc_id, c, amount(rng), actor=actor)
                elif kind == "decommit":
                    ledger.decommit(locked, alloc_id, c, amount(rng), actor=actor)
                else:
                    pay_id, value = next(payment_ids[c]), amount(rng)
                    entry = ledger.pay(locked, alloc_id, c, value, payment_id=pay_id, actor=actor)
                    _db.session.flush()
                    return ("paid", (pay_id, alloc_id, c, value, entry.id))
        elif kind in ("repeat", "reverse"):
            with log_lock:
                if not paid_log:
                    return None
                pay_id, alloc_id, c, value, entry_id = rng.choice(paid_log)
            locked = ledger.lock_for_money(allocation_ids=[alloc_id], contract_id=c)
            if kind == "repeat":  # a retry of a payment already recorded: the first answer
                entry = ledger.pay(locked, alloc_id, c, value, payment_id=pay_id, actor=actor)
                return ("repeat", entry.id == entry_id)
            ledger.reverse(locked, alloc_id, c, payment_id=pay_id, actor=actor)
        return None

    kinds = ["allocate", "release", "cancel", "adjust", "commit", "commit", "decommit", "pay", "pay", "pay",
             "repeat", "reverse"]

    def worker(i):
        rng = random.Random(1000 + i)
        local = Counter()
        for _ in range(OPS):
            kind = rng.choice(kinds)
            local["attempts"] += 1
            try:
                result = op(rng, kind)
                _db.session.commit()
                local["ok"] += 1
                if result and result[0] == "paid":
                    with log_lock:
                        paid_log.append(result[1])
                elif result and result[0] == "repeat":
                    local["repeats"] += 1
                    local["repeat_mismatches"] += not result[1]
            except BudgetExceeded as exc:
                _db.session.rollback()
                local["refusals"] += 1
                # a refusal must come from the check under the locks, never the CHECK
                local["check_violations"] += isinstance(exc.__cause__, IntegrityError)
            except Conflict:  # the contract gained a funding row between reading and locking
                _db.session.rollback()
                local["conflicts"] += 1
        with log_lock:
            tally.update(local)

    results = _run(app, worker, THREADS)
    assert [r for r in results if r[0] != "ok"] == []  # no deadlock, no other error
    print(f"\nmixed ledger run: {dict(tally)}")
    assert tally["attempts"] == THREADS * OPS
    assert tally["check_violations"] == 0 and tally["repeat_mismatches"] == 0
    assert tally["ok"] > THREADS * OPS / 2 and tally["refusals"] > 0 and tally["repeats"] > 0

    db.session.expire_all()
    assert bs.reconcile() == []
    # every payment recorded exactly once
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.kind == EntryKind.PAY)) == len(paid_log)
    # no overspend at any level, including the project's ceiling (not a CHECK constraint)
    for appr in db.session.scalars(select(Appropriation)):
        assert 0 <= appr.paid <= appr.committed <= appr.allocated <= appr.amount
    for p in db.session.scalars(select(Project)):
        assert sum((a.allocated for a in p.allocations), D(0)) <= p.budget_ceiling
    for f in db.session.scalars(select(ContractFunding)):
        assert 0 <= f.paid <= f.committed


# --- a payment recorded once ----------------------------------------------------------

@pytest.fixture()
def contract_world(make, db):
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    appr = make.appropriation(officer.department, "1000.00")
    p = make.approved_project(officer, appr, "500.00", ceiling="500.00")
    c = make.contract(p, officer=officer).id
    bs.commit_funds(fin, p.allocations[0].id, "400.00", contract_id=c)
    payment = make.payment(c, "150.00").id
    make.commit()
    return fin.id, p.allocations[0].id, appr.id, c, payment


def test_a_payment_sent_many_times_at_once_is_recorded_once(app, db, contract_world):
    fin_id, alloc_id, appr_id, c, payment = contract_world

    def pay(i):
        return bs.pay(_user(fin_id), alloc_id, "150.00", contract_id=c, payment_id=payment).id

    results = _run(app, pay, THREADS)
    assert {r[0] for r in results} == {"ok"}, results
    assert len({r[1] for r in results}) == 1  # every caller got the first entry
    db.session.expire_all()
    assert db.session.get(Allocation, alloc_id).paid == D("150.00")
    assert db.session.get(Appropriation, appr_id).paid == D("150.00")
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.kind == EntryKind.PAY)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "ledger.pay")) == 1
    assert bs.reconcile() == []


def test_the_payment_key_holds_even_for_a_caller_without_locks(app, db, contract_world):
    """The unique key is the last line: callers that read the rows without locking them
    (a bug) still record the payment once and each get the first entry."""
    fin_id, alloc_id, appr_id, c, payment = contract_world

    def pay_unlocked(i):
        alloc = _db.session.get(Allocation, alloc_id)
        funding = _db.session.scalar(select(ContractFunding).where(ContractFunding.contract_id == c))
        locked = ledger.Locked(appropriations={appr_id: _db.session.get(Appropriation, appr_id)},
                               allocations={alloc_id: alloc}, fundings={(c, alloc_id): funding})
        return ledger.pay(locked, alloc_id, c, D("150.00"), payment_id=payment, actor=_user(fin_id)).id

    results = _run(app, pay_unlocked, THREADS)
    assert {r[0] for r in results} == {"ok"}, results
    assert len({r[1] for r in results}) == 1
    db.session.expire_all()
    assert db.session.get(Allocation, alloc_id).paid == D("150.00")
    assert bs.reconcile() == []


# --- approvals --------------------------------------------------------------------------

def test_concurrent_approvals_sharing_appropriations_never_overspend(app, make, db):
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    a = make.appropriation(officer.department, "500.00", source="general")
    b = make.appropriation(officer.department, "700.00", source="lottery")
    projects = [ps.submit_project(officer, make.project(officer, ceiling="200.00")) for _ in range(10)]
    make.commit()
    fin_id, ids = fin.id, [p.id for p in projects]
    a_id, b_id = a.id, b.id

    def approve(i):
        lines = [(a_id, "100.00"), (b_id, "100.00")]
        ps.approve_project(_user(fin_id), _db.session.get(Project, ids[i]), lines[::-1] if i % 2 else lines)

    results = _run(app, approve, 10)
    outcomes = Counter(r[0] for r in results)
    print(f"\nshared approvals: {dict(outcomes)}")
    assert outcomes == {"ok": 5, "refused": 5}, results  # the 500.00 of the first limits
    assert all("该预算指标仅剩" in str(r[1].message) for r in results if r[0] == "refused")
    db.session.expire_all()
    assert db.session.get(Appropriation, a_id).allocated == D("500.00")
    assert db.session.get(Appropriation, b_id).allocated == D("500.00")
    assert bs.reconcile() == []


def test_one_project_approved_at_once_by_many_holds_its_ceiling_once(app, make, db):
    officer = make.user(Role.OFFICER)
    fin = make.finance()
    appr = make.appropriation(officer.department, "5000.00")
    p = ps.submit_project(officer, make.project(officer, ceiling="100.00"))
    make.commit()
    fin_id, pid, appr_id = fin.id, p.id, appr.id

    def approve(i):
        ps.approve_project(_user(fin_id), _db.session.get(Project, pid), [(appr_id, "100.00")])

    results = _run(app, approve, 6)
    assert Counter(r[0] for r in results) == {"ok": 1, "refused": 5}, results
    assert all(isinstance(r[1], InvalidTransition) for r in results if r[0] == "refused")
    db.session.expire_all()
    assert db.session.get(Project, pid).state == ProjectState.APPROVED
    assert db.session.get(Appropriation, appr_id).allocated == D("100.00")
    assert bs.reconcile() == []
