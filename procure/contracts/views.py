"""Contract pages: list, drafting from a final award, the contract page (parties,
versions with their PDFs and hashes, schedule, signatures, history, signing), the part
of the project page that shows its contract, and the public verification page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from .. import audit, history, listing, nav, pagecache
from ..documents.uploads import check_upload
from ..errors import ValidationError
from ..extensions import db, login_manager
from ..jobs.models import Job, JobState
from ..nav import NavItem
from ..permissions import can
from ..projects.views import project_part
from ..tenders import followups
from ..tenders.models import Tender, TenderState
from ..timeutil import to_local, utcnow
from ..web import ServiceFailed, flash_done, perform, require_view
from . import queries, verification
from . import services as cs
from .forms import AmendForm, DraftForm, SignForm, TerminateForm, VerifyForm
from .lists import CONTRACTS
from .models import Contract, ContractState, ContractVersion, Party

bp = Blueprint("contracts", __name__)

nav.register(NavItem(_l("Contracts"), "contracts.index", "contract.view", group=nav.PROCUREMENT_GROUP,
                     order=30))

#: Pages anyone may open, signed in or not.
PUBLIC = frozenset({"contracts.verify", "contracts.verify_code"})
MAX_PDF = 30 * 1024 * 1024


@bp.before_request
def _signed_in():
    """Every contract page needs a signed-in user, except the public verification."""
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.route("/contracts/")
@pagecache.cached
def index():
    return listing.respond(CONTRACTS, "contracts/index.html", current_user)


def _draft_data(form: DraftForm) -> cs.DraftData:
    return cs.DraftData(
        period_start=form.period_start.data, period_end=form.period_end.data,
        service_content=form.service_content.data, is_continuous=form.is_continuous.data,
        installments=[cs.InstallmentData(i.share.data, i.releases_on.data, i.title.data, i.due_on.data,
                                         i.deliverables.data) for i in form.installments])


@bp.route("/contracts/new/<int:tender_id>", methods=["GET", "POST"])
def new(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("contract.draft")
    require_view("tender.manage", tender)
    if tender.state != TenderState.FINAL or tender.awarded_bid is None:
        flash(_("A contract is drafted from a final award; this call is not final yet."), "warning")
        return redirect(url_for("tenders.detail", tender_id=tender.id))
    form = DraftForm()
    if request.method == "GET":
        project = tender.project
        form.period_start.data, form.period_end.data = project.period_start, project.period_end
        form.installments[-1].releases_on.data = "acceptance"
    status = 200
    if form.validate_on_submit():
        try:
            contract = perform(cs.draft_contract, current_user, tender, _draft_data(form), form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("Contract drafted; its PDF is being rendered."), "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id))
    elif request.method == "POST":
        status = 400
    return render_template("contracts/form.html", form=form, tender=tender), status


def _detail(contract: Contract, status: int = 200, sign_form=None, terminate_form=None):
    require_view("contract.view", contract)
    events = db.session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "contracts", audit.AuditEvent.object_id == str(contract.id))
        .order_by(audit.AuditEvent.seq.desc()).limit(50)).all()
    version = contract.current_version
    job = db.session.get(Job, version.job_id) if version is not None and version.job_id else None
    signed = {s.party: s for s in version.signatures} if version is not None else {}
    party = cs.party_of(current_user)
    # Signatures on their way (the worker adds them): by party; the viewer's own latest
    # signing job shows its progress, or its failure with the form to try again.
    signing = {}
    mine = None
    if version is not None and contract.state in (ContractState.PENDING_SIGNATURE, ContractState.ACTIVE):
        for j in cs.signing_jobs(version):
            signing.setdefault(Party(j.params["party"]), j)
        mine = cs.last_signing_job(current_user, version) if party is not None else None
    stopped = mine is not None and cs.signing_stopped(mine)
    my_signing = mine if mine is not None and mine.state in (JobState.QUEUED, JobState.RUNNING) and not stopped \
        else None
    sign_failed = mine if stopped and party not in signed else None
    may_sign = (contract.state in (ContractState.PENDING_SIGNATURE, ContractState.ACTIVE) and version is not None
                and version.state.value == "ready" and party is not None and party not in signed
                and party not in signing
                and all(s.user_id != current_user.id for s in signed.values())
                and can(current_user, "contract.sign", contract))
    if may_sign and sign_form is None:
        sign_form = SignForm(version=str(version.number))
    overdue = contract.state in (ContractState.DRAFT, ContractState.PENDING_SIGNATURE) and \
        to_local(utcnow()).date() > contract.sign_due_on
    return render_template("contracts/detail.html", contract=contract, version=version, job=job, signed=signed,
                           parties=list(Party), sign_form=sign_form if may_sign else None,
                           signing=signing, my_signing=my_signing, sign_failed=sign_failed,
                           fundings=cs.fundings(contract), overdue=overdue,
                           terminate_form=(terminate_form or TerminateForm(prefix="end"))
                           if contract.state == ContractState.ACTIVE and can(current_user, "contract.manage", contract)
                           else None,
                           events=history.entries(events, current_user)), status


@bp.route("/contracts/<int:contract_id>")
@pagecache.cached
def detail(contract_id: int):
    return _detail(db.get_or_404(Contract, contract_id))


@bp.route("/contracts/<int:contract_id>/sign", methods=["POST"])
def sign(contract_id: int):
    """Record the signature's intent (password checked here); the worker signs the PDF
    and the page shows its progress."""
    contract = db.get_or_404(Contract, contract_id)
    require_view("contract.view", contract)
    form = SignForm()
    if form.validate_on_submit():
        seen = (form.version.data or "").strip()
        try:
            perform(cs.request_signature, current_user, contract, form.password.data,
                    int(seen) if seen.isascii() and seen.isdigit() else None, form=form)
        except ServiceFailed:
            db.session.refresh(contract)
        else:
            flash_done(_("Your signature is being added to the contract PDF."))
            return redirect(url_for("contracts.detail", contract_id=contract.id))
    return _detail(contract, 400, sign_form=form)


@bp.route("/contracts/<int:contract_id>/terminate", methods=["POST"])
def terminate(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    require_view("contract.manage", contract)
    form = TerminateForm(prefix="end")
    if form.validate_on_submit():
        try:
            perform(cs.terminate_contract, current_user, contract, form.reason.data, form.settlement.data, form=form)
        except ServiceFailed:
            db.session.refresh(contract)
        else:
            flash(_("The contract was terminated; what is not paid or settled went back to the allocations."),
                  "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id))
    return _detail(contract, 400, terminate_form=form)


@bp.route("/contracts/<int:contract_id>/amend", methods=["GET", "POST"])
def amend(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    require_view("contract.manage", contract)
    form = AmendForm()
    if request.method == "GET":
        form = AmendForm(obj=contract)
        form.amount.data = str(contract.amount)
        while len(form.installments.entries) < len(contract.installments) + 1:
            form.installments.append_entry()
        for row, inst in zip(form.installments, contract.installments, strict=False):
            row.share.data, row.releases_on.data = str(inst.share), inst.releases_on.value
            if inst.milestone is not None:
                m = inst.milestone
                row.title.data, row.due_on.data, row.deliverables.data = m.title, m.due_on, m.deliverables
    status = 200
    if form.validate_on_submit():
        data = cs.AmendData(**vars(_draft_data(form)), reason=form.reason.data, amount=form.amount.data)
        try:
            perform(cs.amend_contract, current_user, contract, data, form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("The amendment is drafted; its PDF is being rendered for both parties to sign."), "success")
            return redirect(url_for("contracts.detail", contract_id=contract.id))
    elif request.method == "POST":
        status = 400
    return render_template("contracts/form.html", form=form, tender=None, contract=contract), status


@project_part(order=10)
def _project_contracts(project) -> Markup | None:
    """The project page's part: its contract(s) and their state."""
    rows = [c for c in queries.of_project(project) if can(current_user, "contract.view", c)]
    tenders = []
    if can(current_user, "contract.draft"):
        taken = select(Contract.tender_id)
        tenders = db.session.scalars(select(Tender).where(
            Tender.project_id == project.id, Tender.state == "final", Tender.awarded_bid_id.is_not(None),
            Tender.id.not_in(taken))).all()
        tenders = [t for t in tenders if can(current_user, "tender.manage", t)]
    if not rows and not tenders:
        return None
    return Markup(render_template("contracts/_project_part.html", contracts=rows, tenders=tenders))


