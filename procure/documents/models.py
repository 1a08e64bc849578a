"""The Document row: metadata of a stored file (its bytes are on disk)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class Document(db.Model):
    """An uploaded or generated file."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: What the file is, e.g. "budget_report", "bid_attachment", "contract_pdf".
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: The name shown and offered on download (may be Chinese); never used as a path.
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: Hex SHA-256 of the bytes; also their storage key on disk.
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: The object the file belongs to (its ``__tablename__`` and id), if any.
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: The permission action a downloader needs, checked against the object
    #: (or against this document when it belongs to none).
    permission_action: Mapped[str] = mapped_column(String(64), nullable=False)

    owner = relationship("User")

    __table_args__ = (
        db.Index("ix_documents_object", "object_type", "object_id"),
        CheckConstraint("size >= 0", name="document_size_not_negative"),
        CheckConstraint("length(sha256) = 64", name="document_sha256_length"),
    )

    def snapshot(self) -> dict:
        """The audited fields."""
        return {"kind": self.kind, "filename": self.filename, "content_type": self.content_type,
                "size": self.size, "sha256": self.sha256, "owner_id": self.owner_id,
                "object_type": self.object_type, "object_id": self.object_id,
                "permission_action": self.permission_action}

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.filename!r}>"
