"""Demo delivery (issue 11): every role opens on real delivery work. Everything goes
through the services — reports saved, submitted and reviewed by the organization's and
the officer's accounts, payments raised by those approvals and the acceptances, confirmed,
approved and recorded paid (voucher, date: the demo's paid money is real payments),
acceptances evaluated and decided, a project closed. The contracts signed are those of
the contracts demo plus two more drafted here the same way.

* 2 years ago, 养老 (同心): both milestones approved and paid, acceptance by a third
  party graded 良, the final installment paid, the project **closed** (archive);
* last year, 养老 (同心): both milestones approved and paid, acceptance by three
  evaluators (expert, expert2, expert3) graded 良, the **final installment raised**
  (waiting for the officer's confirmation);
* last year, 残疾人康复 (康乐): the first milestone paid; the second approved, its
  payment confirmed and approved by ``finance2`` and **waiting for the second finance
  approval** (``finance``: above ``payment.second_approval_above``); administrative
  spending **above the cap** (flagged); acceptance by a third party **failed** (差), in
  rectification (``rectify_by`` 30 days ahead, by policy);
* this year, the contracts demo's final award: the first milestone report **waiting for
  review**;
* this year, 助浴 (同心), a contract whose schedule is set around today: the first
  milestone report **under revision** (the officer's comment), the second milestone
  **overdue** (no report), the third **due** in 12 days;
* the earlier years' other projects (孵化基地, 残疾人康复 2 years ago, 社工站, 三社联动):
  awarded (启航, 康乐, 阳光), signed, reported, accepted by a third party (良 or 优), paid
  in full and **closed** — or, one of them, **cancelled** — so that no past year's project
  still waits for a call on the officers' homes (``PAST``).

No raw state writes: the only time faked is the schedule of the last contract, drafted
with due dates before today (the contract's period started 90 days ago), and the earlier
years' calls recorded as final (procure/contracts/demo.py). Payments are dated today (a
payment cannot be dated before its approval). The PDFs the decisions and payments queue
(certificates, payment notices) are left to the worker."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ..acceptance import services as acs
from ..auth import services as accounts
from ..auth.models import User
from ..calendar import local_today
from ..contracts import demo as contracts_demo
from ..contracts import services as cs
from ..contracts.models import Contract, ContractState, Milestone
from ..contracts.rendering import build_version_pdf
from ..delivery import services as ds
from ..demo import DEMO_PASSWORD, demo_email
from ..extensions import db
from ..jobs.services import run_job
from ..payments import services as pay
from ..payments.models import Payment, PaymentState
from ..projects import services as ps
from ..projects.models import Project, ProjectState, ServiceCategory
from ..roles import Role
from ..timeutil import utcnow
from . import demo_ledger
from . import services as archive

ORDER = 90

#: A small PDF standing for a scanned sign-in sheet (the evidence of a report).
EVIDENCE = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
NARRATIVES = [
    "完成服务对象摸底评估，建立个案档案，组建服务团队并开展首轮上门探访。",
    "按计划开展上门探访、助餐与助洁服务，组织社区活动，服务记录已归档。",
    "持续开展个案服务与社区活动，完成中期满意度回访。",
]
OPINION = "服务对象及家属对上门服务的及时性和服务人员的态度表示满意，希望明年继续开展。"
THIRD_PARTY = "重庆市社会组织评估服务中心"


def _evidence() -> FileStorage:
    return FileStorage(stream=io.BytesIO(EVIDENCE), filename="服务签到表.pdf", name="evidence_file")


def _org_user(contract: Contract) -> User:
    """The organization's first staff account (the contracts demo made sure of one)."""
    return db.session.scalar(select(User).where(User.role == Role.ORG, User.organization_id == contract.organization_id)
                             .order_by(User.id))


def _milestones(contract: Contract) -> list[Milestone]:
    return list(db.session.scalars(select(Milestone).where(Milestone.contract_id == contract.id)
                                   .order_by(Milestone.position)))


