"""Registry services: registration data, profiles, ratings, annual reports, credit lists,
the standing rules and eligibility.

Every service checks the permission, flushes (never commits) and audits what it changes;
state changes of ratings, annual reports and credit entries go through
their machines' compare-and-set ``transition``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, and_, cast, exists, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import selectinload

from .. import audit, permissions, policy
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..parsing import reason_text
from ..roles import Role
from ..timeutil import local_today, long_day
from . import creditcode
from .models import (
    ENTRY_MACHINE,
    RATING_MACHINE,
    REPORT_MACHINE,
    AnnualReport,
    CreditEntry,
    CreditList,
    CreditStanding,
    EntryState,
    Organization,
    OrgKind,
    PerformanceRecord,
    Rating,
    RatingState,
    RegStatus,
    ReportStatus,
)

STAFF = {Role.ADMIN, Role.OFFICER}


#: Staff (admin, officer, finance) see every organization; an org user only their own.
_OWN_OR_STAFF = permissions.own_organization_or_staff("id")

permissions.define("organization.list", {Role.ADMIN, Role.OFFICER, Role.FINANCE})
permissions.define("organization.view", {Role.ADMIN, Role.OFFICER, Role.FINANCE, Role.ORG}, _OWN_OR_STAFF,
                   model=Organization)
permissions.define("organization.manage", STAFF, model=Organization)
permissions.define("organization.edit_profile", {Role.ADMIN, Role.OFFICER, Role.ORG}, _OWN_OR_STAFF,
                   model=Organization)
permissions.define("organization.import", STAFF)
#: The accounts of an organization: an administrator, or the organization's own staff.
permissions.define("organization.users.view", {Role.ADMIN, Role.ORG},
                   permissions.ADMIN | permissions.own_organization("id"), model=Organization)


# --- dates -------------------------------------------------------------------------


def add_years(d: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 1 March in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return date(d.year + years, 3, 1)


def annual_report_due(year: int) -> date:
    """The day by which the annual report for ``year`` must be filed (inclusive)."""
    month, day = policy.value("annual_report.due_month_day")
    return date(year + 1, month, day)


def last_due_year(at: date) -> int:
    """The latest year whose annual report was due before ``at``."""
    year = at.year - 1
    return year if at > annual_report_due(year) else year - 1


# --- search ------------------------------------------------------------------------


def like_escape(text: str, escape: str = "\\") -> str:
    """``text`` with LIKE's wildcards (``%``, ``_``) and the escape character itself escaped."""
    return text.replace(escape, escape * 2).replace("%", escape + "%").replace("_", escape + "_")


#: A search this short cannot use a trigram index (see migration 0004_trgm).
SHORT_SEARCH = 3


def search_clause(q: str):
    """Organizations whose name or credit code contains ``q`` (case-insensitive, ``%`` and
    ``_`` taken literally).

    On PostgreSQL each ILIKE is served by its trigram index (migration 0004_trgm) when ``q``
    has 3 characters or more; a shorter ``q`` is looked up among the names' indexed 1- and
    2-character substrings (``org_name_grams``), and among credit codes only if it could be
    part of one (a credit code holds digits and capital letters only; such a short fragment
    of a code matches a large share of the registry anyway). See docs/benchmarks-registry.md."""
    like = f"%{like_escape(q)}%"
    in_code = Organization.credit_code.ilike(like, escape="\\")
    if len(q) < SHORT_SEARCH and db.session.get_bind().dialect.name == "postgresql":
        in_name = func.org_name_grams(Organization.name).op("@>")(
            cast(postgresql.array([q.lower()]), postgresql.ARRAY(Text)))
        if set(q.upper()) <= set(creditcode.ALPHABET):
            return or_(in_name, in_code)
        return in_name
    return or_(Organization.name.ilike(like, escape="\\"), in_code)


# --- registration data and profile ---------------------------------------------------


def _clean(value):
    if isinstance(value, str):
        value = " ".join(value.split())
        return value or None
    return value


