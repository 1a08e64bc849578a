"""Background-job housekeeping and list exports: thin; the rules are in procure.jobs."""

from __future__ import annotations

from celery import shared_task

from procure.jobs.exports import EXPORT_TASK, build_list_export
from procure.jobs.services import requeue_stale, run_job


@shared_task(name="workers.jobs.sweep")
def sweep() -> int:
    """Send again the queued jobs whose first sending was lost."""
    return requeue_stale()


@shared_task(name=EXPORT_TASK)
def export_list(job_id: int) -> str:
    """Write a list's spreadsheet for its job (too large for the request) and store it."""
    return run_job(job_id, build_list_export)
