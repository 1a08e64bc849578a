"""Tender pages. Officers: list, new/edit (with the methods table), detail with
documents, publish, clarify, cancel. Organization staff: open calls, a call, their bid
(draft, submit, withdraw, confirm), their bids, the receipt. Before the opening no page
shows anything of the bids but the organization's own."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from .. import audit, history, listing, nav, pagecache, policy
from ..documents.uploads import check_upload
from ..errors import DomainError
from ..extensions import db
from ..nav import NavItem
from ..parsing import parse_id
from ..permissions import can, visible
from ..projects.models import METHOD_LABELS, ProcurementMethod, Project, ProjectState
from ..web import ServiceFailed, flash_done, perform, require_view
from . import bidding, evaluation, events, followups, invitations
from . import services as _rules  # noqa: F401 - the permission rules
from .forms import ActionForm, BidForm, ClarifyForm, DocumentForm, ReasonForm, TenderForm
from .lists import TENDERS
from .models import Bid, BidState, Challenge, ChallengeState, Tender, TenderState

bp = Blueprint("tenders", __name__, url_prefix="/tenders")

nav.register(NavItem(_l("Calls for bids"), "tenders.index", "tender.view", group=nav.PROCUREMENT_GROUP,
                     order=15))
nav.register(NavItem(_l("Open calls"), "tenders.calls", "bid.create", order=15))
nav.register(NavItem(_l("My bids"), "tenders.my_bids", "bid.create", order=16))

CALL_MAX_BYTES = 20 * 1024 * 1024


@bp.before_request
@login_required
def _signed_in():
    """Every tender page needs a signed-in user (each view checks its permission)."""


def methods_table() -> list[dict]:
    """The seven methods' rules in force, with their sources (shown on the tender form)."""
    rows = []
    for m, label in METHOD_LABELS.items():
        mp = policy.method_policy(m)
        unit = _("calendar days") if mp.period_unit == policy.CALENDAR_DAYS else _("working days")
        clar_unit = _("calendar days") if mp.clarification_unit == policy.CALENDAR_DAYS else _("working days")
        rows.append({"label": label, "period": f"{mp.min_period} {unit}", "period_source": mp.source("min_period"),
                     "min_bids": mp.min_bids, "committee": mp.committee_size,
                     "experts": policy.display(mp.min_expert_share, ""),
                     "clarification": f"{mp.clarification_min} {clar_unit}",
                     "price_weight": policy.display(mp.min_price_weight, ""),
                     "publicity": mp.publicity_working_days, "challenge": mp.challenge_working_days})
    return rows


# --- officers -------------------------------------------------------------------------------

@bp.route("/")
@pagecache.cached
def index():
    return listing.respond(TENDERS, "tenders/index.html", current_user)


def _tender_form(tender: Tender | None = None) -> TenderForm:
    form = TenderForm(obj=tender)
    projects = db.session.scalars(visible(current_user, "project.edit", Project).where(
        Project.state == ProjectState.APPROVED).order_by(Project.id.desc()).limit(200)).all()
    if tender is not None:
        form.project_id.choices = [SelectChoice(str(tender.project_id), tender.project.title)]
    else:
        form.project_id.choices = [SelectChoice("", "—")] + [SelectChoice(str(p.id), p.title) for p in projects]
        # from the project's page ("prepare the call"): the project chosen already
        wanted = request.args.get("project_id", "")
        if request.method == "GET" and any(c.value == wanted for c in form.project_id.choices[1:]):
            form.project_id.data = wanted
    if request.method == "GET":
        from ..timeutil import to_local, utcnow

        if tender is not None:
            form.method.data = tender.method.value
            form.min_rating.data = str(tender.min_rating or "")
            form.single_source_organization_id.data = str(tender.single_source_organization_id or "")
            for name in ("published_at", "deadline_at", "opening_at"):
                value = getattr(tender, name)
                getattr(form, name).data = to_local(value).replace(tzinfo=None) if value else None
            rows = [c for c in tender.criteria if not c.is_price]
            while len(form.criteria.entries) < len(rows) + 2:
                form.criteria.append_entry()
            for entry, c in zip(form.criteria.entries, rows, strict=False):
                entry.form.name.data, entry.form.weight.data, entry.form.max_score.data = c.name, c.weight, c.max_score
        else:
            pid = request.args.get("project_id", "")
            form.project_id.data = pid
            project = db.session.get(Project, parse_id(pid)) if parse_id(pid) else None
            if project is not None:
                form.title.data = f"{project.title} 采购公告"
                form.method.data = project.method.value
            form.published_at.data = to_local(utcnow()).replace(tzinfo=None, second=0, microsecond=0)
    return form


