"""Tender tasks: the minute beat applying due time events (the opening), and the
opening record PDF. Thin: the rules are in procure.tenders.events."""

from __future__ import annotations

from celery import shared_task

from procure.jobs.services import run_job
from procure.tenders import events


@shared_task(name="workers.tenders.apply_due_events")
def apply_due_events() -> list[str]:
    """Apply every due tender event (idempotent; each tender its own transaction)."""
    return events.apply_due_events()


@shared_task(name=events.OPENING_TASK)
def opening_record(job_id: int) -> str:
    """Render the opening record of a job's tender and send it to the bidders."""
    return run_job(job_id, events.build_opening_pdf)
