"""Contract tasks: thin, by id, idempotent (a job not queued any more is skipped)."""

from __future__ import annotations

from celery import shared_task

from procure.contracts import services as cs
from procure.contracts.rendering import build_version_pdf, plan_regeneration, regenerate_chunk
from procure.contracts.services import BATCH_CHUNK_TASK, BATCH_TASK, PDF_TASK, SIGN_TASK, add_signature
from procure.jobs.services import run_child, run_job, start_chunks


@shared_task(name=PDF_TASK)
def render_version(job_id: int) -> str:
    """Render a contract version's PDF, store it and make the version ready for signatures."""
    return run_job(job_id, build_version_pdf)


@shared_task(name=BATCH_TASK)
def regenerate(job_id: int) -> str:
    """Render again the PDFs of every contract version not yet signed (a template change):
    shared out in chunks, each a task of its own, so every worker process takes part."""
    return start_chunks(job_id, plan_regeneration, cs.BATCH_CHUNK_JOB, cs.BATCH_CHUNK)


@shared_task(name=BATCH_CHUNK_TASK)
def regenerate_chunk_task(job_id: int) -> str:
    """One chunk of the regeneration: its versions rendered, its counts added to the batch."""
    return run_child(job_id, regenerate_chunk)


@shared_task(name=SIGN_TASK)
def sign(job_id: int) -> str:
    """Add a party's PAdES signature to a contract version's PDF; with the second party's,
    the contract is in force and its money committed (all or nothing: a refusal fails the job)."""
    return run_job(job_id, add_signature)
