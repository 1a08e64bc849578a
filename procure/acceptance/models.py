"""Acceptance of a contract, its evaluators and their scores. DOMAIN.md §3 (Acceptance),
§4 (Acceptance), §5 (acceptance, performance). Times UTC; scores ``Numeric(5, 2)``.

One acceptance per contract (``contract_id`` unique). ``round`` is 1, or 2 after a
failure and the rectification period (one re-evaluation only)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
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


class AcceptanceState(enum.StrEnum):
    DRAFT = "draft"  # the organization prepares its final report
    SUBMITTED = "submitted"  # final report and beneficiaries' opinion in; evaluators to assign
    EVALUATING = "evaluating"  # evaluators declare and score
    PASSED = "passed"  # grade 优/良/中
    FAILED = "failed"  # grade 差: rectification period running (round 1)
    TERMINATED = "terminated"  # failed again, or rectification not done: the contract ends

    @property
    def label(self):
        return ACCEPTANCE_LABELS[self]


ACCEPTANCE_LABELS = {
    AcceptanceState.DRAFT: _l("Final report in preparation"),
    AcceptanceState.SUBMITTED: _l("Final report submitted"),
    AcceptanceState.EVALUATING: _l("Being evaluated"),
    AcceptanceState.PASSED: _l("Passed"),
    AcceptanceState.FAILED: _l("Failed, rectification"),
    AcceptanceState.TERMINATED: _l("Failed, contract ended"),
}
A = AcceptanceState
#: DOMAIN.md §4: submitted → evaluating → passed | failed (rectification, one
#: re-evaluation: failed → submitted with round 2), then terminated.
ACCEPTANCE_MACHINE = workflow.Machine("acceptance", AcceptanceState, {
    A.DRAFT: frozenset({A.SUBMITTED}),
    A.SUBMITTED: frozenset({A.EVALUATING}),
    A.EVALUATING: frozenset({A.PASSED, A.FAILED, A.TERMINATED}),
    A.FAILED: frozenset({A.SUBMITTED, A.TERMINATED}),
    A.PASSED: frozenset(),
    A.TERMINATED: frozenset(),
}, actions={A.SUBMITTED: "submit", A.EVALUATING: "start_evaluation", A.PASSED: "pass",
            A.FAILED: "fail", A.TERMINATED: "terminate"},
    labels={"submit": _l("Final report submitted for acceptance"),
            "start_evaluation": _l("Acceptance evaluation started"),
            "pass": _l("Acceptance passed"), "fail": _l("Acceptance failed, rectification ordered"),
            "terminate": _l("Acceptance failed for good")})


class Grade(enum.StrEnum):
    EXCELLENT = "excellent"  # 优 ≥ 90
    GOOD = "good"  # 良 80–89.99
    FAIR = "fair"  # 中 60–79.99
    POOR = "poor"  # 差 < 60: fail

    @property
    def label(self):
        return {Grade.EXCELLENT: _l("Excellent"), Grade.GOOD: _l("Good"), Grade.FAIR: _l("Fair"),
                Grade.POOR: _l("Poor")}[self]

    @property
    def passed(self) -> bool:
        return self is not Grade.POOR


class Acceptance(db.Model):
    __tablename__ = "acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    state: Mapped[AcceptanceState] = mapped_column(str_enum(AcceptanceState), nullable=False, default=A.DRAFT,
                                                   index=True)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    #: The organization's final report: narrative and indicator actuals (as in milestone reports).
    final_report: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actuals: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: The beneficiaries' written opinion (服务对象意见): a scan in the document store,
    #: or the opinion typed from the form, or both.
    opinion_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    opinion_text: Mapped[str | None] = mapped_column(Text)
    #: Who evaluates: "committee" (assigned evaluators) or "third_party" (a named firm,
    #: whose scores an officer enters).
    evaluated_by: Mapped[str] = mapped_column(String(20), nullable=False, default="committee")
    third_party_name: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    grade: Mapped[Grade | None] = mapped_column(str_enum(Grade))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: After a failure: the last day of the rectification period.
    rectify_by: Mapped[date | None] = mapped_column(Date, index=True)
    decision_note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    certificate_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    contract = relationship("Contract")
    organization = relationship("Organization")
    opinion_document = relationship("Document", foreign_keys=[opinion_document_id])
    certificate_document = relationship("Document", foreign_keys=[certificate_document_id])
    evaluators = relationship("AcceptanceEvaluator", back_populates="acceptance", order_by="AcceptanceEvaluator.id")

    __table_args__ = (
        CheckConstraint("round IN (1, 2)", name="acceptance_round"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="acceptance_score_range"),
        CheckConstraint("evaluated_by IN ('committee', 'third_party')", name="acceptance_evaluated_by"),
    )

    def snapshot(self) -> dict:
        return {"contract_id": self.contract_id, "round": self.round, "score": self.score,
                "grade": self.grade.value if self.grade else None}


class EvaluatorState(enum.StrEnum):
    ASSIGNED = "assigned"
    DECLARED = "declared"  # no conflict: may score
    CONFLICTED = "conflicted"  # declared a conflict: may not score
    SCORED = "scored"

    @property
    def label(self):
        return {EvaluatorState.ASSIGNED: _l("Assigned"), EvaluatorState.DECLARED: _l("No conflict declared"),
                EvaluatorState.CONFLICTED: _l("Conflict declared"), EvaluatorState.SCORED: _l("Scored")}[self]


E = EvaluatorState
EVALUATOR_MACHINE = workflow.Machine("acceptance_evaluator", EvaluatorState, {
    E.ASSIGNED: frozenset({E.DECLARED, E.CONFLICTED}),
    E.DECLARED: frozenset({E.SCORED}),
    E.CONFLICTED: frozenset(),
    E.SCORED: frozenset(),
}, actions={E.DECLARED: "declare", E.CONFLICTED: "declare_conflict", E.SCORED: "score"},
    labels={"declare": _l("Declared no conflict of interest"),
            "declare_conflict": _l("Declared a conflict of interest"),
            "score": _l("Acceptance scores submitted")})


class AcceptanceEvaluator(db.Model):
    """An evaluator assigned to an acceptance round, with the conflict declaration."""

    __tablename__ = "acceptance_evaluators"

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(ForeignKey("acceptances.id"), nullable=False, index=True)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    state: Mapped[EvaluatorState] = mapped_column(str_enum(EvaluatorState), nullable=False, default=E.ASSIGNED)
    declared_at: Mapped[datetime | None] = mapped_column(DateTime)
    conflict_note: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    assigned_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    acceptance = relationship("Acceptance", back_populates="evaluators")
    user = relationship("User", foreign_keys=[user_id])

    __table_args__ = (UniqueConstraint("acceptance_id", "round", "user_id", name="uq_acceptance_evaluator"),)


class AcceptanceScore(db.Model):
    """One evaluator's (or the third party's) score of one indicator group in one round.
    Groups and weights: policy (default budget execution 10, outputs 50, outcomes 30,
    satisfaction 10); ``score`` is out of the group's weight."""

    __tablename__ = "acceptance_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(ForeignKey("acceptances.id"), nullable=False, index=True)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The evaluator; NULL for a third party's scores entered by an officer.
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("acceptance_evaluators.id"))
    group: Mapped[str] = mapped_column(String(30), nullable=False)
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    entered_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("acceptance_id", "round", "evaluator_id", "group", name="uq_acceptance_score"),
        CheckConstraint("score >= 0 AND score <= weight", name="acceptance_score_within_weight"),
    )
