"""The project spending report (DOMAIN.md §7): the figures come from ONE function in
delivery (:func:`procure.delivery.spending.project_spending`), as the budget execution
report's come from budgets; here are its renderings: the xlsx (openpyxl, 单位：元, times in
Beijing time), the PDF (WeasyPrint, rendered by a worker job with progress) and the
request for that job. Page, xlsx and PDF show the same totals."""

from __future__ import annotations

from io import BytesIO

from flask_babel import force_locale
from flask_babel import gettext as _

from ..delivery.spending import ProjectSpending, project_spending, require_project_spending, spending_chart
from ..documents.services import store_document
from ..extensions import db
from ..jobs import services as jobs
from ..jobs.models import Job
from ..pdf import render_pdf
from ..printing import signoff_for, xlsx_signoff
from ..projects.models import Project
from ..timeutil import to_local

SPENDING_PDF = "project_spending_pdf"
SPENDING_TASK = "workers.reports.project_spending"
jobs.register_task(SPENDING_PDF, SPENDING_TASK)

MONEY = "#,##0.00"
PERCENT = "0.0"
UNIT_LINE = "单位：元"


def generated_text(report: ProjectSpending) -> str:
    """The generation time in Beijing time (as the page, the xlsx and the PDF print it)."""
    return to_local(report.generated_at).strftime("%Y-%m-%d %H:%M") + " (北京时间)"


def _spending_signoff(report: ProjectSpending, prepared_by):
    """The preparer's department, else (an organization's staff) the project's."""
    unit = None if getattr(prepared_by, "department", None) else (report.department or None)
    return signoff_for(prepared_by, unit=unit, at=report.generated_at)


def spending_xlsx(report: ProjectSpending, prepared_by=None) -> bytes:
    """The project spending report as an xlsx workbook: one block per contract with a
    total row, and the project's total row (the same totals as the page and the PDF),
    then the sign-off (编制单位, 编制日期, 制表人, 审核人)."""
    from openpyxl import Workbook  # here: see procure/pdf.py on heavy imports
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = _("Project spending")[:31]
    ws.append([_("Project spending report"), report.title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_("Fiscal year"), report.fiscal_year, _("Department"), report.department])
    ws.append([_("Generated"), generated_text(report)])
    ws.append([UNIT_LINE])
    heads = [_("Contract"), _("Category"), _("Approved budget"), _("Confirmed spending"),
             _("Reported, pending review"), _("Variance"), _("Variance rate (%)")]

    def line(first, ln, bold=False):
        ws.append([first, ln.label if ln.category != "total" else _("Total"), ln.approved, ln.confirmed,
                   ln.pending, ln.variance, ln.variance_pct])
        for col, cell in enumerate(ws[ws.max_row], start=1):
            if 3 <= col <= 6:
                cell.number_format = MONEY
            elif col == 7:
                cell.number_format = PERCENT
            if bold:
                cell.font = Font(bold=True)

    for c in report.contracts:
        ws.append([])
        ws.append([f"{c.number} {c.title}", c.organization, _("Contract amount"), c.amount])
        ws.cell(row=ws.max_row, column=4).number_format = MONEY
        if not c.has_breakdown:
            ws.append([_("No approved breakdown")])
        ws.append(heads)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for ln in c.lines:
            line(c.number, ln)
        line(c.number, c.total, bold=True)
        ws.append([_("Administrative costs cap"), f"{(c.cap_share * 100).normalize():f}%", c.admin_cap,
                   c.admin_confirmed, _("Exceeded") if c.admin_over_cap else (
                       _("Would be exceeded once pending reports are approved") if c.admin_over_cap_if_approved
                       else _("Within the cap"))])
        for col in (3, 4):
            ws.cell(row=ws.max_row, column=col).number_format = MONEY
    ws.append([])
    line(_("Project total"), report.total, bold=True)
    xlsx_signoff(ws, _spending_signoff(report, prepared_by))
    for col, width in zip("ABCDEFG", (30, 24, 16, 16, 18, 16, 12), strict=True):
        ws.column_dimensions[col].width = width
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def spending_pdf(report: ProjectSpending, locale: str = "zh_CN", prepared_by=None) -> bytes:
    """The project spending report as PDF bytes (the same chart and totals as the page,
    the sign-off below: the project's department unless ``prepared_by`` has one)."""
    with force_locale(locale):
        prepared = _spending_signoff(report, prepared_by)
        return render_pdf("pdf/project_spending.html", locale=locale, report=report,
                          chart=spending_chart(report, width=620, height=240), unit_line=UNIT_LINE,
                          generated=generated_text(report), title=_("Project spending report"), prepared=prepared)


def request_spending_pdf(user, project: Project) -> Job:
    """Queue a PDF of ``project``'s spending report for ``user`` (who may see it); the
    caller commits once and the task is sent after that commit."""
    require_project_spending(user, project)
    return jobs.create_job(user, SPENDING_PDF, {"project": project.id,
                                                "locale": getattr(user, "locale", None) or "zh_CN"})


def build_spending_pdf(job: Job):
    """The job's work in the worker: compute, render, store (readable by who may read the job)."""
    p = job.params
    jobs.job_progress(job.id, 0, 3, _("Computing the figures"))
    report = project_spending(db.session.get(Project, p["project"]))
    jobs.job_progress(job.id, 1, 3, _("Rendering the PDF"))
    data = spending_pdf(report, p.get("locale") or "zh_CN", job.requested_by)
    jobs.job_progress(job.id, 2, 3, _("Storing the document"))
    return store_document(job.requested_by, data, f"项目支出情况表-{report.project_id}.pdf", "application/pdf",
                          "project_spending_report", obj=job, permission="job.view")
