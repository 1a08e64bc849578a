"""Delivery data in bulk on top of ``bench/budgets_data.py`` (its projects each have a
contract in force whose first milestone is paid, its installment and payment in the
ledger): per contract, its milestones (default 5: 3,000 contracts → 15,000; the first is
budgets_data's), one installment per milestone plus the final one released by acceptance, the approved
budget breakdown; a report on most milestones already due (approved, some submitted or
sent back for revision, a few missing: overdue) and drafts on some of the next ones, each
non-draft report with its submission; spending lines spread over the reports (default
150,000); payments of the approved reports' installments (most paid, some waiting for
finance, some approved and unpaid); acceptances of the contracts whose milestones are all
approved (most passed with a grade, 1 in 20 failed and in rectification). Plus one active
organization user per contracted organization (1 in 3 English) and one officer per
department, so the reminder rules have recipients.

``worst_day`` / ``worst_n``: that many milestones (of contracts of that day's year) are
moved to the same due date, with no report — the reminder scan's worst day.

Rows are bulk-inserted; the services would take hours at this scale.

    python -m bench.delivery_data postgresql+psycopg://postgres@127.0.0.1:5432/bench_delivery \\
        [--projects 3000] [--milestones 5] [--lines 150000]
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

CATEGORIES = ("personnel", "activities", "materials", "admin", "other")
BREAKDOWN = (Decimal("0.55"), Decimal("0.25"), Decimal("0.10"), Decimal("0.08"), Decimal("0.02"))
CHUNK = 20000


def _insert(s, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        s.execute(sa.insert(model), rows[start:start + CHUNK])


def add_delivery(s, *, today: date, milestones: int = 5, lines: int = 150000, worst_day: date | None = None,
                 worst_n: int = 0, seed: int = 11) -> dict:
    """Fill the delivery tables for every contract in the database; returns the counts."""
    from procure.acceptance.models import Acceptance, Grade
    from procure.auth.models import Department, User
    from procure.contracts.models import Contract, Installment, Milestone
    from procure.delivery.models import BudgetLine, MilestoneReport, ReportSubmission, SpendingLine
    from procure.payments.models import Payment
    from procure.roles import Role

    rng = random.Random(seed)
    actor = s.scalar(sa.select(User.id).order_by(User.id))
    contracts = s.execute(sa.select(Contract.id, Contract.organization_id, Contract.department_id,
                                    Contract.period_start, Contract.amount).order_by(Contract.id)).all()
    # users: one per contracted organization, one officer per department
    proto = User(username="x", email="x", name="x", role=Role.ORG)
    proto.set_password("bench-password-1")
    orgs = sorted({c.organization_id for c in contracts})
    taken = set(s.scalars(sa.select(User.organization_id).where(User.organization_id.is_not(None))))
    _insert(s, User, [{"username": f"org-user-{o}", "email": f"org{o}@bench.local", "name": f"组织用户{o}",
                       "role": Role.ORG, "organization_id": o, "password_hash": proto.password_hash,
                       "locale": "en" if o % 3 == 0 else "zh_CN", "session_token": f"o{o}"}
                      for o in orgs if o not in taken])
    deps = list(s.scalars(sa.select(Department.id).order_by(Department.id)))
    _insert(s, User, [{"username": f"officer-{d}", "email": f"officer{d}@bench.local", "name": f"经办人{d}",
                       "role": Role.OFFICER, "department_id": d, "password_hash": proto.password_hash,
                       "locale": "zh_CN", "session_token": f"d{d}"} for d in deps])
    # milestones, installments, budget lines (the milestones and installments that
    # budgets_data made, with their payments, are kept)
    existing = set(s.execute(sa.select(Milestone.contract_id, Milestone.position)).tuples())
    has_installment = set(s.scalars(sa.select(Installment.milestone_id).where(Installment.milestone_id.is_not(None))))
    paid_installments = set(s.scalars(sa.select(Payment.installment_id).where(Payment.state != "rejected")))
    ms, inst, budget = [], [], []
    step = 300 // milestones
    for c in contracts:
        for k in range(milestones):
            due = c.period_start + timedelta(days=step * (k + 1) - rng.randint(0, 10))
            if (c.id, k) not in existing:
                ms.append({"contract_id": c.id, "position": k, "title": f"第{k + 1}阶段服务", "due_on": due,
                           "deliverables": "服务记录、签到表、照片"})
        for cat, share in zip(CATEGORIES, BREAKDOWN, strict=True):
            budget.append({"contract_id": c.id, "category": cat,
                           "amount": (c.amount * share).quantize(Decimal("0.01"))})
    if worst_day and worst_n:
        same_year = [m for m in ms if m["due_on"].year == worst_day.year and m["due_on"] > worst_day]
        for m in rng.sample(same_year, min(worst_n, len(same_year))):
            m["due_on"] = worst_day
    _insert(s, Milestone, ms)
    _insert(s, BudgetLine, budget)
    mrows = s.execute(sa.select(Milestone.id, Milestone.contract_id, Milestone.position, Milestone.due_on)
                      .order_by(Milestone.id)).all()
    share = Decimal(90) / milestones
    by_contract = {c.id: c for c in contracts}
    for m in mrows:
        if m.id in has_installment:
            continue
        amount = (by_contract[m.contract_id].amount * share / 100).quantize(Decimal("0.01"))
        inst.append({"contract_id": m.contract_id, "position": m.position, "share": share.quantize(Decimal("0.01")),
                     "amount": amount, "releases_on": "milestone", "milestone_id": m.id})
    for c in contracts:
        inst.append({"contract_id": c.id, "position": milestones, "share": Decimal("10.00"),
                     "amount": (c.amount * Decimal("0.10")).quantize(Decimal("0.01")), "releases_on": "acceptance"})
    _insert(s, Installment, inst)
    inst_of = dict(s.execute(sa.select(Installment.milestone_id, Installment.id)
                             .where(Installment.milestone_id.is_not(None))).all())
    paid_milestones = {m for m, i in inst_of.items() if i in paid_installments}
    # reports: on most milestones already due, drafts on some of the next 30 days
    reports, states = [], {}
    worst = worst_day if worst_n else None
    for m in mrows:
        if m.due_on == worst:
            continue
        c = by_contract[m.contract_id]
        if m.due_on < today:
            r = rng.random()
            state = ("approved" if r < 0.85 else "submitted" if r < 0.93 else "revision_requested" if r < 0.97
                     else None)
            if m.id in paid_milestones:  # paid after its report was approved
                state = "approved"
        elif m.due_on < today + timedelta(days=30):
            state = "draft" if rng.random() < 0.5 else None
        else:
            state = None
        if state is None:
            continue
        at = datetime.combine(m.due_on - timedelta(days=rng.randint(0, 5)), time(2))
        states[m.id] = state
        reports.append({"milestone_id": m.id, "contract_id": c.id, "organization_id": c.organization_id,
                        "state": state, "narrative": "按计划开展服务。", "actuals": [],
                        "submissions_count": 0 if state == "draft" else 1,
                        "submitted_at": None if state == "draft" else at,
                        "reviewed_at": at + timedelta(days=3) if state in ("approved", "revision_requested") else None,
                        "reviewed_by_id": actor if state in ("approved", "revision_requested") else None,
                        "created_by_id": actor, "created_at": at, "updated_at": at})
    _insert(s, MilestoneReport, reports)
    rrows = s.execute(sa.select(MilestoneReport.id, MilestoneReport.milestone_id, MilestoneReport.contract_id,
                                MilestoneReport.state, MilestoneReport.submitted_at)
                      .order_by(MilestoneReport.id)).all()
    subs = [{"report_id": r.id, "number": 1, "content": {"narrative": "按计划开展服务。"}, "submitted_by_id": actor,
             "submitted_at": r.submitted_at, "decision": None if r.state == "submitted" else r.state.value,
             "decided_by_id": None if r.state == "submitted" else actor,
             "decided_at": None if r.state == "submitted" else r.submitted_at + timedelta(days=3)}
            for r in rrows if r.state != "draft"]
    _insert(s, ReportSubmission, subs)
    per = max(1, lines // max(1, len(rrows)))
    extra = lines - per * len(rrows)
    spend = []
    for i, r in enumerate(rrows):
        for pos in range(per + (1 if i < extra else 0)):
            spend.append({"report_id": r.id, "contract_id": r.contract_id, "position": pos,
                          "category": CATEGORIES[pos % len(CATEGORIES)],
                          "amount": Decimal(rng.randint(100, 300000)) / 100, "description": f"支出{pos}"})
    _insert(s, SpendingLine, spend)
    # payments of the approved reports' installments
    pays = []
    for r in rrows:
        if r.state != "approved" or r.milestone_id in paid_milestones:
            continue
        c = by_contract[r.contract_id]
        x = rng.random()
        at = r.submitted_at + timedelta(days=4)
        base = {"contract_id": c.id, "installment_id": inst_of[r.milestone_id], "organization_id": c.organization_id,
                "department_id": c.department_id, "amount": (c.amount * share / 100).quantize(Decimal("0.01")),
                "steps": ["officer", "finance"], "requested_by_id": actor, "requested_at": at, "reviewed_by_id": actor}
        if x < 0.9:
            pays.append(dict(base, state="paid", steps_done=2, waiting_for=None, approved_at=at + timedelta(days=2),
                             voucher_number=f"V-{r.id}", paid_on=(at + timedelta(days=5)).date(),
                             paid_at=at + timedelta(days=5), paid_by_id=actor))
        elif x < 0.95:
            pays.append(dict(base, state="approved", steps_done=2, waiting_for="record",
                             approved_at=at + timedelta(days=2)))
        else:
            pays.append(dict(base, state="requested", steps_done=1, waiting_for="finance"))
    _insert(s, Payment, pays)
    # acceptances of the contracts whose milestones are all approved
    approved: dict[int, int] = {}
    for r in rrows:
        if r.state == "approved":
            approved[r.contract_id] = approved.get(r.contract_id, 0) + 1
    accs = []
    for cid, n in approved.items():
        if n < milestones:
            continue
        c = by_contract[cid]
        decided = datetime.combine(c.period_start.replace(month=12, day=28), time(3))
        failed = rng.random() < 0.05
        score = Decimal(rng.randint(4000, 5900)) / 100 if failed else Decimal(rng.randint(6000, 9900)) / 100
        grade = (Grade.POOR if score < 60 else Grade.FAIR if score < 80 else Grade.GOOD if score < 90
                 else Grade.EXCELLENT)
        accs.append({"contract_id": cid, "organization_id": c.organization_id,
                     "state": "failed" if failed else "passed",
                     "round": 1, "final_report": "项目总结", "actuals": [], "evaluated_by": "committee",
                     "submitted_at": decided - timedelta(days=10), "score": score, "grade": grade.value,
                     "decided_at": decided, "decided_by_id": actor,
                     "rectify_by": (decided + timedelta(days=60)).date() if failed else None,
                     "created_by_id": actor, "created_at": decided - timedelta(days=12)})
    _insert(s, Acceptance, accs)
    return {"contracts": len(contracts), "milestones": len(mrows), "installments": len(inst), "reports": len(rrows),
            "submissions": len(subs), "spending_lines": len(spend), "payments": len(pays),
            "acceptances": len(accs), "org_users": len(orgs), "worst_day_milestones": worst_n if worst else 0}


def generate(url: str, projects: int = 3000, milestones: int = 5, lines: int = 150000, today: date | None = None,
             worst_day: date | None = None, worst_n: int = 0) -> dict:
    """A fresh database: ``budgets_data.generate`` then :func:`add_delivery`; ANALYZE."""
    from bench.budgets_data import generate as budgets
    from procure import create_app
    from procure.calendar import local_today
    from procure.extensions import db

    counts = budgets(url, projects=projects)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        counts.update(add_delivery(db.session, today=today or local_today(), milestones=milestones, lines=lines,
                                   worst_day=worst_day, worst_n=worst_n))
        db.session.commit()
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return counts


if __name__ == "__main__":
    import argparse
    import time as _time

    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_delivery")
    parser.add_argument("--projects", type=int, default=3000)
    parser.add_argument("--milestones", type=int, default=5)
    parser.add_argument("--lines", type=int, default=150000)
    cli = parser.parse_args()
    t0 = _time.perf_counter()
    print(generate(cli.url, projects=cli.projects, milestones=cli.milestones, lines=cli.lines),
          f"in {_time.perf_counter() - t0:.0f} s")
