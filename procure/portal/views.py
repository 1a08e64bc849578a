"""The public portal's pages (no sign-in): the lists of calls by section with a search
by title and paging, each call's page, the download of a call's documents, and the
signed contracts (list and page, each version linked to its public verification)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..acceptance.models import Acceptance
from ..acceptance.services import published
from ..contracts.models import ContractState, Release
from ..documents.services import document_path
from ..extensions import db
from ..money import money_formatter
from ..parsing import page_arg
from ..tenders.invitations import INVITED_METHODS
from ..tenders.models import TenderState
from ..timeutil import to_local
from . import queries

bp = Blueprint("portal", __name__, url_prefix="/portal")
log = logging.getLogger(__name__)

SECTION_LABELS = {
    "open": _l("Open calls"), "invited": _l("Calls by invitation"), "opened": _l("Opening records"),
    "awards": _l("Award notices"), "ended": _l("Failed and cancelled calls"),
}
SECTION_HINTS = {
    "open": _l("Calls open for bids: the deadline and the opening are in Beijing time."),
    "invited": _l("Invited tenders and single-source procurements under way, published so that the procurement is "
                  "known: only the organizations the purchasing department invited (or, for a single source, the one "
                  "it named) may bid; they are told directly. The results are published like those of any call."),
    "opened": _l("Calls whose bids were opened: the bidders and their prices, as read at the opening."),
    "awards": _l("Award notices, with the end of the publicity period and of the window for challenges."),
    "ended": _l("Calls that failed (too few valid bids) or were cancelled, with the reason."),
}


@bp.app_template_global("portal_sections")
def portal_sections() -> dict:
    """The portal's sections, for the pages of other modules that use its layout (the
    public contract verification)."""
    return SECTION_LABELS


def _zh_time(value) -> str:
    if value is None:
        return ""
    local = to_local(value)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}"


def time_formatter():
    """The ``bj`` filter with the locale looked up once (for a list of many times)."""
    if getattr(get_locale(), "language", None) == "zh":
        return _zh_time
    dt = current_app.jinja_env.filters["dt"]
    return lambda value: "" if value is None else dt(value)


@bp.app_template_filter("bj")
def beijing_time(value) -> str:
    """A stored time in Beijing time, as the app's ``dt`` filter writes it. In Chinese it
    is written directly: Babel's formatter costs about 0.3 ms a call, and a list page
    shows forty times (most of the page's time)."""
    return time_formatter()(value)


@dataclass(frozen=True, slots=True)
class Row:
    """One call of a list, every cell already text (see :func:`rows`)."""

    id: int
    href: str
    title: str
    department: str
    method: str
    ceiling: str
    first: str
    second: str


def rows(section: str, items) -> list[Row]:
    """A page of a section as text, the per-page work done once: the locale, the link
    pattern (one ``url_for``), the labels of the methods and states (one translation
    each), the money and time formatters. A list page is 20 rows of 8 cells; looking
    each of those up per cell (a ``url_for``, a lazy label's translation, the locale
    for each amount and time) was most of the page's time (docs/benchmarks.md)."""
    link = url_for("portal.call", tender_id=0)[:-1]  # "/portal/calls/" (+ the id)
    when, money = time_formatter(), money_formatter()
    labels: dict = {}

    def label(value) -> str:
        text = labels.get(value)
        if text is None:
            text = labels[value] = str(value.label)
        return text

    out = []
    for t in items:
        if section in ("open", "invited"):
            first, second = when(t.deadline_at), when(t.opening_at)
        elif section == "opened":
            first, second = when(t.opened_at), label(t.state)
        elif section == "awards":
            first, second = when(t.publicity_ends_at), when(t.challenge_ends_at)
        else:
            first, second = label(t.state), t.reason or ""
        out.append(Row(t.id, f"{link}{t.id}", t.title, t.department, label(t.method), money(t.budget_ceiling),
                       first, second))
    return out


def pager_links(page, endpoint: str, **args) -> list[tuple[int | None, str | None]]:
    """The pager's (number, link) pairs, None for a gap: the ``pager`` macro's links
    with one ``url_for`` for the page instead of one per number."""
    mark = "987654321"
    head, _, tail = url_for(endpoint, page=mark, **args).partition(mark)
    return [(num, f"{head}{num}{tail}") if num else (None, None) for num in page.iter_pages()]


@bp.route("/")
def index():
    """A section of the calls (open, by invitation, opened, awarded, ended) with a search
    by title. Calls by invitation are listed apart from the open calls (see
    ``queries.SECTIONS``)."""
    section = request.args.get("section", "open")
    if section not in queries.SECTIONS:
        section = "open"
    q = queries.clean_query(request.args.get("q"))
    page = queries.calls(section, q, page_arg())
    return render_template("portal/index.html", section=section, sections=SECTION_LABELS,
                           hint=SECTION_HINTS[section], q=q, page=page, rows=rows(section, page.items),
                           links=pager_links(page, "portal.index", section=section, q=q) if page.pages > 1 else [])


@bp.route("/calls/<int:tender_id>")
def call(tender_id: int):
    tender = queries.call(tender_id)
    if tender is None:
        abort(404)
    record = queries.opening_record(tender)
    awarded = next((b for b in record if b.id == tender.awarded_bid_id), None)
    contract = queries.contract_of_call(tender_id) if tender.state == TenderState.FINAL else None
    return render_template("portal/call.html", tender=tender, documents=queries.documents(tender_id),
                           clarifications=queries.clarifications(tender_id), record=record, awarded=awarded,
                           contract=contract,
                           record_public=queries.record_public(tender.state, tender.opened_at),
                           by_invitation=tender.method in INVITED_METHODS,
                           active_section=queries.section_of(tender.state, tender.method),
                           T=TenderState, sections=SECTION_LABELS)


@bp.route("/calls/<int:tender_id>/documents/<int:doc_id>")
def document(tender_id: int, doc_id: int):
    """A document of a public call (``doc_id`` is the call's document line)."""
    doc = queries.document(tender_id, doc_id)
    if doc is None:
        abort(404)
    path = document_path(doc)
    if not path.is_file():
        log.error("document %s: file %s is missing", doc.id, path)
        abort(404)
    response = send_file(path, mimetype=doc.content_type, as_attachment=True, download_name=doc.filename,
                         etag=doc.sha256, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "public, no-cache"
    return response


@bp.route("/contracts/")
def contracts():
    """The signed contracts, latest publication first, with a search by title."""
    q = queries.clean_query(request.args.get("q"))
    page = queries.contracts(q, page_arg())
    return render_template("portal/contracts.html", q=q, page=page, sections=SECTION_LABELS, S=ContractState)


@bp.route("/contracts/<int:contract_id>")
def contract(contract_id: int):
    """A signed contract: the terms as last signed (personal data and the bid left out),
    every signed version with its hashes and its public verification link."""
    row = queries.contract(contract_id)
    if row is None:
        abort(404)
    versions = queries.signed_versions(contract_id)
    if not versions:  # published implies signed; a row without a signed version is not shown
        abort(404)
    terms = queries.public_terms(versions[0].content)
    schedule = [{**r, "amount": Decimal(r["amount"]) if r["amount"] is not None else None,
                 "release_label": Release(r["releases_on"]).label if r["releases_on"] else ""}
                for r in terms["schedule"]]
    return render_template("portal/contract.html", contract=row, terms=terms, schedule=schedule,
                           amount=Decimal(terms["amount"]), versions=versions, sections=SECTION_LABELS,
                           S=ContractState)


@bp.route("/acceptances")
def acceptances():
    """Published acceptance results (实施条例 Art. 45: the result is published): the
    contract, the organization, the grade, the score and the date of each decision."""
    stmt = published().options(joinedload(Acceptance.contract), joinedload(Acceptance.organization))
    page = db.paginate(stmt, page=page_arg(), per_page=40, error_out=False)
    return render_template("portal/acceptances.html", page=page, sections=SECTION_LABELS)
