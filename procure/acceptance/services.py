"""Acceptance operations (issue 11 item 4): the organization's final report with the
beneficiaries' opinion, the officer organizing the evaluation (evaluators with their
conflict declarations, or a third party), the scores in the weighted groups, the
decision and what follows it. Each checks permission, validates everything before it
writes, audits, flushes; the caller commits once. State changes go through
``ACCEPTANCE_MACHINE`` / ``EVALUATOR_MACHINE`` (compare-and-set).

What a decision does:
- pass (优/良/中): acceptance passed, the contract completed, ``signals.acceptance_passed``
  (payments raise the final installment), the result published, the organization's record;
- first fail (差): failed with a rectification period (policy days); the organization
  resubmits once (round 2) and the acceptance is evaluated again;
- second fail, or the rectification period over without a resubmission: terminated, the
  contract terminated with what was paid as the settlement,
  ``signals.acceptance_failed_finally``.
Each decision queues the acceptance certificate (验收报告, PDF) for the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError

from .. import audit, policy, signals, workflow
from ..auth.models import User, UserStatus
from ..contracts import services as cs
from ..contracts.models import CONTRACT_MACHINE, Contract, ContractState, Party
from ..documents.services import store_document
from ..documents.uploads import CONTENT_TYPES
from ..errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from ..extensions import db
from ..jobs.services import create_job, register_task
from ..notifications.services import app_path, notify, register_topic
from ..organizations import services as org_services
from ..parsing import has_control_chars, parse_id
from ..permissions import Scope, can, define, own_department, own_organization, owned_by, related, require, role_in
from ..projects.models import PROJECT_MACHINE, Project, ProjectState
from ..projects.services import ensure_open
from ..roles import Role
from ..tenders.evaluation import parse_score
from ..timeutil import local_today, to_local, utcnow
from .models import (
    ACCEPTANCE_MACHINE,
    EVALUATOR_MACHINE,
    Acceptance,
    AcceptanceEvaluator,
    AcceptanceScore,
    AcceptanceState,
    EvaluatorState,
    Grade,
)

A, E = AcceptanceState, EvaluatorState
TWO = Decimal("0.01")
#: The indicator groups of DOMAIN.md §5, in the order pages and the certificate show them;
#: each group's weight is the policy value ``performance.weight.<group>``.
GROUPS = ("budget_execution", "outputs", "outcomes", "satisfaction")
GROUP_LABELS = {"budget_execution": _l("Budget execution"), "outputs": _l("Outputs"), "outcomes": _l("Outcomes"),
                "satisfaction": _l("Satisfaction")}
#: The beneficiaries' opinion as a scan: these types only (content-checked on upload).
OPINION_TYPES = ("png", "jpeg", "pdf")
MAX_OPINION = 20 * 1024 * 1024
CERT_JOB = "acceptance_certificate"
CERT_TASK = "workers.acceptance.render_certificate"
register_task(CERT_JOB, CERT_TASK)


# --- who may do what ---------------------------------------------------------------------

def _assigned_check(user, obj) -> bool:
    if obj is None or getattr(obj, "id", None) is None or getattr(user, "id", None) is None:
        return False
    return bool(db.session.scalar(select(exists().where(AcceptanceEvaluator.acceptance_id == obj.id,
                                                        AcceptanceEvaluator.user_id == user.id))))


def _assigned_where(user, model):
    return exists().where(AcceptanceEvaluator.acceptance_id == model.id,
                          AcceptanceEvaluator.user_id == user.id).correlate(model)


#: Acceptances the user was assigned to evaluate (in any round).
ASSIGNED = Scope(_assigned_check, _assigned_where, "[assigned acceptance evaluator]")
_DEPT_OFFICER = role_in(Role.OFFICER) & related("contract", own_department())
_ORG_STAFF = role_in(Role.ORG) & own_organization()
define("acceptance.view", {Role.ADMIN, Role.FINANCE, Role.OFFICER, Role.ORG, Role.EVALUATOR},
       role_in(Role.ADMIN, Role.FINANCE) | _DEPT_OFFICER | _ORG_STAFF | (role_in(Role.EVALUATOR) & ASSIGNED),
       model=Acceptance)
#: The organization's final report (and its resubmission after a failure).
define("acceptance.report", {Role.ORG}, own_organization(), model=Acceptance)
#: Organizing the evaluation, entering a third party's scores, deciding: the contract's department.
define("acceptance.manage", {Role.OFFICER}, related("contract", own_department()), model=Acceptance)
#: Declaring and scoring: the evaluators assigned.
define("acceptance.evaluate", {Role.EVALUATOR}, ASSIGNED, model=Acceptance)
#: An evaluator's own assignment rows (the work list).
define("acceptance.serve", {Role.EVALUATOR}, owned_by("user_id"), model=AcceptanceEvaluator)

register_topic("acceptance.submitted", _l("Final reports submitted for acceptance"), roles={Role.OFFICER})
register_topic("acceptance.assigned", _l("Acceptance evaluations assigned to you"), roles={Role.EVALUATOR})
register_topic("acceptance.decided", _l("Acceptance decisions"), roles={Role.ORG, Role.OFFICER})


# --- small helpers ------------------------------------------------------------------------

def _text(value, field_name: str, *, required: bool, message=None, max_len: int = 20000,
          multiline: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(message or _l("This field is required."), field=field_name)
        return None
    if has_control_chars(text, multiline=multiline):
        raise ValidationError(_l("Remove the control characters from this text."), field=field_name)
    if len(text) > max_len:
        raise ValidationError(_l("At most %(n)s characters.", n=max_len), field=field_name)
    return text


def today() -> date:
    """Periods run in Shanghai days."""
    return local_today()


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh_CN"


def weights() -> dict[str, Decimal]:
    """Each group's weight (policy), out of 100."""
    return {g: Decimal(str(policy.value(f"performance.weight.{g}"))).quantize(TWO) for g in GROUPS}


