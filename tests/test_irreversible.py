"""Irreversible actions are refused without the reason their rule requires (issue 12):
each service called on a demo object with an empty, blank or NUL-only reason raises a
translated ValidationError and writes nothing (no audit event, the object unchanged).
The browser's confirmation of the same actions: tests/browser/test_confirmations.py."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from procure.errors import ValidationError

BLANK = ["", "   ", "\x00", " \x00\t\x00 ", "\n\n"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _user(db, username):
    from procure.auth.models import User

    return db.session.scalar(sa.select(User).where(User.username == username))


def _one(db, model, *where):
    obj = db.session.scalars(sa.select(model).where(*where).order_by(model.id)).first()
    assert obj is not None, f"the demo has no {model.__name__} where {where}"
    return obj


def _cases(db):
    """(name, actor, object, state attribute, call(reason)) for each irreversible action
    with a required reason."""
    from procure.contracts import services as cs
    from procure.contracts.models import Contract, ContractState
    from procure.delivery import services as ds
    from procure.delivery.models import MilestoneReport, ReportState
    from procure.organizations import services as orgs
    from procure.organizations.models import CreditEntry, CreditList, EntryState, Organization
    from procure.payments import services as ps
    from procure.payments.models import Payment, Waiting
    from procure.projects import services as prs
    from procure.projects.models import Project, ProjectState
    from procure.tenders import bidding
    from procure.tenders.models import Tender, TenderState

    officer, finance = _user(db, "officer"), _user(db, "finance")
    tender = _one(db, Tender, Tender.state == TenderState.PUBLISHED, Tender.department_id == officer.department_id)
    submitted = _one(db, Project, Project.state == ProjectState.SUBMITTED)
    approved = _one(db, Project, Project.state == ProjectState.APPROVED,
                    Project.department_id == officer.department_id)
    payment = _one(db, Payment, Payment.waiting_for == Waiting.OFFICER)
    contract = _one(db, Contract, Contract.state == ContractState.ACTIVE,
                    Contract.department_id == officer.department_id)
    org = _one(db, Organization, Organization.name.contains("同心"))
    proposed = _one(db, CreditEntry, CreditEntry.state == EntryState.PROPOSED)
    listed = _one(db, CreditEntry, CreditEntry.state == EntryState.LISTED)
    report = _one(db, MilestoneReport, MilestoneReport.state == ReportState.SUBMITTED)
    reviewer = _user(db, "officer") if report.contract.department_id == officer.department_id else _user(db, "officer2")
    return [
        ("cancel a tender", tender, "state", lambda r: bidding.cancel_tender(officer, tender, r)),
        ("return a project", submitted, "state", lambda r: prs.return_project(finance, submitted, r)),
        ("cancel a project", approved, "state", lambda r: prs.cancel_project(officer, approved, r)),
        ("reject a payment", payment, "state", lambda r: ps.reject_payment(officer, payment, r)),
        ("terminate a contract", contract, "state",
         lambda r: cs.terminate_contract(officer, contract, r, Decimal("0"))),
        ("add to a credit list", org, "name",
         lambda r: orgs.add_credit_entry(officer, org, CreditList.ABNORMAL, date(2026, 1, 5), r)),
        ("reject a proposed credit listing", proposed, "state", lambda r: orgs.reject_entry(officer, proposed, r)),
        ("remove from a credit list", listed, "state",
         lambda r: orgs.remove_entry(officer, listed, max(listed.listed_on, date(2026, 11, 1)), r)),
        ("send a milestone report back for revision", report, "state",
         lambda r: ds.request_revision(reviewer, report, r)),
    ]


def _events(db) -> int:
    return db.session.scalar(sa.text("SELECT count(*) FROM audit_events"))


def _credit_entries(db) -> int:
    return db.session.scalar(sa.text("SELECT count(*) FROM org_credit_entries"))


@pytest.mark.parametrize("index", range(9), ids=["cancel-tender", "return-project", "cancel-project",
                                                "reject-payment", "terminate-contract", "credit-list",
                                                "reject-listing", "remove-listing", "report-revision"])
def test_refused_without_a_reason(app, demo_loaded, db, index):
    name, obj, attr, call = _cases(db)[index]
    model, oid, before = type(obj), obj.id, getattr(obj, attr)
    events, credit = _events(db), _credit_entries(db)
    db.session.commit()
    for reason in BLANK:
        with app.test_request_context(), force_locale("zh_CN"):
            with pytest.raises(ValidationError) as err:
                call(reason)
            message = str(err.value.message)
        db.session.rollback()
        assert CJK.search(message), f"{name}: {reason!r} refused with an untranslated message {message!r}"
        assert _events(db) == events and _credit_entries(db) == credit, f"{name}: {reason!r} wrote something"
        assert getattr(db.session.get(model, oid), attr) == before, f"{name}: {reason!r} changed the object"
    # with a reason the same call goes through (the refusal was the reason's)
    with app.test_request_context():
        call("经核实，情况属实，依规处理。")
    db.session.commit()
    assert _events(db) > events
