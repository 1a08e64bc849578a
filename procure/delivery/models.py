"""Milestone reports, their submitted versions, spending lines and evidence; the approved
budget breakdown of a contract. DOMAIN.md §3 (Milestone, Expenditure), §4 (Milestone
report). Times UTC; money ``Numeric(14, 2)``.

One report per milestone (``milestone_id`` unique): the organization edits it while it
is a draft or after a revision request; each submission freezes a copy of what was
submitted (``ReportSubmission``, numbered 1, 2, …) with the officer's decision on it.
A milestone is overdue when its due date has passed and its report is neither submitted
nor approved: derived, never stored."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import workflow
from ..extensions import db, str_enum
from ..timeutil import utcnow


class ReportState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    REVISION_REQUESTED = "revision_requested"
    APPROVED = "approved"

    @property
    def label(self):
        return REPORT_LABELS[self]


REPORT_LABELS = {
    ReportState.DRAFT: _l("Draft"),
    ReportState.SUBMITTED: _l("Waiting for review"),
    ReportState.REVISION_REQUESTED: _l("Revision requested"),
    ReportState.APPROVED: _l("Approved"),
}
R = ReportState
#: DOMAIN.md §4: draft → submitted → approved | revision_requested → submitted …
REPORT_MACHINE = workflow.Machine("milestone_report", ReportState, {
    R.DRAFT: frozenset({R.SUBMITTED}),
    R.SUBMITTED: frozenset({R.APPROVED, R.REVISION_REQUESTED}),
    R.REVISION_REQUESTED: frozenset({R.SUBMITTED}),
    R.APPROVED: frozenset(),
}, actions={R.SUBMITTED: "submit", R.APPROVED: "approve", R.REVISION_REQUESTED: "request_revision"},
    labels={"submit": _l("Milestone report submitted"), "approve": _l("Milestone report approved"),
            "request_revision": _l("Revision of the milestone report requested")})


class MilestoneReport(db.Model):
    """The organization's report on one milestone of its contract."""

    __tablename__ = "milestone_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("contract_milestones.id"), nullable=False, unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    #: The reporting organization (the contract's party B), for access filters.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    state: Mapped[ReportState] = mapped_column(str_enum(ReportState), nullable=False, default=R.DRAFT, index=True)
    narrative: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Indicator actuals against the contract's targets:
    #: [{"indicator", "unit", "target_value", "actual", "note"}] (values as strings).
    actuals: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: The number of submissions so far (the latest ``ReportSubmission.number``).
    submissions_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The officer's latest comment (revision request or approval note).
    review_comment: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    milestone = relationship("Milestone")
    contract = relationship("Contract")
    organization = relationship("Organization")
    spending = relationship("SpendingLine", back_populates="report", order_by="SpendingLine.position",
                            cascade="all, delete-orphan")
    evidence = relationship("ReportEvidence", back_populates="report", order_by="ReportEvidence.id",
                            cascade="all, delete-orphan")
    submissions = relationship("ReportSubmission", back_populates="report", order_by="ReportSubmission.number")

    def snapshot(self) -> dict:
        return {"milestone_id": self.milestone_id, "contract_id": self.contract_id,
                "submissions": self.submissions_count}


class ReportSubmission(db.Model):
    """One submission of a report, frozen (narrative, actuals, spending, evidence), and
    the officer's decision on it."""

    __tablename__ = "milestone_report_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("milestone_reports.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    #: {"narrative", "actuals": [...], "spending": [{"category", "amount", "description"}],
    #:  "evidence": [{"document_id", "filename", "sha256", "caption"}]} (money as strings).
    content: Mapped[dict] = mapped_column(JSON, nullable=False)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)
    #: None while waiting; then "approved" or "revision_requested".
    decision: Mapped[ReportState | None] = mapped_column(str_enum(ReportState))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    report = relationship("MilestoneReport", back_populates="submissions")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __table_args__ = (UniqueConstraint("report_id", "number", name="uq_report_submission_number"),)


class SpendingLine(db.Model):
    """Spending reported in a milestone report (支出明细), in one budget category of the
    organization's bid (``tenders.bidding.BREAKDOWN_CATEGORIES``)."""

    __tablename__ = "spending_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("milestone_reports.id"), nullable=False, index=True)
    #: Denormalized for the project spending report (sums per contract and category).
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    report = relationship("MilestoneReport", back_populates="spending")

    __table_args__ = (
        UniqueConstraint("report_id", "position", name="uq_spending_line_position"),
        CheckConstraint("amount >= 0", name="spending_amount_not_negative"),
    )


class ReportEvidence(db.Model):
    """An evidence file attached to a report (photo, sign-in sheet, receipt), from the
    document store."""

    __tablename__ = "milestone_report_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("milestone_reports.id"), nullable=False, index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    caption: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    added_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    report = relationship("MilestoneReport", back_populates="evidence")
    document = relationship("Document")


class BudgetLine(db.Model):
    """The approved budget breakdown of a contract (the awarded bid's breakdown, by
    category), copied when the contract enters force: what spending is compared with."""

    __tablename__ = "contract_budget_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)

    __table_args__ = (
        UniqueConstraint("contract_id", "category", name="uq_contract_budget_line_category"),
        CheckConstraint("amount >= 0", name="budget_line_amount_not_negative"),
    )