def _tender_data(form: TenderForm) -> bidding.TenderData:
    return bidding.TenderData(
        project_id=form.project_id.data, title=form.title.data, method=form.method.data,
        description=form.description.data or "", published_at=bidding.local_to_utc(form.published_at.data),
        deadline_at=bidding.local_to_utc(form.deadline_at.data), opening_at=bidding.local_to_utc(form.opening_at.data),
        min_rating=form.min_rating.data, min_years_registered=form.min_years_registered.data,
        require_annual_report=form.require_annual_report.data, require_good_credit=form.require_good_credit.data,
        bar_failed_grade=form.bar_failed_grade.data, admit_filed=form.admit_filed.data,
        price_weight=form.price_weight.data,
        criteria=[bidding.CriterionData(c.form.name.data, c.form.weight.data, c.form.max_score.data)
                  for c in form.criteria],
        single_source_organization_id=form.single_source_organization_id.data)


def _form_page(form, tender, status):
    return render_template("tenders/form.html", form=form, tender=tender, methods=methods_table()), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    require_view("tender.create")
    form = _tender_form()
    status = 200
    if form.validate_on_submit():
        try:
            tender = perform(bidding.create_tender, current_user, _tender_data(form), form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("The call is saved as a draft."), "success")
            return redirect(url_for("tenders.detail", tender_id=tender.id))
    elif request.method == "POST":
        status = 400
    return _form_page(form, None, status)


@bp.route("/<int:tender_id>/edit", methods=["GET", "POST"])
def edit(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("tender.manage", tender)
    if tender.state != TenderState.DRAFT:
        flash(_("Only a draft call can be edited; publish a clarification instead."), "warning")
        return redirect(url_for("tenders.detail", tender_id=tender.id))
    form = _tender_form(tender)
    status = 200
    if form.validate_on_submit():
        try:
            perform(bidding.update_tender, current_user, tender, _tender_data(form), form=form)
        except ServiceFailed:
            status = 400
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("tenders.detail", tender_id=tender.id))
    elif request.method == "POST":
        status = 400
    return _form_page(form, tender, status)


def _detail(tender: Tender, status: int = 200, **forms):
    require_view("tender.view", tender)
    ev = db.session.scalars(audit.shown_events(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "tenders", audit.AuditEvent.object_id == str(tender.id)))
        .order_by(audit.AuditEvent.seq.desc()).limit(30)).all()
    ctx = {"doc_form": DocumentForm(prefix="doc"), "clarify_form": ClarifyForm(prefix="clar"),
           "cancel_form": ReasonForm(prefix="cancel"), "action_form": ActionForm()}
    ctx.update(forms)
    record = events.opening_record(tender) if tender.opened_at else None
    waiting = (tender.state == TenderState.PUBLISHED and tender.next_event_at is not None
               and tender.opening_at is not None and tender.opening_at <= bidding.utcnow())
    return render_template("tenders/detail.html", tender=tender, events=history.entries(ev, current_user),
                           record=record, opening_doc=events.opening_document(tender) if record else None,
                           waiting=waiting, default_years=policy.value("eligibility.min_registered_years"),
                           open_challenges=_open_challenges(tender), seat=evaluation.member_for(current_user, tender),
                           next_steps=followups.next_steps(current_user, tender)
                           if tender.state == TenderState.FINAL else [], **ctx), status


