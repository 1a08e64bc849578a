"""The archive record of a closed project: when and by whom it was closed, on which basis
(contract completed or terminated), and until when its records are kept (closing date +
policy ``records.retention_years``, 15 by default). Append-only."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..errors import RecordClosed
from ..extensions import db, str_enum
from ..timeutil import utcnow
from . import guard  # noqa: F401 - installs the closed-project flush guard


class Basis(enum.StrEnum):
    COMPLETED = "completed"  # acceptance passed, every installment paid
    TERMINATED = "terminated"  # contract terminated, the settlement paid

    @property
    def label(self):
        return BASIS_LABELS[self]


BASIS_LABELS = {
    Basis.COMPLETED: _l("Contract completed, acceptance passed, fully paid"),
    Basis.TERMINATED: _l("Contract terminated, settlement paid"),
}


class ArchiveRecord(db.Model):
    """One per closed project."""

    __tablename__ = "archive_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), nullable=False, unique=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    basis: Mapped[Basis] = mapped_column(str_enum(Basis), nullable=False)
    closed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: The closing date (Beijing) plus the retention period: nothing is deleted before.
    retain_until: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    #: The contract number at closing, for the archive's search.
    contract_number: Mapped[str | None] = mapped_column(String(40))

    project = relationship("Project")
    contract = relationship("Contract")
    closed_by = relationship("User")


@event.listens_for(ArchiveRecord, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - guard
    raise RecordClosed(_l("An archive record cannot be changed."))


@event.listens_for(ArchiveRecord, "before_delete")
def _refuse_delete(mapper, connection, target):  # pragma: no cover - guard
    raise RecordClosed(_l("An archive record cannot be deleted."))