def _check_registration(data: dict, org: Organization | None = None) -> dict:
    data = {k: _clean(v) for k, v in data.items()}
    if not data.get("name"):
        raise ValidationError(_l("The name is required."), field="name")
    kind = OrgKind(data["kind"])
    data["kind"] = kind
    if kind == OrgKind.FILED:
        if data.get("credit_code"):
            raise ValidationError(_l("A filed community organization holds no credit code."),
                                  field="credit_code")
        data["credit_code"] = None
    else:
        try:
            data["credit_code"] = creditcode.validate(data.get("credit_code"), kind)
        except creditcode.CreditCodeError as exc:
            raise ValidationError(exc.message, field="credit_code") from exc
        clash = db.session.scalar(select(Organization.id).where(
            Organization.credit_code == data["credit_code"],
            Organization.id != (org.id if org is not None and org.id else -1)))
        if clash:
            raise ValidationError(_l("Another organization already holds this credit code."), field="credit_code")
    if "status" in data and data["status"] is not None:
        data["status"] = RegStatus(data["status"])
    return data


def create_organization(actor, data: dict) -> Organization:
    """Register an organization (registration data and, optionally, profile fields)."""
    permissions.require(actor, "organization.manage")
    data = _check_registration(data)
    allowed = set(Organization.REGISTRATION_FIELDS) | set(Organization.PROFILE_FIELDS)
    org = Organization(**{k: v for k, v in data.items() if k in allowed})
    org.status = org.status or RegStatus.NORMAL
    db.session.add(org)
    db.session.flush()
    audit.record(actor, "organization.create", org, after=org.snapshot())
    return org


def update_registration(actor, org: Organization, data: dict) -> Organization:
    """Change registration data (officers and admin)."""
    permissions.require(actor, "organization.manage", org)
    before = org.snapshot()
    data = _check_registration(dict(before, **data), org)
    for key in Organization.REGISTRATION_FIELDS:
        setattr(org, key, data.get(key))
    db.session.flush()
    b, a = audit.diff(before, org.snapshot())
    if a:
        audit.record(actor, "organization.update", org, before=b, after=a)
    return org


def update_profile(actor, org: Organization, data: dict) -> Organization:
    """Change the profile fields only (contacts, website, description). Org users may do
    this for their own organization; nothing else is taken from ``data``."""
    permissions.require(actor, "organization.edit_profile", org)
    before = org.snapshot()
    for key in Organization.PROFILE_FIELDS:
        if key in data:
            setattr(org, key, _clean(data[key]))
    db.session.flush()
    b, a = audit.diff(before, org.snapshot())
    if a:
        audit.record(actor, "organization.profile", org, before=b, after=a)
    return org


# --- ratings -------------------------------------------------------------------------


def _sync_rating(org: Organization) -> None:
    """Bring the organization's current rating in step with its active ratings."""
    current = db.session.scalars(select(Rating).where(
        Rating.organization_id == org.id, Rating.state == RatingState.ACTIVE)
        .order_by(Rating.rated_on.desc(), Rating.id.desc())).first()
    org.rating_level = current.level if current else None
    org.rating_expires_on = current.expires_on if current else None


def add_rating(actor, org: Organization, level: int, rated_on: date) -> Rating:
    """Record a rating (1A–5A) awarded on ``rated_on``; it holds for policy
    ``rating.valid_years`` and replaces any earlier rating in force."""
    permissions.require(actor, "organization.manage", org)
    if org.kind == OrgKind.FILED:
        raise ValidationError(_l("Filed community organizations are not rated."), field="level")
    if level not in range(1, 6):
        raise ValidationError(_l("A rating is 1A to 5A."), field="level")
    expires = add_years(rated_on, policy.value("rating.valid_years"))
    for old in db.session.scalars(select(Rating).where(Rating.organization_id == org.id,
                                                       Rating.state == RatingState.ACTIVE)):
        RATING_MACHINE.transition(old, RatingState.LAPSED, actor, reason="superseded")
    rating = Rating(organization_id=org.id, level=level, rated_on=rated_on, expires_on=expires,
                    state=RatingState.ACTIVE)
    db.session.add(rating)
    db.session.flush()
    audit.record(actor, "rating.create", rating,
                 after={"organization_id": org.id, "level": level, "rated_on": rated_on, "expires_on": expires})
    db.session.refresh(org)
    _sync_rating(org)
    return rating


