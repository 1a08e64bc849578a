"""Evaluation pages (blueprint "evaluation"): for officers the committee (draw,
qualification review, start), the results (ranking, award or pass over, the report) and
the challenges (answers); for evaluators their assignments, the declaration and the
score form; for organizations the outcome of a call and the challenge form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from .. import nav
from ..auth.models import User
from ..documents.models import Document
from ..errors import DomainError
from ..extensions import db
from ..jobs.models import Job
from ..nav import ADMIN_GROUP, NavItem
from ..permissions import can, visible
from ..projects.models import ServiceCategory
from ..roles import Role
from ..web import ServiceFailed, flash_done, perform, require_view
from . import award as aw
from . import evaluation as ev
from . import followups
from .content import open_bundle
from .evaluation_forms import (
    AnswerForm,
    ChallengeForm,
    ConfirmForm,
    DeclareForm,
    DrawForm,
    EvaluatorFieldsForm,
    ReasonForm,
    ReplaceForm,
    ReviewForm,
    score_form,
)
from .evaluators import EvaluatorField
from .models import Bid, BidState, Challenge, ChallengeState, CommitteeMember, MemberState, Tender, TenderState

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")

nav.register(NavItem(_l("My evaluations"), "evaluation.assignments", "committee.view", order=25,
                     values=lambda u: {} if u.role == Role.EVALUATOR else None))


nav.register(NavItem(_l("Evaluator pool"), "evaluation.evaluators", "user.manage", group=ADMIN_GROUP, order=906))


@bp.app_template_filter("score")
def _score_filter(value) -> str:
    """Scores on pages and PDFs: two decimals (evaluation.format_score)."""
    return ev.format_score(value)


@bp.before_request
@login_required
def _signed_in():
    """Every evaluation page needs a signed-in user (each view checks its permission)."""


def _tender(tender_id: int) -> Tender:
    return db.get_or_404(Tender, tender_id)


def _back(endpoint: str, tender: Tender):
    return redirect(url_for(endpoint, tender_id=tender.id))


# --- officers: the committee and the qualification review ---------------------------------


def _committee_page(tender: Tender, status: int = 200, **forms):
    require_view("tender.manage", tender)
    bids = list(db.session.scalars(select(Bid).where(Bid.tender_id == tender.id, Bid.opened_at.is_not(None))
                                   .order_by(Bid.id)))
    members = ev.members_of(tender)
    ctx = {"draw_form": DrawForm(), "start_form": ConfirmForm(prefix="start"),
           "review_forms": {b.id: ReviewForm(prefix=f"r{b.id}") for b in bids},
           "replace_forms": {m.id: ReplaceForm(prefix=f"m{m.id}") for m in members
                             if m.state in ev.ACTIVE and tender.state in ev.DRAW_STATES}}
    replace_form = forms.pop("replace_form", None)
    if replace_form is not None:
        ctx["replace_forms"][forms.pop("replace_id")] = replace_form
    ctx.update(forms)
    return render_template("evaluation/committee.html", tender=tender, draw=ev.current_draw(tender),
                           redraws=ev.redraws(tender),
                           members=members, bids=bids, complete=ev.committee_complete(tender),
                           policy=ev.composition(tender), reasons=ev.DISQUALIFY_REASONS,
                           forced={b.id: ev.forced_disqualification(tender, b) for b in bids
                                   if b.state == BidState.OPENED}, **ctx), status


@bp.route("/tenders/<int:tender_id>/committee")
def committee(tender_id: int):
    return _committee_page(_tender(tender_id))


@bp.route("/tenders/<int:tender_id>/draw", methods=["POST"])
def draw(tender_id: int):
    tender = _tender(tender_id)
    require_view("tender.manage", tender)
    form = DrawForm()
    if form.validate_on_submit():
        try:
            perform(ev.draw_committee, current_user, tender, form.size.data, form=form)
        except ServiceFailed:
            db.session.refresh(tender)
        else:
            flash_done(_("The committee was drawn; its members are asked to declare."))
            return _back("evaluation.committee", tender)
    return _committee_page(tender, 400, draw_form=form)


@bp.route("/tenders/<int:tender_id>/members/<int:member_id>/replace", methods=["POST"])
def replace_member(tender_id: int, member_id: int):
    tender = _tender(tender_id)
    require_view("tender.manage", tender)
    member = db.get_or_404(CommitteeMember, member_id)
    if member.tender_id != tender.id:
        abort(404)
    form = ReplaceForm(prefix=f"m{member.id}")
    if form.validate_on_submit():
        try:
            perform(ev.replace_member, current_user, tender, member, form.reason.data, form=form)
        except ServiceFailed:
            db.session.refresh(tender)
        else:
            flash(_("The member is replaced; the next backup is asked to declare."), "success")
            return _back("evaluation.committee", tender)
    if member.state not in ev.ACTIVE:
        return _committee_page(tender, 400)
    return _committee_page(tender, 400, replace_form=form, replace_id=member.id)


@bp.route("/tenders/<int:tender_id>/bids/<int:bid_id>/review", methods=["POST"])
def review(tender_id: int, bid_id: int):
    tender = _tender(tender_id)
    require_view("tender.manage", tender)
    bid = db.get_or_404(Bid, bid_id)
    if bid.tender_id != tender.id:
        abort(404)
    form = ReviewForm(prefix=f"r{bid.id}")
    if form.validate_on_submit():
        if form.decision.data not in ("qualified", "disqualified"):
            form.decision.errors = [_("Choose qualified or disqualified.")]
        else:
            try:
                perform(ev.review_bid, current_user, tender, bid, form.decision.data == "qualified",
                        form.reason.data or None, form.note.data, form=form)
            except ServiceFailed:
                db.session.refresh(tender)
            else:
                flash(_("The review is recorded."), "success")
                return _back("evaluation.committee", tender)
    forms = {b.id: ReviewForm(prefix=f"r{b.id}") for b in tender.bids} | {bid.id: form}
    return _committee_page(tender, 400, review_forms=forms)


@bp.route("/tenders/<int:tender_id>/start", methods=["POST"])
def start(tender_id: int):
    tender = _tender(tender_id)
    require_view("tender.manage", tender)
    form = ConfirmForm(prefix="start")
    if form.validate_on_submit():
        try:
            perform(ev.start_evaluation, current_user, tender)
        except ServiceFailed:
            return _committee_page(tender, 400)
        db.session.refresh(tender)
        if tender.state == TenderState.FAILED:
            flash(_("Too few qualified bids: the call failed."), "warning")
        else:
            flash_done(_("The evaluation has started; the members are asked to score."))
    return _back("evaluation.committee", tender)


# --- officers: results, award, challenges ---------------------------------------------------


def _results_page(tender: Tender, status: int = 200, **forms):
    require_view("tender.manage", tender)
    members = [m for m in ev.members_of(tender) if m.state == MemberState.DECLARED]
    ranked = ev.results(tender, members) if tender.state != TenderState.CLOSED else []
    report = db.session.scalar(select(Document).where(
        Document.object_type == "tenders", Document.object_id == str(tender.id),
        Document.kind == "evaluation_report").order_by(Document.id.desc()).limit(1))
    job = db.session.scalar(select(Job).where(Job.kind == ev.REPORT_JOB).where(
        Job.params["tender_id"].as_integer() == tender.id).order_by(Job.id.desc()).limit(1)) \
        if report is None else None
    ctx = {"rank_form": ConfirmForm(prefix="rank"), "award_form": ConfirmForm(prefix="award"),
           "pass_form": ReasonForm(prefix="pass")}
    ctx.update(forms)
    return render_template("evaluation/results.html", tender=tender, members=members,
                           submitted={m.id: ev.submitted(m) for m in members}, ranked=ranked,
                           decisions=aw.decisions(tender), next_bid=aw.next_in_line(tender), report=report, job=job,
                           next_steps=followups.next_steps(current_user, tender), **ctx), status


@bp.route("/tenders/<int:tender_id>/results")
def results(tender_id: int):
    return _results_page(_tender(tender_id))


@bp.route("/tenders/<int:tender_id>/rank", methods=["POST"])
def rank(tender_id: int):
    tender = _tender(tender_id)
    require_view("tender.manage", tender)
    form = ConfirmForm(prefix="rank")
    if form.validate_on_submit():
        try:
            perform(ev.rank_bids, current_user, tender)
        except ServiceFailed:
            return _results_page(tender, 400)
        flash(_("The bids are ranked; the evaluation report is being rendered."), "success")
    return _back("evaluation.results", tender)


@bp.route("/tenders/<int:tender_id>/award/<int:bid_id>", methods=["POST"])
def award(tender_id: int, bid_id: int):
    tender = _tender(tender_id)
    require_view("tender.manage", tender)
    bid = db.get_or_404(Bid, bid_id)
    form = ConfirmForm(prefix="award")
    if form.validate_on_submit():
        try:
            perform(aw.award_bid, current_user, tender, bid)
        except ServiceFailed:
            db.session.rollback()
            return _results_page(db.session.get(Tender, tender_id), 400)
        flash_done(_("The award notice is published; the publicity period and the challenge window run."))
    return _back("evaluation.results", tender)


@bp.route("/tenders/<int:tender_id>/pass/<int:bid_id>", methods=["POST"])
def pass_over(tender_id: int, bid_id: int):
    tender = _tender(tender_id)
    require_view("tender.manage", tender)
    bid = db.get_or_404(Bid, bid_id)
    form = ReasonForm(prefix="pass")
    if form.validate_on_submit():
        try:
            perform(aw.pass_over, current_user, tender, bid, form.reason.data, form=form)
        except ServiceFailed:
            return _results_page(db.session.get(Tender, tender_id), 400, pass_form=form)
        flash(_("The bid is passed over; the next one in the ranking comes next."), "success")
        return _back("evaluation.results", tender)
    return _results_page(tender, 400, pass_form=form)


def _challenges_page(tender: Tender, status: int = 200, forms=None):
    require_view("tender.manage", tender)
    rows = list(db.session.scalars(visible(current_user, "challenge.view", Challenge)
                                   .where(Challenge.tender_id == tender.id).order_by(Challenge.lodged_at)))
    forms = {c.id: AnswerForm(prefix=f"a{c.id}") for c in rows if c.state == ChallengeState.OPEN} | (forms or {})
    files = _challenge_files(rows)
    return render_template("evaluation/challenges.html", tender=tender, challenges=rows, forms=forms,
                           files=files), status


def _challenge_files(rows) -> dict:
    ids = [str(c.id) for c in rows]
    out: dict = {}
    if ids:
        for d in db.session.scalars(select(Document).where(Document.object_type == "challenges",
                                                           Document.object_id.in_(ids)).order_by(Document.id)):
            out.setdefault(int(d.object_id), []).append(d)
    return out


@bp.route("/tenders/<int:tender_id>/challenges")
def challenges(tender_id: int):
    return _challenges_page(_tender(tender_id))


@bp.route("/challenges/<int:challenge_id>/answer", methods=["POST"])
def answer(challenge_id: int):
    challenge = db.get_or_404(Challenge, challenge_id)
    require_view("challenge.answer", challenge)
    form = AnswerForm(prefix=f"a{challenge.id}")
    if form.validate_on_submit():
        try:
            perform(aw.answer_challenge, current_user, challenge, form.answer.data,
                    upheld=form.outcome.data == "upheld", remedy=form.remedy.data or None, form=form)
        except ServiceFailed:
            pass
        else:
            flash_done(_("The answer is sent."))
            return _back("evaluation.challenges", challenge.tender)
    return _challenges_page(db.session.get(Tender, challenge.tender_id), 400, {challenge.id: form})


# --- evaluators -------------------------------------------------------------------------


@bp.route("/mine")
def assignments():
    require_view("committee.view")
    rows = list(db.session.scalars(visible(current_user, "committee.view", CommitteeMember)
                                   .where(CommitteeMember.user_id == current_user.id)
                                   .order_by(CommitteeMember.created_at.desc())))
    return render_template("evaluation/assignments.html", rows=rows)


def _member_page(tender: Tender, status: int = 200, **forms):
    member = ev.member_for(current_user, tender)
    if member is None:
        abort(403)
    require_view("tender.view", tender)
    evaluating = can(current_user, "tender.evaluate", tender)
    bids = [b for b in ev.scored_bids(tender)] if evaluating else []
    criteria = ev.scoring_criteria(tender)
    existing = ev.my_scores(member) if evaluating else {}
    locked = any(s.submitted_at is not None for s in existing.values())
    proposals = {}
    for b in bids:  # the members read the proposals they score (never before the opening)
        try:
            proposals[b.id] = open_bundle(tender, b).get("proposal") or ""
        except DomainError as exc:
            proposals[b.id] = str(exc.message)
    ctx = {"declare_form": DeclareForm(prefix="d"),
           "scores_form": score_form(bids, criteria, existing) if evaluating else None}
    ctx.update(forms)
    return render_template("evaluation/member.html", tender=tender, member=member, names=ev.bidder_names(tender),
                           evaluating=evaluating, bids=bids, criteria=criteria, locked=locked, existing=existing,
                           proposals=proposals,
                           **ctx), status


@bp.route("/tenders/<int:tender_id>/member")
def member(tender_id: int):
    return _member_page(_tender(tender_id))


@bp.route("/tenders/<int:tender_id>/declare", methods=["POST"])
def declare(tender_id: int):
    tender = _tender(tender_id)
    if ev.member_for(current_user, tender) is None:
        abort(403)
    form = DeclareForm(prefix="d")
    if form.validate_on_submit():
        try:
            perform(ev.declare, current_user, tender, bool(form.has_conflict.data), form.note.data, form=form)
        except ServiceFailed:
            pass
        else:
            if form.has_conflict.data:
                flash(_("Your conflict of interest is recorded; you leave this committee."), "success")
                return redirect(url_for("evaluation.assignments"))
            flash(_("Your declaration is recorded."), "success")
            return _back("evaluation.member", tender)
    return _member_page(tender, 400, declare_form=form)


@bp.route("/tenders/<int:tender_id>/scores", methods=["POST"])
def scores(tender_id: int):
    tender = _tender(tender_id)
    require_view("tender.evaluate", tender)
    member = ev.member_for(current_user, tender)
    if member is None:
        abort(403)
    bids, criteria = ev.scored_bids(tender), ev.scoring_criteria(tender)
    form = score_form(bids, criteria, {}, formdata=request.form)
    if form.validate_on_submit():
        values = {(b.id, c.id): form[f"s_{b.id}_{c.id}"].data for b in bids for c in criteria}
        submit = bool(form.submit.data)
        try:
            perform(ev.save_scores, current_user, tender, values, submit=submit, form=form)
        except ServiceFailed:
            pass
        else:
            flash(_("Your scores are submitted and locked.") if submit else _("Your scores are saved."), "success")
            return _back("evaluation.member", tender)
    return _member_page(tender, 400, scores_form=form)


# --- organizations (and officers): the outcome of a call; challenges -----------------------


def _outcome_page(tender: Tender, status: int = 200, **forms):
    mine = aw.may_challenge(current_user, tender)
    if mine is None and not can(current_user, "tender.manage", tender):
        abort(403)
    winner = db.session.get(Bid, tender.awarded_bid_id) if tender.awarded_bid_id else None
    notice = None
    if winner is not None and can(current_user, "award.notice", winner):
        notice = db.session.scalar(select(Document).where(
            Document.object_type == "bids", Document.object_id == str(winner.id),
            Document.kind == "award_notice").order_by(Document.id.desc()).limit(1))
    own = []
    if mine is not None:
        own = list(db.session.scalars(visible(current_user, "challenge.view", Challenge)
                                      .where(Challenge.tender_id == tender.id).order_by(Challenge.lodged_at)))
    ctx = {"challenge_form": ChallengeForm()}
    ctx.update(forms)
    window_open = (tender.state == TenderState.AWARDED and tender.challenge_ends_at is not None
                   and aw.utcnow() < tender.challenge_ends_at)
    return render_template("evaluation/outcome.html", tender=tender, winner=winner, mine=mine, notice=notice,
                           challenges=own, files=_challenge_files(own), window_open=window_open, **ctx), status


@bp.route("/tenders/<int:tender_id>/outcome")
def outcome(tender_id: int):
    return _outcome_page(_tender(tender_id))


@bp.route("/tenders/<int:tender_id>/challenge", methods=["POST"])
def challenge(tender_id: int):
    tender = _tender(tender_id)
    require_view("challenge.lodge")
    form = ChallengeForm()
    if form.validate_on_submit():
        files = [(f.filename, f.mimetype, f.read()) for f in (form.files.data or []) if f and f.filename]
        try:
            perform(aw.lodge_challenge, current_user, tender, form.reason.data, files, form=form)
        except ServiceFailed:
            pass
        else:
            flash_done(_("Your challenge is lodged; the purchasing department must answer it."))
            return _back("evaluation.outcome", tender)
    return _outcome_page(tender, 400, challenge_form=form)


# --- administrators: the evaluator pool --------------------------------------------------


def _fields_form(user: User, formdata=None) -> EvaluatorFieldsForm:
    form = EvaluatorFieldsForm(prefix=f"u{user.id}") if formdata is None else \
        EvaluatorFieldsForm(prefix=f"u{user.id}", formdata=formdata)
    cats = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.code)).all()
    form.categories.choices = [SelectChoice(str(c.id), f"{c.code} {c.name}") for c in cats]
    if formdata is None:
        rows = db.session.scalars(select(EvaluatorField).where(EvaluatorField.user_id == user.id)).all()
        form.categories.data = [str(r.category_id) for r in rows]
        form.is_expert.data = all(r.is_expert for r in rows) if rows else True
    return form


def _evaluators_page(status: int = 200, forms=None):
    require_view("user.manage")
    users = db.session.scalars(select(User).where(User.role == Role.EVALUATOR).order_by(User.id)).all()
    forms = {u.id: _fields_form(u) for u in users} | (forms or {})
    return render_template("evaluation/evaluators.html", users=users, forms=forms), status


@bp.route("/evaluators")
def evaluators():
    return _evaluators_page()


@bp.route("/evaluators/<int:user_id>", methods=["POST"])
def evaluator_fields(user_id: int):
    require_view("user.manage")
    user = db.get_or_404(User, user_id)
    form = _fields_form(user, request.form)
    if form.validate_on_submit():
        fields = [(c, form.is_expert.data) for c in form.categories.data or []]
        try:
            perform(ev.set_evaluator_fields, current_user, user, fields, form=form)
        except ServiceFailed:
            pass
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("evaluation.evaluators"))
    return _evaluators_page(400, {user.id: form})
