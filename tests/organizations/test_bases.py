"""Incubation bases: services, pages per role, and the list filter by base."""

from __future__ import annotations

from datetime import date

import pytest

from procure.errors import NotPermitted, ValidationError
from procure.organizations import bases
from procure.roles import Role

from ..conftest import login

ANON, ADMIN, OFFICER, FINANCE, ORG, EVALUATOR = "anon", *Role


@pytest.fixture()
def world(app, make, db):
    operator = make.organization("孵化运营中心", with_code=True)
    young = make.organization("青苗社", with_code=True)
    other = make.organization("旁观者协会", with_code=True)
    users = {ADMIN: make.admin(), OFFICER: make.user(Role.OFFICER, locale="en"), FINANCE: make.user(Role.FINANCE),
             ORG: make.user(Role.ORG, organization=operator), EVALUATOR: make.user(Role.EVALUATOR),
             "other_org": make.user(Role.ORG, organization=other)}
    with app.test_request_context():
        base = bases.create_base(users[OFFICER], {"name": "渝中区孵化基地", "operator": operator.credit_code.lower(),
                                                  "area_sqm": 800, "facilities": "会议室"})
        res = bases.add_resident(users[OFFICER], base, young, date(2024, 3, 1))
    make.commit()
    return users, {"base": base.id, "res": res.id, "young": young.id, "operator": operator.id, "other": other.id}


def test_services(app, db, world, make):
    users, ids = world
    from procure.extensions import db as _db
    from procure.organizations.models import IncubationBase, Organization, Residency

    base = _db.session.get(IncubationBase, ids["base"])
    res = _db.session.get(Residency, ids["res"])
    with app.test_request_context():
        assert base.operator_id == ids["operator"]
        with pytest.raises(ValidationError):
            bases.add_resident(users[OFFICER], base, _db.session.get(Organization, ids["young"]), date(2024, 4, 1))
        with pytest.raises(ValidationError):
            bases.add_resident(users[OFFICER], base, _db.session.get(Organization, ids["operator"]), date(2024, 4, 1))
        with pytest.raises(ValidationError):
            bases.graduate(users[OFFICER], res, date(2024, 2, 1))
        with pytest.raises(NotPermitted):
            bases.graduate(users[ORG], res, date(2025, 2, 1))
        with pytest.raises(ValidationError):
            bases.create_base(users[OFFICER], {"name": "x", "operator": "nobody"})
        bases.graduate(users[OFFICER], res, date(2025, 3, 1))
        assert res.graduated_on == date(2025, 3, 1)
        with pytest.raises(ValidationError):
            bases.graduate(users[OFFICER], res, date(2025, 3, 2))


PAGES = {
    "/organizations/bases/": {ADMIN, OFFICER, FINANCE},
    "/organizations/bases/new": {ADMIN, OFFICER},
    "/organizations/bases/{base}": {ADMIN, OFFICER, FINANCE, ORG},
    "/organizations/bases/{base}/edit": {ADMIN, OFFICER},
}
POSTS = {"/organizations/bases/new", "/organizations/bases/{base}/edit", "/organizations/bases/{base}/residents",
         "/organizations/bases/{base}/residents/{res}/graduate"}
CASES = [(p, r) for p in PAGES for r in [ANON, *Role, "other_org"]]


@pytest.mark.parametrize(("path", "role"), CASES, ids=[f"{r}:{p}" for p, r in CASES])
def test_pages(client, world, path, role):
    users, ids = world
    if role != ANON:
        login(client, users[role].username)
    resp = client.get(path.format(**ids))
    if role == ANON:
        assert resp.status_code == 302
    else:
        assert resp.status_code == (200 if role in PAGES[path] else 403)


POST_CASES = [(p, r) for p in sorted(POSTS) for r in [ANON, FINANCE, ORG, EVALUATOR]]


@pytest.mark.parametrize(("path", "role"), POST_CASES, ids=[f"{r}:{p}" for p, r in POST_CASES])
def test_posts_refused(client, world, path, role):
    users, ids = world
    if role != ANON:
        login(client, users[role].username)
    resp = client.post(path.format(**ids), data={"name": "x", "operator": "青苗社", "graduated_on": "2025-01-01",
                                                 "credit_code": "旁观者协会", "moved_in_on": "2025-01-01"})
    assert resp.status_code == (302 if role == ANON else 403)


def test_base_page_and_filter(client, world):
    users, ids = world
    login(client, users[OFFICER].username)
    page = client.get(f"/organizations/bases/{ids['base']}").get_data(as_text=True)
    assert "青苗社" in page and "会议室" in page
    bad = client.post(f"/organizations/bases/{ids['base']}/residents", data={"credit_code": "nobody",
                                                                             "moved_in_on": "2025-01-01"})
    assert bad.status_code == 400 and b"No organization" in bad.data
    ok = client.post(f"/organizations/bases/{ids['base']}/residents", data={"credit_code": "旁观者协会",
                                                                            "moved_in_on": "2025-01-01"})
    assert ok.status_code == 302
    listed = client.get(f"/organizations/?base={ids['base']}").get_data(as_text=True)
    assert "青苗社" in listed and "旁观者协会" in listed and "孵化运营中心" not in listed
    assert "渝中区孵化基地" in client.get(f"/organizations/{ids['young']}").get_data(as_text=True)


def test_two_officers_recording_one_departure_at_once(app, db, world, make):
    """Compare-and-set on PostgreSQL with real threads: one departure is recorded, the other
    officer is told someone else changed it first; one audit event."""
    from procure.audit import AuditEvent
    from procure.organizations.models import Residency

    from ..threads import race

    users, ids = world
    second = make.user(Role.OFFICER)
    make.commit()

    def leave(actor_id, day):
        def fn(db_):
            from procure.auth.models import User

            with app.test_request_context():
                bases.graduate(db_.session.get(User, actor_id), db_.session.get(Residency, ids["res"]), day)
        return fn

    ok, refused = race(app, [leave(users[OFFICER].id, date(2025, 3, 1)), leave(second.id, date(2025, 4, 1))])
    # the later one is refused: "changed by someone else" when both read the open residency,
    # "already graduated" when it read the row after the winner's commit
    assert len(ok) == 1 and len(refused) == 1 and refused[0][1] in {"Conflict", "ValidationError"}
    db.session.expire_all()
    won = date(2025, 3, 1) if ok == [0] else date(2025, 4, 1)
    assert db.session.get(Residency, ids["res"]).graduated_on == won
    assert db.session.query(AuditEvent).filter_by(action="residency.graduate").count() == 1
