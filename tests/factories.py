"""Test data factories: they go through the services where the services exist."""

from __future__ import annotations

import itertools

from procure import audit
from procure.auth import services as accounts
from procure.auth.models import Department, User
from procure.organizations.models import Organization, OrgKind
from procure.roles import Role

_seq = itertools.count(1)


def credit_code(kind: OrgKind, n: int, division: str = "500103") -> str:
    """A valid credit code of ``kind`` with serial ``n``."""
    from procure.organizations.creditcode import ALPHABET, TYPE_DIGIT, check_character

    serial = ""
    x = n
    for _ in range(9):
        serial = ALPHABET[x % 31] + serial
        x //= 31
    first = "5" + TYPE_DIGIT[kind] + division + "MJ" + serial[2:]
    return first + check_character(first)


class Factory:
    PASSWORD = "correct4horse"

    def __init__(self, db):
        self.db = db
        self._admin = None

    def admin(self) -> User:
        if self._admin is None:
            n = next(_seq)
            user = User(username=f"root{n}", email=f"root{n}@example.org", name=f"管理员{n}", role=Role.ADMIN)
            user.set_password(self.PASSWORD)
            self.db.session.add(user)
            self.db.session.flush()
            audit.record(None, "user.create", user, after=user.snapshot())
            self._admin = user
        return self._admin

    def department(self, name: str | None = None) -> Department:
        n = next(_seq)
        return accounts.create_department(self.admin(), name or f"测试部门{n}", f"D{n}")

    def organization(self, name: str | None = None, kind: OrgKind = OrgKind.SERVICE_ORG, *,
                     with_code: bool = False, **fields) -> Organization:
        n = next(_seq)
        if with_code and kind != OrgKind.FILED:
            fields.setdefault("credit_code", credit_code(kind, n))
        org = Organization(name=name or f"测试社会组织{n}", kind=kind, **fields)
        self.db.session.add(org)
        self.db.session.flush()
        return org

    def user(self, role: Role = Role.OFFICER, *, username: str | None = None, locale: str = "zh_CN",
             department=None, organization=None, email: str | None = None) -> User:
        if role == Role.ADMIN and username is None:
            return self.admin()
        n = next(_seq)
        if role in (Role.OFFICER, Role.FINANCE) and department is None:
            department = self.department()
        if role == Role.ORG and organization is None:
            organization = self.organization()
        data = accounts.UserData(
            username=username or f"{role.value}{n}", email=email or f"{role.value}{n}@example.org",
            name=f"{role.value} 用户{n}", role=role, locale=locale,
            department_id=department.id if department else None,
            organization_id=organization.id if organization else None)
        return accounts.create_user(self.admin(), data, self.PASSWORD, welcome=False)

    def users_bulk(self, n: int, role: Role = Role.FINANCE, *, prefix: str = "bulk") -> list[User]:
        """``n`` users at once (one password hash shared, bulk INSERT), for tests that need
        many recipients."""
        import secrets

        from sqlalchemy import insert, select

        template = self.user(role)
        rows = [{"username": f"{prefix}{i}", "email": f"{prefix}{i}@example.org", "name": f"{prefix} 用户{i}",
                 "password_hash": template.password_hash, "role": role, "status": template.status,
                 "department_id": template.department_id, "organization_id": template.organization_id,
                 "locale": "zh_CN", "session_token": secrets.token_hex(16)} for i in range(n)]
        self.db.session.execute(insert(User), rows)
        return list(self.db.session.scalars(select(User).where(User.username.like(f"{prefix}%"))
                                            .order_by(User.id)))

    def commit(self):
        self.db.session.commit()

    # --- budgets and projects -----------------------------------------------------

    def finance(self) -> User:
        if getattr(self, "_finance", None) is None:
            self._finance = self.user(Role.FINANCE)
        return self._finance

    def sources(self) -> dict:
        from procure.budgets.services import ensure_funding_sources

        return {s.code: s for s in ensure_funding_sources()}

    def category(self, name: str | None = None):
        from procure.projects.services import save_category

        n = next(_seq)
        return save_category(self.admin(), None, f"C{n}", name or f"服务类别{n}")

    def appropriation(self, department, amount="1000000.00", *, year: int = 2026, source: str = "general"):
        from procure.budgets.services import create_appropriation

        return create_appropriation(self.finance(), source_id=self.sources()[source].id, fiscal_year=year,
                                    department_id=department.id, amount=amount)

    def project(self, officer, *, ceiling="100000.00", year: int = 2026, category=None, title=None,
                targets=None, served=None):
        from datetime import date

        from procure.projects.models import ProcurementMethod
        from procure.projects.services import ProjectData, TargetData, create_project

        n = next(_seq)
        data = ProjectData(
            title=title or f"测试项目{n}", category_id=(category or self.category()).id, fiscal_year=year,
            service_area="渝中区", target_group="高龄独居老人", budget_ceiling=ceiling,
            method=ProcurementMethod.PUBLIC_TENDER.value, period_start=date(year, 3, 1),
            period_end=date(year, 12, 31), beneficiaries_served=served,
            targets=targets if targets is not None else [
                TargetData("服务对象人数", "人", "300", True), TargetData("服务时长", "小时", "1200.5")])
        return create_project(officer, data)

    def approved_project(self, officer, appropriation, amount="80000.00", **kw):
        from procure.projects.services import approve_project, submit_project

        project = self.project(officer, **kw)
        submit_project(officer, project)
        return approve_project(self.finance(), project, [(appropriation.id, amount)])

    # --- tenders (rows directly: the tender services come with issue 9's next steps) ----

    def tender(self, officer, project=None, *, state=None, opening_at=None, method=None, **fields):
        """A tender of ``project`` (a new project of ``officer`` by default). Any state but
        draft gets publication times (opening at ``opening_at``, default in 20 days) and a
        wrapped data key (needs the app's MASTER_KEY)."""
        from datetime import timedelta
        from decimal import Decimal

        from procure.projects.models import ProcurementMethod
        from procure.tenders.content import ensure_data_key
        from procure.tenders.models import Tender, TenderCriterion, TenderState
        from procure.timeutil import utcnow

        project = project or self.project(officer)
        state = state or TenderState.DRAFT
        tender = Tender(project_id=project.id, department_id=project.department_id,
                        method=method or ProcurementMethod.PUBLIC_TENDER, state=state,
                        title=fields.pop("title", f"{project.title} 采购公告"), created_by_id=officer.id,
                        price_weight=Decimal("30.00"), **fields)
        tender.criteria = [
            TenderCriterion(position=0, name="服务方案", weight=Decimal("70.00"), max_score=Decimal("70")),
            TenderCriterion(position=1, name="价格", weight=Decimal("30.00"), max_score=Decimal("30"), is_price=True)]
        if state not in (TenderState.DRAFT, TenderState.CANCELLED):
            opening_at = opening_at or utcnow() + timedelta(days=20)
            tender.published_at = fields.get("published_at") or opening_at - timedelta(days=21)
            tender.deadline_at = opening_at
            tender.opening_at = opening_at
            ensure_data_key(tender)
        if state in (TenderState.FAILED, TenderState.CANCELLED):
            tender.reason = "测试"
        self.db.session.add(tender)
        self.db.session.flush()
        return tender

    def bid(self, tender, organization, user=None, *, state=None, content=None):
        """A bid of ``organization`` on ``tender``, its content sealed; submitted (or
        later) bids get a receipt; opened (or later) ones their price."""
        from decimal import Decimal

        from procure.tenders.content import seal_bundle
        from procure.tenders.models import Bid, BidState
        from procure.timeutil import utcnow

        state = state or BidState.DRAFT
        user = user or self.admin()
        content = content or {"price": "80000.00", "proposal": "服务方案", "breakdown": [], "attachments": []}
        sealed, digest = seal_bundle(tender, organization.id, content)
        bid = Bid(tender_id=tender.id, organization_id=organization.id, state=state, sealed_content=sealed,
                  created_by_id=user.id)
        if state not in (BidState.DRAFT,):
            n = next(_seq)
            bid.sealed_sha256, bid.submitted_at, bid.receipt_no = digest, utcnow(), f"R-{tender.id}-{n}"
        if state not in (BidState.DRAFT, BidState.SUBMITTED, BidState.WITHDRAWN):
            bid.opened_at, bid.price = utcnow(), Decimal(content["price"])
        if state == BidState.DISQUALIFIED:
            bid.disqualification_reason = "测试"
        self.db.session.add(bid)
        self.db.session.flush()
        return bid

    # --- delivery (issue 11): an awarded tender and a contract in force ------------------

    #: The awarded bid's budget breakdown by default (sums to the default price 60,000).
    BREAKDOWN = (("personnel", "36000.00"), ("activities", "15000.00"), ("materials", "6000.00"),
                 ("admin", "3000.00"))

    def awarded(self, officer=None, *, price="60000.00", allocated="80000.00", org=None, breakdown=None):
        """A project with funds whose tender is final and awarded to ``org`` (a new
        registered organization with a staff user by default) at ``price``. Returns a
        namespace: officer, org_user, org, project, tender, bid, appropriation."""
        from datetime import timedelta
        from types import SimpleNamespace

        from sqlalchemy import select, update

        from procure.budgets.models import Appropriation
        from procure.projects.models import Project, ProjectState
        from procure.tenders.models import BidState, TenderState
        from procure.timeutil import utcnow

        officer = officer or self.user(Role.OFFICER)
        appropriation = self.db.session.scalar(select(Appropriation).where(
            Appropriation.department_id == officer.department_id)) or self.appropriation(officer.department)
        project = self.approved_project(officer, appropriation, allocated)
        if org is None:
            n = next(_seq)
            org = self.organization(f"重庆市渝中区同心养老服务中心{n}", with_code=True, legal_representative="张三",
                                    address="重庆市渝中区解放碑1号")
        org_user = self.user(Role.ORG, organization=org)
        lines = [{"category": c, "amount": a, "note": ""} for c, a in (breakdown or self.BREAKDOWN)]
        tender = self.tender(officer, project, state=TenderState.EVALUATING)
        bid = self.bid(tender, org, org_user, state=BidState.AWARDED,
                       content={"price": price, "proposal": "方案", "breakdown": lines, "attachments": []})
        tender.awarded_bid_id = bid.id
        tender.award_notice_at = utcnow() - timedelta(days=2)
        tender.state = TenderState.FINAL
        self.db.session.flush()
        self.db.session.execute(update(Project).where(Project.id == project.id).values(state=ProjectState.AWARDED))
        self.db.session.refresh(project)
        return SimpleNamespace(officer=officer, org_user=org_user, org=org, project=project, tender=tender,
                               bid=bid, appropriation=appropriation)

    def active_contract(self, officer=None, *, price="60000.00", shares=("30", "40", "30"), start=None, end=None,
                        due_dates=None, org=None, breakdown=None, allocated="80000.00"):
        """A contract in force, drafted through the contract service from a final award:
        milestones (one per share but the last, due ``due_dates`` or every 60 days from
        ``start``), the last installment released by acceptance, the money committed in
        the ledger and ``signals.contract_activated`` sent — without rendering or signing
        its PDF (the contracts tests cover those). Returns the ``awarded`` namespace plus
        ``contract``; the caller commits."""
        from datetime import date, timedelta

        from procure import signals
        from procure.contracts import services as cs
        from procure.contracts.models import ContractState
        from procure.timeutil import utcnow

        aw = self.awarded(officer, price=price, allocated=allocated, org=org, breakdown=breakdown)
        start = start or date(2026, 3, 1)
        end = end or date(2026, 12, 31)
        rows = []
        for i, share in enumerate(shares):
            final = i == len(shares) - 1
            due = None if final else (due_dates[i] if due_dates else start + timedelta(days=60 * (i + 1)))
            rows.append(cs.InstallmentData(share=share, releases_on="acceptance" if final else "milestone",
                                           title="" if final else f"第{i + 1}阶段服务", due_on=due,
                                           deliverables="" if final else "服务记录、进度报告"))
        contract = cs.draft_contract(aw.officer, aw.tender, cs.DraftData(
            period_start=start, period_end=end, installments=rows,
            service_content="为辖区高龄独居老人提供助餐、探访服务。"))
        contract.state, contract.activated_at = ContractState.ACTIVE, utcnow()
        cs.commit_money(aw.officer, contract)
        signals.contract_activated.send(contract, actor=aw.officer)
        self.db.session.flush()
        aw.contract = contract
        return aw

    # --- contracts ------------------------------------------------------------------

    def contract(self, project=None, *, officer=None, amount="80000.00", state=None):
        """A contract row of ``project`` (a new one by default) with the chain it comes
        from: a final tender and its awarded bid. Rows directly, no PDF and no money:
        for tests that need a real contract id (the ledger's foreign key); tests of the
        contracts themselves draft them through the services."""
        from datetime import date, timedelta
        from decimal import Decimal

        from procure.contracts.models import Contract, ContractState
        from procure.tenders.models import BidState, TenderState
        from procure.timeutil import utcnow

        if project is None:
            officer = officer or self.user(Role.OFFICER)
            project = self.project(officer)
        officer = officer or self.db.session.get(User, project.created_by_id)
        tender = self.tender(officer, project, state=TenderState.EVALUATING)
        org = self.organization()
        bid = self.bid(tender, org, state=BidState.AWARDED,
                       content={"price": amount, "proposal": "方案", "breakdown": [], "attachments": []})
        tender.awarded_bid_id = bid.id
        tender.award_notice_at = utcnow() - timedelta(days=3)
        tender.state = TenderState.FINAL
        self.db.session.flush()
        n = next(_seq)
        c = Contract(number=f"HT-T-{n:06d}", project_id=project.id, tender_id=tender.id, bid_id=bid.id,
                     department_id=project.department_id, organization_id=org.id,
                     state=state or ContractState.ACTIVE, title=project.title[:200], service_content="服务内容",
                     amount=Decimal(amount), period_start=date(2026, 3, 1), period_end=date(2026, 12, 31),
                     awarded_at=tender.award_notice_at, sign_due_on=date(2026, 12, 31), created_by_id=officer.id)
        self.db.session.add(c)
        self.db.session.flush()
        return c

    # --- payments -------------------------------------------------------------------

    def payment(self, contract, amount="100.00", *, state=None):
        """A payment row of ``contract`` (a Contract or its id) for ``amount``, on an
        installment of its own (released by acceptance, so no milestone is needed):
        approved and waiting to be recorded paid by default. Rows directly, no ledger: for
        tests that record it in the ledger themselves (``payment_id`` is a foreign key and
        must name a payment of the entry's contract); tests of payments raise them through
        the services."""
        from datetime import date
        from decimal import Decimal

        from sqlalchemy import func, select

        from procure.contracts.models import Contract, Installment, Release
        from procure.payments.models import Payment, PaymentState, Step, Waiting

        if not isinstance(contract, Contract):
            contract = self.db.session.get(Contract, contract)
        state = state or PaymentState.APPROVED
        amount = Decimal(amount)
        position = self.db.session.scalar(select(func.coalesce(func.max(Installment.position) + 1, 0))
                                          .where(Installment.contract_id == contract.id))
        share = min(Decimal(100), max(Decimal("0.01"), (amount * 100 / contract.amount).quantize(Decimal("0.01"))))
        inst = Installment(contract_id=contract.id, position=position, share=share, amount=amount,
                           releases_on=Release.ACCEPTANCE)
        self.db.session.add(inst)
        self.db.session.flush()
        payment = Payment(contract_id=contract.id, installment_id=inst.id, organization_id=contract.organization_id,
                          department_id=contract.department_id, amount=amount, state=state,
                          steps=[Step.FINANCE.value], steps_done=0 if state == PaymentState.REQUESTED else 1,
                          waiting_for={PaymentState.REQUESTED: Waiting.FINANCE,
                                       PaymentState.APPROVED: Waiting.RECORD}.get(state),
                          requested_by_id=contract.created_by_id)
        if state == PaymentState.PAID:
            payment.voucher_number = f"V-T-{next(_seq):06d}"
            payment.paid_on, payment.paid_by_id = date(2026, 6, 1), contract.created_by_id
        if state == PaymentState.REJECTED:
            payment.reject_reason = "测试"
        self.db.session.add(payment)
        self.db.session.flush()
        return payment
