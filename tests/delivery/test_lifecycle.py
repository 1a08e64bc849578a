"""One contract's whole delivery at the service level, across the packages built in
parallel (delivery, payments, acceptance, archive, organizations): milestone reports with
a revision loop raise their installments, the chain pays them into the ledger, the final
report and a third party's evaluation pass acceptance with a grade, the final installment
is paid, the project closes into the archive, the ledger reconciles and the organization's
page shows the grade."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from procure.acceptance import services as acs
from procure.acceptance.models import AcceptanceState, Grade
from procure.archive import services as arch
from procure.audit import AuditEvent
from procure.budgets import services as budgets
from procure.budgets.models import ContractFunding
from procure.contracts.models import ContractState
from procure.delivery import services as ds
from procure.delivery.models import MilestoneReport, ReportState, ReportSubmission
from procure.payments import services as ps
from procure.payments.models import Payment, PaymentState
from procure.projects.models import ProjectState
from procure.roles import Role
from procure.timeutil import to_local, utcnow

from ..acceptance.conftest import OPINION, REPORT, scores_for
from ..conftest import login
from .conftest import full_data

R, P = ReportState, PaymentState


def _payment_of(db, installment) -> Payment:
    return db.session.scalar(select(Payment).where(Payment.installment_id == installment.id,
                                                   Payment.state != P.REJECTED))


def _pay(db, aw, finance, installment, voucher: str) -> Payment:
    """Raised → the officer confirms → finance approves → finance records it paid."""
    payment = _payment_of(db, installment)
    assert payment is not None and payment.state == P.REQUESTED and payment.amount == installment.amount
    ps.confirm_payment(aw.officer, payment)
    db.session.commit()
    ps.approve_payment(finance, payment)
    db.session.commit()
    assert payment.state == P.APPROVED
    ps.record_paid(finance, payment, voucher, to_local(utcnow()).date())
    db.session.commit()
    assert payment.state == P.PAID
    return payment


def _paid_of_contract(db, contract) -> Decimal:
    return sum((f.paid for f in db.session.scalars(
        select(ContractFunding).where(ContractFunding.contract_id == contract.id))), Decimal(0))


def test_a_contract_from_first_report_to_the_archive(make, db, client):
    aw = make.active_contract()
    finance = make.user(Role.FINANCE)
    db.session.commit()
    contract = aw.contract
    first, second = contract.milestones
    n = len(ds.blank_actuals(contract))

    # milestone 1: report, revision, resubmission, approval
    report = ds.save_report(aw.org_user, first, full_data(n))
    ds.submit_report(aw.org_user, report)
    db.session.commit()
    db.session.refresh(aw.project)
    assert aw.project.state == ProjectState.IN_PROGRESS
    ds.request_revision(aw.officer, report, "请补充服务照片。")
    db.session.commit()
    assert report.state == R.REVISION_REQUESTED and _payment_of(db, contract.installments[0]) is None
    ds.save_report(aw.org_user, first, full_data(n, narrative="已补充服务照片。", evidence_file=None))
    ds.submit_report(aw.org_user, report)
    db.session.commit()
    ds.approve_report(aw.officer, report, "")
    db.session.commit()
    assert report.state == R.APPROVED and report.reviewed_by_id == aw.officer.id
    subs = db.session.scalars(select(ReportSubmission).where(ReportSubmission.report_id == report.id)
                              .order_by(ReportSubmission.number)).all()
    assert [(s.number, s.decision) for s in subs] == [(1, R.REVISION_REQUESTED), (2, R.APPROVED)]
    one = _pay(db, aw, finance, contract.installments[0], "PZ-2026-0001")
    assert one.reviewed_by_id == aw.officer.id
    assert _paid_of_contract(db, contract) == contract.installments[0].amount

    # milestone 2 quickly
    report2 = ds.save_report(aw.org_user, second, full_data(n))
    ds.submit_report(aw.org_user, report2)
    ds.approve_report(aw.officer, report2, "")
    db.session.commit()
    _pay(db, aw, finance, contract.installments[1], "PZ-2026-0002")
    assert db.session.scalar(select(MilestoneReport.state).where(MilestoneReport.id == report2.id)) == R.APPROVED

    # final report with the beneficiaries' opinion, third-party evaluation, acceptance passed
    acc = acs.open_final_report(aw.org_user, contract)
    acs.save_final_report(aw.org_user, acc, acs.ReportData(REPORT, ["310", "1250.5"], OPINION), submit=True)
    db.session.commit()
    db.session.refresh(aw.project)
    assert aw.project.state == ProjectState.ACCEPTANCE
    acs.organize_evaluation(aw.officer, acc, third_party_name="重庆某绩效评价事务所")
    acs.enter_third_party_scores(aw.officer, acc, scores_for(85))
    acs.decide(aw.officer, acc)
    db.session.commit()
    assert acc.state == AcceptanceState.PASSED and acc.grade == Grade.GOOD and acc.score == Decimal("85")
    db.session.refresh(contract)
    assert contract.state == ContractState.COMPLETED

    # the final installment, raised by the acceptance, paid
    final = contract.installments[-1]
    last = _pay(db, aw, finance, final, "PZ-2026-0003")
    assert last.reviewed_by_id == aw.officer.id
    assert _paid_of_contract(db, contract) == contract.amount
    money = ps.contract_money(contract)
    assert money.unpaid == 0

    # closed into the archive
    arch.close_project(aw.officer, aw.project, "验收合格，款项付清。")
    db.session.commit()
    assert aw.project.state == ProjectState.CLOSED
    assert [r.project_id for r in arch.archive_page(aw.officer).items] == [aw.project.id]
    assert budgets.reconcile() == []
    roles = [d.role for d in arch.project_documents(aw.project)]
    assert roles.count("payment_notice") == 3 and "certificate" in roles and roles.count("evidence") == 2
    assert "contract_pdf" in roles and "attached" not in roles  # the contract's PDF is named as such
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "payment.not_raised")) is None

    # the pages: the archive lists it, the organization's page shows the grade
    for who in (finance, aw.officer):  # the organization follows its contract, not the project page
        login(client, who.username)
        page = client.get(f"/projects/{aw.project.id}").get_data(as_text=True)
        assert contract.number in page and "第2阶段服务" in page, who.role  # the milestones part
        assert "结项依据" in page and "retain_until" not in page, who.role  # closing read by its labels
    page = client.get("/archive/").get_data(as_text=True)
    assert aw.project.title in page
    page = client.get(f"/organizations/{aw.org.id}").get_data(as_text=True)
    assert contract.number in page and "良" in page
