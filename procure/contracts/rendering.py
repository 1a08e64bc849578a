"""The contract PDF of a version: rendered by the worker (a job, ``services.PDF_JOB``)
from ``templates/pdf/contract.html`` with the version's frozen terms. Every amount in
figures and in 人民币大写 (procure/money.py); the footer carries the version and the
content SHA-256; a QR code and short link lead to the public verification page."""

from __future__ import annotations

import logging
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from ..jobs import services as jobs
from ..jobs.models import Job
from ..money import format_money, rmb_upper
from ..notifications.services import absolute_url
from ..pdf import HashedPdf, render_pdf_hashed
from ..qr import qr_svg
from . import services
from .models import VERSION_MACHINE, ContractVersion, Release, VersionState

TEMPLATE = "pdf/contract.html"
log = logging.getLogger(__name__)


def render_version(version: ContractVersion, locale: str = "zh_CN") -> HashedPdf:
    """The PDF of ``version`` (nothing stored)."""
    c = version.content
    url = absolute_url(services.verify_path(version))
    amount = Decimal(c["amount"])
    schedule = [{**row, "amount_figures": format_money(Decimal(row["amount"]), locale),
                 "amount_upper": rmb_upper(Decimal(row["amount"])),
                 "release_label": Release(row["releases_on"]).label} for row in c["schedule"]]
    with force_locale(locale):
        return render_pdf_hashed(TEMPLATE, locale=locale, c=c, version=version.number, reason=version.reason,
                                 title=_("Contract for the purchase of services"),
                                 amount_figures=format_money(amount, locale), amount_upper=rmb_upper(amount),
                                 schedule=schedule, verify_url=url, qr=qr_svg(url, size_mm=24))


def build_version_pdf(job: Job):
    """The job's work (run in the worker by ``jobs.run_job``): render, store, make ready."""
    version = db.session.get(ContractVersion, int(job.params["version_id"]))
    jobs.job_progress(job.id, 0, 2, _("Rendering the PDF"))
    pdf = render_version(version)
    jobs.job_progress(job.id, 1, 2, _("Storing the document"))
    services.rendered(job.requested_by, version, pdf.pdf, pdf.content_sha256)
    return version.pdf_document


def plan_regeneration(job: Job) -> list[int]:
    """The batch job's items: the versions whose PDF may be rendered again."""
    return services.regenerable()


def regenerate_chunk(job: Job) -> dict:
    """A chunk of the batch job (``services.BATCH_CHUNK_JOB``): each of its versions,
    still regenerable, rendered again (ready → rendering → ready with the new PDF and
    hashes; the signatories are not told again), each in a savepoint so that one that
    fails is counted and the others stand; then the counts added to the batch job
    (which the last chunk finishes)."""
    actor = job.requested_by
    counts = {"rendered": 0, "failed": 0, "skipped": 0}
    ids = [int(i) for i in job.params.get("items") or ()]
    for version_id in ids:
        try:
            with db.session.begin_nested():
                version = db.session.get(ContractVersion, version_id, with_for_update=True)
                if version is None or version_id not in services.regenerable([version_id]):
                    counts["skipped"] += 1  # signed, superseded or rendering since the plan
                    continue
                VERSION_MACHINE.transition(version, VersionState.RENDERING, actor)
                pdf = render_version(version)
                services.rendered(actor, version, pdf.pdf, pdf.content_sha256, tell=False)
                counts["rendered"] += 1
        except Exception:
            log.exception("contract version %s: the PDF could not be rendered again", version_id)
            counts["failed"] += 1
    jobs.add_to_parent(int(job.params["parent"]), len(ids), counts)
    return counts