def grade_for(score: Decimal) -> Grade:
    """The grade of a total score: 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 below (policy bands)."""
    if score >= Decimal(str(policy.value("performance.grade.excellent"))):
        return Grade.EXCELLENT
    if score >= Decimal(str(policy.value("performance.grade.good"))):
        return Grade.GOOD
    if score >= Decimal(str(policy.value("performance.grade.pass"))):
        return Grade.FAIR
    return Grade.POOR


def min_evaluators() -> int:
    return max(1, int(policy.value("acceptance.min_evaluators")))


def lock(acc: Acceptance) -> Acceptance:
    """The acceptance's row, locked until the commit, read fresh."""
    return db.session.scalars(select(Acceptance).where(Acceptance.id == acc.id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def acceptance_of(contract: Contract) -> Acceptance | None:
    return db.session.scalar(select(Acceptance).where(Acceptance.contract_id == contract.id))


def officers_of(acc: Acceptance) -> list[User]:
    return cs.signatories(acc.contract, Party.DEPARTMENT)


def org_staff(acc: Acceptance) -> list[User]:
    return cs.signatories(acc.contract, Party.ORGANIZATION)


def _link(acc: Acceptance) -> str:
    return app_path("acceptance.detail", acceptance_id=acc.id)


# --- the final report --------------------------------------------------------------------

def open_final_report(actor, contract: Contract) -> Acceptance:
    """The acceptance of ``contract`` (in force), created as a draft final report the
    first time the organization opens it. One per contract, also under two requests."""
    if getattr(actor, "role", None) != Role.ORG or not can(actor, "contract.view", contract):
        raise NotPermitted(_l("Only the contracted organization's staff write its final report."))
    ensure_open(contract.project)
    acc = acceptance_of(contract)
    if acc is not None:
        return acc
    if contract.state != ContractState.ACTIVE:
        raise InvalidTransition(_l("A final report is written for a contract in force."))
    acc = Acceptance(contract_id=contract.id, organization_id=contract.organization_id, state=A.DRAFT, round=1,
                     final_report="", actuals=[], created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(acc)
    except IntegrityError:
        found = acceptance_of(contract)
        if found is None:
            raise
        return found
    audit.record(actor, "acceptance.create", acc, after=acc.snapshot())
    return acc


@dataclass
class Opinion:
    """A scan of the beneficiaries' opinion, already read and type-checked (check_upload)."""

    data: bytes
    filename: str
    type: str


@dataclass
class ReportData:
    final_report: str = ""
    #: One typed actual value per target of the project, in the targets' order.
    actuals: list = field(default_factory=list)
    opinion_text: str | None = None
    opinion: Opinion | None = None


def _actual(raw, n: int, required: bool) -> Decimal | None:
    text = "" if raw is None else str(raw).strip()
    if not text:
        if required:
            raise ValidationError(_l("Give the actual value of indicator %(n)d.", n=n), field="actuals")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_l("Indicator %(n)d: type a number.", n=n), field="actuals") from None
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** 12 or value != value.quantize(TWO):
        raise ValidationError(_l("Indicator %(n)d: a number from 0, with at most two decimals.", n=n),
                              field="actuals")
    return value.quantize(TWO)


def editable(acc: Acceptance, on: date | None = None) -> bool:
    """The organization may change (and submit) its final report: a draft, or a failed
    first round whose rectification period has not ended."""
    if acc.state == A.DRAFT:
        return True
    return acc.state == A.FAILED and acc.round == 1 and acc.rectify_by is not None and (on or today()) <= acc.rectify_by


def save_final_report(actor, acc: Acceptance, data: ReportData, *, submit: bool = False,
                      seen: int | None = None) -> Acceptance:
    """The organization saves (or submits) its final report: narrative, the actual value
    of each performance target, the beneficiaries' opinion as a scan (png, jpeg or pdf)
    and/or typed text. Accepts a draft (round 1) or a failed acceptance within its
    rectification period (resubmission: round 2). Submitting needs the narrative, every
    actual and the opinion (at least one form of it); it moves the acceptance to
    submitted, the project to acceptance, and tells the department's officers."""
    require(actor, "acceptance.report", acc)
    ensure_open(acc.contract.project)
    if acc.state == A.FAILED and acc.rectify_by is not None and today() > acc.rectify_by:
        raise InvalidTransition(_l("The rectification period ended on %(date)s; the report can no longer be "
                                   "resubmitted.", date=acc.rectify_by.isoformat()))
    if not editable(acc):
        raise InvalidTransition(_l("The final report can no longer be changed: it is %(state)s.",
                                   state=acc.state.label))
    narrative = _text(data.final_report, "final_report", required=submit,
                      message=_l("Describe what the project delivered."), max_len=20000) or ""
    targets = list(acc.contract.project.targets)
    raw = list(data.actuals or [])
    if len(raw) > len(targets):
        raise ValidationError(_l("More actual values than the project has targets."), field="actuals")
    raw += [None] * (len(targets) - len(raw))
    actuals = []
    for n, (target, value) in enumerate(zip(targets, raw, strict=True), start=1):
        actual = _actual(value, n, submit)
        actuals.append({"indicator": target.indicator, "unit": target.unit, "target": str(target.target_value),
                        "actual": None if actual is None else str(actual)})
    opinion_text = _text(data.opinion_text, "opinion_text", required=False, max_len=5000)
    upload = data.opinion
    if upload is not None and (upload.type not in OPINION_TYPES or not upload.data or len(upload.data) > MAX_OPINION):
        raise ValidationError(_l("The opinion scan must be a PNG, JPEG or PDF file."), field="opinion")
    if submit and upload is None and acc.opinion_document_id is None and not opinion_text:
        raise ValidationError(_l("Attach the beneficiaries' written opinion (服务对象意见) as a scan, or type it "
                                 "from the form."), field="opinion_text")
    state = acc.state
    workflow.claim_revision(acc, seen, state=state)
    before = {"final_report": acc.final_report, "actuals": acc.actuals, "opinion_text": acc.opinion_text,
              "opinion_document_id": acc.opinion_document_id}
    if upload is not None:
        doc = store_document(actor, upload.data, upload.filename, CONTENT_TYPES[upload.type], kind="acceptance_opinion",
                             obj=acc, permission="acceptance.view")
        acc.opinion_document_id = doc.id
    acc.final_report, acc.actuals, acc.opinion_text = narrative, actuals, opinion_text
    db.session.flush()
    b, a = audit.diff(before, {"final_report": acc.final_report, "actuals": acc.actuals,
                               "opinion_text": acc.opinion_text, "opinion_document_id": acc.opinion_document_id})
    if a:
        audit.record(actor, "acceptance.save", acc, before=b, after=a)
    if submit:
        _submit(actor, acc, state)
    return acc


def _submit(actor, acc: Acceptance, state: AcceptanceState) -> None:
    round_ = 2 if state == A.FAILED else acc.round
    # A new round is organized afresh (committee or third party): reset quietly, so the
    # history does not read "evaluated by: evaluators" before anyone was chosen.
    acc.evaluated_by, acc.third_party_name = "committee", None
    ACCEPTANCE_MACHINE.transition(acc, A.SUBMITTED, actor, values={"submitted_at": utcnow(), "round": round_},
                                  extra={"round": round_})
    project = acc.contract.project
    if project.state == ProjectState.CONTRACTED:
        PROJECT_MACHINE.transition(project, ProjectState.IN_PROGRESS, actor, extra={"contract": acc.contract.number})
    if project.state == ProjectState.IN_PROGRESS:
        PROJECT_MACHINE.transition(project, ProjectState.ACCEPTANCE, actor, extra={"contract": acc.contract.number})
    notify(officers_of(acc), "acceptance_submitted", acc, context={"acc": acc, "contract": acc.contract},
           rule="acceptance.submitted", link=_link(acc))


# --- organizing the evaluation --------------------------------------------------------------

def eligible_evaluators() -> list[User]:
    """Active users with the evaluator role, by name."""
    return list(db.session.scalars(select(User).where(User.role == Role.EVALUATOR, User.status == UserStatus.ACTIVE)
                                   .order_by(User.name, User.id)))


def _evaluator_users(ids) -> list[User]:
    parsed = [parse_id(i) for i in ids or []]
    if None in parsed:  # not a number, or beyond any id (the database would refuse it)
        raise ValidationError(_l("Choose evaluators from the list."), field="evaluators")
    wanted = sorted(set(parsed))
    users = list(db.session.scalars(select(User).where(User.id.in_(wanted)))) if wanted else []
    if len(users) != len(wanted) or any(u.role != Role.EVALUATOR or u.status != UserStatus.ACTIVE for u in users):
        raise ValidationError(_l("Only active users with the evaluator role can be assigned."), field="evaluators")
    return users


def round_evaluators(acc: Acceptance) -> list[AcceptanceEvaluator]:
    return list(db.session.scalars(select(AcceptanceEvaluator).where(
        AcceptanceEvaluator.acceptance_id == acc.id, AcceptanceEvaluator.round == acc.round)
        .order_by(AcceptanceEvaluator.id)))


def _assign(actor, acc: Acceptance, users: list[User]) -> list[AcceptanceEvaluator]:
    rows = []
    for user in users:
        row = AcceptanceEvaluator(acceptance_id=acc.id, round=acc.round, user_id=user.id, state=E.ASSIGNED,
                                  assigned_by_id=actor.id)
        db.session.add(row)
        rows.append(row)
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(_l("An evaluator is already assigned to this acceptance.")) from None
    for row in rows:
        audit.record(actor, "acceptance_evaluator.assign", row, after={"acceptance_id": acc.id, "round": acc.round,
                                                                       "user_id": row.user_id})
    notify(users, "acceptance_assigned", acc, context={"acc": acc, "contract": acc.contract},
           rule="acceptance.assigned", link=_link(acc))
    return rows


def organize_evaluation(actor, acc: Acceptance, *, evaluator_ids=None, third_party_name: str | None = None
                        ) -> Acceptance:
    """The officer starts the evaluation of a submitted final report: either assigns
    evaluators (users with the evaluator role, at least the policy number; each then
    declares a conflict of interest or none) or names a third party whose scores the
    officer enters. submitted → evaluating."""
    require(actor, "acceptance.manage", acc)
    ensure_open(acc.contract.project)
    ACCEPTANCE_MACHINE.check(acc.state, A.EVALUATING)
    name = _text(third_party_name, "third_party_name", required=False, max_len=200, multiline=False)
    ids = [i for i in (evaluator_ids or []) if str(i).strip()]
    if name and ids:
        raise ValidationError(_l("Either assign evaluators or name a third party, not both."), field="evaluators")
    if not name:
        users = _evaluator_users(ids)
        need = min_evaluators()
        if len(users) < need:
            raise ValidationError(_l("Assign at least %(n)d evaluators (policy).", n=need), field="evaluators")
        if any(u.id == actor.id for u in users):
            raise ValidationError(_l("You cannot evaluate an acceptance you organize."), field="evaluators")
    ACCEPTANCE_MACHINE.transition(acc, A.EVALUATING, actor, values={
        "evaluated_by": "third_party" if name else "committee", "third_party_name": name},
        extra={"third_party_name": name} if name else {"evaluators": sorted(u.id for u in users)})
    if not name:
        _assign(actor, acc, users)
    return acc


def add_evaluator(actor, acc: Acceptance, user_id) -> AcceptanceEvaluator:
    """One more evaluator during the evaluation (e.g. after a conflict was declared)."""
    require(actor, "acceptance.manage", acc)
    ensure_open(acc.contract.project)
    if acc.state != A.EVALUATING or acc.evaluated_by != "committee":
        raise InvalidTransition(_l("Evaluators are added while a committee evaluates."))
    users = _evaluator_users([user_id])
    if not users:
        raise ValidationError(_l("Choose evaluators from the list."), field="evaluators")
    if any(e.user_id == users[0].id for e in round_evaluators(acc)):
        raise Conflict(_l("An evaluator is already assigned to this acceptance."))
    return _assign(actor, acc, users)[0]


def evaluator_row(user, acc: Acceptance) -> AcceptanceEvaluator | None:
    """``user``'s assignment to the acceptance's current round."""
    if user is None or getattr(user, "id", None) is None:
        return None
    return db.session.scalar(select(AcceptanceEvaluator).where(
        AcceptanceEvaluator.acceptance_id == acc.id, AcceptanceEvaluator.round == acc.round,
        AcceptanceEvaluator.user_id == user.id))


def declare(actor, acc: Acceptance, has_conflict: bool, note: str | None = None) -> AcceptanceEvaluator:
    """An assigned evaluator declares a conflict of interest (with what it is) or none.
    assigned → declared | conflicted; a conflicted evaluator cannot score."""
    row = evaluator_row(actor, acc)
    if row is None or not can(actor, "acceptance.evaluate", acc):
        raise NotPermitted(_l("You are not allowed to do this."))
    ensure_open(acc.contract.project)
    if acc.state != A.EVALUATING:
        raise InvalidTransition(_l("The declaration is made while the acceptance is evaluated."))
    note = _text(note, "note", required=bool(has_conflict), message=_l("Say what the conflict of interest is."),
                 max_len=2000)
    if has_conflict:
        EVALUATOR_MACHINE.transition(row, E.CONFLICTED, actor, values={"declared_at": utcnow(), "conflict_note": note},
                                     extra={"note": note})
    else:
        EVALUATOR_MACHINE.transition(row, E.DECLARED, actor, values={"declared_at": utcnow()})
    return row


def _parse_groups(values: dict) -> dict[str, Decimal]:
    w = weights()
    out = {}
    for g in GROUPS:
        raw = values.get(g)
        if raw is None or str(raw).strip() == "":
            raise ValidationError(_l("%(group)s: give a score.", group=GROUP_LABELS[g]), field=f"score_{g}")
        try:
            out[g] = parse_score(raw, w[g])
        except ValueError as exc:
            raise ValidationError(_l("%(group)s: %(error)s", group=GROUP_LABELS[g], error=exc.args[0]),
                                  field=f"score_{g}") from None
    return out


def submit_scores(actor, acc: Acceptance, values: dict, comment: str | None = None) -> AcceptanceEvaluator:
    """An evaluator who declared no conflict scores every group (0..weight, two
    decimals at most), once: declared → scored. Every value is checked before anything
    is written."""
    row = evaluator_row(actor, acc)
    if row is None or not can(actor, "acceptance.evaluate", acc):
        raise NotPermitted(_l("You are not allowed to do this."))
    ensure_open(acc.contract.project)
    if acc.state != A.EVALUATING:
        raise InvalidTransition(_l("Scores are given while the acceptance is evaluated."))
    if row.state == E.CONFLICTED:
        raise NotPermitted(_l("You declared a conflict of interest: you cannot score this acceptance."))
    if row.state == E.ASSIGNED:
        raise InvalidTransition(_l("Declare whether you have a conflict of interest before scoring."))
    if row.state == E.SCORED:
        raise Conflict(_l("Your scores are submitted and locked; they cannot be changed."))
    scores = _parse_groups(values)
    comment = _text(comment, "comment", required=False, max_len=4000) or ""
    EVALUATOR_MACHINE.transition(row, E.SCORED, actor, values={"scored_at": utcnow()},
                                 extra={"scores": {g: str(v) for g, v in scores.items()}})
    _write_scores(actor, acc, scores, comment, row.id)
    waiting = [e for e in round_evaluators(acc) if e.state in (E.ASSIGNED, E.DECLARED)]
    if not waiting:
        notify(officers_of(acc), "acceptance_scored", acc, context={"acc": acc, "contract": acc.contract},
               rule="acceptance.submitted", link=_link(acc))
    return row


def _write_scores(actor, acc: Acceptance, scores: dict[str, Decimal], comment: str, evaluator_id: int | None) -> None:
    w = weights()
    for g, value in scores.items():
        db.session.add(AcceptanceScore(acceptance_id=acc.id, round=acc.round, evaluator_id=evaluator_id, group=g,
                                       weight=w[g], score=value, comment=comment, entered_by_id=actor.id))
    db.session.flush()


def enter_third_party_scores(actor, acc: Acceptance, values: dict, comment: str | None = None) -> Acceptance:
    """The officer enters (or corrects, until the decision) the third party's scores."""
    require(actor, "acceptance.manage", acc)
    ensure_open(acc.contract.project)
    acc = lock(acc)
    if acc.state != A.EVALUATING or acc.evaluated_by != "third_party":
        raise InvalidTransition(_l("A third party's scores are entered while it evaluates the acceptance."))
    scores = _parse_groups(values)
    comment = _text(comment, "comment", required=False, max_len=4000) or ""
    old = list(db.session.scalars(select(AcceptanceScore).where(
        AcceptanceScore.acceptance_id == acc.id, AcceptanceScore.round == acc.round,
        AcceptanceScore.evaluator_id.is_(None))))
    for row in old:
        db.session.delete(row)
    db.session.flush()
    _write_scores(actor, acc, scores, comment, None)
    audit.record(actor, "acceptance.third_party_scores", acc,
                 before={g.group: str(g.score) for g in old} or None,
                 after={"third_party_name": acc.third_party_name, **{g: str(v) for g, v in scores.items()}})
    return acc


# --- results ------------------------------------------------------------------------------

@dataclass
class Result:
    """The round's scores: each group's average across the evaluators who scored (or the
    third party's), the total and its grade."""

    groups: dict
    total: Decimal | None
    grade: Grade | None
    scorers: int
    by_evaluator: dict  # evaluator id (None: third party) -> {group: score}


def result(acc: Acceptance, round_: int | None = None) -> Result:
    round_ = acc.round if round_ is None else round_
    scored = select(AcceptanceEvaluator.id).where(AcceptanceEvaluator.acceptance_id == acc.id,
                                                  AcceptanceEvaluator.round == round_,
                                                  AcceptanceEvaluator.state == E.SCORED)
    stmt = select(AcceptanceScore).where(AcceptanceScore.acceptance_id == acc.id, AcceptanceScore.round == round_)
    if acc.evaluated_by == "third_party":
        stmt = stmt.where(AcceptanceScore.evaluator_id.is_(None))
    else:
        stmt = stmt.where(AcceptanceScore.evaluator_id.in_(scored))
    by: dict = {}
    for s in db.session.scalars(stmt.order_by(AcceptanceScore.id)):
        by.setdefault(s.evaluator_id, {})[s.group] = s.score
    complete = {k: v for k, v in by.items() if all(g in v for g in GROUPS)}
    if not complete:
        return Result({}, None, None, 0, by)
    n = Decimal(len(complete))
    groups = {g: (sum((v[g] for v in complete.values()), Decimal(0)) / n).quantize(TWO, rounding=ROUND_HALF_UP)
              for g in GROUPS}
    total = sum(groups.values(), Decimal(0)).quantize(TWO)
    return Result(groups, total, grade_for(total), len(complete), by)


def decision_ready(acc: Acceptance) -> tuple[bool, object]:
    """Whether the officer may decide now, and why not."""
    if acc.state != A.EVALUATING:
        return False, _l("The acceptance is not being evaluated.")
    res = result(acc)
    if acc.evaluated_by == "third_party":
        if res.scorers < 1:
            return False, _l("Enter the third party's scores first.")
        return True, None
    need = min_evaluators()
    if res.scorers < need:
        return False, _l("At least %(n)d evaluators without a conflict of interest must score; %(m)d have.",
                         n=need, m=res.scorers)
    return True, None


def _failure_reason(acc: Acceptance, *, lapsed: bool = False) -> str:
    with force_locale(_default_locale()):
        if lapsed:
            return _("The rectification period ended on %(date)s without a resubmitted final report.",
                     date=acc.rectify_by.isoformat() if acc.rectify_by else "")
        return _("Scored %(score)s, grade %(grade)s (evaluation %(round)d).", score=acc.score,
                 grade=str(acc.grade.label) if acc.grade else "", round=acc.round)


def _record(acc: Acceptance, *, passed: bool, is_final: bool, reason: str | None) -> None:
    decided = acc.decided_at or utcnow()
    org_services.record_performance(
        acc.organization_id, acc.id, contract_number=acc.contract.number, project_title=acc.contract.project.title,
        year=to_local(decided).year, round_=acc.round, score=acc.score, grade=acc.grade.value if acc.grade else None,
        passed=passed, is_final=is_final, failure_reason=reason, decided_at=decided)


def _after_decision(actor, acc: Acceptance, *, tell_actor: bool = False) -> None:
    skip = None if tell_actor else getattr(actor, "id", None)
    notify([u for u in org_staff(acc) + officers_of(acc) if u.id != skip],
           "acceptance_decided", acc, context={"acc": acc, "contract": acc.contract}, rule="acceptance.decided",
           link=_link(acc))
    create_job(actor, CERT_JOB, {"acceptance_id": acc.id, "round": acc.round})


def decide(actor, acc: Acceptance, note: str | None = None) -> Acceptance:
    """The officer decides an evaluated acceptance from its scores (evaluating →
    passed | failed | terminated). Refused while fewer than the policy number of
    evaluators without a conflict have scored (or the third party's scores are missing).
    Two decisions at once: the acceptance's row is locked; the second is refused."""
    require(actor, "acceptance.manage", acc)
    ensure_open(acc.contract.project)
    acc = lock(acc)
    if acc.state != A.EVALUATING:
        raise InvalidTransition(_l("This acceptance is not waiting for a decision (it is %(state)s).",
                                   state=acc.state.label))
    ok, why = decision_ready(acc)
    if not ok:
        raise ValidationError(why)
    note = _text(note, "note", required=False, max_len=4000)
    res = result(acc)
    now = utcnow()
    values = {"score": res.total, "grade": res.grade, "decided_at": now, "decided_by_id": actor.id,
              "decision_note": note, "published_at": now}
    extra = {"groups": {g: str(v) for g, v in res.groups.items()}, "scorers": res.scorers}
    contract = acc.contract
    if res.grade.passed:
        ACCEPTANCE_MACHINE.transition(acc, A.PASSED, actor, values={**values, "rectify_by": None}, extra=extra)
        CONTRACT_MACHINE.transition(contract, ContractState.COMPLETED, actor, values={"ended_at": now},
                                    extra={"acceptance": acc.id, "grade": res.grade.value})
        _record(acc, passed=True, is_final=True, reason=None)
        signals.acceptance_passed.send(acc, actor=actor)
    elif acc.round == 1:
        rectify_by = today() + timedelta(days=int(policy.value("acceptance.rectification_days")))
        ACCEPTANCE_MACHINE.transition(acc, A.FAILED, actor, values={**values, "rectify_by": rectify_by},
                                      extra={**extra, "rectify_by": rectify_by.isoformat()})
        _record(acc, passed=False, is_final=False, reason=_failure_reason(acc))
    else:
        reason = _failure_reason(acc)
        ACCEPTANCE_MACHINE.transition(acc, A.TERMINATED, actor, values=values, extra=extra)
        _terminate(actor, acc, reason)
    _after_decision(actor, acc)
    return acc


def _terminate(actor, acc: Acceptance, reason: str) -> None:
    contract = acc.contract
    with force_locale(_default_locale()):
        why = _("Acceptance failed for good: %(reason)s", reason=reason)
    if contract.state == ContractState.ACTIVE:
        cs.end_contract(actor, contract, why, None)
    _record(acc, passed=False, is_final=True, reason=reason)
    signals.acceptance_failed_finally.send(acc, actor=actor)


def lapse_rectifications(on: date | None = None) -> list[int]:
    """Failed acceptances whose rectification period ended before ``on`` (Shanghai
    today) with no resubmission: terminated, the contract terminated (settlement: what
    was paid), the result published. A time-driven move, recorded in the name of the
    officer who decided the failure; idempotent. Returns
    the ids terminated; the caller commits."""
    on = on or today()
    # a closed (archived) project is never changed: its acceptance is left as it is
    ids = list(db.session.scalars(
        select(Acceptance.id).join(Contract, Contract.id == Acceptance.contract_id)
        .join(Project, Project.id == Contract.project_id)
        .where(Acceptance.state == A.FAILED, Acceptance.rectify_by < on, Project.state != ProjectState.CLOSED)
        .order_by(Acceptance.id)))
    done = []
    for acc_id in ids:
        acc = lock(db.session.get(Acceptance, acc_id))
        if acc.state != A.FAILED or acc.rectify_by is None or acc.rectify_by >= on:
            continue
        reason = _failure_reason(acc, lapsed=True)
        now = utcnow()
        # The move is the consequence of the officer's failure decision (the ledger names
        # an acting user for every entry): it is recorded in their name, the reason says why.
        actor = db.session.get(User, acc.decided_by_id) if acc.decided_by_id else None
        actor = actor or next(iter(officers_of(acc)), None)
        ACCEPTANCE_MACHINE.transition(acc, A.TERMINATED, actor, reason=reason,
                                      values={"decided_at": now, "published_at": now})
        _terminate(actor, acc, reason)
        _after_decision(actor, acc, tell_actor=True)  # nobody acted: the officer is told too
        done.append(acc.id)
    return done


# --- the certificate -----------------------------------------------------------------------

def certificate_rendered(actor, acc: Acceptance, pdf: bytes):
    """Store the certificate (the worker calls this) and make it the acceptance's.

    A closed project still takes the certificate of its decision once — the decision was
    taken while it was open, and the worker may render it after a quick close, so that
    the archive has it; replacing one it already has is a change, refused with the closed
    project's message (``ensure_open``), nothing stored: the worker's job fails with it."""
    if acc.certificate_document_id is not None:
        ensure_open(acc.contract.project)
    doc = store_document(actor, pdf, f"验收报告-{acc.contract.number}-{acc.round}.pdf", "application/pdf",
                         kind="acceptance_certificate", obj=acc, permission="acceptance.view")
    acc.certificate_document_id = doc.id
    db.session.flush()
    return doc


# --- reads for the pages --------------------------------------------------------------------

def published() -> Select:
    """The published results (portal): decided acceptances, latest first."""
    return (select(Acceptance).where(Acceptance.published_at.is_not(None),
                                     Acceptance.state.in_((A.PASSED, A.FAILED, A.TERMINATED)))
            .order_by(Acceptance.published_at.desc(), Acceptance.id.desc()))
