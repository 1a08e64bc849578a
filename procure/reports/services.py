"""Report services: the chart every rendering shares, the PDF builder the worker runs,
and the request for a PDF job (the web request never waits on the render)."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from ..budgets import services as budget
from ..budgets.reports import ExecutionReport, budget_execution
from ..charts import bar_chart_svg
from ..documents.services import store_document
from ..errors import ValidationError
from ..jobs import services as jobs
from ..jobs.models import Job
from ..pdf import render_pdf
from ..permissions import require
from ..timeutil import to_local

EXECUTION_PDF = "budget_execution_pdf"
EXECUTION_TASK = "workers.budgets.execution_report"


def execution_chart(report: ExecutionReport, width: int = 640, height: int = 300) -> Markup:
    """The report's chart (by funding source), drawn on the server: the page and the PDF
    show the same SVG."""
    lines = report.by_source
    return bar_chart_svg(
        [line.label for line in lines],
        {_("Appropriated"): [x.appropriated for x in lines], _("Allocated"): [x.allocated for x in lines],
         _("Committed"): [x.committed for x in lines], _("Paid"): [x.paid for x in lines]},
        width=width, height=height, empty_message=_("No appropriations match the filter."))


def execution_pdf(report: ExecutionReport, locale: str = "zh_CN") -> bytes:
    """The budget execution report as PDF bytes (filter and generation time in the
    header of every page, page numbers in the footer, the same chart as the page)."""
    from flask_babel import force_locale

    with force_locale(locale):
        chart = execution_chart(report, width=620, height=260)
        generated = to_local(report.generated_at).strftime("%Y-%m-%d %H:%M")
        return render_pdf("pdf/budget_execution.html", locale=locale, report=report, chart=chart,
                          generated=generated, title=_("Budget execution report"))


def request_execution_pdf(user, year, source_id: int | None = None, department_id: int | None = None) -> Job:
    """Queue a PDF of the budget execution report for ``user``; the caller commits and
    then calls ``jobs.enqueue_job(job, EXECUTION_TASK)``."""
    require(user, "report.view")
    year = budget.check_fiscal_year(year, "year")
    for value, name in ((source_id, "source"), (department_id, "department")):
        if value is not None and not str(value).isdigit():
            raise ValidationError(_("Choose from the list."), field=name)
    params = {"year": year, "source": int(source_id) if source_id else None,
              "department": int(department_id) if department_id else None,
              "locale": getattr(user, "locale", None) or "zh_CN"}
    return jobs.create_job(user, EXECUTION_PDF, params)


def build_execution_pdf(job: Job):
    """The job's work (run in the worker by ``jobs.run_job``): compute, render, store."""
    p = job.params
    jobs.job_progress(job.id, 0, 3, _("Computing the figures"))
    report = budget_execution(p["year"], p.get("source"), p.get("department"))
    jobs.job_progress(job.id, 1, 3, _("Rendering the PDF"))
    data = execution_pdf(report, p.get("locale") or "zh_CN")
    jobs.job_progress(job.id, 2, 3, _("Storing the document"))
    return store_document(job.requested_by, data, f"预算执行情况表-{p['year']}.pdf", "application/pdf",
                          "budget_execution_report", obj=job, permission="report.view")
