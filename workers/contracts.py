"""Contract tasks: thin, by id, idempotent (a job not queued any more is skipped)."""

from __future__ import annotations

from celery import shared_task

from procure.contracts.rendering import build_version_pdf
from procure.contracts.services import PDF_TASK
from procure.jobs.services import run_job


@shared_task(name=PDF_TASK)
def render_version(job_id: int) -> str:
    """Render a contract version's PDF, store it and make the version ready for signatures."""
    return run_job(job_id, build_version_pdf)