def lapse_ratings(today: date, actor=None) -> int:
    """Ratings whose expiry day has come lapse (state lapsed; the organization loses it)."""
    due = db.session.scalars(select(Rating).where(Rating.state == RatingState.ACTIVE,
                                                  Rating.expires_on <= today)).all()
    for rating in due:
        RATING_MACHINE.transition(rating, RatingState.LAPSED, actor, reason="expired")
    db.session.flush()
    for org in {r.organization for r in due}:
        _sync_rating(org)
    return len(due)


# --- annual reports ------------------------------------------------------------------


def record_annual_report(actor, org: Organization, year: int, filed_on: date | None) -> AnnualReport:
    """Record the annual report for ``year``: pending, or filed on ``filed_on``."""
    permissions.require(actor, "organization.manage", org)
    if org.kind == OrgKind.FILED:
        raise ValidationError(_l("Filed community organizations do not file annual reports."), field="year")
    if year < 1990 or year > local_today().year:
        raise ValidationError(_l("Give a past year."), field="year")
    report = db.session.scalar(select(AnnualReport).where(AnnualReport.organization_id == org.id,
                                                          AnnualReport.year == year))
    if report is None:
        report = AnnualReport(organization_id=org.id, year=year, due_date=annual_report_due(year),
                              status=ReportStatus.PENDING)
        db.session.add(report)
        db.session.flush()
        audit.record(actor, "annual_report.create", report, after={"organization_id": org.id, "year": year})
    if filed_on is not None:
        if report.status == ReportStatus.FILED:
            raise ValidationError(_l("The annual report for %(y)d is already filed.", y=year), field="year")
        report.filed_on = filed_on
        REPORT_MACHINE.transition(report, ReportStatus.FILED, actor,
                                  extra={"filed_on": filed_on.isoformat()})
    return report


# --- credit lists --------------------------------------------------------------------


def _sync_standing(org: Organization) -> None:
    lists = set(db.session.scalars(select(CreditEntry.list).where(
        CreditEntry.organization_id == org.id, CreditEntry.state == EntryState.LISTED)))
    org.credit_standing = (CreditStanding.SERIOUS if CreditList.SERIOUS in lists else
                           CreditStanding.ABNORMAL if CreditList.ABNORMAL in lists else CreditStanding.NORMAL)


def _new_entry(actor, org: Organization, which: CreditList, listed_on: date, reason: str,
               state: EntryState, rule_key: str | None = None) -> CreditEntry:
    entry = CreditEntry(organization_id=org.id, list=which, state=state, listed_on=listed_on,
                        reason=reason, rule_key=rule_key)
    db.session.add(entry)
    db.session.flush()
    audit.record(actor, "credit_entry.create", entry,
                 after={"organization_id": org.id, "list": which.value, "state": state.value,
                        "listed_on": listed_on, "reason": reason, "rule": rule_key})
    _sync_standing(org)
    return entry


def add_credit_entry(actor, org: Organization, which: CreditList, listed_on: date, reason: str) -> CreditEntry:
    """Put the organization on a list (officers and admin), listed at once."""
    permissions.require(actor, "organization.manage", org)
    reason = reason_text(reason, "reason", _l("Give the reason for the listing."), limit=500)
    if db.session.scalar(select(CreditEntry.id).where(
            CreditEntry.organization_id == org.id, CreditEntry.list == which,
            CreditEntry.state == EntryState.LISTED)):
        raise ValidationError(_l("The organization is already on this list."), field="list")
    return _new_entry(actor, org, which, listed_on, reason, EntryState.LISTED)


