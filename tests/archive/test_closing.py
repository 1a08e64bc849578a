"""Closing a project and the archive (issue 11 item 8): the closing rule with clear
refusals and nothing written, the retention date, the guard that refuses any change to a
closed project (services and the flush/statement guard), the archive pages and who may
see them, and two closes at once on PostgreSQL (one wins)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from procure import workflow
from procure.acceptance.models import Acceptance, AcceptanceState
from procure.archive import services as arch
from procure.archive.models import ArchiveRecord, Basis
from procure.audit import AuditEvent
from procure.auth.models import User
from procure.budgets import ledger
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState
from procure.delivery.models import MilestoneReport, ReportState, SpendingLine
from procure.errors import InvalidTransition, NotPermitted, RecordClosed
from procure.payments.models import PaymentState
from procure.projects import services as ps
from procure.projects.models import Project, ProjectState
from procure.roles import Role
from procure.timeutil import to_local, utcnow

from ..conftest import login
from ..delivery.spending_data import report
from ..factories import Factory
from ..threads import race

S = ProjectState


def _pay_all(db, aw) -> None:
    """What is unpaid of the contract, paid under one payment (recorded paid)."""
    locked = ledger.lock_for_money(project_id=aw.project.id, contract_id=aw.contract.id)
    unpaid = sum(f.committed - f.paid for f in locked.fundings.values())
    if not unpaid:
        return
    payment = Factory(db).payment(aw.contract, unpaid, state=PaymentState.PAID)
    for (cid, alloc_id), f in sorted(locked.fundings.items()):
        if f.committed > f.paid:
            ledger.pay(locked, alloc_id, cid, f.committed - f.paid, payment_id=payment.id, actor=aw.officer)
    db.session.flush()


def _complete(db, aw, *, paid=True, passed=True) -> None:
    """Contract completed after acceptance (as the acceptance service will do it)."""
    if paid:
        _pay_all(db, aw)
    db.session.execute(update(Contract).where(Contract.id == aw.contract.id).values(state=ContractState.COMPLETED))
    db.session.execute(update(Project).where(Project.id == aw.project.id).values(state=S.ACCEPTANCE))
    db.session.add(Acceptance(contract_id=aw.contract.id, organization_id=aw.org.id,
                              state=AcceptanceState.PASSED if passed else AcceptanceState.EVALUATING,
                              created_by_id=aw.officer.id))
    db.session.flush()
    db.session.expire_all()


@pytest.fixture()
def done(make, db):
    aw = make.active_contract()
    report(db, aw.contract, aw.contract.milestones[0], ReportState.APPROVED, [("personnel", "100.00")], aw.org_user)
    _complete(db, aw)
    make.commit()
    return aw


def _nothing_written(db, aw, state):
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Project, aw.project.id).state == state
    assert db.session.scalar(select(func.count()).select_from(ArchiveRecord)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "project.close")) == 0


def test_close_a_completed_project(done, db):
    aw = done
    record = arch.close_project(aw.officer, db.session.get(Project, aw.project.id), "资料齐全")
    db.session.commit()
    project = db.session.get(Project, aw.project.id)
    assert project.state == S.CLOSED and record.basis == Basis.COMPLETED
    today = to_local(utcnow()).date()
    assert record.retain_until == today.replace(year=today.year + 15)
    ev = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "project.close")).one()
    assert ev.before == {"state": "acceptance"} and ev.after["basis"] == "completed"
    assert ev.after["retain_until"] == record.retain_until.isoformat() and ev.after["reason"] == "资料齐全"


def test_retention_date_on_29_february():
    assert arch.retain_until(date(2028, 2, 29), 15) == date(2043, 2, 28)
    assert arch.retain_until(date(2026, 11, 27), 15) == date(2041, 11, 27)


def test_close_a_terminated_and_settled_project_from_contracted(make, db):
    aw = make.active_contract()
    cs.terminate_contract(aw.officer, aw.contract, "机构无法继续履约", "18000.00")
    make.commit()
    with pytest.raises(InvalidTransition, match="结算款尚有"):
        arch.close_project(aw.officer, aw.project)
    _nothing_written(db, aw, S.CONTRACTED)
    _pay_all(db, aw)
    db.session.commit()
    record = arch.close_project(aw.officer, db.session.get(Project, aw.project.id))
    db.session.commit()
    assert record.basis == Basis.TERMINATED and db.session.get(Project, aw.project.id).state == S.CLOSED


@pytest.mark.parametrize("case", ["active", "unpaid", "not_passed", "report_waiting"])
def test_closing_too_early_is_refused_with_a_reason_and_nothing_written(make, db, case):
    aw = make.active_contract()
    messages = {"active": "仍在履行", "unpaid": "未拨付", "not_passed": "验收尚未通过", "report_waiting": "待审核"}
    state = S.CONTRACTED
    if case != "active":
        _complete(db, aw, paid=case != "unpaid", passed=case != "not_passed")
        state = S.ACCEPTANCE
    if case == "report_waiting":
        report(db, aw.contract, aw.contract.milestones[1], ReportState.SUBMITTED, [], aw.org_user)
    make.commit()
    with pytest.raises(InvalidTransition, match=messages[case]):
        arch.close_project(aw.officer, db.session.get(Project, aw.project.id))
    _nothing_written(db, aw, state)


def test_only_the_projects_officer_closes(done, make, db):
    other_officer, fin = make.user(Role.OFFICER), make.finance()
    make.commit()
    for user in (other_officer, fin, done.org_user):
        with pytest.raises(NotPermitted):
            arch.close_project(user, db.session.get(Project, done.project.id))
    _nothing_written(db, done, S.ACCEPTANCE)


# --- nothing in a closed project changes ------------------------------------------------

@pytest.fixture()
def closed(done, db):
    arch.close_project(done.officer, db.session.get(Project, done.project.id))
    db.session.commit()
    db.session.expire_all()
    return done


def test_services_refuse_to_edit_a_closed_project(closed, db):
    project = db.session.get(Project, closed.project.id)
    with pytest.raises(RecordClosed, match="已结项归档"):
        ps.record_beneficiaries_served(closed.officer, project, 120)
    with pytest.raises(RecordClosed):
        ps.cancel_project(closed.officer, project, "撤销")
    with pytest.raises(InvalidTransition):
        ps.advance_project(closed.officer, project, S.IN_PROGRESS)
    with pytest.raises(RecordClosed):
        arch.close_project(closed.officer, project)
    db.session.rollback()
    assert db.session.get(Project, closed.project.id).beneficiaries_served is None


def _edits(closed, db):
    """Ways to change something in the closed project, behind the services' backs."""
    cid, pid = closed.contract.id, closed.project.id

    def edit_contract():
        db.session.get(Contract, cid).title = "改过的标题"
        db.session.flush()

    def delete_spending():
        db.session.delete(db.session.scalars(select(SpendingLine).where(SpendingLine.contract_id == cid)).first())
        db.session.flush()

    def add_spending():
        rep = db.session.scalars(select(MilestoneReport).where(MilestoneReport.contract_id == cid)).first()
        db.session.add(SpendingLine(report_id=rep.id, contract_id=cid, position=99, category="other",
                                    amount=Decimal("1.00")))
        db.session.flush()

    def move_report():  # a compare-and-set UPDATE statement, as every transition is
        db.session.execute(update(MilestoneReport).where(MilestoneReport.contract_id == cid)
                           .values(state=ReportState.SUBMITTED))

    def delete_reports():
        db.session.execute(delete(SpendingLine).where(SpendingLine.contract_id == cid))

    def claim_project():
        workflow.claim_revision(db.session.get(Project, pid), None)

    def edit_project():
        db.session.get(Project, pid).title = "改过"
        db.session.flush()

    return [edit_contract, delete_spending, add_spending, move_report, delete_reports, claim_project, edit_project]


