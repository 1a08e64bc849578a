"""Contract tasks: thin, by id, idempotent (a job not queued any more is skipped)."""

from __future__ import annotations

from celery import shared_task

from procure.contracts.rendering import build_version_pdf, regenerate_pdfs
from procure.contracts.services import BATCH_TASK, PDF_TASK
from procure.jobs.services import run_job


@shared_task(name=PDF_TASK)
def render_version(job_id: int) -> str:
    """Render a contract version's PDF, store it and make the version ready for signatures."""
    return run_job(job_id, build_version_pdf)


@shared_task(name=BATCH_TASK)
def regenerate(job_id: int) -> str:
    """Render again the PDFs of every contract version not yet signed (a template change)."""
    return run_job(job_id, regenerate_pdfs)
