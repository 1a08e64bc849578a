"""Spreadsheets of the reports (openpyxl): real numbers with '#,##0.00', totals rows."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from flask_babel import gettext as _

from ..budgets.execution import ExecutionReport, Line
from ..printing import signoff_for, xlsx_signoff
from ..timeutil import to_local

MONEY = "#,##0.00"
PERCENT = "0.0"
#: A Beijing time in a cell (naive: spreadsheets know no time zones; the label says 北京时间).
DATETIME = "yyyy-mm-dd hh:mm"


def beijing(value):
    """A stored (naive UTC) datetime as the naive Beijing time a cell holds."""
    return to_local(value).replace(tzinfo=None) if value is not None else None


def unit_row(ws, unit: str | None = None) -> None:
    """The unit line above a sheet's table (单位：元)."""
    ws.append([unit or _("Unit: yuan")])


def _write(ws, row: int, first: list, line: Line, bold: bool = False) -> None:
    from openpyxl.styles import Font  # here: see procure/pdf.py on heavy imports
    values = first + [line.appropriated, line.allocated, line.committed, line.paid, line.remaining,
                      line.rate]
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        if col > len(first) and col < len(values):
            cell.number_format = MONEY
        elif col == len(values):
            cell.number_format = PERCENT
        if bold:
            cell.font = Font(bold=True)


def budget_execution_xlsx(report: ExecutionReport, prepared_by=None) -> bytes:
    """The budget execution report as an xlsx workbook: detail sheet and summary sheet,
    each with its unit line and the sign-off of ``prepared_by``'s department."""
    from openpyxl import Workbook  # here: see procure/pdf.py on heavy imports
    from openpyxl.styles import Font
    signoff = signoff_for(prepared_by, at=report.generated_at)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Budget execution")
    ws.append([_("Budget execution report"), report.filter_text()])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_("Generated (Beijing time)"), beijing(report.generated_at)])
    ws["B2"].number_format = DATETIME
    heads = [_("Funding source"), _("Department"), _("Project"), _("Appropriated"), _("Allocated"), _("Committed"),
             _("Paid"), _("Remaining"), _("Execution rate (%)")]
    unit_row(ws)
    ws.append(heads)
    for c in ws[4]:
        c.font = Font(bold=True)
    row = 5
    for g in report.groups:
        _write(ws, row, [g.source, g.department, ""], g, bold=True)
        row += 1
        for p in report.projects.get(g.key, []):
            _write(ws, row, [g.source, g.department, p.label], p)
            row += 1
    _write(ws, row, [_("Total"), "", ""], report.total, bold=True)
    xlsx_signoff(ws, signoff)
    for col, width in zip("ABCDEFGHI", (16, 28, 36, 16, 16, 16, 16, 16, 12), strict=True):
        ws.column_dimensions[col].width = width

    for title, lines, first in ((_("By funding source"), report.by_source, _("Funding source")),
                                (_("By department"), report.by_department, _("Department"))):
        sheet = wb.create_sheet(title[:31])
        unit_row(sheet)
        sheet.append([first, _("Appropriated"), _("Allocated"), _("Committed"), _("Paid"), _("Remaining"),
                      _("Execution rate (%)")])
        for c in sheet[2]:
            c.font = Font(bold=True)
        r = 3
        for line in lines:
            _write(sheet, r, [line.label], line)
            r += 1
        _write(sheet, r, [_("Total")], report.total, bold=True)
        xlsx_signoff(sheet, signoff)
        sheet.column_dimensions["A"].width = 30
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def program_summary_xlsx(summary, prepared_by=None) -> bytes:
    """The program summary as an xlsx workbook, with a totals row, its unit line and the
    sign-off of ``prepared_by``'s department."""
    from openpyxl import Workbook  # here: see procure/pdf.py on heavy imports
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = _("Program summary")
    ws.append([_("Program summary"), f"{summary.year_from}–{summary.year_to}"])
    ws["A1"].font = Font(bold=True, size=13)
    unit_row(ws)
    heads = [_("Fiscal year"), _("Service category"), _("Projects")] + [str(s.label) for s in summary.sources] + [
        _("Total funds"), _("Beneficiaries targeted"), _("Beneficiaries served")]
    ws.append(heads)
    for c in ws[3]:
        c.font = Font(bold=True)
    n_src = len(summary.sources)
    for r in summary.rows:
        ws.append([r.year, r.category, r.projects] + [r.funds[s.code] for s in summary.sources] +
                  [r.total_funds, r.targeted, r.served])
    by_source = summary.funds_by_source()
    ws.append([_("Total"), "", sum(r.projects for r in summary.rows)] + [by_source[s.code] for s in summary.sources]
              + [sum(by_source.values()), summary.beneficiaries_targeted, sum(r.served for r in summary.rows)])
    for row in ws.iter_rows(min_row=4):
        for cell in row[3:4 + n_src]:
            cell.number_format = MONEY
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    xlsx_signoff(ws, signoff_for(prepared_by))
    ws.column_dimensions["B"].width = 30
    head = wb.create_sheet(_("Headline"))
    for label, value in ((_("Centrally funded projects"), summary.central_projects),
                         (_("Central funds"), summary.central_funds),
                         (_("Local and social matching funds"), summary.matching_funds),
                         (_("Beneficiaries served"), summary.beneficiaries_served)):
        head.append([label, value])
        if isinstance(value, Decimal):
            head.cell(row=head.max_row, column=2).number_format = MONEY
    head.append([])
    for kind, n in summary.organizations.items():
        head.append([kind, n])
    head.column_dimensions["A"].width = 36
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
