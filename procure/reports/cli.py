"""``flask reports budget-execution|program-summary`` (found by ``procure.cli`` like
views)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from ..errors import DomainError
from ..parsing import check_fiscal_year
from . import services
from .execution import budget_execution as compute_execution
from .summary import program_summary
from .xlsx import budget_execution_xlsx, program_summary_xlsx

cli = AppGroup("reports", help="Reports rendered to files.")


@cli.command("budget-execution")
@click.option("--year", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf"]), default="xlsx")
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option("--source", type=int, default=None, help="Funding source id")
@click.option("--department", type=int, default=None, help="Department id")
def budget_execution_command(year: int, fmt: str, out: str, source: int | None, department: int | None):
    """Render the budget execution report to FILE (for scheduled jobs)."""
    try:
        check_fiscal_year(year)
    except DomainError as exc:
        raise click.BadParameter(str(exc.message), param_hint="--year") from None
    report = compute_execution(year, source, department)
    if fmt == "pdf":
        Path(out).write_bytes(services.execution_pdf(report))
    else:
        Path(out).write_bytes(budget_execution_xlsx(report))
    click.echo(f"wrote {out}")


@cli.command("program-summary")
@click.option("--from", "year_from", type=int, required=True)
@click.option("--to", "year_to", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "pdf"]), default="xlsx")
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def program_summary_command(year_from: int, year_to: int, fmt: str, out: str):
    """Render the program summary to FILE."""
    try:
        check_fiscal_year(year_from)
        check_fiscal_year(year_to)
    except DomainError as exc:
        raise click.BadParameter(str(exc.message)) from None
    summary = program_summary(year_from, year_to)
    Path(out).write_bytes(services.summary_pdf(summary) if fmt == "pdf" else program_summary_xlsx(summary))
    click.echo(f"wrote {out}")
