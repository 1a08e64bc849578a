"""Job operations. ``create_job`` flushes (the caller commits once; the kind's task is
sent after that commit); the task-side helpers (``run_job``, ``job_progress``) commit
themselves, because a task is its own unit of work.

A task is thin::

    @shared_task(name="workers.budgets.execution_report")
    def execution_report(job_id: int) -> str:
        return run_job(job_id, build_execution_report)   # -> "done" / "failed" / "skipped"

    register_task("budget.execution_report", "workers.budgets.execution_report")

    def build_execution_report(job: Job) -> Document:
        rows = ...; job_progress(job.id, 0, len(rows), "…")
        pdf = render_pdf("pdf/budget_report.html", locale="zh_CN", rows=rows)
        return store_document(job.requested_by, pdf, "预算执行情况表.pdf", "application/pdf",
                              "budget_report", obj=job, permission="job.view")

``work`` returns the result Document, or a dict summarizing the outcome for the kind's
page (kept in ``Job.result``), or None. To refuse (nothing written) with a summary,
raise :class:`JobRefused`.

``work`` must not change the Job row itself (``job_progress`` updates it from its own
connection, which would wait on a lock held by the task's session).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import audit, dispatch
from ..documents.models import Document
from ..errors import DomainError
from ..extensions import db
from ..timeutil import utcnow
from .models import FINAL, MACHINE, Job, JobState

log = logging.getLogger(__name__)

MESSAGE_LENGTH = 500


class JobRefused(DomainError):
    """The work refused to finish (its writes are rolled back): the job fails with the
    message, and ``result`` (a dict) is kept for the kind's page."""

    def __init__(self, message, *, result: dict | None = None):
        super().__init__(message)
        self.result = result


def create_job(actor, kind: str, params: dict | None = None) -> Job:
    """A queued job requested by ``actor`` (the caller has checked that the actor may
    ask for this work). Audited as "job.create"; flushes, never commits. The task
    registered for ``kind`` (:func:`register_task`) is sent once the caller's
    transaction commits, so the worker always finds the row; a kind without a task is
    not sent."""
    job = Job(kind=kind, params=dict(params or {}), state=JobState.QUEUED,
              requested_by_id=getattr(actor, "id", actor), created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    audit.record(actor, "job.create", job, after={"kind": kind, "params": job.params, "state": job.state.value})
    if kind in TASK_FOR_KIND:
        dispatch.after_commit(TASK_FOR_KIND[kind], job.id)
    return job


#: The task that runs each kind of job (sent after the commit, and again by the sweep).
TASK_FOR_KIND: dict[str, str] = {}


def register_task(kind: str, task_name: str) -> None:
    """Name the Celery task that runs jobs of ``kind`` (modules call this at import)."""
    TASK_FOR_KIND[kind] = task_name


def requeue_stale(grace: timedelta = timedelta(minutes=2), limit: int = 200) -> int:
    """Send again the queued jobs older than ``grace`` (their sending after the commit
    was lost, e.g. the broker was down, or they wait behind others: a duplicate is
    harmless, :func:`run_job` skips a job that is no longer queued). Returns how many
    were sent."""
    kinds = list(TASK_FOR_KIND)
    if not kinds:
        return 0
    stale = db.session.execute(
        select(Job.id, Job.kind).where(Job.state == JobState.QUEUED, Job.kind.in_(kinds),
                                       Job.created_at <= utcnow() - grace)
        .order_by(Job.id).limit(limit)).all()
    db.session.rollback()  # nothing written; end the read before the tasks run
    for job_id, kind in stale:
        dispatch.send(TASK_FOR_KIND[kind], job_id)
    return len(stale)


def job_progress(job_id: int, done: int, total: int | None = None, message: str | None = None) -> None:
    """Record progress in its own short transaction (committed at once, whatever the
    task's session holds), so the page sees it while the task works. On SQLite, while
    the task's own transaction holds the write lock, the tick is skipped: progress is
    a hint, never a reason to fail the job."""
    values: dict = {"progress_done": max(0, int(done))}
    if total is not None:
        values["progress_total"] = max(0, int(total))
    if message is not None:
        values["message"] = str(message)[:MESSAGE_LENGTH]
    from ..sqlite import short_write

    # SQLite: while the task's own transaction holds the write lock, the tick is skipped.
    with short_write(db.engine) as conn:
        conn.execute(update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING).values(**values))