def confirm_entry(actor, entry: CreditEntry) -> CreditEntry:
    """proposed → listed: the officer confirms a listing proposed by the standing rules."""
    permissions.require(actor, "organization.manage", entry.organization)
    ENTRY_MACHINE.transition(entry, EntryState.LISTED, actor)
    _sync_standing(entry.organization)
    return entry


def reject_entry(actor, entry: CreditEntry, reason: str) -> CreditEntry:
    """proposed → rejected (reason required)."""
    permissions.require(actor, "organization.manage", entry.organization)
    reason = reason_text(reason, "reason", _l("Give the reason for rejecting the listing."), limit=500)
    entry.removal_reason = reason
    ENTRY_MACHINE.transition(entry, EntryState.REJECTED, actor, reason=reason)
    return entry


def remove_entry(actor, entry: CreditEntry, removed_on: date, reason: str) -> CreditEntry:
    """listed → removed (移出), with the date and reason."""
    if actor is not None:
        permissions.require(actor, "organization.manage", entry.organization)
    reason = reason_text(reason, "reason", _l("Give the reason for the removal."), limit=500)
    if removed_on < entry.listed_on:
        raise ValidationError(_l("The removal cannot precede the listing."), field="removed_on")
    entry.removed_on, entry.removal_reason = removed_on, reason
    ENTRY_MACHINE.transition(entry, EntryState.REMOVED, actor, reason=reason,
                             extra={"removed_on": removed_on.isoformat()})
    _sync_standing(entry.organization)
    return entry


def get_entry(org: Organization, entry_id: int) -> CreditEntry:
    entry = db.session.get(CreditEntry, entry_id)
    if entry is None or entry.organization_id != org.id:
        raise NotFound(_l("This page does not exist."))
    return entry


# --- standing rules ------------------------------------------------------------------


def _must_report_clause(year: int):
    """Organizations that owe an annual report for ``year`` and have not filed it."""
    filed = exists().where(AnnualReport.organization_id == Organization.id, AnnualReport.year == year,
                           AnnualReport.status == ReportStatus.FILED)
    return and_(Organization.kind != OrgKind.FILED, Organization.status == RegStatus.NORMAL,
                Organization.registration_date <= date(year, 12, 31), ~filed)


def missing_report_orgs(year: int):
    """Select of organizations owing the annual report for ``year``."""
    return select(Organization).where(_must_report_clause(year))


def list_missing_reports(today: date, actor=None) -> list[CreditEntry]:
    """A missing annual report after its due date puts the organization on the
    abnormal-activity list: proposed to the officer, or listed at once where policy
    ``standing.auto_abnormal`` says so. Each (organization, year) once."""
    year = last_due_year(today)
    key = f"annual_report:{year}"
    auto = policy.value("standing.auto_abnormal")
    already = exists().where(CreditEntry.organization_id == Organization.id, CreditEntry.rule_key == key)
    orgs = db.session.scalars(missing_report_orgs(year).where(~already).order_by(Organization.id)).all()
    out = []
    listed_on = annual_report_due(year) + timedelta(days=1)
    for org in orgs:
        # The entry's reason is an official record, written in the authority's language.
        due = annual_report_due(year)
        reason = f"未按规定报送{year}年度工作报告（应于{due.year}年{due.month}月{due.day}日前报送）"
        out.append(_new_entry(actor, org, CreditList.ABNORMAL, listed_on if auto else today, reason,
                              EntryState.LISTED if auto else EntryState.PROPOSED, rule_key=key))
    return out


def serious_move_date(entry: CreditEntry) -> date:
    """The day an abnormal-list entry still in force moves to the serious list."""
    return add_years(entry.listed_on, policy.value("standing.abnormal_to_serious_years"))


