"""Project spending report task: thin, by id, idempotent (a job not queued any more is skipped)."""

from __future__ import annotations

from celery import shared_task

from procure.jobs.services import run_job
from procure.reports.spending import SPENDING_TASK, build_spending_pdf


@shared_task(name=SPENDING_TASK)
def project_spending_report(job_id: int) -> str:
    """Render a project's spending report of a job to PDF and store it as a Document."""
    return run_job(job_id, build_spending_pdf)
