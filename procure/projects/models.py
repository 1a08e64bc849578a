"""The guiding service catalogue (指导性目录) and projects (购买服务项目) with their
performance targets (绩效目标)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import workflow
from ..extensions import db, str_enum
from ..timeutil import utcnow


class ProjectState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    TENDERING = "tendering"
    AWARDED = "awarded"
    CONTRACTED = "contracted"
    IN_PROGRESS = "in_progress"
    ACCEPTANCE = "acceptance"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self):
        return STATE_LABELS[self]


STATE_LABELS = {
    ProjectState.DRAFT: _l("Draft"),
    ProjectState.SUBMITTED: _l("Waiting for budget check"),
    ProjectState.APPROVED: _l("Funds approved"),
    ProjectState.TENDERING: _l("Tendering"),
    ProjectState.AWARDED: _l("Awarded"),
    ProjectState.CONTRACTED: _l("Contracted"),
    ProjectState.IN_PROGRESS: _l("In progress"),
    ProjectState.ACCEPTANCE: _l("Under acceptance"),
    ProjectState.CLOSED: _l("Closed"),
    ProjectState.CANCELLED: _l("Cancelled"),
}


S = ProjectState

#: DOMAIN.md §4. This issue drives draft → submitted → approved, submitted → draft
#: (returned by finance) and → cancelled; the later states are for the tendering and
#: delivery issues.
ALLOWED = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.DRAFT, S.CANCELLED}),
    S.APPROVED: frozenset({S.TENDERING, S.CANCELLED}),
    S.TENDERING: frozenset({S.AWARDED, S.APPROVED, S.CANCELLED}),
    S.AWARDED: frozenset({S.CONTRACTED, S.CANCELLED}),
    # → closed from contracted or in_progress: only when the contract was terminated and
    # settled (procure.archive.services.close_project checks it); a completed contract
    # closes from acceptance.
    S.CONTRACTED: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.ACCEPTANCE, S.CLOSED}),
    S.ACCEPTANCE: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
PROJECT_MACHINE = workflow.Machine("project", ProjectState, ALLOWED, actions={
    S.SUBMITTED: "submit", (S.SUBMITTED, S.DRAFT): "return", S.APPROVED: "approve", S.CANCELLED: "cancel",
    S.TENDERING: "start_tender", (S.TENDERING, S.APPROVED): "tender_failed", S.AWARDED: "award",
    S.CONTRACTED: "contract", S.IN_PROGRESS: "start_delivery", S.ACCEPTANCE: "start_acceptance",
    S.CLOSED: "close"},
    labels={"submit": _l("Submitted for the budget check"), "return": _l("Returned by finance"),
            "approve": _l("Funds approved"), "cancel": _l("Project cancelled"),
            "start_tender": _l("Tendering started"), "tender_failed": _l("Tender failed, back to approved"),
            "award": _l("Awarded"), "contract": _l("Contract signed"), "start_delivery": _l("Delivery started"),
            "start_acceptance": _l("Acceptance started"), "close": _l("Project closed")})


class ProcurementMethod(enum.StrEnum):
    """The seven methods of DOMAIN.md §5."""

    PUBLIC_TENDER = "public_tender"  # 公开招标
    INVITED_TENDER = "invited_tender"  # 邀请招标
    CONSULTATION = "consultation"  # 竞争性磋商
    NEGOTIATION = "negotiation"  # 竞争性谈判
    INQUIRY = "inquiry"  # 询价
    SINGLE_SOURCE = "single_source"  # 单一来源
    APPLICATION = "application"  # 项目申报

    @property
    def label(self):
        return METHOD_LABELS[self]


METHOD_LABELS = {
    ProcurementMethod.PUBLIC_TENDER: _l("Public tender"),
    ProcurementMethod.INVITED_TENDER: _l("Invited tender"),
    ProcurementMethod.CONSULTATION: _l("Competitive consultation"),
    ProcurementMethod.NEGOTIATION: _l("Competitive negotiation"),
    ProcurementMethod.INQUIRY: _l("Inquiry"),
    ProcurementMethod.SINGLE_SOURCE: _l("Single source"),
    ProcurementMethod.APPLICATION: _l("Call for project applications"),
}


class ServiceCategory(db.Model):
    """An entry of the guiding catalogue (指导性目录) kept by the admin."""

    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    #: Retired entries stay for old projects but cannot be chosen for new ones.
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    def snapshot(self) -> dict:
        return {"code": self.code, "name": self.name, "is_active": self.is_active}


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False, index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"), nullable=False, index=True)
    #: The fiscal year whose appropriations fund the project.
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    service_area: Mapped[str] = mapped_column(String(200), nullable=False)
    target_group: Mapped[str] = mapped_column(String(200), nullable=False)
    #: 最高限价: allocations never exceed it.
    budget_ceiling: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    method: Mapped[ProcurementMethod] = mapped_column(str_enum(ProcurementMethod), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    state: Mapped[ProjectState] = mapped_column(str_enum(ProjectState), nullable=False,
                                                default=ProjectState.DRAFT, index=True)
    #: Beneficiaries actually served, entered by the officer (until milestone reports
    #: from the delivery issue record actuals).
    beneficiaries_served: Mapped[int | None] = mapped_column(Integer)
    #: Why finance returned the project, or why it was cancelled (last reason).
    state_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Counts saved versions: an edit or a move made on an older one is refused
    #: (``workflow.claim_revision``), never written over the newer one.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    department = relationship("Department", lazy="joined")
    category = relationship("ServiceCategory", lazy="joined")
    targets = relationship("PerformanceTarget", back_populates="project", order_by="PerformanceTarget.position",
                           cascade="all, delete-orphan")
    allocations = relationship("Allocation", back_populates="project", order_by="Allocation.id")

    __table_args__ = (
        CheckConstraint("budget_ceiling > 0", name="project_ceiling_positive"),
        CheckConstraint("period_end >= period_start", name="project_period_ordered"),
        CheckConstraint("beneficiaries_served IS NULL OR beneficiaries_served >= 0",
                        name="project_served_not_negative"),
    )

    def snapshot(self) -> dict:
        return {
            "title": self.title, "department_id": self.department_id, "category_id": self.category_id,
            "fiscal_year": self.fiscal_year, "service_area": self.service_area,
            "target_group": self.target_group, "budget_ceiling": self.budget_ceiling,
            "method": self.method.value if self.method else None,
            "period_start": self.period_start, "period_end": self.period_end,
            "beneficiaries_served": self.beneficiaries_served,
            "targets": [t.snapshot() for t in self.targets],
        }


class PerformanceTarget(db.Model):
    """One row of a project's performance targets: indicator, unit, target value."""

    __tablename__ = "performance_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    indicator: Mapped[str] = mapped_column(String(200), nullable=False)
    unit: Mapped[str] = mapped_column(String(40), nullable=False)
    target_value: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    #: This target counts beneficiaries (服务对象人数): the program summary adds them up.
    is_beneficiaries: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    project = relationship("Project", back_populates="targets")

    def snapshot(self) -> dict:
        return {"indicator": self.indicator, "unit": self.unit, "target_value": self.target_value,
                "is_beneficiaries": self.is_beneficiaries}