def test_the_guard_refuses_any_write_to_a_closed_project(closed, db, make):
    before = db.session.get(Contract, closed.contract.id).title
    for edit in _edits(closed, db):
        with pytest.raises(RecordClosed):
            edit()
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Contract, closed.contract.id).title == before
    assert db.session.scalar(select(func.count()).select_from(SpendingLine)
                             .where(SpendingLine.contract_id == closed.contract.id)) == 1
    # another, open project is not affected
    other = make.active_contract()
    other.contract.title = "可以修改"
    db.session.flush()
    db.session.execute(update(Contract).where(Contract.id == other.contract.id).values(title="仍可修改"))
    make.commit()


# --- pages ------------------------------------------------------------------------------

def test_archive_pages_and_close_through_the_page(done, client, make, db):
    from procure.delivery.models import ReportEvidence
    from procure.documents.services import store_document

    contract = db.session.get(Contract, done.contract.id)
    doc = store_document(done.officer, b"%PDF-1.4 test", "合同.pdf", "application/pdf", "contract_pdf", obj=contract,
                         permission="contract.view")
    ev_doc = store_document(done.org_user, b"\x89PNG test", "签到表.png", "image/png", "evidence")
    rep = db.session.scalars(select(MilestoneReport).where(MilestoneReport.contract_id == contract.id)).first()
    db.session.add(ReportEvidence(report_id=rep.id, document_id=ev_doc.id, caption="签到表",
                                  added_by_id=done.org_user.id))
    make.commit()
    login(client, done.officer.username)
    page = client.get("/archive/").get_data(as_text=True)
    assert 'id="ready-to-close"' in page and done.project.title in page
    resp = client.post(f"/archive/{done.project.id}/close", data={"note": "归档"})
    assert resp.status_code == 302 and resp.location.endswith(f"/archive/{done.project.id}")
    detail = client.get(f"/archive/{done.project.id}").get_data(as_text=True)
    record = db.session.scalar(select(ArchiveRecord))
    r = record.retain_until
    assert f'id="retain-until">{r.year}年{r.month}月{r.day}日<' in detail  # in the reader's form
    assert "合同.pdf" in detail and "签到表.png" in detail and f"/documents/{doc.id}" in detail
    listing = client.get(f"/archive/?q={done.project.title}&year={done.project.fiscal_year}").get_data(as_text=True)
    assert f"/archive/{done.project.id}" in listing and 'id="ready-to-close"' not in listing
    assert "No closed project matches" in client.get("/archive/?q=不存在的项目").get_data(as_text=True) or \
        "没有" in client.get("/archive/?q=不存在的项目").get_data(as_text=True)
    project_page = client.get(f"/projects/{done.project.id}").get_data(as_text=True)
    assert f'href="/archive/{done.project.id}"' in project_page
    assert f"/projects/{done.project.id}/served" not in project_page  # no edit form on a closed project
    # a second close through the page: refused with the reason, nothing more written
    again = client.post(f"/archive/{done.project.id}/close", follow_redirects=True).get_data(as_text=True)
    assert "closed" in again or "归档" in again
    assert db.session.scalar(select(func.count()).select_from(ArchiveRecord)) == 1


