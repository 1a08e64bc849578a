"""Tenders (采购公告), their criteria, documents and clarifications; bids (投标) sealed by
encryption; the evaluation committee drawn at random, scores, award decisions and
challenges (质疑). DOMAIN.md §4 (Tender, Bid) and §5.

All times are UTC. Money is ``Numeric(14, 2)``. Bid contents never appear in clear in the
database before the opening: ``Bid.sealed_content`` is AES-GCM ciphertext (see
procure/sealing.py and ``content.py``); ``Bid.price`` is filled only at the opening.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import permissions, workflow
from ..extensions import db, str_enum
from ..projects.models import ProcurementMethod
from ..timeutil import utcnow


def _in(states) -> str:
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"


# --- states ----------------------------------------------------------------------------


class TenderState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"  # deadline reached, bids opened
    EVALUATING = "evaluating"
    AWARDED = "awarded"  # award notice published, publicity and challenge window running
    FINAL = "final"
    FAILED = "failed"  # 流标
    CANCELLED = "cancelled"

    @property
    def label(self):
        return TENDER_STATE_LABELS[self]


TENDER_STATE_LABELS = {
    TenderState.DRAFT: _l("Draft"), TenderState.PUBLISHED: _l("Open for bids"),
    TenderState.CLOSED: _l("Bids opened"), TenderState.EVALUATING: _l("Under evaluation"),
    TenderState.AWARDED: _l("Award under publicity"), TenderState.FINAL: _l("Award final"),
    TenderState.FAILED: _l("Failed (too few bids)"), TenderState.CANCELLED: _l("Cancelled"),
}


class TenderEvent(enum.StrEnum):
    """The next time event of a tender, applied by the beat task when due."""

    DEADLINE = "deadline"
    OPENING = "opening"
    PUBLICITY_END = "publicity_end"
    CHALLENGE_END = "challenge_end"

    @property
    def label(self):
        return TENDER_EVENT_LABELS[self]


TENDER_EVENT_LABELS = {
    TenderEvent.DEADLINE: _l("Bid deadline"), TenderEvent.OPENING: _l("Opening of bids"),
    TenderEvent.PUBLICITY_END: _l("End of the award publicity"),
    TenderEvent.CHALLENGE_END: _l("End of the challenge window"),
}


class BidState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    OPENED = "opened"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    SCORED = "scored"
    AWARDED = "awarded"
    NOT_AWARDED = "not_awarded"

    @property
    def label(self):
        return BID_STATE_LABELS[self]


BID_STATE_LABELS = {
    BidState.DRAFT: _l("Draft"), BidState.SUBMITTED: _l("Submitted (sealed)"), BidState.WITHDRAWN: _l("Withdrawn"),
    BidState.OPENED: _l("Opened"), BidState.QUALIFIED: _l("Qualified"), BidState.DISQUALIFIED: _l("Disqualified"),
    BidState.SCORED: _l("Scored"), BidState.AWARDED: _l("Awarded"), BidState.NOT_AWARDED: _l("Not awarded"),
}


class MemberState(enum.StrEnum):
    DRAWN = "drawn"
    DECLARED = "declared"  # declared no conflict of interest
    CONFLICTED = "conflicted"  # declared a conflict: removed, the next backup is called
    REPLACED = "replaced"  # withdrawn (unavailable) and replaced by a backup

    @property
    def label(self):
        return MEMBER_STATE_LABELS[self]


MEMBER_STATE_LABELS = {
    MemberState.DRAWN: _l("Drawn, declaration pending"), MemberState.DECLARED: _l("No conflict declared"),
    MemberState.CONFLICTED: _l("Conflict of interest declared"), MemberState.REPLACED: _l("Replaced"),
}


class ChallengeState(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"  # dismissed: the award stands
    UPHELD = "upheld"  # the award is set aside with a remedy (ChallengeRemedy)
    WITHDRAWN = "withdrawn"
    #: Closed without a ruling: another challenge to the same award was upheld, so the
    #: award it contests was withdrawn (its answer says so).
    CLOSED = "closed"

    @property
    def label(self):
        return CHALLENGE_STATE_LABELS[self]


CHALLENGE_STATE_LABELS = {
    ChallengeState.OPEN: _l("Waiting for the answer"), ChallengeState.ANSWERED: _l("Answered: dismissed"),
    ChallengeState.UPHELD: _l("Answered: upheld"), ChallengeState.WITHDRAWN: _l("Withdrawn"),
    ChallengeState.CLOSED: _l("Closed: the award it contests was withdrawn"),
}


class ChallengeRemedy(enum.StrEnum):
    """What follows an upheld challenge (财政部令第87号 第六十四条 and 政府采购质疑和投诉办法
    第十六条): the committee evaluates again and the award is decided anew, or the tender
    fails and the project is tendered again."""

    REEVALUATE = "reevaluate"
    RETENDER = "retender"

    @property
    def label(self):
        return CHALLENGE_REMEDY_LABELS[self]


CHALLENGE_REMEDY_LABELS = {
    ChallengeRemedy.REEVALUATE: _l("Evaluate again: the award is set aside and decided anew"),
    ChallengeRemedy.RETENDER: _l("The tender fails: the project is tendered again"),
}


class AwardDecisionKind(enum.StrEnum):
    AWARD = "award"
    SKIP = "skip"  # the officer passes over this bid, with the reason

    @property
    def label(self):
        return {AwardDecisionKind.AWARD: _l("Awarded"), AwardDecisionKind.SKIP: _l("Passed over")}[self]


# --- machines (DOMAIN.md §4) --------------------------------------------------------------

T = TenderState
TENDER_ALLOWED = {
    T.DRAFT: frozenset({T.PUBLISHED, T.CANCELLED}),
    T.PUBLISHED: frozenset({T.CLOSED, T.FAILED, T.CANCELLED}),
    T.CLOSED: frozenset({T.EVALUATING, T.FAILED}),
    T.EVALUATING: frozenset({T.AWARDED, T.FAILED}),
    T.AWARDED: frozenset({T.FINAL, T.EVALUATING, T.FAILED}),  # back or failed: an upheld challenge
    T.FINAL: frozenset(),
    T.FAILED: frozenset(),
    T.CANCELLED: frozenset(),
}
TENDER_MACHINE = workflow.Machine("tender", TenderState, TENDER_ALLOWED, actions={
    T.PUBLISHED: "publish", T.CLOSED: "open_bids", T.EVALUATING: "start_evaluation",
    (T.AWARDED, T.EVALUATING): "reevaluate", T.AWARDED: "award",
    T.FINAL: "finalize", T.FAILED: "fail", T.CANCELLED: "cancel"},
    labels={"publish": _l("Call published"), "open_bids": _l("Bids opened"),
            "start_evaluation": _l("Evaluation started"), "award": _l("Award notice published"),
            "finalize": _l("Award final"), "fail": _l("Tender failed"), "cancel": _l("Call cancelled"),
            "reevaluate": _l("Award set aside: evaluated again")})

B = BidState
BID_ALLOWED = {
    B.DRAFT: frozenset({B.SUBMITTED}),
    B.SUBMITTED: frozenset({B.WITHDRAWN, B.OPENED}),
    B.WITHDRAWN: frozenset({B.SUBMITTED}),
    B.OPENED: frozenset({B.QUALIFIED, B.DISQUALIFIED}),
    B.QUALIFIED: frozenset({B.SCORED}),
    B.DISQUALIFIED: frozenset(),
    B.SCORED: frozenset({B.AWARDED, B.NOT_AWARDED}),
    B.AWARDED: frozenset({B.QUALIFIED, B.NOT_AWARDED}),  # an upheld challenge: evaluated again, or failed
    B.NOT_AWARDED: frozenset({B.QUALIFIED}),
}
BID_MACHINE = workflow.Machine("bid", BidState, BID_ALLOWED, actions={
    (B.DRAFT, B.SUBMITTED): "submit", (B.WITHDRAWN, B.SUBMITTED): "resubmit", B.WITHDRAWN: "withdraw",
    B.OPENED: "open", B.QUALIFIED: "qualify", B.DISQUALIFIED: "disqualify", B.SCORED: "score",
    B.AWARDED: "award", B.NOT_AWARDED: "not_award", (B.AWARDED, B.QUALIFIED): "reevaluate",
    (B.AWARDED, B.NOT_AWARDED): "set_aside",
    (B.NOT_AWARDED, B.QUALIFIED): "reevaluate"},
    labels={"submit": _l("Bid submitted (sealed)"), "resubmit": _l("Bid submitted again (sealed)"),
            "withdraw": _l("Bid withdrawn"), "open": _l("Bid opened"), "qualify": _l("Bid qualified"),
            "disqualify": _l("Bid disqualified"), "score": _l("Bid scored"), "award": _l("Bid awarded"),
            "not_award": _l("Bid not awarded"), "reevaluate": _l("Bid evaluated again"),
            "set_aside": _l("Award set aside")})

M = MemberState
MEMBER_ALLOWED = {
    M.DRAWN: frozenset({M.DECLARED, M.CONFLICTED, M.REPLACED}),
    M.DECLARED: frozenset({M.CONFLICTED, M.REPLACED}),
    M.CONFLICTED: frozenset(),
    M.REPLACED: frozenset(),
}
MEMBER_MACHINE = workflow.Machine("committee_member", MemberState, MEMBER_ALLOWED, prefix="committee", actions={
    M.DECLARED: "declare_none", M.CONFLICTED: "declare_conflict", M.REPLACED: "replace"},
    labels={"declare_none": _l("Member declared no conflict of interest"),
            "declare_conflict": _l("Member declared a conflict of interest"),
            "replace": _l("Committee member replaced")})

C = ChallengeState
CHALLENGE_ALLOWED = {
    C.OPEN: frozenset({C.ANSWERED, C.UPHELD, C.WITHDRAWN, C.CLOSED}),
    C.ANSWERED: frozenset(),
    C.UPHELD: frozenset(),
    C.WITHDRAWN: frozenset(),
    C.CLOSED: frozenset(),
}
CHALLENGE_MACHINE = workflow.Machine("challenge", ChallengeState, CHALLENGE_ALLOWED, actions={
    C.ANSWERED: "answer", C.UPHELD: "uphold", C.WITHDRAWN: "withdraw", C.CLOSED: "close"},
    labels={"answer": _l("Challenge answered"), "uphold": _l("Challenge upheld"),
            "withdraw": _l("Challenge withdrawn"),
            "close": _l("Challenge closed: the award it contests was withdrawn")})


# --- tenders ----------------------------------------------------------------------------


class Tender(db.Model):
    """The call (采购公告/项目申报) for one project."""

    __tablename__ = "tenders"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), nullable=False, index=True)
    #: Copied from the project, for permission filters without a join.
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False, index=True)
    method: Mapped[ProcurementMethod] = mapped_column(str_enum(ProcurementMethod), nullable=False)
    state: Mapped[TenderState] = mapped_column(str_enum(TenderState), nullable=False, default=TenderState.DRAFT,
                                               index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The call's text (scope of the service, how to bid).
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    opening_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: When the bids were actually opened (the opening beat).
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The next time event the beat applies (None: nothing pending).
    next_event_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    next_event: Mapped[TenderEvent | None] = mapped_column(str_enum(TenderEvent))
    # Eligibility requirements (DOMAIN.md §5), checked at submission and at award.
    min_rating: Mapped[int | None] = mapped_column(Integer)  # 1..5 (1A–5A)
    min_years_registered: Mapped[int | None] = mapped_column(Integer)  # None: the policy value
    require_annual_report: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    require_good_credit: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    bar_failed_grade: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: Filed (备案) community organizations may answer this call.
    admit_filed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Weight of the price score, in percent of the total (10.00 = 10%).
    price_weight: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=Decimal("10.00"))
    #: Single source: the one invited organization.
    single_source_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    #: This tender's data key, wrapped by the master key (procure/sealing.py), and the
    #: master key's id. Created at the latest when the call is published.
    wrapped_data_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    data_key_id: Mapped[str | None] = mapped_column(String(16))
    #: Why the call was cancelled or failed.
    reason: Mapped[str | None] = mapped_column(Text)
    awarded_bid_id: Mapped[int | None] = mapped_column(
        ForeignKey("bids.id", use_alter=True, name="fk_tenders_awarded_bid_id_bids"))
    award_notice_at: Mapped[datetime | None] = mapped_column(DateTime)
    publicity_ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    challenge_ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    project = relationship("Project")
    department = relationship("Department")
    single_source_organization = relationship("Organization")
    criteria = relationship("TenderCriterion", back_populates="tender", order_by="TenderCriterion.position",
                            cascade="all, delete-orphan")
    documents = relationship("TenderDocument", back_populates="tender", order_by="TenderDocument.position",
                             cascade="all, delete-orphan")
    clarifications = relationship("Clarification", back_populates="tender", order_by="Clarification.published_at")
    bids = relationship("Bid", back_populates="tender", foreign_keys="Bid.tender_id")
    awarded_bid = relationship("Bid", foreign_keys=[awarded_bid_id], post_update=True)

    __table_args__ = (
        CheckConstraint("price_weight >= 0 AND price_weight <= 100", name="tender_price_weight_range"),
        CheckConstraint("min_rating IS NULL OR (min_rating >= 1 AND min_rating <= 5)", name="tender_min_rating_range"),
        CheckConstraint("min_years_registered IS NULL OR min_years_registered >= 0",
                        name="tender_min_years_not_negative"),
        CheckConstraint("(method = 'single_source') = (single_source_organization_id IS NOT NULL)",
                        name="tender_single_source_names_one"),
        CheckConstraint(f"state IN {_in([T.DRAFT, T.CANCELLED])} OR (published_at IS NOT NULL AND "
                        "deadline_at IS NOT NULL AND opening_at IS NOT NULL AND wrapped_data_key IS NOT NULL)",
                        name="tender_published_complete"),
        CheckConstraint("deadline_at IS NULL OR published_at IS NULL OR deadline_at > published_at",
                        name="tender_deadline_after_publication"),
        CheckConstraint("opening_at IS NULL OR deadline_at IS NULL OR opening_at >= deadline_at",
                        name="tender_opening_after_deadline"),
        CheckConstraint("(wrapped_data_key IS NULL) = (data_key_id IS NULL)", name="tender_key_with_id"),
        CheckConstraint("(next_event IS NULL) = (next_event_at IS NULL)", name="tender_next_event_complete"),
        CheckConstraint(f"state NOT IN {_in([T.AWARDED, T.FINAL])} OR (awarded_bid_id IS NOT NULL AND "
                        "award_notice_at IS NOT NULL)", name="tender_award_complete"),
        CheckConstraint(f"state NOT IN {_in([T.FAILED, T.CANCELLED])} OR reason IS NOT NULL",
                        name="tender_end_has_reason"),
    )

    def snapshot(self) -> dict:
        """The audited fields (never the key)."""
        return {
            "project_id": self.project_id, "method": self.method.value if self.method else None,
            "title": self.title, "published_at": self.published_at, "deadline_at": self.deadline_at,
            "opening_at": self.opening_at, "min_rating": self.min_rating,
            "min_years_registered": self.min_years_registered,
            "require_annual_report": self.require_annual_report, "require_good_credit": self.require_good_credit,
            "bar_failed_grade": self.bar_failed_grade, "admit_filed": self.admit_filed,
            "price_weight": self.price_weight, "single_source_organization_id": self.single_source_organization_id,
            "criteria": [c.snapshot() for c in self.criteria],
        }


class TenderCriterion(db.Model):
    """A scoring criterion (综合评分法). The non-price criteria and the one price line
    (``is_price``, weight = the tender's ``price_weight``) have weights summing to 100. A
    member scores a non-price criterion from 0 to ``max_score``; its contribution to the
    total is score / max_score × weight. The price score is computed, never typed."""

    __tablename__ = "tender_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    max_score: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False, default=Decimal("100.00"))
    is_price: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    tender = relationship("Tender", back_populates="criteria")

    __table_args__ = (
        UniqueConstraint("tender_id", "position", name="uq_tender_criteria_position"),
        Index("uq_tender_criteria_one_price", "tender_id", unique=True,
              postgresql_where=text("is_price"), sqlite_where=text("is_price")),
        CheckConstraint("weight >= 0 AND weight <= 100", name="criterion_weight_range"),
        CheckConstraint("max_score > 0", name="criterion_max_score_positive"),
    )

    def snapshot(self) -> dict:
        return {"name": self.name, "weight": self.weight, "max_score": self.max_score, "is_price": self.is_price}


class TenderDocument(db.Model):
    """A document of the call (stored in the documents store)."""

    __tablename__ = "tender_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Set when the document came with a clarification.
    clarification_id: Mapped[int | None] = mapped_column(ForeignKey("clarifications.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    tender = relationship("Tender", back_populates="documents")
    document = relationship("Document")

    __table_args__ = (UniqueConstraint("tender_id", "document_id", name="uq_tender_documents_document"),)


class TenderInvitation(db.Model):
    """An organization invited to an invited tender (邀请招标) or a single-source call
    (单一来源: its one organization). Only invited organizations may bid on such a call."""

    __tablename__ = "tender_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    invited_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    organization = relationship("Organization")

    __table_args__ = (UniqueConstraint("tender_id", "organization_id", name="uq_tender_invitations_organization"),)


class Clarification(db.Model):
    """A clarification (澄清) published to all. One that ``affects_bids`` and comes later
    than the method's threshold before the deadline moves the deadline (old → new) and
    marks submitted bids for reconfirmation."""

    __tablename__ = "clarifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    affects_bids: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    old_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    new_deadline_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    tender = relationship("Tender", back_populates="clarifications")

    __table_args__ = (
        CheckConstraint("(old_deadline_at IS NULL) = (new_deadline_at IS NULL)", name="clarification_deadline_pair"),
        CheckConstraint("new_deadline_at IS NULL OR new_deadline_at > old_deadline_at",
                        name="clarification_deadline_later"),
        CheckConstraint("new_deadline_at IS NULL OR affects_bids", name="clarification_moves_only_if_affecting"),
    )

    def snapshot(self) -> dict:
        return {"text": self.text, "affects_bids": self.affects_bids, "old_deadline_at": self.old_deadline_at,
                "new_deadline_at": self.new_deadline_at}


# --- bids ---------------------------------------------------------------------------------


class Bid(db.Model):
    """An organization's bid. Its content — price, proposal, breakdown lines, attachment
    hashes — is one canonical JSON bundle (``content.py``), always stored encrypted in
    ``sealed_content`` (drafts too). ``sealed_sha256`` is the receipt: SHA-256 of exactly
    the plaintext bundle that was sealed at submission. ``price`` is written only at the
    opening, after decryption and the hash check."""

    __tablename__ = "bids"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    state: Mapped[BidState] = mapped_column(str_enum(BidState), nullable=False, default=BidState.DRAFT, index=True)
    sealed_content: Mapped[bytes | None] = mapped_column(LargeBinary)
    sealed_sha256: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The receipt (回执) number, given at the first submission.
    receipt_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    #: A late clarification changed the call after this bid was submitted.
    needs_reconfirmation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Eligibility conditions that failed at submission (list of codes), for qualification.
    eligibility_failures: Mapped[list | None] = mapped_column(JSON)
    # Filled at the opening.
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Why the bid could not be decrypted or verified at the opening.
    open_error: Mapped[str | None] = mapped_column(Text)
    disqualification_reason: Mapped[str | None] = mapped_column(Text)
    # Filled at evaluation.
    total_score: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    rank: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    tender = relationship("Tender", back_populates="bids", foreign_keys=[tender_id])
    organization = relationship("Organization")

    __table_args__ = (
        UniqueConstraint("tender_id", "organization_id", name="uq_bids_tender_organization"),
        CheckConstraint("price IS NULL OR price >= 0", name="bid_price_not_negative"),
        CheckConstraint("sealed_sha256 IS NULL OR length(sealed_sha256) = 64", name="bid_sha256_length"),
        CheckConstraint(f"state IN {_in([B.DRAFT, B.WITHDRAWN])} OR (sealed_content IS NOT NULL AND "
                        "sealed_sha256 IS NOT NULL AND submitted_at IS NOT NULL AND receipt_no IS NOT NULL)",
                        name="bid_submitted_complete"),
        CheckConstraint(f"state <> '{B.DISQUALIFIED.value}' OR disqualification_reason IS NOT NULL",
                        name="bid_disqualified_has_reason"),
        CheckConstraint(f"state NOT IN {_in([B.QUALIFIED, B.SCORED, B.AWARDED, B.NOT_AWARDED])} OR "
                        "(price IS NOT NULL AND opened_at IS NOT NULL)", name="bid_qualified_opened"),
        CheckConstraint(f"state IN {_in([B.DRAFT, B.SUBMITTED, B.WITHDRAWN])} OR opened_at IS NOT NULL",
                        name="bid_opened_has_time"),
    )

    @hybrid_property
    def opening_at(self) -> datetime | None:
        """The opening time of the bid's tender (the seal of the bid rules)."""
        return self.tender.opening_at if self.tender is not None else None

    @opening_at.inplace.expression
    @classmethod
    def _opening_at_expression(cls):
        return select(Tender.opening_at).where(Tender.id == cls.tender_id).scalar_subquery()

    def snapshot(self) -> dict:
        """The audited fields: never the content (only its hash, the receipt)."""
        return {"tender_id": self.tender_id, "organization_id": self.organization_id,
                "sealed_sha256": self.sealed_sha256, "receipt_no": self.receipt_no,
                "submitted_at": self.submitted_at, "price": self.price}


# --- committee and scores -------------------------------------------------------------------


class CommitteeDraw(db.Model):
    """One random draw of a tender's committee: the pool as it was, the seed and the
    result, so the draw can be replayed (``algorithm`` names how seed + pool give result)."""

    __tablename__ = "committee_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    algorithm: Mapped[str] = mapped_column(String(40), nullable=False)
    seed: Mapped[str] = mapped_column(String(128), nullable=False)
    #: [{"user_id", "is_expert", "fields"...}] in the order the algorithm reads them.
    pool: Mapped[list] = mapped_column(JSON, nullable=False)
    #: {"members": [user_id...], "backups": [user_id...]} in rank order.
    result: Mapped[dict] = mapped_column(JSON, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    drawn_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    __table_args__ = (CheckConstraint("size > 0 AND size % 2 = 1", name="draw_size_odd"),)

    def snapshot(self) -> dict:
        return {"tender_id": self.tender_id, "algorithm": self.algorithm, "seed": self.seed, "pool": self.pool,
                "result": self.result, "size": self.size}


class CommitteeMember(db.Model):
    """A drawn member (or ranked backup) of a tender's committee. Access to the tender
    is the member's Grant (kind "evaluator" on the tender, permissions.grant), whose
    conflict declaration the member's ``state`` mirrors."""

    __tablename__ = "committee_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("committee_draws.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    #: Rank in the draw: members first, then backups in the order they are called.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    is_backup: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_expert: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    state: Mapped[MemberState] = mapped_column(str_enum(MemberState), nullable=False, default=MemberState.DRAWN)
    declared_at: Mapped[datetime | None] = mapped_column(DateTime)
    conflict_note: Mapped[str | None] = mapped_column(Text)
    #: The backup who took this member's place.
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("committee_members.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    tender = relationship("Tender")
    user = relationship("User")

    __table_args__ = (
        UniqueConstraint("tender_id", "user_id", name="uq_committee_members_tender_user"),
        UniqueConstraint("tender_id", "position", name="uq_committee_members_position"),
        CheckConstraint(f"state NOT IN {_in([M.DECLARED, M.CONFLICTED])} OR declared_at IS NOT NULL",
                        name="member_declaration_time"),
        CheckConstraint(f"state <> '{M.CONFLICTED.value}' OR conflict_note IS NOT NULL",
                        name="member_conflict_has_note"),
    )

    def snapshot(self) -> dict:
        return {"tender_id": self.tender_id, "user_id": self.user_id, "position": self.position,
                "is_backup": self.is_backup, "is_expert": self.is_expert}


class Score(db.Model):
    """A member's score of one bid on one non-price criterion; locked once submitted."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_members.id"), nullable=False, index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), nullable=False, index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("tender_criteria.id"), nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    member = relationship("CommitteeMember")
    bid = relationship("Bid")
    criterion = relationship("TenderCriterion")

    __table_args__ = (
        UniqueConstraint("member_id", "bid_id", "criterion_id", name="uq_scores_member_bid_criterion"),
        CheckConstraint("score >= 0", name="score_not_negative"),
    )


# --- award and challenges ----------------------------------------------------------------------


class AwardDecision(db.Model):
    """The officer's decision on a ranked bid: award it, or pass over it (with the reason)
    and move to the next."""

    __tablename__ = "award_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), nullable=False)
    decision: Mapped[AwardDecisionKind] = mapped_column(str_enum(AwardDecisionKind), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("tender_id", "bid_id", name="uq_award_decisions_tender_bid"),
        CheckConstraint(f"decision <> '{AwardDecisionKind.SKIP.value}' OR reason IS NOT NULL",
                        name="award_skip_has_reason"),
    )


class Challenge(db.Model):
    """A challenge (质疑) to an award, lodged by a bidder within the window; its files are
    Documents of object type "challenges"."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), nullable=False, index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False, index=True)
    state: Mapped[ChallengeState] = mapped_column(str_enum(ChallengeState), nullable=False,
                                                  default=ChallengeState.OPEN, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    lodged_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    lodged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    answer_due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Upheld only: what follows (evaluate again, or the tender fails).
    remedy: Mapped[ChallengeRemedy | None] = mapped_column(str_enum(ChallengeRemedy))

    tender = relationship("Tender")
    organization = relationship("Organization")

    __table_args__ = (
        CheckConstraint(f"state NOT IN {_in([C.ANSWERED, C.UPHELD, C.CLOSED])} OR (answer IS NOT NULL AND "
                        "answered_at IS NOT NULL)", name="challenge_answer_complete"),
        CheckConstraint(f"(state = '{C.UPHELD.value}') = (remedy IS NOT NULL)", name="challenge_upheld_remedy"),
    )

    def snapshot(self) -> dict:
        return {"tender_id": self.tender_id, "organization_id": self.organization_id, "reason": self.reason,
                "answer_due_at": self.answer_due_at}


#: Bid contents never reach the audit trail in clear, only their hash (also in events of
#: clarifications that mark bids, and in any event a service records about a bid).
permissions.seal("bids", {"content", "price", "proposal", "breakdown", "attachments", "sealed_content"})

# The evaluator pool's table (the committee draw reads it), with the module's tables.
from .evaluators import EvaluatorField  # noqa: E402, F401
