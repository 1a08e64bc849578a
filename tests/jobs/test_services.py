"""Jobs: every transition, run_job's outcomes, progress in its own transaction."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procure.audit import AuditEvent
from procure.documents.models import Document
from procure.documents.services import store_document
from procure.errors import DomainError, InvalidTransition
from procure.jobs import services
from procure.jobs.models import MACHINE, Job, JobState
from procure.roles import Role
from procure.timeutil import utcnow


@pytest.fixture(autouse=True)
def _documents_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(tmp_path / "documents"))


def _fresh(db, job_id: int) -> Job:
    """The row as committed (read through a separate session)."""
    with Session(db.engine) as session:
        job = session.get(Job, job_id)
        session.expunge(job)
        return job


def test_create_job_is_queued_and_audited(db, make):
    user = make.user(Role.FINANCE)
    job = services.create_job(user, "budget.execution_report", {"year": 2026})
    assert job.state == JobState.QUEUED and job.params == {"year": 2026} and job.requested_by_id == user.id
    assert job.percent == 0
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "job.create"))
    assert event.object_id == str(job.id) and event.actor_id == user.id


EXPECTED = {
    (JobState.QUEUED, JobState.RUNNING), (JobState.QUEUED, JobState.FAILED),
    (JobState.RUNNING, JobState.DONE), (JobState.RUNNING, JobState.FAILED),
}


@pytest.mark.parametrize("current, to", list(itertools.product(JobState, JobState)))
def test_every_transition(db, make, current, to):
    job = services.create_job(make.user(Role.FINANCE), "k")
    job.state, job.finished_at = current, utcnow()  # the final states need finished_at
    if (current, to) in EXPECTED:
        MACHINE.transition(job, to, None)
        assert job.state == to
    else:
        with pytest.raises(InvalidTransition):
            MACHINE.transition(job, to, None)
        assert job.state == current


def test_run_job_done_with_its_document(db, make):
    user = make.user(Role.FINANCE)
    job = services.create_job(user, "k")
    make.commit()
    seen = {}

    def work(job):
        services.job_progress(job.id, 1, 3, "第一部分")
        seen["mid"] = _fresh(db, job.id)  # committed while the task still works
        return store_document(user, b"%PDF-1.7 result", "结果.pdf", "application/pdf", "report", obj=job,
                              permission="job.view")

    assert services.run_job(job.id, work) == "done"
    mid = seen["mid"]
    assert (mid.state, mid.progress_done, mid.progress_total, mid.message) == (JobState.RUNNING, 1, 3, "第一部分")
    done = _fresh(db, job.id)
    assert done.state == JobState.DONE and done.finished_at and done.started_at
    assert done.progress_done == 3 and done.percent == 100
    doc = db.session.get(Document, done.result_document_id)
    assert doc.object_type == "jobs" and doc.object_id == str(job.id)
    transitions = db.session.scalars(sa.select(AuditEvent.after).where(
        AuditEvent.action.in_(["job.start", "job.done"]), AuditEvent.object_type == "jobs")).all()
    assert [t["state"] for t in transitions] == ["running", "done"]


@pytest.mark.parametrize("error, message", [
    (DomainError("该年度没有预算数据"), "该年度没有预算数据"),
    (RuntimeError("boom"), "The job failed. Please try again or tell an administrator."),
])
def test_run_job_failure_rolls_back_the_work_and_says_why(app, db, make, tmp_path, error, message):
    user = make.user(Role.FINANCE)
    job = services.create_job(user, "k")
    make.commit()

    def work(job):
        store_document(user, b"half-written", "x.pdf", "application/pdf", "report", obj=job, permission="job.view")
        raise error

    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        assert services.run_job(job.id, work) == "failed"
    failed = _fresh(db, job.id)
    assert failed.state == JobState.FAILED and failed.finished_at and failed.message == message
    assert failed.result_document_id is None
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0
    assert not any(p.is_file() for p in (tmp_path / "documents").rglob("*"))


def test_run_job_skips_a_job_that_is_not_queued(db, make):
    job = services.create_job(make.user(Role.FINANCE), "k")
    make.commit()
    assert services.run_job(job.id, lambda j: None) == "done"
    calls = []
    assert services.run_job(job.id, calls.append) == "skipped"
    assert services.run_job(987654, calls.append) == "skipped"
    assert calls == []


def test_progress_only_moves_running_jobs(db, make):
    job = services.create_job(make.user(Role.FINANCE), "k")
    make.commit()
    services.job_progress(job.id, 5, 10, "x")
    assert _fresh(db, job.id).progress_done == 0  # still queued


def test_fail_job_and_percent(db, make):
    job = services.create_job(make.user(Role.FINANCE), "k")
    job.state, job.progress_done, job.progress_total = JobState.RUNNING, 1, 3
    assert job.percent == 33
    job.progress_total = 0
    assert job.percent == 0
    make.commit()
    services.fail_job(job.id, "stopped")
    assert _fresh(db, job.id).state == JobState.FAILED
    services.fail_job(job.id, "again")  # final: nothing changes
    assert _fresh(db, job.id).message == "stopped"


def test_the_kinds_task_is_sent_after_the_commit_and_never_on_rollback(app, db, make, monkeypatch):
    from procure import dispatch

    sent = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args: sent.append((name, args)))
    monkeypatch.setitem(services.TASK_FOR_KIND, "sent-kind", "tests.jobs.sent_task")
    user = make.user(Role.FINANCE)
    make.commit()
    job = services.create_job(user, "sent-kind")
    db.session.flush()
    assert sent == []  # not before the commit: the worker would not find the row
    db.session.rollback()
    assert sent == []
    job = services.create_job(user, "sent-kind")
    services.create_job(user, "k")  # no task registered: nothing sent
    db.session.commit()
    assert sent == [("tests.jobs.sent_task", (job.id,))]


def test_a_lost_enqueue_is_swept_later(app, db, make, monkeypatch):
    """The broker is down when the job's transaction commits: the request does not
    fail, the job stays queued, and the sweep sends it once it is older than the grace
    period."""
    from datetime import timedelta

    sent: list[tuple[str, int]] = []
    monkeypatch.setitem(services.TASK_FOR_KIND, "sweep-test", "tests.sweep_task")
    monkeypatch.setitem(app.config, "CELERY", dict(app.config["CELERY"], task_always_eager=False))

    class DownCelery:
        tasks: dict = {}

        class conf:
            task_always_eager = False

        def send_task(self, name, args):
            raise ConnectionError("broker down")

    monkeypatch.setitem(app.extensions, "celery", DownCelery())
    user = make.user(Role.FINANCE)
    job = services.create_job(user, "sweep-test", {})
    db.session.commit()  # the send after the commit fails: no exception reaches the view
    assert services.requeue_stale(grace=timedelta(minutes=2)) == 0  # too young

    class UpCelery(DownCelery):
        def send_task(self, name, args):
            sent.append((name, args[0]))

    monkeypatch.setitem(app.extensions, "celery", UpCelery())
    assert services.requeue_stale(grace=timedelta(seconds=-1)) == 1
    assert sent == [("tests.sweep_task", job.id)]
    services.fail_job(job.id, "given up")  # a finished job is never sent again
    db.session.expire_all()
    assert services.requeue_stale(grace=timedelta(seconds=-1)) == 0


def test_a_refused_job_fails_with_its_summary(db, make):
    job = services.create_job(make.user(Role.FINANCE), "k")
    db.session.commit()

    def refuse(job):
        raise services.JobRefused("nothing written", result={"errors": [{"line": 3, "message": "bad"}]})

    assert services.run_job(job.id, refuse) == "failed"
    fresh = _fresh(db, job.id)
    assert fresh.state == JobState.FAILED and fresh.message == "nothing written"
    assert fresh.result == {"errors": [{"line": 3, "message": "bad"}]}


def test_a_summary_is_kept_as_the_result(db, make):
    job = services.create_job(make.user(Role.FINANCE), "k")
    db.session.commit()
    assert services.run_job(job.id, lambda job: {"created": 2}) == "done"
    fresh = _fresh(db, job.id)
    assert fresh.state == JobState.DONE and fresh.result == {"created": 2} and fresh.result_document_id is None
