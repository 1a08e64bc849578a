"""A list's spreadsheet too large to write in the request (procure.listing): a job the
worker runs, with progress every batch and the file as the job's result.

The request has already read the list (:class:`procure.listing.Export`); the job keeps
the list's name and the arguments as read, and the worker rebuilds the same filtered,
sorted select from them for the same user, after checking again that the user may see
the list (the list's ``base(user)`` applies the permission's filter, so an organization's
export holds only its own rows, as its page does).
"""

from __future__ import annotations

from io import BytesIO

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import listing
from ..documents.models import Document
from ..documents.services import store_document
from ..errors import DomainError
from ..extensions import db
from ..permissions import require
from .models import Job, JobState
from .services import create_job, job_progress, register_task

EXPORT_JOB = "list.export_xlsx"
EXPORT_TASK = "workers.jobs.export_list"
register_task(EXPORT_JOB, EXPORT_TASK)

#: An export still waiting or running is not asked for twice (a reload of the link).
_UNDER_WAY = (JobState.QUEUED, JobState.RUNNING)


def _params(export: listing.Export, user) -> dict:
    return {"list": export.spec.name, "args": export.args, "keep": export.keep,
            "locale": getattr(user, "locale", None) or current_app.config["BABEL_DEFAULT_LOCALE"]}


def request_list_export(user, export: listing.Export) -> Job:
    """Queue the spreadsheet of ``export`` (the list as ``user`` reads it) as a job, or
    return the same export of this user still waiting or running. Flushes; the caller
    commits once and the task is sent after that commit."""
    require(user, export.spec.permission)
    params = _params(export, user)
    mine = db.session.scalars(select(Job).where(
        Job.requested_by_id == user.id, Job.kind == EXPORT_JOB, Job.state.in_(_UNDER_WAY)).order_by(Job.id.desc()))
    same = next((job for job in mine if job.params == params), None)
    if same is not None:
        return same
    job = create_job(user, EXPORT_JOB, params)
    job.progress_total = export.count
    return job


def build_list_export(job: Job) -> Document:
    """The job's work (run in the worker by ``jobs.run_job``): check the list's permission
    again, rebuild the export from the job's arguments, write it with progress after
    each batch, store it as the job's document (downloaded by whoever may see the job)."""
    p = job.params
    spec = listing.SPECS.get(p.get("list"))
    user = job.requested_by
    if spec is None:
        raise DomainError(_l("This list cannot be exported any more."))
    require(user, spec.permission)
    with force_locale(p.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]):
        export = listing.prepare_export(spec, user, p.get("args") or {}, p.get("keep") or {})
        if export.args != p.get("args"):
            # A filter's choice is gone (e.g. a department removed) since the request:
            # the worker would export more than was asked for.
            raise DomainError(_l("The list's filters changed since the export was asked for. Please export again."))
        total = export.count

        def progress(done: int) -> None:
            job_progress(job.id, done, total, _("%(done)s of %(total)s rows written", done=done, total=total))

        job_progress(job.id, 0, total, _("Writing the spreadsheet"))
        out = BytesIO()
        listing.write_xlsx(export, out, progress)
        name = listing.export_filename(spec)
    return store_document(user, out.getvalue(), name, listing.XLSX_MIMETYPE, "list_export", obj=job,
                          permission="job.view")
