"""Acceptance tasks: the certificate PDF (by job id, idempotent) and the daily lapse of
rectification periods (thin; the rules are in procure.acceptance.services)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from procure.acceptance.rendering import build_certificate
from procure.acceptance.services import CERT_TASK, lapse_rectifications
from procure.extensions import db
from procure.jobs.services import run_job
from workers.registry import today_in_shanghai


@shared_task(name=CERT_TASK)
def render_certificate(job_id: int) -> str:
    """Render an acceptance certificate (验收报告) and store it on the acceptance."""
    return run_job(job_id, build_certificate)


@shared_task(name="workers.acceptance.lapse_rectifications")
def lapse(on: str | None = None) -> list[int]:
    """Failed acceptances whose rectification period ended: terminated (commits once)."""
    ids = lapse_rectifications(date.fromisoformat(on) if on else today_in_shanghai())
    db.session.commit()
    return ids
