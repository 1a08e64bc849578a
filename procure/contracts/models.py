"""Contracts (合同), their versions, payment schedule (installments and milestones) and
signatures. DOMAIN.md §3 (Contract, Milestone), §4 (Contract), §5 (contracts and payments).

A contract holds the current terms (amount, period, schedule); each version is a frozen
copy of the terms as rendered (``content``), its PDF, the PDF's hashes, and the signed
PDF once both parties signed. Times UTC; money ``Numeric(14, 2)``."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
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


class ContractState(enum.StrEnum):
    DRAFT = "draft"
    PENDING_SIGNATURE = "pending_signature"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"

    @property
    def label(self):
        return STATE_LABELS[self]


STATE_LABELS = {
    ContractState.DRAFT: _l("Draft"),
    ContractState.PENDING_SIGNATURE: _l("Waiting for signatures"),
    ContractState.ACTIVE: _l("In force"),
    ContractState.COMPLETED: _l("Completed"),
    ContractState.TERMINATED: _l("Terminated"),
}

C = ContractState
#: DOMAIN.md §4: draft → pending_signature (PDF generated) → active (both signed) →
#: completed (acceptance passed, final payment) | terminated (reason, settlement).
CONTRACT_ALLOWED = {
    C.DRAFT: frozenset({C.PENDING_SIGNATURE}),
    C.PENDING_SIGNATURE: frozenset({C.ACTIVE}),
    C.ACTIVE: frozenset({C.COMPLETED, C.TERMINATED}),
    C.COMPLETED: frozenset(),
    C.TERMINATED: frozenset(),
}
CONTRACT_MACHINE = workflow.Machine("contract", ContractState, CONTRACT_ALLOWED, actions={
    C.PENDING_SIGNATURE: "ready_to_sign", C.ACTIVE: "activate", C.COMPLETED: "complete", C.TERMINATED: "terminate"},
    labels={"ready_to_sign": _l("Contract PDF ready for signatures"), "activate": _l("Contract signed by both parties"),
            "complete": _l("Contract completed"), "terminate": _l("Contract terminated")})


class VersionState(enum.StrEnum):
    RENDERING = "rendering"  # the worker renders its PDF
    READY = "ready"  # PDF rendered; waiting for signatures
    SIGNED = "signed"  # both parties signed
    SUPERSEDED = "superseded"  # a later version replaced it before it was signed

    @property
    def label(self):
        return VERSION_LABELS[self]


VERSION_LABELS = {
    VersionState.RENDERING: _l("PDF being rendered"),
    VersionState.READY: _l("Waiting for signatures"),
    VersionState.SIGNED: _l("Signed"),
    VersionState.SUPERSEDED: _l("Superseded"),
}
V = VersionState
VERSION_MACHINE = workflow.Machine("contract_version", VersionState, {
    V.RENDERING: frozenset({V.READY, V.SUPERSEDED}),
    V.READY: frozenset({V.SIGNED, V.SUPERSEDED, V.RENDERING}),
    V.SIGNED: frozenset(),
    V.SUPERSEDED: frozenset(),
}, actions={V.READY: "rendered", V.SIGNED: "signed", V.SUPERSEDED: "supersede", V.RENDERING: "rerender"},
    labels={"rendered": _l("Version PDF rendered"), "signed": _l("Version signed by both parties"),
            "supersede": _l("Version superseded"), "rerender": _l("Version PDF rendered again")})


class Party(enum.StrEnum):
    DEPARTMENT = "department"  # 甲方: the purchasing department
    ORGANIZATION = "organization"  # 乙方: the organization

    @property
    def label(self):
        return {Party.DEPARTMENT: _l("Purchaser (Party A)"), Party.ORGANIZATION: _l("Provider (Party B)")}[self]


class Release(enum.StrEnum):
    MILESTONE = "milestone"
    ACCEPTANCE = "acceptance"

    @property
    def label(self):
        return {Release.MILESTONE: _l("Milestone approved"), Release.ACCEPTANCE: _l("Acceptance passed")}[self]


def _money(nullable: bool = False):
    return mapped_column(Numeric(14, 2), nullable=nullable)


class Contract(db.Model):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Reference number, e.g. "HT-2026-0007" (unique).
    number: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), nullable=False, index=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, unique=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False, index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    state: Mapped[ContractState] = mapped_column(str_enum(ContractState), nullable=False, default=C.DRAFT,
                                                 index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    service_content: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[Decimal] = _money()
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    #: Continuous, stably funded services may run up to the longer term (policy).
    is_continuous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: The award notice's time and the last day to sign (policy contract.sign_within_days).
    awarded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    sign_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: When the contract appeared on the public portal: set in the transaction that puts
    #: it in force (publication is automatic on signing, well within the policy's
    #: contract.publish_within_working_days), never cleared.
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Termination: when, why, and the settlement amount (what stays committed to be paid).
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)
    settlement: Mapped[Decimal | None] = _money(nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    project = relationship("Project")
    tender = relationship("Tender")
    department = relationship("Department")
    organization = relationship("Organization")
    versions = relationship("ContractVersion", back_populates="contract", order_by="ContractVersion.number")
    milestones = relationship("Milestone", back_populates="contract", order_by="Milestone.position",
                              cascade="all, delete-orphan")
    installments = relationship("Installment", back_populates="contract", order_by="Installment.position",
                                cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("amount > 0", name="contract_amount_positive"),
        CheckConstraint("period_end >= period_start", name="contract_period_ordered"),
    )

    @property
    def current_version(self) -> ContractVersion | None:
        live = [v for v in self.versions if v.state != V.SUPERSEDED]
        return live[-1] if live else None

    def snapshot(self) -> dict:
        return {"number": self.number, "project_id": self.project_id, "tender_id": self.tender_id,
                "organization_id": self.organization_id, "department_id": self.department_id,
                "title": self.title, "amount": self.amount, "period_start": self.period_start,
                "period_end": self.period_end, "is_continuous": self.is_continuous,
                "sign_due_on": self.sign_due_on,
                "schedule": [i.snapshot() for i in self.installments]}


class Milestone(db.Model):
    """A delivery milestone (履约节点) defined with the schedule; reports come later."""

    __tablename__ = "contract_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Indexed: the reminder scan finds the milestones due on a day by it.
    due_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    deliverables: Mapped[str] = mapped_column(Text, nullable=False)

    contract = relationship("Contract", back_populates="milestones")

    __table_args__ = (UniqueConstraint("contract_id", "position", name="uq_contract_milestone_position"),)


class Installment(db.Model):
    """One installment of the payment schedule: its share (percent) and amount, and what
    releases it (a milestone approved, or acceptance passed)."""

    __tablename__ = "contract_installments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    share: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    amount: Mapped[Decimal] = _money()
    releases_on: Mapped[Release] = mapped_column(str_enum(Release), nullable=False)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("contract_milestones.id"), index=True)

    contract = relationship("Contract", back_populates="installments")
    milestone = relationship("Milestone")

    __table_args__ = (
        UniqueConstraint("contract_id", "position", name="uq_contract_installment_position"),
        CheckConstraint("share > 0 AND share <= 100", name="installment_share_range"),
        CheckConstraint("amount >= 0", name="installment_amount_not_negative"),
        CheckConstraint("(releases_on = 'milestone') = (milestone_id IS NOT NULL)",
                        name="installment_milestone_iff_released_by_one"),
    )

    def snapshot(self) -> dict:
        m = self.milestone
        return {"position": self.position, "share": self.share, "amount": self.amount,
                "releases_on": self.releases_on.value,
                "milestone": None if m is None else {"title": m.title, "due_on": m.due_on,
                                                     "deliverables": m.deliverables}}


class ContractVersion(db.Model):
    """One version of a contract: the terms as rendered, its PDF and hashes, and the
    signed PDF. Old versions stay readable and verifiable."""

    __tablename__ = "contract_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[VersionState] = mapped_column(str_enum(VersionState), nullable=False, default=V.RENDERING)
    amount: Mapped[Decimal] = _money()
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    #: The terms as rendered (parties with their registered data, content, targets, schedule).
    content: Mapped[dict] = mapped_column(JSON, nullable=False)
    #: The short code of the public verification link printed on the PDF.
    verify_code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    pdf_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    #: SHA-256 of the rendered content (printed in the footer) and of the unsigned PDF file.
    content_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The latest signed state of the PDF (one signature, then both) and its file hash.
    signed_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    signed_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    contract = relationship("Contract", back_populates="versions")
    pdf_document = relationship("Document", foreign_keys=[pdf_document_id])
    signed_document = relationship("Document", foreign_keys=[signed_document_id])
    signatures = relationship("Signature", back_populates="version", order_by="Signature.signed_at")

    __table_args__ = (UniqueConstraint("contract_id", "number", name="uq_contract_version_number"),)

    @property
    def reason_label(self):
        """The reason in the reader's language: the first version is the original contract
        (its stored reason is in the language of whoever drafted it; the PDF keeps that)."""
        return _l("Original contract") if self.number == 1 else self.reason

    def snapshot(self) -> dict:
        return {"contract_id": self.contract_id, "number": self.number, "reason": self.reason,
                "amount": self.amount, "period_start": self.period_start, "period_end": self.period_end}


class Signature(db.Model):
    """One party's signature on one version: who, when, with which certificate, and the
    PDF as it stood right after (its SHA-256)."""

    __tablename__ = "contract_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("contract_versions.id"), nullable=False, index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), nullable=False, index=True)
    party: Mapped[Party] = mapped_column(str_enum(Party), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    certificate_serial: Mapped[str] = mapped_column(String(48), nullable=False)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    document_sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)

    version = relationship("ContractVersion", back_populates="signatures")
    user = relationship("User")

    __table_args__ = (
        UniqueConstraint("version_id", "party", name="uq_contract_signature_party"),
        UniqueConstraint("version_id", "user_id", name="uq_contract_signature_user"),
    )

    def snapshot(self) -> dict:
        return {"version_id": self.version_id, "party": self.party.value, "user_id": self.user_id,
                "certificate_serial": self.certificate_serial, "document_sha256": self.document_sha256}
