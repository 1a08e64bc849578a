"""Milestone reminder rules (DOMAIN.md §6, issue 11 item 7), registered with the generic
engine (``procure.reminders.engine``):

- ``milestone.due``: a milestone of a contract in force is due in 7, 3 and 1 days
  (policy ``reminder.milestone_due_days``) and its report is not submitted → the
  organization's staff;
- ``milestone.overdue``: its due date passed with no report submitted or approved → the
  organization's staff, daily for N days (policy ``reminder.milestone_overdue_daily``,
  default 3: the 1st, 2nd and 3rd day after the due date);
- ``milestone.overdue_escalated``: still overdue the day after those N reminders → the
  officers of the contract's department;
- ``milestone_report.review``: a submitted report waiting N working days (policy
  ``reminder.report_review_working_days``, Chinese working days) → those officers.

For the two overdue rules the policy value is a number of days, not a list of offsets:
the rule derives its offsets from it. Each reminder is written at most once per rule,
offset, object, due date and recipient (the engine's unique key); a resubmitted report
is a new submission, with its own key."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from ..calendar import CalendarNotEntered, WorkCalendar
from ..contracts.models import Contract, ContractState, Milestone
from ..extensions import db
from ..organizations.models import Organization
from ..reminders.engine import Due, ReminderRule, org_users, register
from ..tenders.reminders import day_bounds, department_officers, shown
from .models import MilestoneReport, ReportState, ReportSubmission
from .services import DELIVERED, overdue_condition

#: How far back the review rule looks for submissions (5 working days never span more).
REVIEW_LOOKBACK_DAYS = 40


def _milestones_due_on(day: date, today: date, *, overdue: bool):
    """Milestones of contracts in force due on ``day`` whose report is not submitted or
    approved (as of ``today`` for the overdue rules), with what the message needs."""
    cond = [Milestone.due_on == day, Contract.state == ContractState.ACTIVE]
    if overdue:
        cond.append(overdue_condition(today))
    else:
        cond.append(~exists().where(MilestoneReport.milestone_id == Milestone.id,
                                    MilestoneReport.state.in_(DELIVERED)))
    return db.session.execute(
        select(Milestone.id, Milestone.title, Milestone.due_on, Contract.id, Contract.number,
               Contract.organization_id, Contract.department_id, Organization.name)
        .join(Contract, Contract.id == Milestone.contract_id)
        .join(Organization, Organization.id == Contract.organization_id)
        .where(*cond).order_by(Milestone.id)).all()


def _staff(rows) -> dict[int, list]:
    """The staff of the organizations of ``rows``, each organization once: a worst day's
    ten thousand milestones name a few hundred organizations, and ten thousand ids sent
    as a list cost more than the rule's own query (psycopg parses every placeholder)."""
    return org_users(sorted({r[5] for r in rows}))


def _due(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    for offset in offsets:
        if offset <= 0:
            continue
        day = today + timedelta(days=offset)
        rows = _milestones_due_on(day, today, overdue=False)
        staff = _staff(rows)
        for mid, title, due_on, _cid, number, org_id, _dep, _org in rows:
            if staff.get(org_id):
                yield offset, Due("contract_milestones", mid, due_on, {"org": staff[org_id]}, "delivery.edit",
                                  {"milestone_id": mid}, {"title": title, "number": number,
                                                          "due": due_on})


def _daily(offsets: tuple) -> int:
    return max(int(offsets[0]) if offsets else 3, 0)


def _overdue(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    for n in range(1, _daily(offsets) + 1):
        day = today - timedelta(days=n)
        rows = _milestones_due_on(day, today, overdue=True)
        staff = _staff(rows)
        for mid, title, due_on, _cid, number, org_id, _dep, _org in rows:
            if staff.get(org_id):
                yield -n, Due("contract_milestones", mid, due_on, {"org": staff[org_id]}, "delivery.edit",
                              {"milestone_id": mid}, {"title": title, "number": number, "due": due_on})


def _escalated(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    n = _daily(offsets) + 1
    day = today - timedelta(days=n)
    rows = _milestones_due_on(day, today, overdue=True)
    officers = department_officers(r[6] for r in rows)
    for mid, title, due_on, cid, number, _org_id, dep_id, org_name in rows:
        if officers.get(dep_id):
            yield -n, Due("contract_milestones", mid, due_on, {"officer": officers[dep_id]}, "delivery.milestones",
                          {"contract_id": cid}, {"title": title, "number": number, "due": due_on,
                                                 "org": org_name})


def _review(today: date, offsets: tuple) -> Iterable[tuple[int, Due]]:
    """Submissions still waiting whose Nth working day after the submission day is
    ``today`` (the submission day not counted)."""
    cal = WorkCalendar()
    for n in offsets:
        n = abs(int(n))
        if n == 0:
            continue
        days = []
        for back in range(1, REVIEW_LOOKBACK_DAYS):
            d = today - timedelta(days=back)
            try:
                if cal.add_working_days(d, n) == today:
                    days.append(d)
            except CalendarNotEntered:
                continue
        for d in days:
            begin, end = day_bounds(d)
            rows = db.session.execute(
                select(ReportSubmission.id, ReportSubmission.submitted_at, MilestoneReport.id, Milestone.title,
                       Contract.number, Contract.department_id, Organization.name)
                .join(MilestoneReport, MilestoneReport.id == ReportSubmission.report_id)
                .join(Milestone, Milestone.id == MilestoneReport.milestone_id)
                .join(Contract, Contract.id == MilestoneReport.contract_id)
                .join(Organization, Organization.id == Contract.organization_id)
                .where(MilestoneReport.state == ReportState.SUBMITTED, ReportSubmission.decision.is_(None),
                       ReportSubmission.number == MilestoneReport.submissions_count,
                       ReportSubmission.submitted_at >= begin, ReportSubmission.submitted_at < end)
                .order_by(ReportSubmission.id)).all()
            officers = department_officers(r[5] for r in rows)
            for sid, at, rid, title, number, dep_id, org_name in rows:
                if officers.get(dep_id):
                    yield -n, Due("milestone_report_submissions", sid, today, {"officer": officers[dep_id]},
                                  "delivery.report", {"report_id": rid},
                                  {"title": title, "number": number, "org": org_name, "since": shown(at)})


register(ReminderRule("milestone.due", _l("Milestone due soon"), "reminder_milestone_due",
                      "reminder.milestone_due_days", _due, recipients=("org",)))
register(ReminderRule("milestone.overdue", _l("Milestone report overdue"), "reminder_milestone_overdue",
                      "reminder.milestone_overdue_daily", _overdue, recipients=("org",)))
register(ReminderRule("milestone.overdue_escalated", _l("Milestone report overdue: escalated to the officer"),
                      "reminder_milestone_escalated", "reminder.milestone_overdue_daily", _escalated,
                      recipients=("officer",)))
register(ReminderRule("milestone_report.review", _l("Milestone report waiting for review"), "reminder_report_review",
                      "reminder.report_review_working_days", _review, recipients=("officer",)))