def test_archive_access(closed, client, make, db):
    pid = closed.project.id
    users = {"finance": make.finance(), "admin": make.admin(), "stranger": make.user(Role.OFFICER),
             "evaluator": make.user(Role.EVALUATOR)}
    make.commit()
    expect = {"finance": 200, "admin": 200, "stranger": 403, "evaluator": 403}
    for name, user in users.items():
        login(client, user.username)
        assert client.get(f"/archive/{pid}").status_code == expect[name], name
        assert client.get("/archive/").status_code == (403 if name == "evaluator" else 200), name
        client.post("/logout")
    login(client, closed.org_user.username)
    assert client.get("/archive/").status_code == 403
    assert client.get(f"/archive/{pid}").status_code == 403
    assert client.post(f"/archive/{pid}/close").status_code == 403
    client.post("/logout")
    login(client, users["stranger"].username)
    listing = client.get("/archive/").get_data(as_text=True)
    assert closed.project.title not in listing


# --- two closes at once -----------------------------------------------------------------

def test_two_closes_at_once_close_once(app, make, db):
    aw = make.active_contract()
    second = make.user(Role.OFFICER)
    second.department_id = aw.officer.department_id
    _complete(db, aw)
    make.commit()
    ids = (aw.officer.id, second.id)
    pid = aw.project.id

    def closer(uid):
        def fn(d):
            arch.close_project(d.session.get(User, uid), d.session.get(Project, pid))
        return fn

    ok, refused = race(app, [closer(ids[0]), closer(ids[1])])
    assert len(ok) == 1 and len(refused) == 1, (ok, refused)
    assert refused[0][1] in ("RecordClosed", "Conflict", "InvalidTransition")
    db.session.expire_all()
    assert db.session.get(Project, pid).state == S.CLOSED
    assert db.session.scalar(select(func.count()).select_from(ArchiveRecord)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "project.close")) == 1
