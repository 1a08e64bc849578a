"""The reports' commands (``procure/reports/cli.py``, found like views) write their files
with the same figures as the pages; a bad year is refused before anything is written."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from procure.roles import Role


@pytest.fixture()
def officer(make):
    return make.user(Role.OFFICER)


def test_budget_execution_and_program_summary_commands_write_xlsx(app, make, db, officer, tmp_path):
    appr = make.appropriation(officer.department, "1000.00")
    project = make.approved_project(officer, appr, "300.00")
    db.session.commit()
    runner = app.test_cli_runner()
    out = tmp_path / "execution.xlsx"
    result = runner.invoke(args=["reports", "budget-execution", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    cells = [c for row in load_workbook(io.BytesIO(out.read_bytes())).active.iter_rows(values_only=True)
             for c in row if c is not None]
    assert project.title in cells  # the project line, added above budgets

    summary = tmp_path / "summary.xlsx"
    result = runner.invoke(args=["reports", "program-summary", "--from", "2025", "--to", "2026",
                                 "--out", str(summary)])
    assert result.exit_code == 0, result.output
    assert summary.read_bytes()[:2] == b"PK"


def test_a_bad_year_is_refused(app, tmp_path):
    out = tmp_path / "x.xlsx"
    result = app.test_cli_runner().invoke(args=["reports", "budget-execution", "--year", "99999", "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