def _fail(job_id: int, message: str, result: dict | None = None) -> None:
    job = db.session.get(Job, job_id, with_for_update=True)
    if job is None or job.state in FINAL:
        return
    job.finished_at = utcnow()
    job.message = message[:MESSAGE_LENGTH]
    if result is not None:
        job.result = result
    MACHINE.transition(job, JobState.FAILED, None, reason=job.message)


def fail_job(job_id: int, message: str, result: dict | None = None) -> None:
    """Mark a queued or running job failed with ``message`` (and a summary for the
    kind's page); commits."""
    _fail(job_id, message, result)
    # A task is its own unit of work (no view commits for it): the failure must stand
    # even though the work it reports was rolled back.
    db.session.commit()  # stands apart: the failure is recorded though the work was rolled back


def run_job(job_id: int, work: Callable[[Job], Document | dict | None]) -> str:
    """Run ``work(job)`` for a queued job: queued → running (committed), then
    running → done with the returned document (or summary dict) as result (committed
    together with what ``work`` wrote), or → failed with a message if ``work`` raises
    (its writes rolled back; a :class:`JobRefused` keeps its summary). A job not queued
    any more (a duplicate delivery) is skipped.

    Returns "done", "failed" or "skipped".
    """
    job = db.session.get(Job, job_id, with_for_update=True)
    if job is None or job.state != JobState.QUEUED:
        db.session.rollback()
        return "skipped"
    job.started_at = utcnow()
    MACHINE.transition(job, JobState.RUNNING, None)
    # Committed apart from the work: the job's page shows "running" while the work's own
    # transaction is open, and a second delivery of the task sees it is no longer queued.
    db.session.commit()  # stands apart: "running" is visible and a duplicate delivery skips
    try:
        outcome = work(job)
        db.session.refresh(job)
        job.finished_at = utcnow()
        if job.progress_total is not None:
            job.progress_done = job.progress_total
        if isinstance(outcome, dict):
            job.result = outcome
        elif outcome is not None:
            job.result_document_id = outcome.id
        MACHINE.transition(job, JobState.DONE, None,
                           extra={"result_document_id": job.result_document_id})
        # The task's one commit: the work's writes and "done" stand or fall together.
        db.session.commit()  # the task's one commit of the work with its "done"
        return "done"
    except Exception as exc:
        db.session.rollback()
        if isinstance(exc, DomainError):
            message = str(exc.message)
        else:
            log.exception("job %s (%s) failed", job_id, job.kind)
            message = str(_l("The job failed. Please try again or tell an administrator."))
        fail_job(job_id, message, getattr(exc, "result", None))
        return "failed"


# --- a job shared out in chunks --------------------------------------------------------
#
# A job over many items (e.g. the contract PDFs rendered again) that several worker
# processes share: its task (:func:`start_chunks`) plans the items, sets the total and
# creates one child job per chunk (each sent after the commit, and again by the sweep
# if the sending is lost); each child's work does its items and adds its counts to the
# parent (:func:`add_to_parent`, in the child's own transaction: counted exactly when its
# work stands); the child that completes the count finishes the parent.