def _report(contract: Contract, position: int, spending: list[tuple[str, str, str]], *, officer=None,
            decision: str | None = None, comment: str = ""):
    """The organization writes and submits the report of milestone ``position``; the
    officer then approves it or asks for a revision (``decision``), or leaves it waiting."""
    org_user = _org_user(contract)
    milestone = _milestones(contract)[position]
    targets = contract.project.targets
    data = ds.ReportData(
        narrative=NARRATIVES[position % len(NARRATIVES)],
        actuals=[str((t.target_value * Decimal(position + 1) / Decimal(len(_milestones(contract)) + 1))
                     .quantize(Decimal("1"))) for t in targets],
        spending=[ds.SpendingData(c, a, d) for c, a, d in spending],
        evidence_file=_evidence(), evidence_caption="服务对象签到表（扫描件）")
    report = ds.save_report(org_user, milestone, data)
    ds.submit_report(org_user, report)
    if decision == "approve":
        ds.approve_report(officer, report, "材料齐全，同意通过。")
    elif decision == "revise":
        ds.request_revision(officer, report, comment)
    db.session.flush()
    return report


def _spending(amount: Decimal, admin_share: str = "0.08") -> list[tuple[str, str, str]]:
    """Spending lines of one report: ``amount`` split like the bid's breakdown."""
    admin = (amount * Decimal(admin_share)).quantize(Decimal("0.01"))
    activities = (amount * Decimal("0.28")).quantize(Decimal("0.01"))
    return [("personnel", str(amount - admin - activities), "社工及护理员劳务费"),
            ("activities", str(activities), "上门服务及社区活动"),
            ("admin", str(admin), "项目管理及财务审计")]


def _acceptance(contract: Contract, officer, *, share: str, evaluators=None):
    """Final report (with the beneficiaries' opinion), evaluation by ``evaluators`` (a
    committee) or a third party, each group scored at ``share`` of its weight, decided."""
    org_user = _org_user(contract)
    acc = acs.open_final_report(org_user, contract)
    acs.save_final_report(org_user, acc, acs.ReportData(
        final_report="项目按合同完成全部服务内容，服务对象档案、服务记录及财务资料齐全。",
        actuals=[str(t.target_value) for t in contract.project.targets], opinion_text=OPINION), submit=True)
    weights = acs.weights()
    if evaluators:
        acs.organize_evaluation(officer, acc, evaluator_ids=[u.id for u in evaluators])
        for n, user in enumerate(evaluators):
            acs.declare(user, acc, False)
            factor = Decimal(share) + Decimal(n - 1) / Decimal(100)  # 0.84, 0.85, 0.86: the mean is ``share``
            acs.submit_scores(user, acc, {g: str((w * factor).quantize(Decimal("0.01"))) for g, w in weights.items()},
                              "服务成效明显，资料规范。")
    else:
        acs.organize_evaluation(officer, acc, third_party_name=THIRD_PARTY)
        acs.enter_third_party_scores(officer, acc, {g: str((w * Decimal(share)).quantize(Decimal("0.01")))
                                                    for g, w in weights.items()}, "第三方评估意见见评估报告。")
    acs.decide(officer, acc, "依据评分结果作出验收结论。")
    db.session.flush()
    return acc


class _Vouchers:
    def __init__(self):
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"渝财社支〔{local_today().year}〕{self.n:04d}号"


def _payments(contract: Contract) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.contract_id == contract.id)
                                   .order_by(Payment.id)))


def _pay(payment: Payment, users, vouchers: _Vouchers, *, upto: str = "paid", officer=None) -> Payment:
    """Move a requested payment along its chain: the department's officer (``officer``,
    by default ``officer``) confirms, finance (and ``finance2`` for a second approval)
    approve, finance records it paid — stopping at ``upto`` (``second``: after the first
    finance approval, by finance2)."""
    pay.confirm_payment(officer or users["officer"], payment, comment="已核对里程碑报告。")
    if upto == "second":
        return pay.approve_payment(users["finance2"], payment, comment="初审通过。")
    pay.approve_payment(users["finance"], payment, comment="审核通过。")
    if payment.state == PaymentState.REQUESTED:
        pay.approve_payment(users["finance2"], payment, comment="复核通过。")
    return pay.record_paid(users["finance"], payment, vouchers.next(), local_today())


