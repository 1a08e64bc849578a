"""Project operations: the guiding catalogue (admin), planning (officers of the
department), the budget check (finance). Each checks permission, validates, audits,
flushes; the caller commits once. State changes go through ``PROJECT_MACHINE.transition``
over ``ALLOWED`` (DOMAIN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import audit, workflow
from ..budgets import ledger
from ..budgets.models import ZERO, Allocation
from ..errors import BudgetExceeded, InvalidTransition, RecordClosed, ValidationError
from ..extensions import db
from ..money import format_money
from ..parsing import MAX_AMOUNT, MAX_ID, check_fiscal_year, parse_amount, parse_id, reason_text
from ..permissions import define, held_through, own_department, require, role_in
from ..roles import Role
from ..timeutil import utcnow
from . import notices
from .models import (
    ALLOWED,  # noqa: F401 - the map, for callers and tests
    PROJECT_MACHINE,
    PerformanceTarget,
    ProcurementMethod,
    Project,
    ProjectState,
    ServiceCategory,
)

S = ProjectState

CANCELLABLE = frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.TENDERING, S.AWARDED})


define("catalogue.manage", {Role.ADMIN})
#: Finance and admin see every project; an officer the projects of their department; an
#: organization's staff the projects their organization holds a contract for (a contract in
#: any state, as ``contract.view`` shows it to them). The contracts table is named by
#: string: contracts sit above projects.
define("project.view", {Role.ADMIN, Role.OFFICER, Role.FINANCE, Role.ORG},
       role_in(Role.FINANCE, Role.ADMIN) | own_department()
       | (role_in(Role.ORG) & held_through("contracts", "project_id")), model=Project)
#: The list of projects and the government side of a project's page (the money summary,
#: the funds reserved from appropriations, the project's own history): staff only. An
#: organization reaches its project from its contract; the budget behind it is internal.
define("project.list", {Role.ADMIN, Role.OFFICER, Role.FINANCE})
define("project.create", {Role.OFFICER})
define("project.edit", {Role.OFFICER}, own_department(), model=Project)
define("project.budget_check", {Role.FINANCE}, model=Project)


# --- the catalogue ----------------------------------------------------------------

def save_category(actor, category: ServiceCategory | None, code: str, name: str,
                  is_active: bool = True) -> ServiceCategory:
    """Create or change a catalogue entry (admin)."""
    require(actor, "catalogue.manage")
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise ValidationError(_l("Give the entry a code and a name."), field="name" if code else "code")
    for col, value, fld in ((ServiceCategory.code, code, "code"), (ServiceCategory.name, name, "name")):
        other = db.session.scalar(select(ServiceCategory.id).where(col == value))
        if other and (category is None or other != category.id):
            raise ValidationError(_l("The catalogue already has this entry."), field=fld)
    before = category.snapshot() if category else None
    if category is None:
        category = ServiceCategory(code=code, name=name, is_active=is_active)
        db.session.add(category)
    else:
        category.code, category.name, category.is_active = code, name, is_active
    db.session.flush()
    if before is None:
        audit.record(actor, "catalogue.create", category, after=category.snapshot())
    else:
        b, a = audit.diff(before, category.snapshot())
        if a:
            audit.record(actor, "catalogue.update", category, before=b, after=a)
    return category


# --- the closed-project guard ---------------------------------------------------------

def ensure_open(project: Project) -> None:
    """Refuse any change to a closed (archived) project or anything in it: the one guard
    every service of the project, its contract, reports, payments and acceptance calls
    (DOMAIN.md §5: nothing in a closed project is changed or deleted). The archive's
    flush guard (``procure.archive.guard``) is the last line behind it."""
    if project is not None and project.state == S.CLOSED:
        raise RecordClosed(_l("“%(title)s” is closed and archived: nothing in it can be changed or deleted.",
                              title=project.title))


# --- planning ---------------------------------------------------------------------

@dataclass
class TargetData:
    indicator: str
    unit: str
    target_value: object
    is_beneficiaries: bool = False


@dataclass
class ProjectData:
    title: str
    category_id: object
    fiscal_year: object
    service_area: str
    target_group: str
    budget_ceiling: object
    method: object
    period_start: date | None
    period_end: date | None
    targets: list[TargetData] = field(default_factory=list)
    beneficiaries_served: int | None = None


def _validate(data: ProjectData, current_category_id: int | None = None) -> dict:
    values = {}
    title = (data.title or "").strip()
    if not title:
        raise ValidationError(_l("Give the project a title."), field="title")
    values["title"] = title[:200]
    cat_id = parse_id(data.category_id)
    cat = db.session.get(ServiceCategory, cat_id) if cat_id is not None else None
    if cat is None or (not cat.is_active and cat.id != current_category_id):
        raise ValidationError(_l("Choose a service category from the guiding catalogue."), field="category_id")
    values["category_id"] = cat.id
    values["fiscal_year"] = check_fiscal_year(data.fiscal_year)
    for name in ("service_area", "target_group"):
        text = (getattr(data, name) or "").strip()
        if not text:
            raise ValidationError(_l("This field is required."), field=name)
        values[name] = text[:200]
    values["budget_ceiling"] = parse_amount(data.budget_ceiling, "budget_ceiling")
    try:
        values["method"] = ProcurementMethod(data.method)
    except ValueError:
        raise ValidationError(_l("Choose a procurement method."), field="method") from None
    if data.period_start is None or data.period_end is None:
        raise ValidationError(_l("Give the planned period."), field="period_start")
    if data.period_end < data.period_start:
        raise ValidationError(_l("The period ends before it starts."), field="period_end")
    values["period_start"], values["period_end"] = data.period_start, data.period_end
    if data.beneficiaries_served is not None and int(data.beneficiaries_served) < 0:
        raise ValidationError(_l("The number cannot be negative."), field="beneficiaries_served")
    values["beneficiaries_served"] = data.beneficiaries_served
    targets = []
    for t in data.targets:
        indicator, unit = (t.indicator or "").strip(), (t.unit or "").strip()
        raw = "" if t.target_value is None else str(t.target_value).strip()
        if not indicator and not unit and not raw:
            continue  # an empty row of the form
        if not indicator or not unit or not raw:
            raise ValidationError(_l("Each target needs an indicator, a unit and a target value."),
                                  field="targets")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0 or value > MAX_AMOUNT \
                or value != value.quantize(Decimal("0.01")):
            raise ValidationError(_l("A target value is a number ≥ 0 with at most two decimals."), field="targets")
        targets.append(PerformanceTarget(indicator=indicator[:200], unit=unit[:40], target_value=value,
                                         is_beneficiaries=bool(t.is_beneficiaries), position=len(targets)))
    values["targets"] = targets
    return values


def create_project(actor, data: ProjectData) -> Project:
    """A new draft project of the officer's department."""
    require(actor, "project.create")
    values = _validate(data)
    targets = values.pop("targets")
    project = Project(department_id=actor.department_id, created_by_id=actor.id, state=S.DRAFT, **values)
    project.targets = targets
    db.session.add(project)
    db.session.flush()
    audit.record(actor, "project.create", project, after=project.snapshot())
    return project


