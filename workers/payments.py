"""Payment tasks: thin, by id, idempotent (a job not queued any more is skipped)."""

from __future__ import annotations

from celery import shared_task

from procure.jobs.services import run_job
from procure.payments.rendering import build_notice_pdf
from procure.payments.services import NOTICE_TASK


@shared_task(name=NOTICE_TASK)
def render_notice(job_id: int) -> str:
    """Render a paid payment's notice (拨付通知) and store it."""
    return run_job(job_id, build_notice_pdf)