def _ensure_finance2(ctx):
    users = ctx["users"]
    if "finance2" not in users:
        finance = users["finance"]
        users["finance2"] = accounts.create_user(ctx["admin"], accounts.UserData(
            username="finance2", email=demo_email("finance2"), name="周丽（财务复核）", role=Role.FINANCE,
            locale="zh_CN", department_id=finance.department_id), DEMO_PASSWORD)
    return users["finance2"]


def _sign(ctx, officer, tender, data: cs.DraftData) -> Contract:
    """Draft, render (as the worker would) and sign by both parties, as the contracts demo."""
    contract = cs.draft_contract(officer, tender, data)
    db.session.commit()
    run_job(contract.current_version.job_id, build_version_pdf)
    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    cs.sign_contract(contracts_demo._org_user(ctx, contract.organization_id), contract, DEMO_PASSWORD)
    cs.sign_contract(officer, contract, DEMO_PASSWORD)
    db.session.flush()
    return contract


def _rehab_contract(ctx, officer, year: int) -> Contract | None:
    """Last year's rehabilitation project, awarded to 康乐 and signed."""
    project = db.session.scalar(select(Project).where(
        Project.fiscal_year == year, Project.department_id == officer.department_id,
        Project.state == ProjectState.APPROVED, Project.title.like("%残疾人康复%")).order_by(Project.id))
    if project is None:
        return None
    kangle = ctx["users"]["kangle"].organization_id
    tender = contracts_demo._past_award(officer, project, kangle)
    return _sign(ctx, officer, tender, cs.DraftData(
        period_start=date(year, 3, 1), period_end=date(year, 12, 31), service_content=contracts_demo.CONTENT,
        installments=contracts_demo._schedule(year)))


def _bathing_contract(ctx, officer, year: int) -> Contract:
    """This year's 助浴 project for 同心, its schedule set around today: milestones 30 and
    5 days ago and 12 days ahead (the time the demo fakes)."""
    users = ctx["users"]
    today = local_today()
    category = db.session.scalar(select(ServiceCategory).where(ServiceCategory.code == "A01"))
    project = ps.create_project(officer, ps.ProjectData(
        title=f"{year}年渝中区失能老人上门助浴服务项目", category_id=category.id, fiscal_year=year,
        service_area="重庆市渝中区",
        target_group="失能、半失能老人", budget_ceiling="280000.00", method="application",
        period_start=date(year, 1, 1), period_end=date(year, 12, 31),
        targets=[ps.TargetData("服务对象人数", "人", "150", True), ps.TargetData("助浴服务次数", "次", "1800"),
                 ps.TargetData("服务满意度", "%", "90")]))
    ps.submit_project(officer, project)
    ps.approve_project(users["finance"], project, [(ctx["appropriations"][(year, 0, "general")].id, "280000.00")],
                       note="预算审核通过")
    opening = utcnow().replace(microsecond=0) - timedelta(days=120)
    tender = contracts_demo._past_award(officer, project, users["tongxin"].organization_id, opening=opening)
    return _sign(ctx, officer, tender, cs.DraftData(
        period_start=today - timedelta(days=90), period_end=today + timedelta(days=270),
        service_content=contracts_demo.CONTENT,
        installments=[
            cs.InstallmentData("30", "milestone", "服务对象评估与助浴方案", today - timedelta(days=30),
                               "评估档案、助浴方案"),
            cs.InstallmentData("30", "milestone", "第一季度助浴服务", today - timedelta(days=5), "服务记录、签到表"),
            cs.InstallmentData("20", "milestone", "第二季度助浴服务", today + timedelta(days=12),
                               "服务记录、满意度回访"),
            cs.InstallmentData("20", "acceptance")]))


