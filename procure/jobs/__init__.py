"""Background jobs a user waits for (reports, exports): state, progress, result file.

A module registers the Celery task of each job kind (``services.register_task``); a
service creates the Job (``services.create_job``), the view commits, and the task is
sent after that commit (``procure.dispatch``); the task runs the work
through ``services.run_job`` and reports progress with ``services.job_progress``; the
page shows it with the ``job_progress(job)`` macro (templates/macros/jobs.html), which
polls ``/jobs/<id>`` (JSON) until it is done and then shows the download link.
"""

from __future__ import annotations

from .. import permissions
from ..roles import Role
from .models import Job

#: Seeing a job's progress and its result file: whoever requested it, or an admin.
permissions.define("job.view", frozenset(Role), permissions.own_or_admin("requested_by_id"), model=Job)
