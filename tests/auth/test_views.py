"""Login, logout, password pages, language switch, admin forms: through the test client."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from procure import create_app
from procure.auth.models import User, UserStatus
from procure.extensions import db as _db
from procure.notifications.models import Notification
from procure.roles import Role

from ..conftest import app_config, login


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def test_login_page_is_chinese_by_default(client):
    page = _text(client.get("/login"))
    assert "登录" in page and 'lang="zh-CN"' in page


def test_login_and_logout(client, make):
    user = make.user(Role.EVALUATOR)
    make.commit()
    resp = login(client, user.username)
    assert resp.status_code == 302 and resp.location.endswith("/dashboard")
    assert user.name in _text(client.get("/dashboard"))
    client.post("/logout")
    assert client.get("/dashboard").status_code == 302


def test_wrong_password_keeps_the_user_name_and_says_why(client, make):
    user = make.user(Role.EVALUATOR)
    make.commit()
    resp = login(client, user.username, "wrong-password")
    page = _text(resp)
    assert resp.status_code == 200
    assert "用户名或密码错误" in page
    assert f'value="{user.username}"' in page


def test_disabled_user_cannot_sign_in_and_is_signed_out(client, make, db):
    user = make.user(Role.EVALUATOR)
    make.commit()
    login(client, user.username)
    from procure.auth import services

    services.set_user_status(make.admin(), db.session.get(User, user.id), UserStatus.DISABLED)
    db.session.commit()
    assert client.get("/dashboard").status_code == 302
    assert login(client, user.username).status_code == 200


def test_login_redirects_only_to_local_next(client, make):
    user = make.user(Role.EVALUATOR)
    make.commit()
    resp = client.post("/login?next=https://evil.example/x",
                       data={"username": user.username, "password": make.PASSWORD})
    assert resp.location.endswith("/dashboard")
    client.post("/logout")
    resp = client.post("/login?next=/account/password", data={"username": user.username, "password": make.PASSWORD})
    assert resp.location.endswith("/account/password")


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example/x", "/\\/evil.example", "/\tevil",
                                    "https:/evil.example"])
def test_login_never_sends_to_another_site(client, make, target):
    """Browsers read a backslash as a slash: "/\\evil.example" is another site."""
    user = make.user(Role.EVALUATOR)
    make.commit()
    resp = client.post("/login", query_string={"next": target},
                       data={"username": user.username, "password": make.PASSWORD})
    # refused outright (a control character in the query string) or sent home, never away
    assert resp.status_code == 400 or resp.location.endswith("/dashboard"), resp.location


def test_login_is_rate_limited(app, client, make):
    user = make.user(Role.EVALUATOR)
    make.commit()
    codes = [login(client, user.username, "wrong-password").status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert "尝试次数过多" in _text(login(client, user.username))


def test_session_cookie_flags(client, make):
    user = make.user(Role.EVALUATOR)
    make.commit()
    resp = login(client, user.username)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE
    # The tests' cheaper settings stay in TestingConfig: production hashes with scrypt and
    # polls a job's progress every second.
    assert not hasattr(ProductionConfig, "PASSWORD_HASH_METHOD") and ProductionConfig.JOB_POLL_MS == 1000


def test_csrf_is_enforced(services_ready):
    app = create_app("testing", **app_config(WTF_CSRF_ENABLED=True))
    c = app.test_client()
    resp = c.post("/login", data={"username": "x", "password": "y"})
    assert resp.status_code == 400
    assert "表单已过期" in _text(resp)
    page = _text(c.get("/login"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    ok = c.post("/login", data={"username": "x", "password": "y", "csrf_token": token})
    assert ok.status_code == 200  # reaches the form (wrong credentials), not a CSRF refusal


def test_language_switch(client, make, db):
    user = make.user(Role.EVALUATOR)
    make.commit()
    assert "Sign in" in _text(client.post("/language/en?next=/login", follow_redirects=True))
    login(client, user.username)
    # signing in keeps the user's own language (zh_CN) ...
    assert "工作台" in _text(client.get("/dashboard"))
    # ... until they switch, which is remembered on the account
    page = _text(client.post("/language/en?next=/dashboard", follow_redirects=True))
    assert "Waiting for you" in page
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"


def test_unknown_language_is_refused_kindly(client):
    resp = client.post("/language/xx?next=/login", follow_redirects=True)
    assert resp.status_code == 200 and "不支持该语言" in _text(resp)


def test_change_password_page(client, make, db):
    user = make.user(Role.EVALUATOR)
    make.commit()
    login(client, user.username)
    bad = client.post("/account/password", data={"current_password": "nope", "new_password": "abcdefgh123",
                                                   "confirm": "abcdefgh123"})
    assert bad.status_code == 200 and "当前密码错误" in _text(bad)
    mismatch = client.post("/account/password", data={"current_password": make.PASSWORD,
                                                       "new_password": "abcdefgh123", "confirm": "other"})
    assert "两次输入的密码不一致" in _text(mismatch)
    weak = client.post("/account/password", data={"current_password": make.PASSWORD, "new_password": "abc",
                                                   "confirm": "abc"})
    assert "不得少于" in _text(weak)
    ok = client.post("/account/password", data={"current_password": make.PASSWORD,
                                                 "new_password": "abcdefgh123", "confirm": "abcdefgh123"})
    assert ok.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this session survives
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("abcdefgh123")


def test_password_change_ends_other_sessions(app, client, make):
    user = make.user(Role.EVALUATOR)
    make.commit()
    other = app.test_client()
    login(other, user.username)
    login(client, user.username)
    client.post("/account/password", data={"current_password": make.PASSWORD,
                                            "new_password": "abcdefgh123", "confirm": "abcdefgh123"})
    assert other.get("/dashboard").status_code == 302


def test_forgot_password_says_the_same_for_any_address(client, make, db):
    user = make.user(Role.EVALUATOR)
    make.commit()
    known = _text(client.post("/password/forgot", data={"email": user.email}, follow_redirects=True))
    unknown = _text(client.post("/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True))
    assert "重置链接" in known and "重置链接" in unknown
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1


def test_forgot_password_bad_email_keeps_input(client):
    resp = client.post("/password/forgot", data={"email": "not-an-email"})
    assert resp.status_code == 200 and 'value="not-an-email"' in _text(resp)
    assert "is-invalid" in _text(resp)


def test_reset_link_flow(client, make, db, app):
    user = make.user(Role.EVALUATOR)
    make.commit()
    client.post("/password/forgot", data={"email": user.email})
    body = db.session.scalar(sa.select(Notification.body_text))
    path = re.search(r"http://testserver\.local(/password/reset/\S+)", body).group(1)
    assert client.get(path).status_code == 200
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert "不得少于" in _text(short)
    ok = client.post(path, data={"password": "brandnew123", "confirm": "brandnew123"})
    assert ok.status_code == 302
    again = client.get(path, follow_redirects=True)
    assert "已使用" in _text(again)
    assert login(client, user.username, "brandnew123").status_code == 302


def test_bad_reset_token(client):
    resp = client.get("/password/reset/garbage", follow_redirects=True)
    assert "无效" in _text(resp)


@pytest.fixture()
def admin_client(client, make):
    make.admin()
    make.commit()
    login(client, make.admin().username)
    return client


def test_admin_creates_user_through_the_form(admin_client, make, db):
    org = make.organization()
    make.commit()
    resp = admin_client.post("/admin/users/new", data={
        "username": "xiaowang", "name": "小王", "email": "xw@example.org", "role": "org",
        "organization_id": org.id, "department_id": "", "locale": "zh_CN", "password": "initial12345"})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.username == "xiaowang")).organization_id == org.id


@pytest.mark.parametrize(("data", "message"), [
    ({"username": "a b", "role": "evaluator"}, "只能使用"),
    ({"email": "bad", "role": "evaluator"}, "邮件"),
    ({"role": "org"}, "必须隶属于某一社会组织"),
    ({"role": "officer"}, "必须隶属于某一部门"),
    ({"role": "evaluator", "password": "short"}, "不得少于"),
    ({"role": "nonsense"}, "不是有效的选择"),
])
def test_admin_user_form_errors_keep_input(admin_client, db, data, message):
    form = {"username": "kept_name", "name": "保留的名字", "email": "kept@example.org", "locale": "zh_CN",
            "department_id": "", "organization_id": "", "password": "initial12345"}
    form.update(data)
    resp = admin_client.post("/admin/users/new", data=form)
    page = _text(resp)
    assert resp.status_code == 200
    assert message in page, page[page.find("<main"):][:1500]
    assert "保留的名字" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "保留的名字")) == 0


def test_admin_department_form(admin_client, db):
    ok = admin_client.post("/admin/departments/new", data={"name": "市财政局", "code": "czj"})
    assert ok.status_code == 302
    dup = admin_client.post("/admin/departments/new", data={"name": "市财政局", "code": "X1"})
    assert "已存在" in _text(dup) and 'value="X1"' in _text(dup)
    bad = admin_client.post("/admin/departments/new", data={"name": "", "code": "含中文"})
    assert bad.status_code == 200 and "is-invalid" in _text(bad)


def test_admin_disables_a_user(admin_client, make, db):
    user = make.user(Role.EVALUATOR)
    make.commit()
    resp = admin_client.post(f"/admin/users/{user.id}/status", data={"status": "disabled"}, follow_redirects=True)
    assert "停用" in _text(resp)
    db.session.expire_all()
    assert db.session.get(User, user.id).status == UserStatus.DISABLED
    again = admin_client.post(f"/admin/users/{user.id}/status", data={"status": "disabled"}, follow_redirects=True)
    assert "无法从" in _text(again) or "不能从" in _text(again)
    assert admin_client.post(f"/admin/users/{user.id}/status", data={"status": "zzz"}).status_code == 400


def test_missing_pages_say_so_in_chinese(admin_client):
    resp = admin_client.get("/admin/users/99999")
    assert resp.status_code == 404 and "页面不存在" in _text(resp)


def test_no_500_on_garbage(admin_client):
    for path in ["/admin/users?page=abc", "/admin/outbox?state=zzz", "/admin/audit?page=-1"]:
        assert admin_client.get(path).status_code == 200
    _db.session.rollback()


def test_admin_edit_user_errors_keep_input(admin_client, make, db):
    a = make.user(Role.EVALUATOR)
    b = make.user(Role.EVALUATOR)
    make.commit()
    resp = admin_client.post(f"/admin/users/{a.id}", data={
        "username": a.username, "name": "新名字", "email": b.email, "role": "evaluator", "locale": "zh_CN",
        "department_id": "", "organization_id": ""})
    page = _text(resp)
    assert resp.status_code == 200 and "新名字" in page and "is-invalid" in page
    db.session.expire_all()
    assert db.session.get(User, a.id).name != "新名字"  # nothing half-written


def test_welcome_link_sets_a_password_once(client, make, db):
    """An admin creates a user without a password; the welcome email's link lets the new
    user set one and sign in; the link works once."""
    admin = make.admin()
    dep = make.department()
    make.commit()
    assert login(client, admin.username).status_code == 302
    resp = client.post("/admin/users/new", data={
        "username": "newcomer", "email": "newcomer@example.org", "name": "新同事", "role": "officer",
        "locale": "zh_CN", "department_id": str(dep.id), "organization_id": "", "password": ""})
    assert resp.status_code == 302, _text(resp)
    client.post("/logout")
    user = db.session.scalar(sa.select(User).where(User.username == "newcomer"))
    body = db.session.scalar(sa.select(Notification.body_text).where(Notification.recipient_id == user.id))
    assert "newcomer" in body and "72" in body
    path = re.search(r"http://testserver\.local(/password/reset/\S+)", body).group(1)
    assert login(client, "newcomer", "anything123").status_code == 200  # no password works before
    assert client.get(path).status_code == 200
    assert client.post(path, data={"password": "welcome2026x", "confirm": "welcome2026x"}).status_code == 302
    assert "已使用" in _text(client.get(path, follow_redirects=True))
    assert login(client, "newcomer", "welcome2026x").status_code == 302
