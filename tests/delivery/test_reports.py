"""Milestone reports at the service level: the whole loop (draft, submit, revision,
resubmission as a new version, approval), every REPORT_MACHINE move allowed and
forbidden, refusals that write nothing, access, the approved budget breakdown and the
derived "overdue"."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from procure import signals
from procure.audit import AuditEvent
from procure.contracts.models import Contract, ContractState, Milestone
from procure.delivery import services as ds
from procure.delivery.models import (
    REPORT_MACHINE,
    BudgetLine,
    MilestoneReport,
    ReportState,
    ReportSubmission,
    SpendingLine,
)
from procure.documents.models import Document
from procure.errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from procure.notifications.models import Notice
from procure.projects.models import ProjectState
from procure.roles import Role
from procure.tenders.models import Bid

from .conftest import PDF, PNG, first_milestone, full_data, report_in, upload

R = ReportState


@pytest.fixture()
def aw(make, db):
    aw = make.active_contract()
    db.session.commit()
    return aw


def _counts(db) -> tuple:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (MilestoneReport, SpendingLine, Document, AuditEvent, ReportSubmission))


# --- the approved budget breakdown --------------------------------------------------------

def test_budget_lines_filled_from_the_awarded_bid(aw, db):
    lines = {b.category: b.amount for b in ds.budget_lines(aw.contract.id)}
    assert lines == {"personnel": Decimal("36000.00"), "activities": Decimal("15000.00"),
                     "materials": Decimal("6000.00"), "admin": Decimal("3000.00")}
    assert ds.fill_budget_lines(aw.officer, aw.contract) and len(ds.budget_lines(aw.contract.id)) == 4  # idempotent


def test_no_budget_lines_when_the_bid_cannot_be_opened(aw, db):
    db.session.execute(BudgetLine.__table__.delete())
    bid = db.session.get(Bid, aw.contract.bid_id)
    bid.sealed_content = b"\x00" * 60
    db.session.flush()
    assert ds.fill_budget_lines(aw.officer, aw.contract) == []
    assert ds.budget_lines(aw.contract.id) == []


# --- the loop ------------------------------------------------------------------------------

def test_draft_submit_revise_resubmit_approve(aw, db, make, en):
    milestone = first_milestone(aw)
    approved = []
    signals.milestone_report_approved.connect(lambda r, **kw: approved.append((r.id, kw["actor"].id)), weak=False)
    report = ds.save_report(aw.org_user, milestone, full_data(2), seen_revision=0)
    db.session.commit()
    assert report.state == R.DRAFT and report.revision >= 2
    assert [a["indicator"] for a in report.actuals] == ["服务对象人数", "服务时长"]
    assert [a["actual"] for a in report.actuals] == ["100.00", "101.00"]
    assert [(s.category, s.amount) for s in report.spending] == [("personnel", Decimal("12000.00")),
                                                                 ("activities", Decimal("3500.50"))]
    assert len(report.evidence) == 1 and report.evidence[0].document.permission_action == "milestone_report.view"
    assert aw.project.state == ProjectState.CONTRACTED

    sub1 = ds.submit_report(aw.org_user, report, seen_revision=report.revision)
    db.session.commit()
    assert sub1.number == 1 and report.state == R.SUBMITTED and report.submissions_count == 1
    db.session.refresh(aw.project)
    assert aw.project.state == ProjectState.IN_PROGRESS  # the first report submitted
    told = db.session.scalars(select(Notice.user_id).where(Notice.rule == "milestone_report.submitted")).all()
    assert told == [aw.officer.id]

    with pytest.raises(ValidationError) as exc:
        ds.request_revision(aw.officer, report, "  ")
    assert "comment is required" in en(exc.value.message)
    ds.request_revision(aw.officer, report, "请补充活动照片。")
    db.session.commit()
    assert report.state == R.REVISION_REQUESTED
    assert db.session.get(ReportSubmission, sub1.id).decision == R.REVISION_REQUESTED
    told = db.session.scalars(select(Notice.user_id).where(Notice.rule == "milestone_report.decided")).all()
    assert told == [aw.org_user.id]

    ds.save_report(aw.org_user, milestone, ds.ReportData(narrative="补充后的叙述", actuals=["300", "1200.5"],
                                                           spending=[ds.SpendingData("materials", "10", "")],
                                                           evidence_file=upload(PDF, "照片.pdf")),
                   seen_revision=report.revision)
    sub2 = ds.submit_report(aw.org_user, report)
    db.session.commit()
    assert sub2.number == 2 and len(report.evidence) == 2
    ds.approve_report(aw.officer, report, "同意")
    db.session.commit()
    assert report.state == R.APPROVED and approved == [(report.id, aw.officer.id)]
    # each submission kept as a version, as it was submitted
    subs = db.session.scalars(select(ReportSubmission).where(ReportSubmission.report_id == report.id)
                              .order_by(ReportSubmission.number)).all()
    assert [s.content["narrative"] for s in subs] == ["本期完成助餐服务 3200 人次，探访 150 户。", "补充后的叙述"]
    assert [s.decision for s in subs] == [R.REVISION_REQUESTED, R.APPROVED]
    assert subs[0].content["spending"][1] == {"category": "activities", "amount": "3500.50", "description": "活动物资"}
    assert len(subs[0].content["evidence"]) == 1 and len(subs[1].content["evidence"]) == 2
    with pytest.raises(InvalidTransition):
        ds.save_report(aw.org_user, milestone, full_data())  # approved: no more edits


def test_submit_needs_narrative_every_actual_and_evidence(aw, db, en):
    milestone = first_milestone(aw)
    report = ds.save_report(aw.org_user, milestone, ds.ReportData(actuals=["5", ""]))
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        ds.submit_report(aw.org_user, report)
    msg = en(exc.value.message)
    assert "narrative" in msg and "服务时长" in msg and "evidence" in msg
    assert report.state == R.DRAFT and report.submissions_count == 0


# --- the machine, from the registry ------------------------------------------------------

SERVICES = {
    R.SUBMITTED: lambda aw, r: ds.submit_report(aw.org_user, r),
    R.APPROVED: lambda aw, r: ds.approve_report(aw.officer, r, ""),
    R.REVISION_REQUESTED: lambda aw, r: ds.request_revision(aw.officer, r, "请修改"),
}


@pytest.mark.parametrize("current,target", list(itertools.product(list(R), list(R))))
def test_every_report_move_allowed_or_refused(make, db, current, target):
    assert set(REPORT_MACHINE.states) == set(R)
    aw = make.active_contract()
    db.session.commit()
    report = report_in(db, aw, current)
    if target not in SERVICES:  # nothing moves a report back to draft
        assert not REPORT_MACHINE.can(current, target)
        with pytest.raises(InvalidTransition):
            REPORT_MACHINE.check(current, target)
        return
    if REPORT_MACHINE.can(current, target):
        SERVICES[target](aw, report)
        db.session.commit()
        assert db.session.get(MilestoneReport, report.id).state == target
        action = REPORT_MACHINE.action(current, target)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.object_id == str(report.id))) >= 1
    else:
        with pytest.raises(InvalidTransition):
            SERVICES[target](aw, report)
        db.session.rollback()
        assert db.session.get(MilestoneReport, report.id).state == current


# --- refusals that write nothing ------------------------------------------------------------

REFUSALS = {
    "three decimals": (lambda: full_data(spending=[ds.SpendingData("personnel", "10.005", "")]), "two decimals"),
    "unknown category": (lambda: full_data(spending=[ds.SpendingData("bribes", "10", "")]), "budget categories"),
    "negative amount": (lambda: full_data(spending=[ds.SpendingData("personnel", "-1", "")]), "negative"),
    "too many lines": (lambda: full_data(spending=[ds.SpendingData("other", "1", "")] * 51), "At most 50"),
    "negative actual": (lambda: full_data(actuals=["-3", "1"]), "at least 0"),
    "actual not a number": (lambda: full_data(actuals=["很多", "1"]), "at least 0"),
    "actual with NUL": (lambda: full_data(actuals=["1\x00", "1"]), "control characters"),
    "narrative with NUL": (lambda: full_data(narrative="好\x00"), "control characters"),
    "disguised evidence (HTML as PNG)": (lambda: full_data(evidence_file=upload(b"<html><script>x</script>",
                                                                                  "photo.png")), "not accepted"),
    "disguised evidence (PDF named JPG)": (lambda: full_data(evidence_file=upload(PDF, "photo.jpg")),
                                           "its content is PDF"),
    "disguised evidence (no type)": (lambda: full_data(evidence_file=upload(PNG, "photo")), "its content is PNG"),
    "evidence of an unaccepted type": (lambda: full_data(evidence_file=upload(b"a,b\n1,2\n", "x.csv")),
                                       "not accepted"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_with_a_clear_message_and_nothing_written(aw, db, case, en):
    make_data, words = REFUSALS[case]
    before = _counts(db)
    with pytest.raises(ValidationError) as exc:
        ds.save_report(aw.org_user, first_milestone(aw), make_data(), seen_revision=0)
    assert words in en(exc.value.message), en(exc.value.message)
    db.session.rollback()
    assert _counts(db) == before


def test_refusal_on_an_existing_draft_leaves_it_as_it_was(aw, db):
    report = report_in(db, aw, R.DRAFT)
    rev, lines = report.revision, [(s.category, s.amount) for s in report.spending]
    before = _counts(db)
    with pytest.raises(ValidationError):
        ds.save_report(aw.org_user, first_milestone(aw), full_data(spending=[ds.SpendingData("admin", "1.001", "")]),
                       seen_revision=rev)
    db.session.rollback()
    report = db.session.get(MilestoneReport, report.id)
    assert report.revision == rev and [(s.category, s.amount) for s in report.spending] == lines
    assert _counts(db) == before


def test_stale_revision_refused(aw, db, en):
    report = report_in(db, aw, R.DRAFT)
    seen = report.revision
    ds.save_report(aw.org_user, first_milestone(aw), full_data(narrative="第一人保存"), seen_revision=seen)
    db.session.commit()
    before = _counts(db)
    with pytest.raises(Conflict) as exc:
        ds.save_report(aw.org_user, first_milestone(aw), full_data(narrative="第二人保存"), seen_revision=seen)
    assert "Someone else changed this first" in en(exc.value.message)
    db.session.rollback()
    assert db.session.get(MilestoneReport, report.id).narrative == "第一人保存"
    assert _counts(db) == before
    # a form loaded before the report existed, saved after someone created it
    with pytest.raises(Conflict):
        ds.save_report(aw.org_user, first_milestone(aw), full_data(), seen_revision=0)
    db.session.rollback()
    # a stale submit or review
    with pytest.raises(Conflict):
        ds.submit_report(aw.org_user, db.session.get(MilestoneReport, report.id), seen_revision=seen)


def test_another_organization_cannot_report_or_review(aw, db, make):
    other = make.active_contract(officer=make.user(Role.OFFICER))
    db.session.commit()
    milestone = first_milestone(aw)
    before = _counts(db)
    for actor in (other.org_user, aw.officer, make.user(Role.FINANCE), make.admin()):
        with pytest.raises(NotPermitted):
            ds.save_report(actor, milestone, full_data())
        with pytest.raises(NotPermitted):
            ds.open_report(actor, milestone)
    db.session.rollback()
    assert _counts(db) == before
    report = report_in(db, aw, R.SUBMITTED)
    for actor in (other.org_user, other.officer, aw.org_user, make.user(Role.FINANCE)):
        with pytest.raises(NotPermitted):
            ds.approve_report(actor, report)
        with pytest.raises(NotPermitted):
            ds.request_revision(actor, report, "x")
    with pytest.raises(NotPermitted):
        ds.submit_report(other.org_user, report)
    from procure.permissions import can, visible

    assert not can(other.org_user, "milestone_report.view", report)
    assert can(aw.org_user, "milestone_report.view", report) and can(aw.officer, "milestone_report.view", report)
    assert not can(other.officer, "milestone_report.view", report)
    assert db.session.scalars(visible(other.org_user, "milestone_report.view", MilestoneReport)).all() == []


def test_reports_only_on_a_contract_in_force(aw, db):
    db.session.execute(Contract.__table__.update().where(Contract.id == aw.contract.id)
                       .values(state=ContractState.TERMINATED))
    db.session.expire_all()
    with pytest.raises(InvalidTransition):
        ds.save_report(aw.org_user, db.session.get(Milestone, first_milestone(aw).id), full_data())


# --- overdue, derived ------------------------------------------------------------------------

def test_overdue_is_computed_in_one_statement(make, db):
    aw = make.active_contract(due_dates=[date(2026, 4, 30), date(2026, 6, 30)])
    db.session.commit()
    first, second = aw.contract.milestones

    def overdue(today):
        return [m.id for m, _r, o in ds.milestones_of(aw.contract, today) if o]

    def count(today):
        return db.session.scalar(select(func.count()).select_from(Milestone).where(ds.overdue_condition(today)))

    assert overdue(date(2026, 4, 30)) == []  # due today: not yet
    assert overdue(date(2026, 5, 1)) == [first.id] and count(date(2026, 5, 1)) == 1
    assert overdue(date(2026, 7, 1)) == [first.id, second.id]
    report = report_in(db, aw, R.DRAFT)
    assert overdue(date(2026, 5, 1)) == [first.id]  # a draft does not count
    ds.submit_report(aw.org_user, report)
    db.session.commit()
    assert overdue(date(2026, 5, 1)) == []  # submitted
    ds.request_revision(aw.officer, report, "补充")
    db.session.commit()
    assert overdue(date(2026, 5, 1)) == [first.id]  # sent back: not submitted any more
    ds.submit_report(aw.org_user, report)
    ds.approve_report(aw.officer, report)
    db.session.commit()
    assert overdue(date(2026, 7, 1)) == [second.id]  # approved
    db.session.execute(Contract.__table__.update().where(Contract.id == aw.contract.id)
                       .values(state=ContractState.TERMINATED))
    assert count(date(2026, 7, 1)) == 0  # only contracts in force
    assert date(2026, 5, 1) - timedelta(days=1) == first.due_on


def test_evidence_over_the_size_limit_refused(aw, db, app, en, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 50)
    before = _counts(db)
    with pytest.raises(ValidationError) as exc:
        ds.save_report(aw.org_user, first_milestone(aw), full_data(evidence_file=upload(PNG + b"0" * 100)))
    assert "too large" in en(exc.value.message)
    db.session.rollback()
    assert _counts(db) == before
