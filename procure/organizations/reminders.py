"""The registry's reminder rules (annual reports, ratings, the serious dishonesty list),
registered with the generic engine (``procure.reminders.engine``); found at start-up by
``modules.submodules("reminders")``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from .. import policy
from ..extensions import db
from ..reminders.engine import Due, ReminderRule, officers, org_users, register
from .models import CreditEntry, CreditList, EntryState, Organization, Rating, RatingState
from .services import add_years, annual_report_due, missing_report_orgs, serious_move_date


def _annual_report_due(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    for offset in offsets:
        if offset <= 0:
            continue
        day = today + timedelta(days=offset)
        year = day.year - 1
        if annual_report_due(year) != day:
            continue
        owing = missing_report_orgs(year)
        orgs = db.session.execute(owing.with_only_columns(Organization.id, Organization.name)).all()
        users = org_users(owing.with_only_columns(Organization.id)) if orgs else {}
        for org in orgs:
            if org.id in users:
                yield offset, Due("organizations", org.id, day, {"org": users[org.id]}, "organizations.detail",
                                  {"org_id": org.id}, {"org_name": org.name, "year": year,
                                                       "due": day})


def _annual_report_overdue(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    """The day after the due date: one message per officer naming how many organizations
    have not filed, linking to that list (the escalation after the organizations'
    own reminders ran out)."""
    for offset in offsets:
        day = today - timedelta(days=abs(offset))
        year = day.year - 1
        if annual_report_due(year) != day:
            continue
        count = db.session.scalar(select(func.count()).select_from(missing_report_orgs(year).subquery()))
        if count:
            yield -abs(offset), Due("annual_report_year", year, day, {"officer": officers()}, "organizations.index",
                                    {"missing_report": year}, {"count": count, "year": year, "due": day})


def _rating_expiring(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    for offset in offsets:
        day = today + timedelta(days=offset)
        expiring = (select(Rating.id, Rating.level, Organization.id, Organization.name)
                    .join(Organization, Organization.id == Rating.organization_id)
                    .where(Rating.state == RatingState.ACTIVE, Rating.expires_on == day))
        rows = db.session.execute(expiring).all()
        users = org_users(expiring.with_only_columns(Rating.organization_id)) if rows else {}
        staff = officers() if rows else []
        for rid, level, oid, name in rows:
            if oid in users:
                yield offset, Due("org_ratings", rid, day, {"org": users[oid], "officer": staff},
                                  "organizations.detail", {"org_id": oid},
                                  {"org_name": name, "rating": f"{level}A", "due": day})


def _serious_soon(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    years = policy.value("standing.abnormal_to_serious_years")
    for offset in offsets:
        day = today + timedelta(days=offset)
        approx = add_years(day, -years)
        # The organization's name comes with the join (not one lazy load per entry).
        rows = db.session.scalars(select(CreditEntry).join(CreditEntry.organization)
                                  .options(contains_eager(CreditEntry.organization)).where(
            CreditEntry.list == CreditList.ABNORMAL, CreditEntry.state == EntryState.LISTED,
            CreditEntry.listed_on.between(approx - timedelta(days=1), approx))).all()
        rows = [e for e in rows if serious_move_date(e) == day]
        users = org_users([e.organization_id for e in rows])
        staff = officers() if rows else []
        for e in rows:
            yield offset, Due("org_credit_entries", e.id, day,
                              {"org": users.get(e.organization_id, []), "officer": staff},
                              "organizations.detail", {"org_id": e.organization_id},
                              {"org_name": e.organization.name, "due": day})


register(ReminderRule(
    "annual_report.due", _l("Annual report due"), "reminder_annual_report_due", "reminder.annual_report_due_days",
    _annual_report_due, recipients=("org",)))
register(ReminderRule(
    "annual_report.overdue", _l("Annual reports not filed"), "reminder_annual_report_overdue",
    "reminder.annual_report_overdue_days", _annual_report_overdue, recipients=("officer",), is_critical=True))
register(ReminderRule(
    "rating.expiring", _l("Rating expiring"), "reminder_rating_expiring", "reminder.rating_expiring_days_list",
    _rating_expiring, recipients=("org",)))
register(ReminderRule(
    "standing.serious_soon", _l("About to move to the serious dishonesty list"), "reminder_serious_soon",
    "reminder.serious_list_days", _serious_soon, recipients=("org", "officer"), is_critical=True))
