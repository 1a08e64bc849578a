"""Each role against each page of the foundation (table-driven)."""

from __future__ import annotations

import pytest

from procure.roles import Role

from .conftest import get_as, login

ANON, ADMIN, OFFICER, FINANCE, ORG, EVALUATOR = "anon", *Role

ALL_SIGNED_IN = {ADMIN, OFFICER, FINANCE, ORG, EVALUATOR}
ADMIN_ONLY = {ADMIN}

# path template -> roles that get 200; everyone else signed in gets 403; anonymous → login
PAGES = {
    "/dashboard": ALL_SIGNED_IN,
    "/account/password": ALL_SIGNED_IN,
    "/admin/users": ADMIN_ONLY,
    "/admin/users/new": ADMIN_ONLY,
    "/admin/users/{other_user}": ADMIN_ONLY,
    "/admin/departments": ADMIN_ONLY,
    "/admin/departments/new": ADMIN_ONLY,
    "/admin/departments/{dep}": ADMIN_ONLY,
    "/admin/outbox": ADMIN_ONLY,
    "/admin/outbox/{note}": ADMIN_ONLY,
    "/admin/policy": ADMIN_ONLY,
    "/admin/audit": ADMIN_ONLY,
    "/organizations/{own_org}/users": {ADMIN, ORG},
    "/organizations/{other_org}/users": ADMIN_ONLY,
}

POSTS = {
    "/admin/users/{other_user}/status": ADMIN_ONLY,
    "/admin/outbox/{note}/requeue": ADMIN_ONLY,
}


@pytest.fixture()
def world(app, make, db):
    from procure.notifications.services import notify

    own_org, other_org = make.organization(), make.organization()
    users = {
        ADMIN: make.admin(),
        OFFICER: make.user(Role.OFFICER),
        FINANCE: make.user(Role.FINANCE),
        ORG: make.user(Role.ORG, organization=own_org),
        EVALUATOR: make.user(Role.EVALUATOR),
    }
    other = make.user(Role.ORG, organization=other_org)
    with app.test_request_context():
        [sent] = notify([other], "welcome", other, context={"link": "x"})
        note = sent.email
    make.commit()
    ids = {"other_user": other.id, "dep": users[OFFICER].department_id, "note": note.id,
           "own_org": own_org.id, "other_org": other_org.id}
    return users, ids


CASES = [(path, role) for path in PAGES for role in [ANON, *sorted(ALL_SIGNED_IN)]]


@pytest.mark.parametrize(("path", "role"), CASES, ids=[f"{r}:{p}" for p, r in CASES])
def test_get_pages(client, world, path, role):
    users, ids = world
    resp = get_as(client, users, role, path.format(**ids), PAGES[path])
    if role != ANON and role not in PAGES[path]:
        assert "您无权查看此页面".encode() in resp.data


POST_CASES = [(path, role) for path in POSTS for role in [ANON, *sorted(ALL_SIGNED_IN - ADMIN_ONLY)]]


@pytest.mark.parametrize(("path", "role"), POST_CASES, ids=[f"{r}:{p}" for p, r in POST_CASES])
def test_posts_refused(client, world, path, role):
    users, ids = world
    if role != ANON:
        login(client, users[role].username)
    resp = client.post(path.format(**ids), data={"status": "disabled"})
    assert resp.status_code == (302 if role == ANON else 403)


def test_org_user_sees_only_own_colleagues(client, world, make):
    users, ids = world
    login(client, users[ORG].username)
    own = client.get(f"/organizations/{ids['own_org']}/users")
    assert users[ORG].username.encode() in own.data
    other = client.get(f"/organizations/{ids['other_org']}/users")
    assert other.status_code == 403
    # the other organization's user appears nowhere in the refusal
    from procure.auth.models import User
    from procure.extensions import db

    other_user = db.session.get(User, ids["other_user"])
    assert other_user.username.encode() not in other.data and other_user.email.encode() not in other.data


def test_json_clients_get_a_json_reason(client, world):
    users, _ids = world
    login(client, users[EVALUATOR].username)
    resp = client.get("/admin/users", headers={"Accept": "application/json"})
    assert resp.status_code == 403
    assert resp.json["error"] == 403 and resp.json["reason"]
    anon = client.application.test_client().get("/dashboard", headers={"Accept": "application/json"})
    assert anon.status_code == 401 and anon.json["reason"]


def test_only_admin_sees_the_size_of_the_audit_trail(client, world):
    users, _ids = world
    login(client, users[ORG].username)
    assert "审计记录共有" not in client.get("/dashboard").get_data(as_text=True)
    client.post("/logout")
    login(client, users[ADMIN].username)
    assert "审计记录共有" in client.get("/dashboard").get_data(as_text=True)