def _open_challenges(tender: Tender) -> int:
    """Open challenges on ``tender`` the user may answer (the next step on its page)."""
    if tender.state not in (TenderState.AWARDED, TenderState.FINAL):
        return 0
    return db.session.scalar(visible(current_user, "challenge.answer", select(func.count(Challenge.id)), Challenge)
                             .where(Challenge.tender_id == tender.id, Challenge.state == ChallengeState.OPEN)) or 0


@bp.route("/<int:tender_id>")
@pagecache.cached
def detail(tender_id: int):
    return _detail(db.get_or_404(Tender, tender_id))


def _act(tender_id: int, fn, message, *args):
    tender = db.get_or_404(Tender, tender_id)
    require_view("tender.manage", tender)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        perform(fn, current_user, tender, *args)
    except ServiceFailed:
        pass
    else:
        flash_done(message)
    return redirect(url_for("tenders.detail", tender_id=tender_id))


def _invitations_page(tender: Tender, status: int = 200):
    require_view("tender.manage", tender)
    q = (request.args.get("q") or "").strip()[:100]
    return render_template("tenders/invitations.html", tender=tender, q=q, invited=invitations.invited(tender),
                           found=invitations.search(q, tender) if q else [], action_form=ActionForm(),
                           editable=tender.method == ProcurementMethod.INVITED_TENDER), status


@bp.route("/<int:tender_id>/invitations", methods=["GET", "POST"])
def invitation_list(tender_id: int):
    # One rule for both methods: a path id beyond the bounded converter is then 404 for
    # each (two rules on one path answer 405 when the converter refuses).
    if request.method == "POST":
        return invite(tender_id)
    return _invitations_page(db.get_or_404(Tender, tender_id))