def _signing_contract(ctx, year: int) -> Contract | None:
    """This year's 社区社会工作服务站 project of ``officer2``'s department, awarded to 康乐
    three weeks ago: its contract drafted, rendered and signed by the organization,
    waiting for the department's signature (the project stays awarded)."""
    officer2 = ctx["users"]["officer2"]
    project = db.session.scalar(select(Project).where(
        Project.fiscal_year == year, Project.department_id == officer2.department_id,
        Project.state == ProjectState.APPROVED, Project.title.like("%社会工作服务站%")).order_by(Project.id))
    if project is None:
        return None
    opening = utcnow().replace(microsecond=0) - timedelta(days=24)
    tender = contracts_demo._past_award(officer2, project, ctx["users"]["kangle"].organization_id, opening=opening)
    start = local_today() + timedelta(days=5)
    contract = cs.draft_contract(officer2, tender, cs.DraftData(
        period_start=start, period_end=start + timedelta(days=364),
        service_content="依托社区社会工作服务站开展困难群众个案帮扶、小组活动和社区营造服务，建立服务台账，"
                        "每季度报送服务进度。\n乙方须配备持证社会工作者不少于4名，服务期内不得分包、转包。",
        installments=[
            cs.InstallmentData("30", "milestone", "服务站启动与需求调研", start + timedelta(days=60),
                               "需求调研报告、服务计划"),
            cs.InstallmentData("40", "milestone", "中期服务", start + timedelta(days=210), "中期进度报告、服务台账"),
            cs.InstallmentData("30", "acceptance")]))
    db.session.commit()
    run_job(contract.current_version.job_id, build_version_pdf)
    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    cs.sign_contract(contracts_demo._org_user(ctx, contract.organization_id), contract, DEMO_PASSWORD)
    db.session.flush()
    return contract


#: The earlier years' projects the demo has not contracted yet, by title: who delivered
#: them (a demo user name, or a registry organization's name with its contact person),
#: or why they were cancelled. A bureau's past year is done: every project went through
#: (contract, reports, acceptance, payments, closing) or was cancelled — none is left
#: "approved, waiting for a call" two years on.
PAST = {
    "重庆市社会组织孵化基地运营服务项目": ("重庆市启航联合会", ("qihang", "孙立新（启航联合会）")),
    "中央财政支持社会组织参与社会服务项目（残疾人康复）": ("kangle", None),
    "江北区社区社会工作服务站运营项目": ("yangguang", None),
    "江北区“三社联动”社区服务示范项目": ("yangguang", None),
}
#: Cancelled instead (by year and title): the call drew no qualified bid and the street
#: offices took the service over.
PAST_CANCELLED = {
    (-2, "江北区“三社联动”社区服务示范项目"): "未征集到符合资格的社会组织，服务并入街道社区工作站，项目撤销",
}


def _past_user(ctx, who: str, staff) -> User:
    """The winning organization's staff account: a demo user, or one made for a registry
    organization (its contact person, a real-looking name)."""
    users = ctx["users"]
    if who in users:
        return users[who]
    username, name = staff
    if username not in users:
        org = next(o for o in ctx["organizations"] if o.name == who)
        users[username] = accounts.create_user(ctx["admin"], accounts.UserData(
            username=username, email=demo_email(username), name=name, role=Role.ORG, locale="zh_CN",
            organization_id=org.id), DEMO_PASSWORD)
    return users[username]


def _past_years(ctx, years: list[int], vouchers: _Vouchers) -> list[Contract]:
    """Every earlier year's project still approved goes through to the end — awarded,
    signed, both milestone reports approved, accepted by a third party (良 or 优), paid
    in full — or is cancelled; returns the contracts whose projects are closed next."""
    users = ctx["users"]
    this_year = ctx["fiscal_years"][-1]
    done = []
    for project in db.session.scalars(select(Project).where(
            Project.fiscal_year.in_(years), Project.state == ProjectState.APPROVED).order_by(Project.id)).all():
        officer = next(u for u in (users["officer"], users["officer2"]) if u.department_id == project.department_id)
        title = project.title.removeprefix(f"{project.fiscal_year}年")
        reason = PAST_CANCELLED.get((project.fiscal_year - this_year, title))
        if reason is not None or title not in PAST:
            ps.cancel_project(officer, project, reason or "年度计划调整，项目撤销")
            continue
        who, staff = PAST[title]
        winner = _past_user(ctx, who, staff)
        tender = contracts_demo._past_award(officer, project, winner.organization_id)
        contract = _sign(ctx, officer, tender, cs.DraftData(
            period_start=project.period_start, period_end=project.period_end, service_content=contracts_demo.CONTENT,
            installments=contracts_demo._schedule(project.fiscal_year)))
        for pos, share in enumerate(("0.30", "0.40")):
            _report(contract, pos, _spending(contract.amount * Decimal(share)), officer=officer, decision="approve")
        _acceptance(contract, officer, share="0.92" if project.id % 2 else "0.86")
        for payment in _payments(contract):
            _pay(payment, users, vouchers, officer=officer)
        done.append(contract)
    db.session.flush()
    return done


