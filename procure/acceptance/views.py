"""Acceptance pages: the list, the organization's final report (draft, submission,
resubmission after a failure), the acceptance page (report, opinion, evaluators and
their declarations and scores, the decision, the certificate) with each role's form,
and the part of the project page that shows the acceptance."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from .. import audit, history, nav, pagecache
from ..contracts import queries as contract_queries
from ..contracts.models import Contract, ContractState
from ..documents.uploads import check_upload
from ..errors import ValidationError
from ..extensions import db
from ..jobs.models import Job
from ..nav import NavItem
from ..parsing import parse_int
from ..permissions import can, visible
from ..projects.views import project_part
from ..web import ServiceFailed, flash_done, perform, require_view
from . import services as svc
from .forms import AddEvaluatorForm, DecideForm, DeclareForm, FinalReportForm, OrganizeForm, ScoreForm
from .models import Acceptance, AcceptanceEvaluator, AcceptanceState, EvaluatorState

bp = Blueprint("acceptance", __name__)

nav.register(NavItem(_l("Acceptance"), "acceptance.index", "acceptance.view", group=nav.PROCUREMENT_GROUP,
                     order=32))


@bp.before_request
@login_required
def _signed_in():
    """Every acceptance page needs a signed-in user (each view checks its permission)."""


@bp.route("/acceptances/")
@pagecache.cached
def index():
    require_view("acceptance.view")
    state = request.args.get("state", "")
    stmt = visible(current_user, "acceptance.view", Acceptance).options(
        joinedload(Acceptance.contract), joinedload(Acceptance.organization)).order_by(Acceptance.id.desc())
    if state in {s.value for s in AcceptanceState}:
        stmt = stmt.where(Acceptance.state == AcceptanceState(state))
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("acceptance/index.html", page=page, state=state, states=list(AcceptanceState))


# --- the organization's final report ---------------------------------------------------------

def _report_form_page(contract: Contract, acc: Acceptance | None, form: FinalReportForm, status: int = 200):
    targets = list(contract.project.targets)
    while len(form.actuals.entries) < len(targets):
        form.actuals.append_entry()
    return render_template("acceptance/report_form.html", contract=contract, acc=acc, form=form, targets=targets,
                           rows=list(zip(targets, form.actuals, strict=False))), status


def _save(contract: Contract, acc: Acceptance | None, data, submit: bool, seen: int | None) -> Acceptance:
    """Open the acceptance on the first save, then save (or submit) the report: one commit."""
    acc = acc or svc.open_final_report(current_user, contract)
    return svc.save_final_report(current_user, acc, data, submit=submit, seen=seen)


@bp.route("/contracts/<int:contract_id>/acceptance", methods=["GET", "POST"])
def report(contract_id: int):
    """The organization's final report on its contract in force (stored at the first save)."""
    contract = db.get_or_404(Contract, contract_id)
    require_view("contract.view", contract)
    require_view("acceptance.report")
    acc = svc.acceptance_of(contract)
    if acc is None and contract.state != ContractState.ACTIVE:
        flash(_("A final report is written for a contract in force."), "warning")
        return redirect(url_for("contracts.detail", contract_id=contract.id))
    if acc is not None:
        require_view("acceptance.report", acc)
        if not svc.editable(acc):
            return redirect(url_for("acceptance.detail", acceptance_id=acc.id))
    form = FinalReportForm()
    if request.method == "GET":
        if acc is not None:
            form.final_report.data, form.opinion_text.data = acc.final_report, acc.opinion_text
            form.revision.data = str(acc.revision)
            for row in acc.actuals or []:
                form.actuals.append_entry(row.get("actual") or "")
        return _report_form_page(contract, acc, form)
    if not form.validate_on_submit():
        return _report_form_page(contract, acc, form, 400)
    try:
        opinion = None
        if form.opinion.data and getattr(form.opinion.data, "filename", None):
            up = check_upload(form.opinion.data, set(svc.OPINION_TYPES), svc.MAX_OPINION)
            opinion = svc.Opinion(up.data, up.filename, up.type)
    except ValidationError as exc:
        form.opinion.errors = list(form.opinion.errors) + [str(exc.message)]
        return _report_form_page(contract, acc, form, 400)
    rev = (form.revision.data or "").strip()
    seen = (parse_int(rev, max_value=10**9) if rev else None)
    if rev and seen is None:
        seen = -1  # junk (a tampered form) never matches
    data = svc.ReportData(final_report=form.final_report.data, actuals=[e.data for e in form.actuals],
                          opinion_text=form.opinion_text.data, opinion=opinion)
    submit = bool(form.submit.data)
    try:
        acc = perform(_save, contract, acc, data, submit, seen, form=form)
    except ServiceFailed:
        db.session.expire_all()
        return _report_form_page(contract, svc.acceptance_of(contract), form, 400)
    if submit:
        flash_done(_("The final report was submitted; the department's officers organize the evaluation."))
        return redirect(url_for("acceptance.detail", acceptance_id=acc.id))
    flash(_("Draft saved."), "success")
    return redirect(url_for("acceptance.report", contract_id=contract.id))