def update_project(actor, project: Project, data: ProjectData, seen_revision: int | None = None) -> Project:
    """Edit a draft (or returned) project. Only ``beneficiaries_served`` may change later.

    ``seen_revision`` is the revision the form was loaded at: when someone saved or moved
    the project since, the edit is refused with a conflict instead of overwriting theirs.
    """
    require(actor, "project.edit", project)
    ensure_open(project)
    if project.state != S.DRAFT:
        raise InvalidTransition(_l("Only a draft project can be edited."))
    before = project.snapshot()
    values = _validate(data, project.category_id)
    workflow.claim_revision(project, seen_revision, state=S.DRAFT)
    targets = values.pop("targets")
    for key, value in values.items():
        setattr(project, key, value)
    project.targets = targets
    db.session.flush()
    b, a = audit.diff(before, project.snapshot())
    if a:
        audit.record(actor, "project.update", project, before=b, after=a)
    return project


def record_beneficiaries_served(actor, project: Project, served) -> Project:
    """Beneficiaries served so far (for the program summary), at any state but draft."""
    require(actor, "project.edit", project)
    ensure_open(project)
    if project.state == S.DRAFT:
        raise InvalidTransition(_l("Beneficiaries served are recorded once the project is submitted."))
    try:
        served = int(served)
    except (TypeError, ValueError):
        served = -1
    if served < 0:
        raise ValidationError(_l("The number cannot be negative."), field="beneficiaries_served")
    if served > MAX_ID:
        raise ValidationError(_l("The number is too large."), field="beneficiaries_served")
    before = project.beneficiaries_served
    project.beneficiaries_served = served
    db.session.flush()
    audit.record(actor, "project.update", project, before={"beneficiaries_served": before},
                 after={"beneficiaries_served": served})
    return project


def submit_project(actor, project: Project) -> Project:
    """draft → submitted (for the budget check). Needs at least one performance target."""
    require(actor, "project.edit", project)
    ensure_open(project)
    PROJECT_MACHINE.check(project.state, S.SUBMITTED)
    if not project.targets:
        raise ValidationError(_l("Set at least one performance target before submitting."))
    notices.submitted(actor, project)
    return PROJECT_MACHINE.transition(project, S.SUBMITTED, actor,
                                      values={"submitted_at": utcnow(), "state_reason": None})


def return_project(actor, project: Project, reason: str) -> Project:
    """submitted → draft: finance sends the project back with a reason."""
    require(actor, "project.budget_check")
    reason = reason_text(reason, "reason", _l("Say why the project is returned."))
    PROJECT_MACHINE.check(project.state, S.DRAFT)
    notices.returned(actor, project, reason)
    return PROJECT_MACHINE.transition(project, S.DRAFT, actor, reason=reason, values={"state_reason": reason})


