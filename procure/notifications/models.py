"""What tells people: outbox rows (one per email) and in-app notices, written together
by ``services.notify`` in the same transaction as the change they report; and the
users' mutes of non-critical topics."""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import workflow
from ..extensions import db, str_enum
from ..timeutil import utcnow


class NotificationState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self):
        return {NotificationState.QUEUED: _l("Queued"), NotificationState.SENT: _l("Sent"),
                NotificationState.FAILED: _l("Failed")}[self]


#: queued → sent | failed (retries exhausted or permanent error); an admin may requeue.
ALLOWED = {
    NotificationState.QUEUED: frozenset({NotificationState.SENT, NotificationState.FAILED}),
    NotificationState.FAILED: frozenset({NotificationState.QUEUED}),
    NotificationState.SENT: frozenset(),
}
MACHINE = workflow.Machine("notification", NotificationState, ALLOWED, actions={
    NotificationState.SENT: "send", NotificationState.FAILED: "fail", NotificationState.QUEUED: "requeue"},
    labels={"send": _l("Email sent"), "fail": _l("Email failed"), "requeue": _l("Email queued again")})


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When the writer gives one (e.g. rule, object, due date, recipient), it makes the
    #: email impossible to write twice; None for one-off emails.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    due_date: Mapped[date | None] = mapped_column(Date)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_email: Mapped[str] = mapped_column(String(254), nullable=False)
    #: The display name of the sender: the department the email is sent for (the
    #: address stays the deployment's no-reply address). None: the default sender.
    sender_name: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[NotificationState] = mapped_column(
        str_enum(NotificationState, 10),
        nullable=False, default=NotificationState.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    #: When the next attempt is due; the sweep dispatches queued rows past it.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    recipient = relationship("User")

    @property
    def message_id(self) -> str:
        """A stable Message-ID, so a receiver can drop a duplicate after a crash."""
        digest = hashlib.sha256((self.dedupe_key or f"id:{self.id}").encode()).hexdigest()[:16]
        return f"<notification-{self.id}-{digest}@procure.local>"


class Notice(db.Model):
    """A message shown in the app, written with its email. The text is rendered in the
    user's language when it is written; ``dedupe_key`` (when given) makes a second copy
    impossible, as for emails."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: The topic (a reminder rule's key, ``project.submitted`` …): what a user mutes.
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: Path inside the app of the object the notice is about (None: nothing to open).
    link: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(String(500), nullable=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    is_critical: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_notices_user_unread", "user_id", "read_at"),)


class Mute(db.Model):
    """A user does not want notices or emails of this (non-critical) topic."""

    __tablename__ = "notice_mutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("user_id", "rule", name="uq_mute_user_rule"),)