def start_chunks(job_id: int, plan: Callable[[Job], list], child_kind: str, size: int) -> str:
    """Run the parent job ``job_id``: queued → running with ``progress_total`` = the number
    of items ``plan(job)`` returns, then one child job of ``child_kind`` per ``size``
    items (params ``{"parent": job_id, "items": [...]}``); committed together. Nothing to
    do: done at once. A job not queued any more is skipped. Returns "started", "done",
    "failed" or "skipped"."""
    job = db.session.get(Job, job_id, with_for_update=True)
    if job is None or job.state != JobState.QUEUED:
        db.session.rollback()
        return "skipped"
    try:
        items = list(plan(job))
        job.started_at = utcnow()
        MACHINE.transition(job, JobState.RUNNING, None)
        job.progress_done, job.progress_total, job.result = 0, len(items), {}
        if not items:
            job.finished_at = utcnow()
            MACHINE.transition(job, JobState.DONE, None)
        for start in range(0, len(items), max(1, size)):
            create_job(job.requested_by or job.requested_by_id, child_kind,
                       {"parent": job.id, "items": items[start:start + size]})
        db.session.commit()  # the children are sent after this commit
        return "started" if items else "done"
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s could not be shared out", job_id)
        message = str(exc.message) if isinstance(exc, DomainError) else \
            str(_l("The job failed. Please try again or tell an administrator."))
        fail_job(job_id, message)
        return "failed"


def add_to_parent(parent_id: int, done: int, counts: dict[str, int]) -> None:
    """Add a child's ``done`` items to its parent's progress (one ``UPDATE … SET
    progress_done = progress_done + n``, which holds the parent's row until this
    transaction commits) and its ``counts`` (e.g. rendered, failed) to the parent's
    result under that lock; the child that completes the total finishes the parent
    (done; its message says how many failed). Flushes; the child's commit stands for it."""
    row = db.session.execute(
        update(Job).where(Job.id == parent_id, Job.state == JobState.RUNNING)
        .values(progress_done=Job.progress_done + int(done))
        .returning(Job.progress_done, Job.progress_total)
        .execution_options(synchronize_session=False)).one_or_none()
    if row is None:  # the parent was ended meanwhile (failed by hand): nothing to add to
        return
    parent = db.session.scalars(select(Job).where(Job.id == parent_id)
                                .execution_options(populate_existing=True)).one()
    result = dict(parent.result or {})
    for key, n in counts.items():
        result[key] = int(result.get(key, 0)) + int(n)
    parent.result = result
    if row.progress_total is not None and row.progress_done >= row.progress_total:
        parent.finished_at = utcnow()
        if result.get("failed"):
            parent.message = str(_l("Finished: %(failed)s of %(total)s failed.", failed=result["failed"],
                                    total=row.progress_total))[:MESSAGE_LENGTH]
        MACHINE.transition(parent, JobState.DONE, None, extra={"result": result})
    db.session.flush()


def child_failed(job_id: int, counts_as: str = "failed") -> None:
    """A child job whose work failed as a whole (its writes rolled back): all its items
    count as ``counts_as`` in the parent, so the parent still finishes. Commits."""
    job = db.session.get(Job, job_id)
    if job is None or job.state != JobState.FAILED or not job.params.get("parent"):
        db.session.rollback()
        return
    n = len(job.params.get("items") or ())
    add_to_parent(int(job.params["parent"]), n, {counts_as: n})
    db.session.commit()  # stands apart: the child's failure is already recorded


def run_child(job_id: int, work: Callable[[Job], dict | None]) -> str:
    """:func:`run_job` for a child job, whose failure as a whole still counts in its parent."""
    outcome = run_job(job_id, work)
    if outcome == "failed":
        child_failed(job_id)
    return outcome


def status(job: Job) -> dict:
    """What the progress endpoint returns (without the download URL)."""
    return {
        "id": job.id, "kind": job.kind, "state": job.state.value, "state_label": str(job.state.label),
        "done": job.progress_done, "total": job.progress_total, "percent": job.percent,
        "message": job.message, "is_final": job.state in FINAL,
        "result_document_id": job.result_document_id, "result": job.result,
    }
