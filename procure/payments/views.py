"""Payment pages: the payments list (finance's desk: to confirm, to approve, to pay,
paid, with totals), the payments of one contract (linked from the contract page), and
the payment page with its chain and the actions this user may take now."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, history, listing, nav, pagecache
from ..contracts import queries as contract_queries
from ..contracts.models import Contract, Installment
from ..extensions import db
from ..nav import NavItem
from ..parsing import parse_int
from ..permissions import can, visible
from ..projects.views import project_part
from ..web import ServiceFailed, flash_done, perform, require_view
from . import services as ps
from .forms import ApproveForm, RecordForm, RejectForm, RequestForm
from .lists import PAYMENTS, TABS
from .models import Payment, PaymentState, Step

bp = Blueprint("payments", __name__)

nav.register(NavItem(_l("Payments"), "payments.index", "payment.view", group=nav.FUNDS_GROUP, order=25))

P = PaymentState



@bp.before_request
@login_required
def _signed_in():
    """Every payment page needs a signed-in user."""


@bp.route("/payments/")
@pagecache.cached
def index():
    tab = request.args.get("tab", "")
    if tab not in TABS:
        tab = "approve" if current_user.role == "finance" else "all"
    return listing.respond(PAYMENTS, "payments/index.html", current_user, keep={"tab": tab}, tab=tab, tabs=TABS)


@bp.route("/contracts/<int:contract_id>/payments")
@pagecache.cached
def contract_payments(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    require_view("contract.view", contract)
    require_view("payment.view")
    rows = db.session.scalars(visible(current_user, "payment.view", Payment)
                              .where(Payment.contract_id == contract.id)
                              .options(selectinload(Payment.installment)).order_by(Payment.id)).all()
    return render_template("payments/contract.html", contract=contract, payments=rows,
                           money=ps.contract_money(contract), requestable=ps.requestable(current_user, contract),
                           request_form=RequestForm())


@bp.route("/contracts/<int:contract_id>/payments/request/<int:installment_id>", methods=["POST"])
def request_installment(contract_id: int, installment_id: int):
    contract = db.get_or_404(Contract, contract_id)
    installment = db.get_or_404(Installment, installment_id)
    if installment.contract_id != contract.id:
        abort(404)
    require_view("payment.request", contract)
    form = RequestForm()
    if form.validate_on_submit():
        try:
            payment = perform(ps.request_payment, current_user, installment)
        except ServiceFailed:
            pass
        else:
            flash_done(_("Payment requested."))
            return redirect(url_for("payments.detail", payment_id=payment.id))
    return redirect(url_for("payments.contract_payments", contract_id=contract.id))


def _detail(payment: Payment, status: int = 200, **forms):
    require_view("payment.view", payment)
    actions = ps.actions_for(current_user, payment)
    rev = {"revision": payment.revision}
    shown = {
        "approve_form": forms.get("approve_form") or ApproveForm(data=rev)
        if actions & {"confirm", "approve"} else None,
        "reject_form": forms.get("reject_form") or RejectForm(prefix="reject", data=rev)
        if "reject" in actions else None,
        "record_form": forms.get("record_form") or RecordForm(prefix="record", data=rev)
        if "record" in actions else None,
    }
    events = db.session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "payments", audit.AuditEvent.object_id == str(payment.id))
        .order_by(audit.AuditEvent.seq.desc()).limit(50)).all()
    return render_template("payments/detail.html", payment=payment, contract=payment.contract, actions=actions,
                           step_label=lambda s: Step(s).label,
                           events=history.entries(events, current_user), **shown), status


@bp.route("/payments/<int:payment_id>")
@pagecache.cached
def detail(payment_id: int):
    return _detail(db.get_or_404(Payment, payment_id))


def _revision(form) -> int | None:
    """The revision the form was loaded at; junk (a tampered form) never matches."""
    raw = (form.revision.data or "").strip()
    if not raw:
        return None
    seen = parse_int(raw, max_value=10**9)
    return -1 if seen is None else seen


def _act(payment_id: int, form_name: str, form, fn, done: str, args, actions: tuple[str, ...]):
    """Run one action's service with the form's values (``args(form)``); on a refusal
    show the page again with the form and the reason. 403 unless the user holds one of
    ``actions`` on the payment (the service checks the step and the duties)."""
    payment = db.get_or_404(Payment, payment_id)
    require_view("payment.view", payment)
    if not any(can(current_user, a, payment) for a in actions):
        abort(403)
    if form.validate_on_submit():
        try:
            perform(fn, current_user, payment, form=form, **args(form))
        except ServiceFailed:
            payment = db.get_or_404(Payment, payment_id)
        else:
            flash_done(done)
            return redirect(url_for("payments.detail", payment_id=payment_id))
    return _detail(payment, 400, **{form_name: form})


@bp.route("/payments/<int:payment_id>/confirm", methods=["POST"])
def confirm(payment_id: int):
    form = ApproveForm()
    return _act(payment_id, "approve_form", form, ps.confirm_payment, _("Payment confirmed."),
                lambda f: {"comment": f.comment.data, "seen": _revision(f)}, ("payment.confirm",))


@bp.route("/payments/<int:payment_id>/approve", methods=["POST"])
def approve(payment_id: int):
    form = ApproveForm()
    return _act(payment_id, "approve_form", form, ps.approve_payment, _("Payment approved."),
                lambda f: {"comment": f.comment.data, "seen": _revision(f)}, ("payment.approve",))


@bp.route("/payments/<int:payment_id>/reject", methods=["POST"])
def reject(payment_id: int):
    form = RejectForm(prefix="reject")
    return _act(payment_id, "reject_form", form, ps.reject_payment, _("Payment rejected."),
                lambda f: {"reason": f.reason.data, "seen": _revision(f)},
                ("payment.confirm", "payment.approve", "payment.record"))


@bp.route("/payments/<int:payment_id>/record", methods=["POST"])
def record(payment_id: int):
    form = RecordForm(prefix="record")
    return _act(payment_id, "record_form", form, ps.record_paid, _("Payment recorded as paid; the notice is being "
                                                                      "rendered."),
                lambda f: {"voucher_number": f.voucher_number.data, "paid_on": f.paid_on.data,
                                  "seen": _revision(f)}, ("payment.record",))


@project_part(order=30)
def _project_payments(project) -> Markup | None:
    """The project page's part: the payments of its contracts, with what is paid."""
    if not can(current_user, "payment.view"):
        return None
    ids = [c.id for c in contract_queries.of_project(project)]  # their contracts, already in the session
    if not ids:
        return None
    rows = db.session.scalars(visible(current_user, "payment.view", Payment)
                              .where(Payment.contract_id.in_(ids))
                              .options(joinedload(Payment.installment)).order_by(Payment.id)).all()
    if not rows:
        return None
    paid = sum((p.amount for p in rows if p.state == P.PAID), Decimal("0.00"))
    return Markup(render_template("payments/_project_part.html", payments=rows, paid=paid))