# --- the acceptance page ------------------------------------------------------------------------

def _detail(acc: Acceptance, status: int = 200, **forms):
    require_view("acceptance.view", acc)
    user = current_user
    manage = can(user, "acceptance.manage", acc)
    mine = svc.evaluator_row(user, acc) if user.role.value == "evaluator" else None
    evaluators = list(db.session.scalars(select(AcceptanceEvaluator).where(
        AcceptanceEvaluator.acceptance_id == acc.id).options(joinedload(AcceptanceEvaluator.user))
        .order_by(AcceptanceEvaluator.round, AcceptanceEvaluator.id)))
    res = svc.result(acc)
    show_scores = manage or user.role.value in ("admin", "finance") or acc.state in (
        AcceptanceState.PASSED, AcceptanceState.FAILED, AcceptanceState.TERMINATED)
    ready, why = svc.decision_ready(acc)
    job = db.session.scalar(select(Job).where(Job.kind == svc.CERT_JOB).where(
        Job.params["acceptance_id"].as_integer() == acc.id).order_by(Job.id.desc()).limit(1))
    choices = [SelectChoice(str(u.id), u.name) for u in svc.eligible_evaluators()]
    ev = AcceptanceState.EVALUATING
    if manage and acc.state == AcceptanceState.SUBMITTED:
        forms.setdefault("organize_form", OrganizeForm(prefix="org"))
        forms["organize_form"].evaluators.choices = choices
    if manage and acc.state == ev and acc.evaluated_by == "committee":
        forms.setdefault("add_form", AddEvaluatorForm(prefix="add"))
        taken = {e.user_id for e in evaluators if e.round == acc.round}
        forms["add_form"].evaluator.choices = [c for c in choices if int(c.value) not in taken]
    if manage and acc.state == ev and acc.evaluated_by == "third_party":
        forms.setdefault("third_form", ScoreForm(prefix="tp"))
    if manage and acc.state == ev:
        forms.setdefault("decide_form", DecideForm(prefix="dec"))
    if mine is not None and acc.state == ev and mine.state == EvaluatorState.ASSIGNED:
        forms.setdefault("declare_form", DeclareForm(prefix="decl"))
    if mine is not None and acc.state == ev and mine.state == EvaluatorState.DECLARED:
        forms.setdefault("score_form", ScoreForm(prefix="sc"))
    events = db.session.scalars(select(audit.AuditEvent).where(
        audit.AuditEvent.object_type == "acceptances", audit.AuditEvent.object_id == str(acc.id))
        .order_by(audit.AuditEvent.seq.desc()).limit(50)).all()
    return render_template(
        "acceptance/detail.html", acc=acc, contract=acc.contract, evaluators=evaluators, result=res, mine=mine,
        show_scores=show_scores, weights=svc.weights(), groups=svc.GROUPS, group_labels=svc.GROUP_LABELS,
        ready=ready, why=why, job=job, manage=manage, may_report=can(user, "acceptance.report", acc)
        and svc.editable(acc), events=history.entries(events, user) if (manage or user.role.value == "admin")
        else [], **forms), status


