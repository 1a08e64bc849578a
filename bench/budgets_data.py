"""Seed-scale data for the budgets benchmark: 17,343 organizations (7,767 social groups,
9,499 social service organizations, 77 foundations), 3,000 projects over five fiscal
years with targets, allocations and ledger rows (allocate, commit, pay), appropriations
for every department × funding source × year. Each project has a contract in force whose
first stage is paid: a milestone, its installment and the payment recorded paid, which
the ledger's pay rows name (a foreign key: a payment of the row's own contract). Rows are
bulk-inserted (the services would take minutes at this scale); the running totals are
computed from the same amounts as the ledger rows, so ``flask budgets reconcile`` passes.

    python -m bench.budgets_data postgresql+psycopg://postgres@127.0.0.1:5432/bench_budgets [--projects N]
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

ORG_KINDS = [("social_group", 7767), ("service_org", 9499), ("foundation", 77)]
DEPARTMENTS = 20
PROJECTS = 3000
FIRST_YEAR = 2022
YEARS = 5
SOURCES = ["general", "lottery", "central", "matching"]
BENCH_PASSWORD = "bench-password-1"


def recreate_database(url: str) -> None:
    u = sa.engine.make_url(url)
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def _contracts(s, plist, actor_id: int, rng) -> dict[int, int]:
    """Per project, the chain a contract comes from — a tender and its awarded bid — and
    the contract in force (rows in bulk). The tender rows stay drafts: a final one needs
    its publication times and sealed data key, which the budget pages never read.
    Returns project id → contract id."""
    from procure.contracts.models import Contract
    from procure.organizations.models import Organization
    from procure.tenders.models import Bid, Tender

    orgs = list(s.scalars(sa.select(Organization.id).order_by(Organization.id).limit(2000)))
    s.execute(sa.insert(Tender), [
        {"project_id": p.id, "department_id": p.department_id, "method": "public_tender", "state": "draft",
         "title": f"购买服务项目{p.id} 采购公告", "created_by_id": actor_id} for p in plist])
    tender_of = dict(s.execute(sa.select(Tender.project_id, Tender.id)).all())
    s.execute(sa.insert(Bid), [
        {"tender_id": tender_of[p.id], "organization_id": orgs[i % len(orgs)], "state": "awarded",
         "sealed_content": b"-", "sealed_sha256": "0" * 64, "submitted_at": datetime(p.fiscal_year, 1, 20),
         "receipt_no": f"R-{p.id}", "opened_at": datetime(p.fiscal_year, 1, 21), "price": Decimal("300000.00"),
         "created_by_id": actor_id} for i, p in enumerate(plist)])
    bid_of = {t: (b, o) for b, t, o in s.execute(sa.select(Bid.id, Bid.tender_id, Bid.organization_id))}
    rows = []
    for p in plist:
        bid_id, org_id = bid_of[tender_of[p.id]]
        rows.append({"number": f"HT-{p.fiscal_year}-{p.id:06d}", "project_id": p.id, "tender_id": tender_of[p.id],
                     "bid_id": bid_id, "department_id": p.department_id, "organization_id": org_id,
                     "state": "active", "title": f"购买服务项目{p.id}", "service_content": "服务内容",
                     "amount": Decimal("300000.00"), "period_start": date(p.fiscal_year, 3, 1),
                     "period_end": date(p.fiscal_year, 12, 31), "awarded_at": datetime(p.fiscal_year, 2, 1),
                     "sign_due_on": date(p.fiscal_year, 3, 3), "created_by_id": actor_id,
                     "activated_at": datetime(p.fiscal_year, 2, 20)})
    s.execute(sa.insert(Contract), rows)
    return dict(s.execute(sa.select(Contract.project_id, Contract.id)).all())


def _first_stages_paid(s, paid_of: dict[int, Decimal], actor_id: int) -> dict[int, int]:
    """Per contract (``paid_of``: contract id → what the ledger pays it), its first stage
    paid: milestone 0, its installment of that amount and the payment recorded paid (rows
    in bulk). ``bench/delivery_data.py`` builds the other milestones on them. Returns
    contract id → payment id."""
    from procure.contracts.models import Contract, Installment, Milestone
    from procure.payments.models import Payment

    contracts = s.execute(sa.select(Contract.id, Contract.organization_id, Contract.department_id,
                                    Contract.period_start, Contract.amount).order_by(Contract.id)).all()
    s.execute(sa.insert(Milestone), [
        {"contract_id": c.id, "position": 0, "title": "第1阶段服务", "due_on": c.period_start + timedelta(days=55),
         "deliverables": "服务记录、签到表、照片"} for c in contracts])
    milestone_of = dict(s.execute(sa.select(Milestone.contract_id, Milestone.id)).all())
    s.execute(sa.insert(Installment), [
        {"contract_id": c.id, "position": 0, "amount": paid_of[c.id], "releases_on": "milestone",
         "share": (paid_of[c.id] * 100 / c.amount).quantize(Decimal("0.01")), "milestone_id": milestone_of[c.id]}
        for c in contracts])
    installment_of = dict(s.execute(sa.select(Installment.contract_id, Installment.id)).all())
    rows = []
    for c in contracts:
        at = datetime.combine(c.period_start + timedelta(days=58), datetime.min.time())
        rows.append({"contract_id": c.id, "installment_id": installment_of[c.id], "organization_id": c.organization_id,
                     "department_id": c.department_id, "amount": paid_of[c.id], "state": "paid",
                     "steps": ["officer", "finance"], "steps_done": 2, "waiting_for": None,
                     "requested_by_id": actor_id, "requested_at": at, "reviewed_by_id": actor_id,
                     "approved_at": at + timedelta(days=2), "voucher_number": f"V-B-{c.id}",
                     "paid_on": (at + timedelta(days=5)).date(), "paid_at": at + timedelta(days=5),
                     "paid_by_id": actor_id})
    s.execute(sa.insert(Payment), rows)
    return dict(s.execute(sa.select(Payment.contract_id, Payment.id)).all())


def generate(url: str, projects: int = PROJECTS, seed: int = 7) -> dict:
    """Fill a fresh database at ``url``; returns what was made (for the benchmark)."""
    from flask_migrate import upgrade

    from procure import create_app
    from procure.auth.models import Department, User
    from procure.budgets import services as bs
    from procure.budgets.models import Allocation, Appropriation, ContractFunding, LedgerEntry
    from procure.extensions import db
    from procure.organizations.models import Organization
    from procure.projects.models import PerformanceTarget, Project, ServiceCategory
    from procure.roles import Role

    recreate_database(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url,
                     PASSWORD_HASH_METHOD="pbkdf2:sha256:1000")
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        s = db.session
        s.execute(sa.insert(Organization), [
            {"name": f"{kind}-组织{i}", "credit_code": None, "kind": kind}
            for kind, n in ORG_KINDS for i in range(n)])
        s.execute(sa.insert(Department), [{"name": f"部门{i}", "code": f"B{i}"} for i in range(DEPARTMENTS)])
        deps = list(s.scalars(sa.select(Department.id).order_by(Department.id)))
        finance = User(username="bench-finance", email="f@bench.local", name="财务", role=Role.FINANCE,
                       department_id=deps[0], locale="zh_CN")
        finance.set_password(BENCH_PASSWORD)
        s.add(finance)
        s.flush()
        sources = {x.code: x.id for x in bs.ensure_funding_sources()}
        s.execute(sa.insert(ServiceCategory), [{"code": f"A{i:02d}", "name": f"服务类别{i}", "is_active": True}
                                               for i in range(12)])
        cats = list(s.scalars(sa.select(ServiceCategory.id)))
        apprs = {}
        rows = []
        # more projects than the seed scale (the reminder bench's 20,000): appropriations grow with them
        scale = max(1, -(-projects // PROJECTS))
        for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
            for dep in deps:
                for code in SOURCES:
                    rows.append({"source_id": sources[code], "fiscal_year": year, "department_id": dep,
                                 "amount": Decimal(rng.randint(5_000_000, 20_000_000)) * scale + Decimal("0.55"),
                                 "allocated": 0, "committed": 0, "paid": 0, "created_by_id": finance.id})
        s.execute(sa.insert(Appropriation), rows)
        for a in s.execute(sa.select(Appropriation.id, Appropriation.fiscal_year, Appropriation.department_id,
                                     Appropriation.source_id)):
            apprs[(a.fiscal_year, a.department_id, a.source_id)] = {"id": a.id, "allocated": Decimal(0),
                                                                     "committed": Decimal(0), "paid": Decimal(0)}
        project_rows = []
        for i in range(projects):
            year = FIRST_YEAR + (i // len(deps)) % YEARS
            project_rows.append({
                "title": f"购买服务项目{i}", "department_id": deps[i % len(deps)], "category_id": rng.choice(cats),
                "fiscal_year": year, "service_area": "重庆市", "target_group": "服务对象",
                "budget_ceiling": Decimal("300000.00"), "method": "public_tender",
                "period_start": date(year, 3, 1), "period_end": date(year, 12, 31),
                "state": "approved", "beneficiaries_served": rng.randint(10, 2000), "created_by_id": finance.id})
        s.execute(sa.insert(Project), project_rows)
        plist = s.execute(sa.select(Project.id, Project.fiscal_year, Project.department_id)
                          .order_by(Project.id)).all()
        contract_of = _contracts(s, plist, finance.id, rng)
        s.execute(sa.insert(PerformanceTarget), [
            {"project_id": p.id, "position": 0, "indicator": "服务对象人数", "unit": "人",
             "target_value": Decimal(rng.randint(50, 3000)), "is_beneficiaries": True} for p in plist])
        alloc_rows, plan = [], []
        for p in plist:
            for code in rng.sample(SOURCES, 2):
                amount = Decimal(rng.randint(1_000_000, 12_000_000)) / 100
                committed = (amount * Decimal("0.8")).quantize(Decimal("0.01"))
                paid = (committed * Decimal("0.5")).quantize(Decimal("0.01"))
                a = apprs[(p.fiscal_year, p.department_id, sources[code])]
                a["allocated"] += amount
                a["committed"] += committed
                a["paid"] += paid
                alloc_rows.append({"appropriation_id": a["id"], "project_id": p.id, "allocated": amount,
                                   "committed": committed, "paid": paid})
                plan.append((a["id"], p.id, amount, committed, paid))
        s.execute(sa.insert(Allocation), alloc_rows)
        alloc_ids = {(r.appropriation_id, r.project_id): r.id
                     for r in s.execute(sa.select(Allocation.id, Allocation.appropriation_id, Allocation.project_id))}
        paid_of: dict[int, Decimal] = {}
        for _appr_id, pid, _amount, _committed, paid in plan:
            paid_of[contract_of[pid]] = paid_of.get(contract_of[pid], Decimal(0)) + paid
        payment_of = _first_stages_paid(s, paid_of, finance.id)
        ledger, fundings = [], []
        for appr_id, pid, amount, committed, paid in plan:
            alloc_id = alloc_ids[(appr_id, pid)]
            base = {"appropriation_id": appr_id, "project_id": pid, "allocation_id": alloc_id,
                    "actor_id": finance.id}
            cid = contract_of[pid]
            # the contract's first payment, paid from each of its allocations
            ledger += [dict(base, kind="allocate", amount=amount),
                       dict(base, kind="commit", amount=committed, contract_id=cid),
                       dict(base, kind="pay", amount=paid, contract_id=cid, payment_id=payment_of[cid])]
            fundings.append({"contract_id": cid, "allocation_id": alloc_id, "committed": committed, "paid": paid})
        s.execute(sa.insert(LedgerEntry), ledger)
        s.execute(sa.insert(ContractFunding), fundings)
        for a in apprs.values():
            s.execute(sa.update(Appropriation).where(Appropriation.id == a["id"]).values(
                allocated=a["allocated"], committed=a["committed"], paid=a["paid"]))
        s.commit()
        problems = bs.reconcile()
        assert problems == [], problems[:5]
        counts = {"organizations": sum(n for _k, n in ORG_KINDS), "projects": len(plist),
                  "allocations": len(alloc_rows), "ledger_entries": len(ledger), "appropriations": len(apprs),
                  "first_stage_payments": len(payment_of)}
    return counts


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_budgets")
    parser.add_argument("--projects", type=int, default=PROJECTS, help="projects (the seed scale is 3,000)")
    cli = parser.parse_args()
    print(generate(cli.url, projects=cli.projects))
