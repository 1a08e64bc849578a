"""Evaluation PDFs (the evaluation report, the notice of award): thin, by id, idempotent
(a job not queued any more is skipped)."""

from __future__ import annotations

from celery import shared_task

from procure.jobs.services import run_job
from procure.tenders.award import NOTICE_TASK, build_notice
from procure.tenders.evaluation import REPORT_TASK, build_report


@shared_task(name=REPORT_TASK)
def evaluation_report(job_id: int) -> str:
    """Render the evaluation report (评审报告) of a tender to PDF and store it."""
    return run_job(job_id, build_report)


@shared_task(name=NOTICE_TASK)
def award_notice(job_id: int) -> str:
    """Render the notice of award (中标/成交通知书) to PDF and store it on the winning bid."""
    return run_job(job_id, build_notice)