def move_to_serious(today: date, actor=None) -> list[CreditEntry]:
    """Two years (policy) on the abnormal-activity list moves the organization to the
    serious dishonesty list: the abnormal entry is removed with that reason and a serious
    entry is listed the same day."""
    years = policy.value("standing.abnormal_to_serious_years")
    # listed_on <= today - N years, computed per row below for 29 February.
    candidates = db.session.scalars(select(CreditEntry).where(
        CreditEntry.list == CreditList.ABNORMAL, CreditEntry.state == EntryState.LISTED,
        CreditEntry.listed_on <= add_years(today, -years) + timedelta(days=1))
        .options(selectinload(CreditEntry.organization))).all()
    out = []
    for entry in candidates:
        when = serious_move_date(entry)
        if when > today:
            continue
        remove_entry(actor, entry, when, f"{years}年内未移出活动异常名录，列入严重失信名单")
        out.append(_new_entry(actor, entry.organization, CreditList.SERIOUS, when,
                              f"列入活动异常名录满{years}年 (on the abnormal-activity list since "
                              f"{entry.listed_on})", EntryState.LISTED, rule_key=f"serious:{entry.id}"))
    return out


@dataclass
class StandingSummary:
    abnormal: int
    serious: int
    lapsed: int


def apply_standing_rules(today: date, actor=None) -> StandingSummary:
    """The daily run: missing reports, the two-year move, rating expiry. Flushes."""
    return StandingSummary(abnormal=len(list_missing_reports(today, actor)),
                           serious=len(move_to_serious(today, actor)),
                           lapsed=lapse_ratings(today, actor))


# --- eligibility ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    message: object

    def __str__(self) -> str:
        return str(self.message)


#: Further eligibility conditions registered by later modules (e.g. the performance
#: evaluations: "no failed grade last year"): ``fn(org, at) -> Reason | None``, asked
#: when a call bars failed grades. Until such data exists there is nothing to fail.
FAILED_GRADE_CHECKS: list = []


def record_performance(org_id: int, acceptance_id: int, *, contract_number: str, project_title: str, year: int,
                       round_: int, score, grade: str | None, passed: bool, is_final: bool,
                       failure_reason: str | None, decided_at) -> PerformanceRecord:
    """Write one acceptance decision into the organization's record (the acceptance
    service calls this at each decision; it has checked the permission). Flushes."""
    row = PerformanceRecord(organization_id=org_id, acceptance_id=acceptance_id, contract_number=contract_number,
                            project_title=project_title[:200], year=year, round=round_, score=score, grade=grade,
                            passed=passed, is_final=is_final, failure_reason=failure_reason, decided_at=decided_at)
    db.session.add(row)
    db.session.flush()
    return row


def performance_records(org: Organization) -> list[PerformanceRecord]:
    """The organization's record, latest decision first."""
    return list(db.session.scalars(select(PerformanceRecord).where(PerformanceRecord.organization_id == org.id)
                                   .order_by(PerformanceRecord.decided_at.desc(), PerformanceRecord.id.desc())))


def failed_acceptance_bar(org: Organization, at: date) -> Reason | None:
    """A final acceptance failure in one of the ``performance.fail_bar_years`` years
    before ``at``'s year bars the organization (policy ``performance.fail_bars_next_year``,
    财政部令第102号 第二十条), the reason naming the contract, the grade and the year."""
    if not policy.value("performance.fail_bars_next_year"):
        return None
    years = max(1, int(policy.value("performance.fail_bar_years")))
    row = db.session.scalar(select(PerformanceRecord).where(
        PerformanceRecord.organization_id == org.id, PerformanceRecord.passed.is_(False),
        PerformanceRecord.is_final.is_(True), PerformanceRecord.year >= at.year - years,
        PerformanceRecord.year < at.year).order_by(PerformanceRecord.decided_at.desc()).limit(1))
    if row is None:
        return None
    return Reason("failed_grade", _l(
        "Failed acceptance: contract %(number)s (%(title)s) failed its acceptance in %(year)d (%(why)s); the "
        "organization may not take part in tenders until the end of %(until)d.",
        number=row.contract_number, title=row.project_title, year=row.year,
        why=row.failure_reason or _l("Poor"), until=row.year + years))


FAILED_GRADE_CHECKS.append(failed_acceptance_bar)


