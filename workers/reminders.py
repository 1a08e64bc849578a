"""The reminder scan, run daily by beat (thin; the rules are in procure.reminders)."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from procure.extensions import db
from procure.reminders import engine
from workers.registry import today_in_shanghai


@shared_task(name="workers.reminders.scan")
def scan(on: str | None = None) -> dict:
    """Write the emails and notices due today (idempotent; commits once)."""
    today = date.fromisoformat(on) if on else today_in_shanghai()
    counts = engine.scan(today, checkpoint=db.session.commit)
    db.session.commit()
    return counts
