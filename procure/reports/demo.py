"""Demo reports: a generated budget execution report (PDF) ready to download."""

from __future__ import annotations

from ..extensions import db
from ..jobs import services as jobs
from ..timeutil import utcnow
from . import services as reports

ORDER = 60


def load(ctx) -> None:
    finance = ctx["users"]["finance"]
    this_year = utcnow().year
    # A generated report, ready to download (rendered here, as the worker would).
    job = reports.request_execution_pdf(finance, this_year)
    db.session.commit()
    jobs.run_job(job.id, reports.build_execution_pdf)