def eligibility_for_call(org: Organization, at: date, call) -> list[Reason]:
    """Why ``org`` may not take part in ``call`` (a tender: its eligibility columns
    ``min_rating``, ``min_years_registered``, ``require_annual_report``,
    ``require_good_credit``, ``bar_failed_grade``, ``admit_filed``) on ``at``: the one
    check used at bid submission and again at award."""
    return check_eligibility(org, at, call.min_rating, min_years=call.min_years_registered,
                             require_annual_report=call.require_annual_report,
                             require_good_credit=call.require_good_credit,
                             bar_failed_grade=call.bar_failed_grade, admit_filed=call.admit_filed)


def check_eligibility(org: Organization, at: date, min_rating: int | None = None, *,
                      min_years: int | None = None, require_annual_report: bool = True,
                      require_good_credit: bool = True, bar_failed_grade: bool = True,
                      admit_filed: bool = True) -> list[Reason]:
    """Why ``org`` may not take part in purchase of services on ``at`` — an empty list
    when it may. Every failed condition gives its own reason (财综〔2016〕54号):
    registered at least ``min_years`` (default: policy ``eligibility.min_registered_years``);
    the annual report for the latest year already due filed (``require_annual_report``);
    on neither credit list (``require_good_credit``); rated at least ``min_rating`` (1–5)
    when the call asks for it; no failed performance grade last year (``bar_failed_grade``,
    as far as :data:`FAILED_GRADE_CHECKS` know); a filed community organization only
    where the call admits them (``admit_filed``)."""
    reasons: list[Reason] = []
    if org.status != RegStatus.NORMAL:
        reasons.append(Reason("status", _l("The organization's registration is %(s)s.", s=org.status.label)))
    if org.kind == OrgKind.FILED and not admit_filed:
        reasons.append(Reason("filed", _l("This call does not admit filed community organizations.")))
    years = policy.value("eligibility.min_registered_years") if min_years is None else int(min_years)
    if org.registration_date is None:
        reasons.append(Reason("registered", _l("The registration date is not known.")))
    elif add_years(org.registration_date, years) > at:
        reasons.append(Reason("registered", _l(
            "Registered on %(d)s: less than %(n)d year(s) before %(at)s.",
            d=long_day(org.registration_date), n=years, at=long_day(at))))
    year = last_due_year(at)
    if (require_annual_report and org.kind != OrgKind.FILED and org.registration_date is not None
            and org.registration_date <= date(year, 12, 31)):
        filed = db.session.scalar(select(AnnualReport.id).where(
            AnnualReport.organization_id == org.id, AnnualReport.year == year,
            AnnualReport.status == ReportStatus.FILED, AnnualReport.filed_on <= at))
        if not filed:
            reasons.append(Reason("annual_report", _l("The annual report for %(y)d has not been filed.", y=year)))
    in_force = or_(and_(CreditEntry.state == EntryState.LISTED),
                   and_(CreditEntry.state == EntryState.REMOVED, CreditEntry.removed_on > at))
    lists = set()
    if require_good_credit:
        lists = set(db.session.scalars(select(CreditEntry.list).where(
            CreditEntry.organization_id == org.id, CreditEntry.listed_on <= at, in_force)))
    if CreditList.ABNORMAL in lists:
        reasons.append(Reason("abnormal", _l("The organization is on the abnormal-activity list.")))
    if CreditList.SERIOUS in lists:
        reasons.append(Reason("serious", _l("The organization is on the serious dishonesty list.")))
    if min_rating:
        # The latest rating awarded by ``at`` and not yet expired then.
        level = db.session.scalar(select(Rating.level).where(
            Rating.organization_id == org.id, Rating.rated_on <= at, Rating.expires_on > at)
            .order_by(Rating.rated_on.desc(), Rating.id.desc()).limit(1))
        if not level or level < min_rating:
            reasons.append(Reason("rating", _l(
                "A rating of at least %(want)dA is required; the organization holds %(has)s.",
                want=min_rating, has=f"{level}A" if level else _l("none"))))
    if bar_failed_grade:
        reasons += [r for r in (check(org, at) for check in FAILED_GRADE_CHECKS) if r is not None]
    return reasons
