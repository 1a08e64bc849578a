"""The Job row: one background job, its state and progress."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import workflow
from ..extensions import db, str_enum
from ..timeutil import utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self):
        return {JobState.QUEUED: _l("Waiting"), JobState.RUNNING: _l("Running"),
                JobState.DONE: _l("Done"), JobState.FAILED: _l("Failed")}[self]


#: queued → running → done; queued or running → failed. Done and failed are final
#: (ask for a new job instead of rerunning one).
ALLOWED = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.FAILED}),
    JobState.RUNNING: frozenset({JobState.DONE, JobState.FAILED}),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
}
FINAL = frozenset({JobState.DONE, JobState.FAILED})
MACHINE = workflow.Machine("job", JobState, ALLOWED, actions={
    JobState.RUNNING: "start", JobState.DONE: "done", JobState.FAILED: "fail"},
    labels={"start": _l("Job started"), "done": _l("Job finished"), "fail": _l("Job failed")})


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: What the job does, e.g. "budget.execution_report".
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[JobState] = mapped_column(
        str_enum(JobState, 10),
        nullable=False, default=JobState.QUEUED, index=True)
    #: The task's arguments (ids, filters), JSON-serializable.
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: None while the size of the work is unknown.
    progress_total: Mapped[int | None] = mapped_column(Integer)
    #: Last progress or error message shown to the user.
    message: Mapped[str | None] = mapped_column(String(500))
    result_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    #: A summary of the outcome that the kind's page shows (e.g. an import's counts and
    #: its bad rows with their line numbers); None for jobs whose result is a file.
    result: Mapped[dict | None] = mapped_column(JSON)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    requested_by = relationship("User")
    result_document = relationship("Document")

    __table_args__ = (
        CheckConstraint("state NOT IN ('done', 'failed') OR finished_at IS NOT NULL", name="job_final_has_finished_at"),
        CheckConstraint("progress_done >= 0 AND (progress_total IS NULL OR progress_total >= 0)",
                        name="job_progress_not_negative"),
    )

    @property
    def percent(self) -> int:
        """0–100; 100 when done, whatever the counts say."""
        if self.state == JobState.DONE:
            return 100
        if not self.progress_total:
            return 0
        return max(0, min(100, self.progress_done * 100 // self.progress_total))

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"
