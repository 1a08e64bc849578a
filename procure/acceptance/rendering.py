"""The acceptance certificate (验收报告) of a decision: rendered by the worker (a job,
``services.CERT_JOB``) from ``templates/pdf/acceptance_certificate.html`` after the
decision's commit, stored as a Document of the acceptance (``acceptance.view``): the
contract, the organization, the grade, the score of each group, the evaluators (or the
third party), the beneficiaries' opinion in summary, the signature lines."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..jobs import services as jobs
from ..jobs.models import Job
from ..money import format_money, rmb_upper
from ..pdf import render_pdf
from ..timeutil import to_local, utcnow
from . import services
from .models import Acceptance, AcceptanceEvaluator

TEMPLATE = "pdf/acceptance_certificate.html"
SUMMARY = 600


def _summary(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SUMMARY else text[:SUMMARY - 1] + "…"


def certificate_context(acc: Acceptance, round_: int | None = None) -> dict:
    round_ = acc.round if round_ is None else round_
    res = services.result(acc, round_)
    evaluators = list(db.session.scalars(select(AcceptanceEvaluator).where(
        AcceptanceEvaluator.acceptance_id == acc.id, AcceptanceEvaluator.round == round_)
        .order_by(AcceptanceEvaluator.id)))
    w = services.weights()
    groups = [{"key": g, "label": services.GROUP_LABELS[g], "weight": w[g], "score": res.groups.get(g)}
              for g in services.GROUPS]
    contract = acc.contract
    return {"acc": acc, "contract": contract, "org": acc.organization, "project": contract.project,
            "round": round_, "groups": groups, "result": res, "evaluators": evaluators,
            "amount_figures": format_money(contract.amount), "amount_upper": rmb_upper(contract.amount),
            "report_summary": _summary(acc.final_report), "opinion_summary": _summary(acc.opinion_text),
            "decided_on": to_local(acc.decided_at).date() if acc.decided_at else None,
            "generated": to_local(utcnow()).strftime("%Y-%m-%d %H:%M")}


def certificate_pdf(acc: Acceptance, round_: int | None = None, locale: str = "zh_CN") -> bytes:
    """The certificate's PDF (nothing stored)."""
    with force_locale(locale):
        return render_pdf(TEMPLATE, locale=locale, title=_("Acceptance report"), **certificate_context(acc, round_))


def build_certificate(job: Job):
    """The job's work in the worker: render the certificate and store it on the acceptance."""
    acc = db.session.get(Acceptance, int(job.params["acceptance_id"]))
    jobs.job_progress(job.id, 0, 2, _("Rendering the PDF"))
    pdf = certificate_pdf(acc, int(job.params.get("round") or acc.round))
    jobs.job_progress(job.id, 1, 2, _("Storing the document"))
    return services.certificate_rendered(job.requested_by, acc, pdf)
