"""The organization's record: a final failure bars it from the next year's tenders, with
the reason, at its bid (the same check as bid submission and award); the record on the
organization's page; the result on the public portal; the rectification reminders."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from procure.acceptance import services as svc
from procure.notifications.models import Notice
from procure.organizations.services import eligibility_for_call
from procure.reminders import engine
from procure.tenders.bidding import NotEligible

from ..conftest import login
from .conftest import third_party


def _fail_for_good(make, db):
    aw = third_party(make, db, "45")
    svc.decide(aw.officer, aw.acc)
    db.session.commit()
    svc.lapse_rectifications(aw.acc.rectify_by + timedelta(days=1))
    db.session.commit()
    return aw


def _codes(reasons):
    return {r.code for r in reasons}


def test_a_failed_acceptance_bars_the_next_year(make, db, app):
    aw = _fail_for_good(make, db)
    year = aw.acc.decided_at.year
    next_tender = make.tender(aw.officer)
    reasons = eligibility_for_call(aw.org, date(year + 1, 3, 2), next_tender)
    bar = [r for r in reasons if r.code == "failed_grade"]
    assert len(bar) == 1
    text = str(NotEligible(reasons).message)
    assert aw.contract.number in text and str(year) in text and str(year + 1) in text
    assert "验收不合格" in text and "不得参与" in text  # the reason, in the organization's language (zh_CN)
    assert "failed_grade" not in _codes(eligibility_for_call(aw.org, date(year + 2, 3, 2), next_tender))
    # A call that does not bar failed grades, or the policy switched off: no bar.
    next_tender.bar_failed_grade = False
    assert "failed_grade" not in _codes(eligibility_for_call(aw.org, date(year + 1, 3, 2), next_tender))
    next_tender.bar_failed_grade = True
    app.config.setdefault("POLICY_OVERRIDES", {})
    old = dict(app.config["POLICY_OVERRIDES"])
    app.config["POLICY_OVERRIDES"]["performance.fail_bars_next_year"] = False
    try:
        assert "failed_grade" not in _codes(eligibility_for_call(aw.org, date(year + 1, 3, 2), next_tender))
    finally:
        app.config["POLICY_OVERRIDES"] = old
    # Another organization is not barred.
    other = make.organization()
    assert "failed_grade" not in _codes(eligibility_for_call(other, date(year + 1, 3, 2), next_tender))


def test_a_pass_or_a_rectified_failure_does_not_bar(make, db):
    aw = third_party(make, db, "45")
    svc.decide(aw.officer, aw.acc)
    db.session.commit()
    year = aw.acc.decided_at.year
    tender = make.tender(aw.officer)
    assert "failed_grade" not in _codes(eligibility_for_call(aw.org, date(year + 1, 3, 2), tender))


def test_record_on_the_organization_page_and_portal(make, db, client):
    aw = _fail_for_good(make, db)
    db.session.commit()
    assert login(client, aw.org_user.username).status_code == 302
    page = client.get(f"/organizations/{aw.org.id}").get_data(as_text=True)
    assert 'id="performance-record"' in page and aw.contract.number in page
    client.post("/logout")
    portal = client.get("/portal/acceptances")
    body = portal.get_data(as_text=True)
    assert portal.status_code == 200 and aw.contract.number in body and aw.org.name in body


def test_rectification_reminders_once(make, db):
    aw = third_party(make, db, "45")
    svc.decide(aw.officer, aw.acc)
    db.session.commit()
    due = aw.acc.rectify_by

    def count():
        return db.session.scalar(select(func.count()).select_from(Notice).where(
            Notice.rule == "acceptance.rectification"))

    engine.scan(due - timedelta(days=7), only=["acceptance.rectification"])
    db.session.commit()
    assert count() == 2  # the organization's staff and the department's officer
    engine.scan(due - timedelta(days=7), only=["acceptance.rectification"])
    db.session.commit()
    assert count() == 2
    engine.scan(due - timedelta(days=5), only=["acceptance.rectification"])
    assert count() == 2
    engine.scan(due - timedelta(days=1), only=["acceptance.rectification"])
    db.session.commit()
    assert count() == 4
    users = set(db.session.scalars(select(Notice.user_id).where(Notice.rule == "acceptance.rectification")))
    assert users == {aw.org_user.id, aw.officer.id}
