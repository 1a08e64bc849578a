"""Registry services: registration, profile, ratings, annual reports, credit lists,
standing rules on the dates around their edges, and eligibility."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from procure import audit
from procure.errors import InvalidTransition, NotPermitted, ValidationError
from procure.organizations import services
from procure.organizations.models import (
    CreditEntry,
    CreditList,
    CreditStanding,
    EntryState,
    OrgKind,
    RatingState,
    RegStatus,
    ReportStatus,
)
from procure.roles import Role

from ..factories import credit_code


@pytest.fixture()
def officer(make):
    return make.user(Role.OFFICER)


def _reg(**kw):
    data = {"name": "重庆市测试协会", "kind": "social_group", "credit_code": credit_code(OrgKind.SOCIAL_GROUP, 7),
            "registration_date": date(2020, 3, 1), "registration_authority": "重庆市民政局", "status": "normal"}
    data.update(kw)
    return data


def test_create_and_update_are_audited(app, db, officer):
    with app.test_request_context():
        org = services.create_organization(officer, _reg())
        assert org.credit_standing == CreditStanding.NORMAL and org.status == RegStatus.NORMAL
        services.update_registration(officer, org, {"address": "渝中区 1 号"})
    events = db.session.scalars(sa.select(audit.AuditEvent).where(audit.AuditEvent.object_type == "organizations")
                                .order_by(audit.AuditEvent.seq)).all()
    assert [e.action for e in events] == ["organization.create", "organization.update"]
    assert events[1].after == {"address": "渝中区 1 号"} and events[1].before == {"address": None}


@pytest.mark.parametrize(("kw", "field"), [
    ({"credit_code": "51500000MJ3JJL6B1B"}, "credit_code"),
    ({"kind": "service_org"}, "credit_code"),
    ({"credit_code": ""}, "credit_code"),
    ({"kind": "filed"}, "credit_code"),
    ({"name": " "}, "name"),
])
def test_bad_registration_data(app, db, officer, kw, field):
    with app.test_request_context(), pytest.raises(ValidationError) as info:
        services.create_organization(officer, _reg(**kw))
    assert info.value.field == field


def test_filed_organization_has_no_code_and_duplicate_codes_refused(app, db, officer):
    with app.test_request_context():
        filed = services.create_organization(officer, _reg(kind="filed", credit_code=""))
        assert filed.credit_code is None
        services.create_organization(officer, _reg())
        with pytest.raises(ValidationError, match="已被其他社会组织使用"):
            services.create_organization(officer, _reg(name="另一个"))


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ORG, Role.EVALUATOR])
def test_only_staff_manage_registration(app, db, make, role):
    user = make.user(role)
    org = make.organization(with_code=True)
    with app.test_request_context():
        for call in (lambda: services.create_organization(user, _reg()),
                     lambda: services.update_registration(user, org, {"name": "x"}),
                     lambda: services.add_rating(user, org, 3, date(2024, 1, 1)),
                     lambda: services.record_annual_report(user, org, 2024, date(2025, 3, 1)),
                     lambda: services.add_credit_entry(user, org, CreditList.ABNORMAL, date(2025, 1, 1), "x")):
            with pytest.raises(NotPermitted):
                call()


def test_org_user_edits_only_own_profile_fields(app, db, make):
    own, other = make.organization(with_code=True), make.organization(with_code=True)
    user = make.user(Role.ORG, organization=own)
    with app.test_request_context():
        services.update_profile(user, own, {"contact_name": "王五", "name": "篡改", "credit_code": "x",
                                            "rating_level": 5})
        assert own.contact_name == "王五" and own.name != "篡改" and own.rating_level is None
        with pytest.raises(NotPermitted):
            services.update_profile(user, other, {"contact_name": "x"})
        with pytest.raises(NotPermitted):
            services.update_registration(user, own, {"name": "x"})


def test_rating_expiry_edges(app, db, make, officer):
    org = make.organization(with_code=True)
    with app.test_request_context():
        rating = services.add_rating(officer, org, 4, date(2021, 6, 30))
        assert rating.expires_on == date(2026, 6, 30)
        assert (org.rating_level, org.rating_expires_on) == (4, date(2026, 6, 30))
        assert services.lapse_ratings(date(2026, 6, 29)) == 0
        assert org.rating_level == 4
        assert [r.code for r in services.check_eligibility(org, date(2026, 6, 29), min_rating=4)
                if r.code == "rating"] == []
        assert "rating" in [r.code for r in services.check_eligibility(org, date(2026, 6, 30), min_rating=4)]
        assert services.lapse_ratings(date(2026, 6, 30)) == 1
        assert rating.state == RatingState.LAPSED and org.rating_level is None and org.rating_expires_on is None
        assert services.lapse_ratings(date(2026, 7, 1)) == 0  # idempotent


def test_leap_day_rating_and_new_rating_supersedes(app, db, make, officer):
    org = make.organization(with_code=True)
    with app.test_request_context():
        first = services.add_rating(officer, org, 3, date(2020, 2, 29))
        assert first.expires_on == date(2025, 3, 1)
        second = services.add_rating(officer, org, 5, date(2023, 1, 1))
        assert first.state == RatingState.LAPSED and second.state == RatingState.ACTIVE
        assert org.rating_level == 5
        with pytest.raises(ValidationError):
            services.add_rating(officer, org, 6, date(2023, 1, 1))
        with pytest.raises(InvalidTransition):
            from procure.organizations.models import RATING_MACHINE
            RATING_MACHINE.transition(first, RatingState.ACTIVE, officer)


def test_annual_report_transitions(app, db, make, officer):
    org = make.organization(with_code=True, registration_date=date(2015, 1, 1))
    with app.test_request_context():
        report = services.record_annual_report(officer, org, 2024, None)
        assert report.status == ReportStatus.PENDING and report.due_date == date(2025, 5, 31)
        services.record_annual_report(officer, org, 2024, date(2025, 4, 1))
        assert report.status == ReportStatus.FILED
        with pytest.raises(ValidationError, match="年度报告已报送"):
            services.record_annual_report(officer, org, 2024, date(2025, 4, 2))


def test_credit_entry_transitions(app, db, make, officer):
    org = make.organization(with_code=True)
    with app.test_request_context():
        entry = services.add_credit_entry(officer, org, CreditList.ABNORMAL, date(2025, 1, 1), "未年报")
        assert org.credit_standing == CreditStanding.ABNORMAL
        with pytest.raises(ValidationError, match="已被列入该名录"):
            services.add_credit_entry(officer, org, CreditList.ABNORMAL, date(2025, 1, 2), "again")
        with pytest.raises(InvalidTransition):
            services.confirm_entry(officer, entry)  # listed → listed
        with pytest.raises(ValidationError):
            services.remove_entry(officer, entry, date(2024, 12, 31), "too early")
        with pytest.raises(ValidationError):
            services.remove_entry(officer, entry, date(2025, 2, 1), "")
        services.remove_entry(officer, entry, date(2025, 2, 1), "已补报")
        assert entry.state == EntryState.REMOVED and org.credit_standing == CreditStanding.NORMAL
        with pytest.raises(InvalidTransition):
            services.remove_entry(officer, entry, date(2025, 2, 2), "again")
        with pytest.raises(InvalidTransition):
            services.reject_entry(officer, entry, "no")


def test_missing_report_is_proposed_then_confirmed_or_rejected(app, db, make, officer):
    late = make.organization(with_code=True, registration_date=date(2024, 1, 1))
    good = make.organization(with_code=True, registration_date=date(2024, 12, 31))
    young = make.organization(with_code=True, registration_date=date(2025, 1, 1))
    filed = make.organization(kind=OrgKind.FILED, registration_date=date(2020, 1, 1))
    with app.test_request_context():
        services.record_annual_report(officer, good, 2024, date(2025, 5, 31))
        assert services.list_missing_reports(date(2025, 5, 31)) == []  # the due day itself
        # the day after the due date the 2024 report is missing
        entries = services.list_missing_reports(date(2025, 6, 1))
        assert [e.organization_id for e in entries] == [late.id]
        assert entries[0].state == EntryState.PROPOSED and late.credit_standing == CreditStanding.NORMAL
        assert services.list_missing_reports(date(2025, 6, 2)) == []  # once per year
        services.confirm_entry(officer, entries[0])
        assert late.credit_standing == CreditStanding.ABNORMAL
        assert young.credit_standing == filed.credit_standing == CreditStanding.NORMAL


def test_missing_report_automatic_listing_by_policy(app, db, make):
    org = make.organization(with_code=True, registration_date=date(2020, 1, 1))
    app.config["POLICY_OVERRIDES"] = {"standing.auto_abnormal": True}
    try:
        with app.test_request_context():
            [entry] = services.list_missing_reports(date(2025, 7, 1))
            assert entry.state == EntryState.LISTED and entry.listed_on == date(2025, 6, 1)
            assert org.credit_standing == CreditStanding.ABNORMAL
    finally:
        app.config["POLICY_OVERRIDES"] = {}


@pytest.mark.parametrize(("listed", "today", "moved"), [
    (date(2023, 6, 1), date(2025, 5, 31), False),
    (date(2023, 6, 1), date(2025, 6, 1), True),
    (date(2023, 6, 1), date(2025, 6, 2), True),
    (date(2024, 2, 29), date(2026, 2, 28), False),
    (date(2024, 2, 29), date(2026, 3, 1), True),
])
def test_two_years_on_abnormal_list_moves_to_serious(app, db, make, officer, listed, today, moved):
    org = make.organization(with_code=True)
    with app.test_request_context():
        entry = services.add_credit_entry(officer, org, CreditList.ABNORMAL, listed, "未年报")
        out = services.move_to_serious(today)
        assert bool(out) == moved
        if moved:
            assert entry.state == EntryState.REMOVED and entry.removed_on == services.serious_move_date(entry)
            assert out[0].list == CreditList.SERIOUS and out[0].listed_on == entry.removed_on
            assert org.credit_standing == CreditStanding.SERIOUS
            assert services.move_to_serious(today + timedelta(days=1)) == []
        else:
            assert org.credit_standing == CreditStanding.ABNORMAL


def test_removed_entry_does_not_move(app, db, make, officer):
    org = make.organization(with_code=True)
    with app.test_request_context():
        entry = services.add_credit_entry(officer, org, CreditList.ABNORMAL, date(2022, 1, 1), "x")
        services.remove_entry(officer, entry, date(2023, 1, 1), "已整改")
        assert services.move_to_serious(date(2025, 1, 1)) == []


def test_apply_standing_rules_task(app, db, make, officer):
    org = make.organization(with_code=True, registration_date=date(2019, 1, 1))
    with app.test_request_context():
        services.add_rating(officer, org, 3, date(2020, 1, 1))
    db.session.commit()
    from workers.registry import apply_standing_rules

    result = apply_standing_rules.run("2025-06-01")
    assert result == {"abnormal": 1, "serious": 0, "lapsed": 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditEntry)) == 1


def test_eligibility_lists_every_failed_condition(app, db, make, officer):
    org = make.organization(with_code=True, registration_date=date(2025, 3, 1), status=RegStatus.REVOKED)
    at = date(2025, 12, 1)
    with app.test_request_context():
        services.add_credit_entry(officer, org, CreditList.ABNORMAL, date(2025, 6, 1), "x")
        services.add_credit_entry(officer, org, CreditList.SERIOUS, date(2025, 7, 1), "y")
        reasons = services.check_eligibility(org, at, min_rating=3)
    assert [r.code for r in reasons] == ["status", "registered", "abnormal", "serious", "rating"]
    assert len({str(r) for r in reasons}) == 5


def test_eligibility_ok_and_annual_report(app, db, make, officer):
    org = make.organization(with_code=True, registration_date=date(2020, 3, 1))
    with app.test_request_context():
        assert [r.code for r in services.check_eligibility(org, date(2025, 6, 1))] == ["annual_report"]
        # before the 2024 report's due date, the 2023 one is the one that counts
        assert [r.code for r in services.check_eligibility(org, date(2025, 5, 31))] == ["annual_report"]
        services.record_annual_report(officer, org, 2023, date(2024, 5, 1))
        assert services.check_eligibility(org, date(2025, 5, 31)) == []
        services.record_annual_report(officer, org, 2024, date(2025, 5, 20))
        services.add_rating(officer, org, 4, date(2024, 1, 1))
        assert services.check_eligibility(org, date(2025, 6, 1), min_rating=4) == []
        assert [r.code for r in services.check_eligibility(org, date(2025, 6, 1), min_rating=5)] == ["rating"]
        # an entry removed later still counted on a date it was in force
        entry = services.add_credit_entry(officer, org, CreditList.ABNORMAL, date(2025, 7, 1), "x")
        services.remove_entry(officer, entry, date(2025, 8, 1), "ok")
        assert [r.code for r in services.check_eligibility(org, date(2025, 7, 15))] == ["abnormal"]
        assert services.check_eligibility(org, date(2025, 8, 1)) == []
