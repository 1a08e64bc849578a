"""The registry of social organizations (社会组织): registration data, ratings, annual
reports (年报) and credit-list entries (活动异常名录 / 严重失信名单).

Current standing is kept on the organization itself (``rating_level``,
``rating_expires_on``, ``credit_standing``) so the list page filters with one indexed
query; the history lives in the child tables and the audit trail.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import workflow
from ..extensions import db, str_enum
from ..timeutil import utcnow


class OrgKind(enum.StrEnum):
    SOCIAL_GROUP = "social_group"  # 社会团体
    SERVICE_ORG = "service_org"  # 社会服务机构 (民办非企业单位)
    FOUNDATION = "foundation"  # 基金会
    FILED = "filed"  # 备案的社区社会组织, no credit code

    @property
    def label(self):
        return KIND_LABELS[self]


KIND_LABELS = {
    OrgKind.SOCIAL_GROUP: _l("Social group"),
    OrgKind.SERVICE_ORG: _l("Social service organization"),
    OrgKind.FOUNDATION: _l("Foundation"),
    OrgKind.FILED: _l("Filed community organization"),
}


class RegStatus(enum.StrEnum):
    """登记状态 as the national registry exports it."""

    NORMAL = "normal"  # 正常
    REVOKED = "revoked"  # 撤销
    DEREGISTERED = "deregistered"  # 注销

    @property
    def label(self):
        return {RegStatus.NORMAL: _l("Registered"), RegStatus.REVOKED: _l("Revoked"),
                RegStatus.DEREGISTERED: _l("Deregistered")}[self]


class CreditStanding(enum.StrEnum):
    NORMAL = "normal"
    ABNORMAL = "abnormal"  # 活动异常名录
    SERIOUS = "serious"  # 严重失信名单

    @property
    def label(self):
        return {CreditStanding.NORMAL: _l("Normal"),
                CreditStanding.ABNORMAL: _l("Abnormal-activity list"),
                CreditStanding.SERIOUS: _l("Serious dishonesty list")}[self]


class CreditList(enum.StrEnum):
    ABNORMAL = "abnormal"
    SERIOUS = "serious"

    @property
    def label(self):
        return CreditStanding(self.value).label


class EntryState(enum.StrEnum):
    """proposed → listed | rejected; listed → removed."""

    PROPOSED = "proposed"
    LISTED = "listed"
    REJECTED = "rejected"
    REMOVED = "removed"

    @property
    def label(self):
        return {EntryState.PROPOSED: _l("Proposed"), EntryState.LISTED: _l("Listed"),
                EntryState.REJECTED: _l("Rejected"), EntryState.REMOVED: _l("Removed")}[self]


ENTRY_ALLOWED = {
    EntryState.PROPOSED: frozenset({EntryState.LISTED, EntryState.REJECTED}),
    EntryState.LISTED: frozenset({EntryState.REMOVED}),
    EntryState.REJECTED: frozenset(),
    EntryState.REMOVED: frozenset(),
}
ENTRY_MACHINE = workflow.Machine("credit_entry", EntryState, ENTRY_ALLOWED, actions={
    EntryState.LISTED: "list", EntryState.REJECTED: "reject", EntryState.REMOVED: "remove"},
    labels={"list": _l("Put on the credit list"), "reject": _l("Credit-list proposal rejected"),
            "remove": _l("Removed from the credit list")})


class ReportStatus(enum.StrEnum):
    PENDING = "pending"
    FILED = "filed"

    @property
    def label(self):
        return {ReportStatus.PENDING: _l("Not filed"), ReportStatus.FILED: _l("Filed")}[self]


class RatingState(enum.StrEnum):
    ACTIVE = "active"
    LAPSED = "lapsed"

    @property
    def label(self):
        return {RatingState.ACTIVE: _l("In force"), RatingState.LAPSED: _l("Lapsed")}[self]


RATING_ALLOWED = {RatingState.ACTIVE: frozenset({RatingState.LAPSED}), RatingState.LAPSED: frozenset()}
RATING_MACHINE = workflow.Machine("rating", RatingState, RATING_ALLOWED, actions={RatingState.LAPSED: "lapse"},
                                  labels={"lapse": _l("Rating lapsed")})


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    #: 统一社会信用代码 (GB 32100-2015); NULL for filed community organizations.
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    # Registration data (officers and admin only).
    #: 成立登记日期 (or the filing date of a filed organization).
    registration_date: Mapped[date | None] = mapped_column(Date)
    #: 登记管理机关, e.g. 重庆市江北区民政局 (or the street office of a filed organization).
    registration_authority: Mapped[str | None] = mapped_column(String(120), index=True)
    #: 业务主管单位 (empty for organizations registered directly).
    supervisor: Mapped[str | None] = mapped_column(String(120))
    legal_representative: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[RegStatus] = mapped_column(str_enum(RegStatus), nullable=False, default=RegStatus.NORMAL,
                                              server_default=RegStatus.NORMAL.value)

    # Profile (the organization's own users may edit these).
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    # Current standing, kept in step with the child tables by the services.
    #: Level of the rating in force (1–5 for 1A–5A), NULL when none.
    rating_level: Mapped[int | None] = mapped_column(Integer, index=True)
    rating_expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    credit_standing: Mapped[CreditStanding] = mapped_column(
        str_enum(CreditStanding), nullable=False, default=CreditStanding.NORMAL,
        server_default=CreditStanding.NORMAL.value, index=True)

    users = relationship("User", back_populates="organization", order_by="User.name")
    ratings = relationship("Rating", back_populates="organization", order_by="Rating.rated_on.desc()")
    annual_reports = relationship("AnnualReport", back_populates="organization",
                                  order_by="AnnualReport.year.desc()")
    credit_entries = relationship("CreditEntry", back_populates="organization",
                                  order_by="CreditEntry.listed_on.desc()")

    __table_args__ = (
        CheckConstraint("rating_level IS NULL OR (rating_level BETWEEN 1 AND 5)", name="org_rating_level"),
        # The search ``?q=`` (ILIKE '%…%' on name or credit code): trigram indexes, PostgreSQL only
        # (migration 0004_trgm; SQLite scans).
        Index("ix_organizations_name_trgm", "name", postgresql_using="gin",
              postgresql_ops={"name": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        Index("ix_organizations_credit_code_trgm", "credit_code", postgresql_using="gin",
              postgresql_ops={"credit_code": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        # Searches of 1–2 characters: the names' 1- and 2-character substrings (a function of
        # migration 0004_trgm).
        Index("ix_organizations_name_grams", text("org_name_grams(name)"),
              postgresql_using="gin").ddl_if(dialect="postgresql"),
    )

    PROFILE_FIELDS = ("contact_name", "contact_phone", "contact_email", "website", "description")
    REGISTRATION_FIELDS = ("name", "credit_code", "kind", "registration_date", "registration_authority",
                           "supervisor", "legal_representative", "address", "status")

    def snapshot(self) -> dict:
        return {k: getattr(self, k) for k in (*self.REGISTRATION_FIELDS, *self.PROFILE_FIELDS)}

    @property
    def rating_label(self) -> str:
        return f"{self.rating_level}A" if self.rating_level else ""

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name}>"


class Rating(db.Model):
    """等级评估: a level 1A–5A awarded on a date, valid until ``expires_on`` (exclusive)."""

    __tablename__ = "org_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    rated_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: First day on which the rating no longer holds.
    expires_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    state: Mapped[RatingState] = mapped_column(str_enum(RatingState), nullable=False, default=RatingState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    organization = relationship("Organization", back_populates="ratings")

    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="rating_level_range"),
                      CheckConstraint("expires_on > rated_on", name="rating_expiry_after"))

    @property
    def label(self) -> str:
        return f"{self.level}A"


class AnnualReport(db.Model):
    """年报 for one year, due by ``due_date`` of the following year."""

    __tablename__ = "org_annual_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), nullable=False,
                                                 default=ReportStatus.PENDING, index=True)
    filed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    organization = relationship("Organization", back_populates="annual_reports")

    __table_args__ = (UniqueConstraint("organization_id", "year", name="uq_annual_report_org_year"),
                      CheckConstraint("status <> 'filed' OR filed_on IS NOT NULL", name="filed_has_date"))


REPORT_ALLOWED = {ReportStatus.PENDING: frozenset({ReportStatus.FILED}), ReportStatus.FILED: frozenset()}
REPORT_MACHINE = workflow.Machine("annual_report", ReportStatus, REPORT_ALLOWED, field="status",
                                  actions={ReportStatus.FILED: "file"}, labels={"file": _l("Annual report filed")})


class CreditEntry(db.Model):
    """An entry on the abnormal-activity list or the serious dishonesty list."""

    __tablename__ = "org_credit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    list: Mapped[CreditList] = mapped_column(str_enum(CreditList), nullable=False)
    state: Mapped[EntryState] = mapped_column(str_enum(EntryState), nullable=False, index=True)
    #: The day the organization was (or is proposed to be) put on the list.
    listed_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    removed_on: Mapped[date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(String(500))
    #: Set on entries written by the standing rules (e.g. "annual_report:2025").
    rule_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    organization = relationship("Organization", back_populates="credit_entries")

    __table_args__ = (
        CheckConstraint("state <> 'removed' OR removed_on IS NOT NULL", name="removed_has_date"),
        # A standing rule never writes the same entry twice (NULLs do not collide).
        UniqueConstraint("organization_id", "rule_key", name="uq_credit_entry_rule"),
    )


class IncubationBase(db.Model):
    """孵化基地: run by an organization; young organizations reside there for a time."""

    __tablename__ = "incubation_bases"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    #: The organization that runs the base.
    operator_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    #: Floor area in square metres.
    area_sqm: Mapped[int | None] = mapped_column(Integer)
    facilities: Mapped[str | None] = mapped_column(Text)
    opened_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    operator = relationship("Organization", foreign_keys=[operator_id], lazy="joined")
    residencies = relationship("Residency", back_populates="base", order_by="Residency.moved_in_on.desc()")

    __table_args__ = (CheckConstraint("area_sqm IS NULL OR area_sqm > 0", name="base_area_positive"),)

    def snapshot(self) -> dict:
        return {k: getattr(self, k) for k in ("name", "operator_id", "address", "area_sqm", "facilities", "opened_on")}


class Residency(db.Model):
    """An organization incubated at a base, from move-in to graduation (出壳)."""

    __tablename__ = "incubation_residencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("incubation_bases.id"), nullable=False, index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    moved_in_on: Mapped[date] = mapped_column(Date, nullable=False)
    graduated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    base = relationship("IncubationBase", back_populates="residencies")
    organization = relationship("Organization", lazy="joined")

    __table_args__ = (CheckConstraint("graduated_on IS NULL OR graduated_on >= moved_in_on",
                                      name="residency_dates_ordered"),)


class PerformanceRecord(db.Model):
    """The organization's record (issue 11 item 5): one row per acceptance decision
    (written by procure/acceptance/services.py), shown on the organization's page and
    read by eligibility. ``is_final`` marks the decision that ended the acceptance
    (passed, or failed for good); a first failure with rectification running is kept
    too, but only a final failure bars the organization (policy
    ``performance.fail_bars_next_year``)."""

    __tablename__ = "performance_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    #: The acceptance decided (no foreign key: the organizations layer sits below it).
    acceptance_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    contract_number: Mapped[str] = mapped_column(String(40), nullable=False)
    project_title: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The (Shanghai) year of the decision.
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    #: Grade value (excellent/good/fair/poor); None when the rectification period ran out.
    grade: Mapped[str | None] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    is_final: Mapped[bool] = mapped_column(Boolean, nullable=False)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    __table_args__ = (
        UniqueConstraint("acceptance_id", "round", "is_final", name="uq_performance_record_decision"),
        Index("ix_performance_records_org_year", "organization_id", "year"),
    )


#: How the organization's page names a recorded grade (the grades are the acceptance's;
#: the registry sits below it and keeps their values only).
PERFORMANCE_GRADE_LABELS = {"excellent": _l("Excellent"), "good": _l("Good"), "fair": _l("Fair"),
                            "poor": _l("Poor")}
