"""The evaluator pool: which service categories (fields) each evaluator covers, and
whether they sit as an expert (评审专家) in that field. The committee draw takes its pool
from here: active users with the evaluator role and a row for the project's category."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class EvaluatorField(db.Model):
    """One field (a service category of the guiding catalogue) an evaluator covers."""

    __tablename__ = "evaluator_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"), nullable=False, index=True)
    #: An expert (评审专家) in this field; otherwise e.g. a purchaser's representative.
    is_expert: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    user = relationship("User")
    category = relationship("ServiceCategory")

    __table_args__ = (UniqueConstraint("user_id", "category_id", name="uq_evaluator_fields_user_category"),)

    def snapshot(self) -> dict:
        return {"user_id": self.user_id, "category_id": self.category_id, "is_expert": self.is_expert}
