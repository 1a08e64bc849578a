"""Registry tasks: the daily standing rules (thin; the rules are in procure.organizations)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from procure.extensions import db
from procure.jobs.services import run_job
from procure.organizations import importer, services
from procure.timeutil import local_today


def today_in_shanghai() -> date:
    """Deadlines are days in China Standard Time."""
    return local_today()


@shared_task(name="workers.registry.apply_standing_rules")
def apply_standing_rules(on: str | None = None) -> dict:
    """Missing annual reports → abnormal list; two years there → serious list; ratings
    lapse at expiry. Idempotent: run it as often as you like. Commits."""
    today = date.fromisoformat(on) if on else today_in_shanghai()
    summary = services.apply_standing_rules(today)
    db.session.commit()
    return summary.__dict__


@shared_task(name=importer.RUN_TASK, acks_late=True)
def run_import(job_id: int) -> str:
    """Import a large registry file with progress (the rules are in the importer)."""
    return run_job(job_id, importer.run_import_job)
