"""Concurrent review and submission of one report (PostgreSQL, real threads): one wins,
the other is told someone changed it first; nothing is decided or numbered twice."""

from __future__ import annotations

from sqlalchemy import select

from procure.auth.models import User
from procure.delivery import services as ds
from procure.delivery.models import MilestoneReport, ReportState, ReportSubmission

from ..threads import race
from .conftest import report_in

R = ReportState


def _report(d, rid):
    return d.session.get(MilestoneReport, rid)


def test_approve_and_request_revision_at_once(app, db, make, en):
    aw = make.active_contract()
    db.session.commit()
    second = make.user(aw.officer.role, department=aw.officer.department)
    db.session.commit()
    report = report_in(db, aw, R.SUBMITTED)
    rid, seen, officers = report.id, report.revision, (aw.officer.id, second.id)

    def approve(d):
        ds.approve_report(d.session.get(User, officers[0]), _report(d, rid), "同意", seen_revision=seen)

    def revise(d):
        ds.request_revision(d.session.get(User, officers[1]), _report(d, rid), "请补充", seen_revision=seen)

    ok, refused = race(app, [approve, revise])
    assert len(ok) == 1 and len(refused) == 1, (ok, refused)
    assert refused[0][1] == "Conflict" and "刷新页面" in refused[0][2]  # "changed by someone else — reload"
    db.session.expire_all()
    report = db.session.get(MilestoneReport, rid)
    assert report.state == (R.APPROVED if ok == [0] else R.REVISION_REQUESTED)
    subs = db.session.scalars(select(ReportSubmission).where(ReportSubmission.report_id == rid)).all()
    assert len(subs) == 1 and subs[0].decision == report.state


def test_two_submits_at_once(app, db, make, en):
    aw = make.active_contract()
    db.session.commit()
    colleague = make.user(aw.org_user.role, organization=aw.org)
    db.session.commit()
    report = report_in(db, aw, R.DRAFT)
    rid, users = report.id, (aw.org_user.id, colleague.id)

    def submit(d, uid):
        ds.submit_report(d.session.get(User, uid), _report(d, rid))

    ok, refused = race(app, [lambda d: submit(d, users[0]), lambda d: submit(d, users[1])])
    assert len(ok) == 1 and len(refused) == 1, (ok, refused)
    assert refused[0][1] == "Conflict" and "刷新页面" in refused[0][2]
    db.session.expire_all()
    report = db.session.get(MilestoneReport, rid)
    assert report.state == R.SUBMITTED and report.submissions_count == 1
    numbers = db.session.scalars(select(ReportSubmission.number).where(ReportSubmission.report_id == rid)).all()
    assert numbers == [1]


def test_conflict_message_says_reload(app, db, make, en):
    from procure import workflow

    assert "Reload" in en(workflow.STALE)