def invite(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("tender.manage", tender)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        perform(invitations.invite, current_user, tender, request.form.get("organization_id"))
    except ServiceFailed:
        db.session.refresh(tender)
        return _invitations_page(tender, 400)
    flash(_("The organization is invited."), "success")
    return redirect(url_for("tenders.invitation_list", tender_id=tender_id))


@bp.route("/<int:tender_id>/invitations/<int:organization_id>/remove", methods=["POST"])
def uninvite(tender_id: int, organization_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("tender.manage", tender)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        perform(invitations.uninvite, current_user, tender, organization_id)
    except ServiceFailed:
        db.session.refresh(tender)
        return _invitations_page(tender, 400)
    flash(_("The invitation is withdrawn."), "success")
    return redirect(url_for("tenders.invitation_list", tender_id=tender_id))


@bp.route("/<int:tender_id>/publish", methods=["POST"])
def publish(tender_id: int):
    return _act(tender_id, bidding.publish_tender, _("The call is published."))


@bp.route("/<int:tender_id>/documents", methods=["POST"])
def add_document(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("tender.manage", tender)
    form = DocumentForm(prefix="doc")
    if form.validate_on_submit():
        try:
            checked = check_upload(form.file.data, bidding.CALL_DOCUMENT_TYPES, CALL_MAX_BYTES)
            perform(bidding.add_call_document, current_user, tender, checked, form.title.data or "", form=form)
        except DomainError as exc:
            form.file.errors = list(form.file.errors) + [str(exc.message)]
            return _detail(tender, 400, doc_form=form)
        except ServiceFailed:
            return _detail(tender, 400, doc_form=form)
        flash(_("Document added."), "success")
        return redirect(url_for("tenders.detail", tender_id=tender_id))
    return _detail(tender, 400, doc_form=form)


@bp.route("/<int:tender_id>/clarify", methods=["GET", "POST"])
def clarify(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("tender.manage", tender)
    form = ClarifyForm(prefix="clar")
    if request.method == "GET":
        return _detail(tender, clarify_form=form)
    if form.validate_on_submit():
        try:
            files = [check_upload(fs, bidding.CALL_DOCUMENT_TYPES, CALL_MAX_BYTES)
                     for fs in (form.files.data or []) if fs and getattr(fs, "filename", "")]
        except DomainError as exc:
            form.files.errors = list(form.files.errors) + [str(exc.message)]
            return _detail(tender, 400, clarify_form=form)
        try:
            perform(bidding.clarify, current_user, tender, form.text.data, form.affects_bids.data,
                    bidding.local_to_utc(form.new_deadline_at.data), files, form=form)
        except ServiceFailed:
            db.session.refresh(tender)
            return _detail(tender, 400, clarify_form=form)
        flash(_("The clarification is published."), "success")
        return redirect(url_for("tenders.detail", tender_id=tender_id))
    return _detail(tender, 400, clarify_form=form)


@bp.route("/<int:tender_id>/cancel", methods=["POST"])
def cancel(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("tender.manage", tender)
    form = ReasonForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            perform(bidding.cancel_tender, current_user, tender, form.reason.data, form=form)
        except ServiceFailed:
            db.session.refresh(tender)
            return _detail(tender, 400, cancel_form=form)
        flash(_("The call is cancelled."), "success")
        return redirect(url_for("tenders.detail", tender_id=tender_id))
    return _detail(tender, 400, cancel_form=form)


# --- organizations ----------------------------------------------------------------------------

@bp.route("/calls")
@pagecache.cached
def calls():
    require_view("bid.create")
    page = db.paginate(bidding.open_calls(current_user), per_page=50, error_out=False)
    return render_template("tenders/calls.html", page=page)


@bp.route("/calls/<int:tender_id>")
@pagecache.cached
def call(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    if can(current_user, "tender.view", tender):
        return redirect(url_for("tenders.detail", tender_id=tender_id))
    refused = _not_invited(tender)
    if refused is not None:
        return refused
    require_view("call.view", tender)
    bid = bidding.bid_of(current_user, tender)
    record = events.opening_record(tender) if tender.opened_at else None
    return render_template("tenders/call.html", tender=tender, bid=bid, record=record,
                           opening_doc=events.opening_document(tender) if record else None,
                           open_now=tender.state == TenderState.PUBLISHED and tender.deadline_at > bidding.utcnow(),
                           action_form=ActionForm(), default_years=policy.value("eligibility.min_registered_years"))


def _not_invited(tender: Tender):
    """The page that tells an organization why it may not answer a call by invitation."""
    if tender.state in (TenderState.DRAFT, TenderState.CANCELLED):
        return None
    refused = invitations.refusal(tender, getattr(current_user, "organization", None))
    if refused is None:
        return None
    return render_template("tenders/not_invited.html", tender=tender, reason=refused.message), 403


def _bid_form(tender: Tender, bid: Bid | None) -> BidForm:
    form = BidForm()
    if request.method == "GET" and bid is not None and bid.sealed_content:
        content = bidding.read_bid(current_user, bid)
        form.price.data, form.proposal.data = content.get("price") or "", content.get("proposal") or ""
        lines = content.get("breakdown") or []
        while len(form.breakdown.entries) < len(lines) + 2:
            form.breakdown.append_entry()
        for entry, ln in zip(form.breakdown.entries, lines, strict=False):
            entry.form.category.data, entry.form.amount.data, entry.form.note.data = (
                ln["category"], ln["amount"], ln.get("note", ""))
    return form


@bp.route("/calls/<int:tender_id>/bid", methods=["GET", "POST"])
def bid_form(tender_id: int):
    tender = db.get_or_404(Tender, tender_id)
    require_view("bid.create")
    refused = _not_invited(tender)
    if refused is not None:
        return refused
    require_view("call.view", tender)
    bid = bidding.bid_of(current_user, tender)
    form = _bid_form(tender, bid)
    content = bidding.read_bid(current_user, bid) if bid is not None and bid.sealed_content else None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            files = []
            try:
                for fs in form.attachments.data or []:
                    if fs and getattr(fs, "filename", ""):
                        files.append(check_upload(fs, bidding.BID_ATTACHMENT_TYPES, bidding.max_attachment_bytes()))
            except DomainError as exc:
                form.attachments.errors = list(form.attachments.errors) + [str(exc.message)]
                return _bid_page(tender, bid, form, content, 400)
            data = bidding.BidData(
                price=form.price.data, proposal=form.proposal.data or "",
                breakdown=[bidding.LineData(e.form.category.data or "", e.form.amount.data, e.form.note.data or "")
                           for e in form.breakdown],
                new_attachments=files,
                remove_attachments=[x for x in (form.remove.data or "").split(",") if x.strip()])
            try:
                if form.submit_bid.data:
                    perform(_save_and_submit, current_user, tender, data, form=form)
                    flash(_("Your bid is submitted and sealed. Keep the receipt."), "success")
                    bid = bidding.bid_of(current_user, tender)
                    return redirect(url_for("tenders.receipt", bid_id=bid.id))
                perform(bidding.save_bid, current_user, tender, data, form=form)
                flash(_("Draft saved (sealed)."), "success")
                return redirect(url_for("tenders.bid_form", tender_id=tender_id))
            except ServiceFailed:
                status = 400
        else:
            status = 400
    return _bid_page(tender, bid, form, content, status)


def _bid_page(tender, bid, form, content, status=200):
    return render_template("tenders/bid_form.html", tender=tender, bid=bid, form=form, content=content,
                           admin_cap=policy.display(policy.value("budget.max_admin_cost_share"), "")), status


def _save_and_submit(actor, tender, data):
    bid = bidding.save_bid(actor, tender, data)
    return bidding.submit_bid(actor, bid)


@bp.route("/bids")
@pagecache.cached
def my_bids():
    require_view("bid.create")
    stmt = visible(current_user, "bid.view_own", Bid).order_by(Bid.id.desc())
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("tenders/my_bids.html", page=page)


def _own_bid(bid_id: int) -> Bid:
    """The user's own bid, else 404 — never 403, which would tell that a bid exists."""
    bid = db.session.get(Bid, bid_id)
    if bid is None or not can(current_user, "bid.view_own", bid):
        abort(404)
    return bid


@bp.route("/bids/<int:bid_id>/receipt")
def receipt(bid_id: int):
    bid = _own_bid(bid_id)
    if bid.state in (BidState.DRAFT,):
        flash(_("This bid has not been submitted yet."), "warning")
        return redirect(url_for("tenders.bid_form", tender_id=bid.tender_id))
    return render_template("tenders/receipt.html", bid=bid, tender=bid.tender, action_form=ActionForm(),
                           open_now=bid.tender.state == TenderState.PUBLISHED
                           and bid.tender.deadline_at > bidding.utcnow())


def _bid_act(bid_id: int, fn, message):
    bid = _own_bid(bid_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        perform(fn, current_user, bid)
    except ServiceFailed:
        pass
    else:
        flash_done(message)
    return redirect(url_for("tenders.call", tender_id=bid.tender_id))


@bp.route("/bids/<int:bid_id>/withdraw", methods=["POST"])
def withdraw(bid_id: int):
    return _bid_act(bid_id, bidding.withdraw_bid, _("Your bid is withdrawn. You may change it and submit it again "
                                                     "before the deadline."))


@bp.route("/bids/<int:bid_id>/submit", methods=["POST"])
def submit(bid_id: int):
    return _bid_act(bid_id, bidding.submit_bid, _("Your bid is submitted and sealed. Keep the receipt."))


@bp.route("/bids/<int:bid_id>/confirm", methods=["POST"])
def confirm(bid_id: int):
    return _bid_act(bid_id, bidding.confirm_bid, _("Your bid is confirmed."))


@bp.route("/bids/<int:bid_id>/attachments/<int:document_id>")
def attachment(bid_id: int, document_id: int):
    bid = _own_bid(bid_id)
    try:
        entry, data = bidding.attachment_data(current_user, bid, document_id)
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return redirect(url_for("tenders.bid_form", tender_id=bid.tender_id))
    from urllib.parse import quote

    return Response(data, mimetype=entry.get("content_type") or "application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(entry['filename'])}",
        "X-Content-Type-Options": "nosniff"})