# --- public verification -------------------------------------------------------------

def _verify_page(verdict=None, form=None, version: ContractVersion | None = None, status: int = 200):
    return render_template("contracts/verify.html", form=form or VerifyForm(), verdict=verdict, code_version=version,
                           labels=VERDICT_LABELS), status


VERDICT_LABELS = {
    verification.CONTENT: _l("the content printed in the footer"),
    verification.UNSIGNED: _l("the unsigned PDF"),
    verification.PARTLY_SIGNED: _l("the PDF signed by one party"),
    verification.SIGNED: _l("the PDF signed by both parties"),
}


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    form = VerifyForm()
    if request.method == "GET":
        return _verify_page(form=form)
    if not form.validate_on_submit():
        return _verify_page(form=form, status=400)
    try:
        if form.pdf.data and getattr(form.pdf.data, "filename", None):
            upload = check_upload(form.pdf.data, {"pdf"}, MAX_PDF)
            verdict = verification.verify_pdf(upload.data)
        elif (form.sha256.data or "").strip():
            verdict = verification.verify_hash(form.sha256.data)
        else:
            raise ValidationError(_l("Enter a SHA-256 or choose a PDF."), field="sha256")
    except ValidationError as exc:
        field = form.pdf if exc.field == "pdf" else form.sha256
        field.errors = list(field.errors) + [str(exc.message)]
        return _verify_page(form=form, status=400)
    return _verify_page(verdict, form)


@bp.route("/verify/<code>")
def verify_code(code: str):
    """The short link printed under the QR code: the version it names, and the form."""
    if len(code) > 16:
        abort(404)
    version = db.session.scalar(select(ContractVersion).where(ContractVersion.verify_code == code))
    if version is None:
        abort(404)
    return _verify_page(form=VerifyForm(), version=version)


@followups.provider
def _contract_step(user, tender: Tender):
    """On a final award's pages: "draft the contract" for the officer, or the contract's link."""
    if tender.state != TenderState.FINAL:
        return None
    contract = db.session.scalar(select(Contract).where(Contract.tender_id == tender.id))
    if contract is not None:
        if not can(user, "contract.view", contract):
            return None
        return followups.Step(_("Contract %(no)s", no=contract.number),
                              url_for("contracts.detail", contract_id=contract.id), key="contract-link")
    if can(user, "contract.draft") and can(user, "tender.manage", tender):
        return followups.Step(_("Draft the contract"), url_for("contracts.new", tender_id=tender.id),
                              is_action=True, key="draft-contract")
    return None