@bp.route("/acceptances/<int:acceptance_id>")
@pagecache.cached
def detail(acceptance_id: int):
    return _detail(db.get_or_404(Acceptance, acceptance_id))


def _post(acceptance_id: int, action: str, form_cls, key: str, prefix: str, call, done: str):
    acc = db.get_or_404(Acceptance, acceptance_id)
    require_view(action, acc)
    form = form_cls(prefix=prefix)
    if key == "organize_form":
        form.evaluators.choices = [SelectChoice(str(u.id), u.name) for u in svc.eligible_evaluators()]
    if form.validate_on_submit():
        try:
            perform(call, acc, form, form=form)
        except ServiceFailed:
            db.session.expire_all()
            acc = db.session.get(Acceptance, acceptance_id)
        else:
            flash_done(done)
            return redirect(url_for("acceptance.detail", acceptance_id=acc.id))
    return _detail(acc, 400, **{key: form})


@bp.route("/acceptances/<int:acceptance_id>/organize", methods=["POST"])
def organize(acceptance_id: int):
    return _post(acceptance_id, "acceptance.manage", OrganizeForm, "organize_form", "org",
                 lambda acc, f: svc.organize_evaluation(current_user, acc, evaluator_ids=f.evaluators.data,
                                                        third_party_name=f.third_party_name.data),
                 _("The evaluation has started."))


@bp.route("/acceptances/<int:acceptance_id>/evaluators", methods=["POST"])
def add_evaluator(acceptance_id: int):
    return _post(acceptance_id, "acceptance.manage", AddEvaluatorForm, "add_form", "add",
                 lambda acc, f: svc.add_evaluator(current_user, acc, f.evaluator.data),
                 _("The evaluator was assigned."))


@bp.route("/acceptances/<int:acceptance_id>/declare", methods=["POST"])
def declare(acceptance_id: int):
    return _post(acceptance_id, "acceptance.evaluate", DeclareForm, "declare_form", "decl",
                 lambda acc, f: svc.declare(current_user, acc, f.has_conflict.data == "yes", f.note.data),
                 _("Your declaration was recorded."))


@bp.route("/acceptances/<int:acceptance_id>/scores", methods=["POST"])
def scores(acceptance_id: int):
    return _post(acceptance_id, "acceptance.evaluate", ScoreForm, "score_form", "sc",
                 lambda acc, f: svc.submit_scores(current_user, acc, f.values(), f.comment.data),
                 _("Your scores were submitted."))


@bp.route("/acceptances/<int:acceptance_id>/third-party-scores", methods=["POST"])
def third_party_scores(acceptance_id: int):
    return _post(acceptance_id, "acceptance.manage", ScoreForm, "third_form", "tp",
                 lambda acc, f: svc.enter_third_party_scores(current_user, acc, f.values(), f.comment.data),
                 _("The third party's scores were saved."))


@bp.route("/acceptances/<int:acceptance_id>/decide", methods=["POST"])
def decide(acceptance_id: int):
    return _post(acceptance_id, "acceptance.manage", DecideForm, "decide_form", "dec",
                 lambda acc, f: svc.decide(current_user, acc, f.note.data),
                 _("The acceptance was decided; its certificate is being rendered."))


@project_part(order=40)
def _project_acceptance(project) -> Markup | None:
    """The project page's part: the acceptance of its contract(s), or the way to write
    the final report for the organization."""
    ids = [c.id for c in contract_queries.of_project(project)]  # their contracts, already in the session
    if not ids:
        return None
    rows = db.session.scalars(visible(current_user, "acceptance.view", Acceptance)
                              .where(Acceptance.contract_id.in_(ids)).order_by(Acceptance.id)).all()
    due = []
    if current_user.role.value == "org":
        taken = select(Acceptance.contract_id)
        due = db.session.scalars(visible(current_user, "contract.view", Contract).where(
            Contract.project_id == project.id, Contract.state == ContractState.ACTIVE,
            Contract.id.not_in(taken))).all()
    if not rows and not due:
        return None
    return Markup(render_template("acceptance/_project_part.html", acceptances=rows, due=due))
