"""Background-job housekeeping: thin; the rules are in procure.jobs.services."""

from __future__ import annotations

from celery import shared_task

from procure.jobs.services import requeue_stale


@shared_task(name="workers.jobs.sweep")
def sweep() -> int:
    """Send again the queued jobs whose first sending was lost."""
    return requeue_stale()
