"""Report services: the charts every rendering shares (the execution chart is budgets'),
the PDF builder the worker runs, and the request for a PDF job (the web request never waits on the render)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..budgets.execution import ExecutionReport, execution_chart
from ..budgets.models import ZERO
from ..charts import bar_chart_svg, responsive
from ..documents.services import store_document
from ..errors import ValidationError
from ..jobs import services as jobs
from ..jobs.models import Job
from ..organizations.models import KIND_LABELS, OrgKind
from ..parsing import check_fiscal_year, parse_id
from ..pdf import render_pdf
from ..permissions import require
from ..printing import signoff_for
from ..timeutil import to_local, utcnow
from .execution import budget_execution
from .summary import program_summary

EXECUTION_PDF = "budget_execution_pdf"
EXECUTION_TASK = "workers.budgets.execution_report"
jobs.register_task(EXECUTION_PDF, EXECUTION_TASK)


def summary_chart(summary, width: int | None = None, height: int = 260) -> Markup:
    """Funds by fiscal year and source for the program summary (page and PDF)."""
    years = list(range(summary.year_from, summary.year_to + 1))
    series = {}
    for src in summary.sources:
        per_year = dict.fromkeys(years, ZERO)
        for r in summary.rows:
            per_year[r.year] += r.funds.get(src.code, ZERO)
        series[str(src.label)] = [per_year[y] for y in years]

    def draw(w: int, h: int) -> Markup:
        return bar_chart_svg([str(y) for y in years], series, width=w, height=h,
                             empty_message=_("No funded projects in these years."), unit="wan",
                             unit_label=_("Unit: 10,000 yuan"))
    return draw(width, height) if width else responsive(draw, height)


def execution_pdf(report: ExecutionReport, locale: str = "zh_CN", prepared_by=None) -> bytes:
    """The budget execution report as PDF bytes (filter and generation time in the
    header of every page, page numbers in the footer, the same chart as the page, the
    sign-off of ``prepared_by``'s department below the table)."""
    with force_locale(locale):
        prepared = signoff_for(prepared_by, at=report.generated_at)
        chart = execution_chart(report, width=620, height=260)
        generated = to_local(report.generated_at).strftime("%Y-%m-%d %H:%M")
        return render_pdf("pdf/budget_execution.html", locale=locale, report=report, chart=chart,
                          generated=generated, title=_("Budget execution report"), prepared=prepared)


def request_execution_pdf(user, year, source_id: int | None = None, department_id: int | None = None) -> Job:
    """Queue a PDF of the budget execution report for ``user``; the caller commits once and
    the task is sent after that commit."""
    require(user, "report.view")
    year = check_fiscal_year(year, "year")
    for value, name in ((source_id, "source"), (department_id, "department")):
        # An id the worker's query could not take is refused here, not in the worker.
        if value is not None and parse_id(value) is None:
            raise ValidationError(_("Choose from the list."), field=name)
    params = {"year": year, "source": parse_id(source_id) if source_id else None,
              "department": parse_id(department_id) if department_id else None,
              "locale": getattr(user, "locale", None) or "zh_CN"}
    return jobs.create_job(user, EXECUTION_PDF, params)


def build_execution_pdf(job: Job):
    """The job's work (run in the worker by ``jobs.run_job``): compute, render, store."""
    p = job.params
    jobs.job_progress(job.id, 0, 3, _("Computing the figures"))
    report = budget_execution(p["year"], p.get("source"), p.get("department"))
    jobs.job_progress(job.id, 1, 3, _("Rendering the PDF"))
    data = execution_pdf(report, p.get("locale") or "zh_CN", job.requested_by)
    jobs.job_progress(job.id, 2, 3, _("Storing the document"))
    return store_document(job.requested_by, data, f"预算执行情况表-{p['year']}.pdf", "application/pdf",
                          "budget_execution_report", obj=job, permission="report.view")


SUMMARY_PDF = "program_summary_pdf"
SUMMARY_TASK = "workers.budgets.program_summary_report"
jobs.register_task(SUMMARY_PDF, SUMMARY_TASK)


def summary_pdf(summary, locale: str = "zh_CN", prepared_by=None) -> bytes:
    """The program summary as PDF bytes (the same figures and chart as the page, the
    sign-off of ``prepared_by``'s department below the table)."""
    with force_locale(locale):
        return render_pdf("pdf/program_summary.html", locale=locale, s=summary,
                          chart=summary_chart(summary, width=620, height=240),
                          kind_labels={k.value: KIND_LABELS[k] for k in OrgKind},
                          generated=to_local(utcnow()).strftime("%Y-%m-%d %H:%M"), title=_("Program summary"),
                          prepared=signoff_for(prepared_by))


def request_summary_pdf(user, year_from, year_to) -> Job:
    """Queue a PDF of the program summary; the caller commits, then enqueues."""
    require(user, "report.view")
    y_from = check_fiscal_year(year_from, "from")
    y_to = check_fiscal_year(year_to, "to")
    if y_from > y_to:
        raise ValidationError(_("The first year comes after the last."), field="from")
    return jobs.create_job(user, SUMMARY_PDF, {"from": y_from, "to": y_to,
                                               "locale": getattr(user, "locale", None) or "zh_CN"})


def build_summary_pdf(job: Job):
    """The job's work in the worker: compute, render, store."""
    p = job.params
    jobs.job_progress(job.id, 0, 2, _("Computing the figures"))
    data = summary_pdf(program_summary(p["from"], p["to"]), p.get("locale") or "zh_CN")
    jobs.job_progress(job.id, 1, 2, _("Storing the document"))
    return store_document(job.requested_by, data, f"项目汇总-{p['from']}-{p['to']}.pdf", "application/pdf",
                          "program_summary_report", obj=job, permission="report.view")