def _must_be_submitted(project: Project) -> None:
    """The budget check approves only a submitted project (tendering → approved, a
    re-tender after 流标, keeps the money already reserved and allocates nothing)."""
    if project.state != S.SUBMITTED:
        raise InvalidTransition(_l("Only a project waiting for the budget check can be approved."))


def approve_project(actor, project: Project, lines: list[tuple[object, object]], note: str | None = None) -> Project:
    """submitted → approved: allocate amounts from one or more appropriations of the
    project's department and fiscal year, at most the budget ceiling in total.

    ``lines`` are (appropriation id, amount) pairs; lines without an appropriation are
    ignored. The ceiling counts the project's existing allocations with the new lines."""
    require(actor, "project.budget_check")
    _must_be_submitted(project)
    wanted: dict[int, Decimal] = {}
    for appr_id, amount in lines:
        if appr_id in (None, "", 0, "0"):
            continue
        appr_id = parse_id(appr_id)
        if appr_id is None:
            raise ValidationError(_l("Choose an appropriation."), field="allocations")
        wanted[appr_id] = wanted.get(appr_id, ZERO) + parse_amount(amount, "allocations")
    if not wanted:
        raise ValidationError(_l("Allocate an amount from at least one appropriation."), field="allocations")
    # Appropriations (in id order), then the project, then its allocations: the ledger's
    # one lock order. The project is read fresh: a concurrent approval or cancellation
    # of the same project waits here.
    locked = ledger.lock_for_money(appropriation_ids=wanted, project_id=project.id)
    project = locked.project
    _must_be_submitted(project)
    for appr in map(locked.appropriation, wanted):
        if appr.department_id != project.department_id or appr.fiscal_year != project.fiscal_year:
            raise ValidationError(_l("The appropriation must be of the project's department and fiscal year."),
                                  field="allocations")
    # The ceiling counts what the project already holds, not only the new lines.
    total = ledger.project_allocated(project.id) + sum(wanted.values(), ZERO)
    if total > project.budget_ceiling:
        raise BudgetExceeded(_l("The allocations (%(total)s) exceed the project's budget ceiling (%(ceiling)s).",
                                total=format_money(total), ceiling=format_money(project.budget_ceiling)),
                             field="allocations")
    for appr_id in sorted(wanted):
        ledger.allocate(locked, appr_id, wanted[appr_id], actor=actor, reason=note)
    notices.approved(actor, project, sum(wanted.values(), ZERO), note)
    return PROJECT_MACHINE.transition(project, S.APPROVED, actor, reason=note, values={"state_reason": None},
                                      extra={"allocations": {str(k): str(v) for k, v in wanted.items()}})


def cancel_project(actor, project: Project, reason: str) -> Project:
    """Any state before contracted → cancelled; the reservation is released."""
    if actor.role == Role.FINANCE:
        require(actor, "project.budget_check")
    else:
        require(actor, "project.edit", project)
    ensure_open(project)
    reason = reason_text(reason, "reason", _l("Say why the project is cancelled."))
    PROJECT_MACHINE.check(project.state, S.CANCELLED)
    locked = ledger.lock_for_money(project_id=project.id)
    project = locked.project
    PROJECT_MACHINE.check(project.state, S.CANCELLED)
    released = ZERO
    for alloc_id in sorted(locked.allocations):
        entry = ledger.release(locked, alloc_id, actor=actor, reason=reason)
        released += entry.amount if entry else ZERO
    notices.cancelled(actor, project, reason, released)
    return PROJECT_MACHINE.transition(project, S.CANCELLED, actor, reason=reason, values={"state_reason": reason},
                                      extra={"released": str(released)})


def advance_project(actor, project: Project, to: ProjectState) -> Project:
    """Later transitions (tendering, award, contract, delivery), for the issues that
    own them; here only the map is enforced. Finance or the department's officer."""
    if actor.role == Role.FINANCE:
        require(actor, "project.budget_check")
    else:
        require(actor, "project.edit", project)
    ensure_open(project)
    if to == S.CANCELLED:
        raise InvalidTransition(_l("Use cancel to cancel a project."))
    if to == S.CLOSED:
        raise InvalidTransition(_l("A project is closed from the archive, once its contract is completed or "
                                   "terminated and settled."))
    if to == S.APPROVED and project.state == S.SUBMITTED:
        raise InvalidTransition(_l("Approval goes through the budget check."))
    return PROJECT_MACHINE.transition(project, to, actor)


def project_totals(project_ids: list[int]) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """(allocated, committed, paid) per project, one grouped query."""
    if not project_ids:
        return {}
    rows = db.session.execute(select(Allocation.project_id, func.sum(Allocation.allocated),
                                     func.sum(Allocation.committed), func.sum(Allocation.paid))
                              .where(Allocation.project_id.in_(project_ids)).group_by(Allocation.project_id))
    return {r[0]: (r[1], r[2], r[3]) for r in rows}