def load(ctx) -> None:
    users = ctx["users"]
    officer = users["officer"]
    _ensure_finance2(ctx)
    years = ctx["fiscal_years"]
    active = list(db.session.scalars(select(Contract).where(Contract.state == ContractState.ACTIVE)
                                     .order_by(Contract.id)))
    by_year = {c.project.fiscal_year: c for c in active if c.project.department_id == officer.department_id}
    closed, raised, current = by_year.get(years[0]), by_year.get(years[1]), by_year.get(years[2])
    rehab = _rehab_contract(ctx, officer, years[1])
    bathing = _bathing_contract(ctx, officer, years[2])
    signing = _signing_contract(ctx, years[2])
    vouchers = _Vouchers()
    experts = list(db.session.scalars(select(User).where(User.username.in_(("expert", "expert2", "expert3")),
                                                         User.role == Role.EVALUATOR).order_by(User.id)))

    # Reports: approved (with spending) on the earlier years' contracts, the admin costs of
    # the rehabilitation contract above the cap; this year's waiting and under revision.
    for contract in (closed, raised):
        if contract is not None:
            for pos, share in enumerate(("0.30", "0.40")):
                _report(contract, pos, _spending(contract.amount * Decimal(share)), officer=officer,
                        decision="approve")
    if rehab is not None:
        for pos, share in enumerate(("0.30", "0.40")):
            _report(rehab, pos, _spending(rehab.amount * Decimal(share), "0.16"), officer=officer,
                    decision="approve")
    if current is not None:
        _report(current, 0, _spending(current.amount * Decimal("0.25")))  # waiting for review
    _report(bathing, 0, _spending(bathing.amount * Decimal("0.20")), officer=officer, decision="revise",
            comment="请补充助浴服务签到表原件扫描件，并说明管理费用的列支依据。")
    # The second milestone of the 助浴 contract stays without a report: overdue.

    # Acceptance: 良 by a committee, 良 by a third party, 差 (rectification).
    if raised is not None and len(experts) >= acs.min_evaluators():
        _acceptance(raised, officer, share="0.85", evaluators=experts[:max(3, acs.min_evaluators())])
    elif raised is not None:
        _acceptance(raised, officer, share="0.85")
    if closed is not None:
        _acceptance(closed, officer, share="0.84")
    if rehab is not None:
        _acceptance(rehab, officer, share="0.50")

    # Payments: everything raised so far, paid — but the final installment of last
    # year's 养老 (waiting for the officer) and the rehabilitation's second milestone
    # (waiting for the second finance approval).
    for contract in (closed, raised):
        if contract is None:
            continue
        for payment in _payments(contract):
            if payment.installment.milestone_id is None and contract is raised:
                continue
            _pay(payment, users, vouchers)
    if rehab is not None:
        first, second = _payments(rehab)
        _pay(first, users, vouchers)
        _pay(second, users, vouchers, upto="second")
    db.session.flush()
    # The earlier years' other projects: delivered and paid (closed below), or cancelled.
    past = _past_years(ctx, years[:-1], vouchers)

    # The money through the year: the ledger's dates in their places (demo_ledger.py),
    # before the closing freezes the closed projects' rows.
    closing = ([closed] if closed is not None else []) + past
    demo_ledger.load(ctx, closing=closing)
    # Closing: the 2-years-ago project and the earlier years' others, all paid, acceptance passed.
    for contract in closing:
        archive.close_project(users["officer"] if contract.department_id == officer.department_id
                              else users["officer2"], contract.project, "项目验收合格，款项已全部支付，归档。")
    db.session.flush()
    ctx["delivery"] = {"closed": closed, "raised": raised, "rehab": rehab, "current": current,
                       "bathing": bathing, "signing": signing, "past": past}
