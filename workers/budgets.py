"""Budget report tasks: thin, by id, idempotent (a job not queued any more is skipped)."""

from __future__ import annotations

from celery import shared_task

from procure.jobs.services import run_job
from procure.reports.services import EXECUTION_TASK, SUMMARY_TASK, build_execution_pdf, build_summary_pdf


@shared_task(name=EXECUTION_TASK)
def execution_report(job_id: int) -> str:
    """Render the budget execution report of a job to PDF and store it as a Document."""
    return run_job(job_id, build_execution_pdf)


@shared_task(name=SUMMARY_TASK)
def program_summary_report(job_id: int) -> str:
    """Render the program summary of a job to PDF and store it as a Document."""
    return run_job(job_id, build_summary_pdf)
