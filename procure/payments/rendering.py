"""The payment notice (拨付通知) PDF: rendered by the worker (a job, ``services.NOTICE_JOB``)
after the payment is recorded paid, from ``templates/pdf/payment_notice.html``; the
amount in figures and in 人民币大写 (procure/money.py); stored as a Document the
organization and staff download (permission ``payment.view``)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..budgets.models import Appropriation, EntryKind, FundingSource, LedgerEntry
from ..documents.models import Document
from ..extensions import db
from ..jobs import services as jobs
from ..jobs.models import Job
from ..money import format_money, rmb_upper
from ..pdf import render_pdf
from ..printing import signoff_for
from . import services
from .models import Payment

TEMPLATE = "pdf/payment_notice.html"


def render_notice(payment: Payment, locale: str = "zh_CN") -> bytes:
    """The notice of ``payment`` as PDF bytes (nothing stored)."""
    contract = payment.contract
    rows = db.session.execute(
        select(FundingSource.name, Appropriation.fiscal_year, LedgerEntry.amount)
        .join(Appropriation, Appropriation.id == LedgerEntry.appropriation_id)
        .join(FundingSource, FundingSource.id == Appropriation.source_id)
        .where(LedgerEntry.payment_id == payment.id, LedgerEntry.kind == EntryKind.PAY)
        .order_by(LedgerEntry.allocation_id)).all()
    sources = [{"name": name, "year": year, "amount": format_money(amount, locale)} for name, year, amount in rows]
    inst = payment.installment
    with force_locale(locale):
        return render_pdf(TEMPLATE, locale=locale, title=_("Payment notice"), payment=payment, contract=contract,
                          installment=inst, milestone=inst.milestone,
                          amount_figures=format_money(payment.amount, locale), amount_upper=rmb_upper(payment.amount),
                          contract_amount=format_money(contract.amount, locale), sources=sources,
                          approvals=payment.approvals,
                          prepared=signoff_for(payment.paid_by, unit=contract.department.name, at=payment.paid_at))


def build_notice_pdf(job: Job) -> Document:
    """The job's work (run in the worker by ``jobs.run_job``): render and store (once)."""
    payment = db.session.get(Payment, int(job.params["payment_id"]))
    if payment.notice_document_id is None:
        jobs.job_progress(job.id, 0, 1, _("Rendering the PDF"))
        services.notice_rendered(job.requested_by, payment, render_notice(payment))
    return db.session.get(Document, payment.notice_document_id)
