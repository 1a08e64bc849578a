"""Account services: validation, permissions, passwords, reset links."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from procure.audit import AuditEvent
from procure.auth import services as accounts
from procure.auth.models import PasswordResetToken, User
from procure.errors import NotPermitted, ValidationError
from procure.notifications.models import Notification
from procure.roles import Role
from procure.timeutil import utcnow


def _data(**kw):
    base = {"username": "newbie", "email": "newbie@example.org", "name": "新人", "role": Role.EVALUATOR}
    base.update(kw)
    return accounts.UserData(**base)


def test_create_user_is_audited_without_the_hash(db, make):
    user = accounts.create_user(make.admin(), _data(), "abcdefgh12")
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.create",
                                                       AuditEvent.object_id == str(user.id)))
    assert ev.after["username"] == "newbie" and ev.after["role"] == "evaluator"
    assert "password_hash" not in ev.after


@pytest.mark.parametrize(("kw", "field"), [
    ({"role": Role.ORG}, "organization_id"),
    ({"role": Role.OFFICER}, "department_id"),
    ({"role": Role.FINANCE, "department_id": 9999}, "department_id"),
    ({"locale": "fr"}, "locale"),
])
def test_create_user_needs_its_links(db, make, kw, field):
    with pytest.raises(ValidationError) as exc:
        accounts.create_user(make.admin(), _data(**kw), "abcdefgh12")
    assert exc.value.field == field


@pytest.mark.parametrize(("password", "msg"), [("short1", "at least 10"), ("onlyletters", "letters and digits"),
                                               ("1234567890", "letters and digits")])
def test_weak_passwords_are_refused(app, db, make, password, msg):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        with pytest.raises(ValidationError) as exc:
            accounts.create_user(make.admin(), _data(), password)
        assert msg in str(exc.value.message)


def test_duplicates_are_refused_case_insensitively(db, make):
    make.user(Role.EVALUATOR, username="dup", email="dup@example.org")
    with pytest.raises(ValidationError) as exc:
        accounts.create_user(make.admin(), _data(username="DUP"), "abcdefgh12")
    assert exc.value.field == "username"
    with pytest.raises(ValidationError) as exc:
        accounts.create_user(make.admin(), _data(email="DUP@example.org"), "abcdefgh12")
    assert exc.value.field == "email"


@pytest.mark.parametrize("role", [Role.OFFICER, Role.FINANCE, Role.ORG, Role.EVALUATOR])
def test_only_admin_manages_users_and_departments(db, make, role):
    actor = make.user(role)
    victim = make.user(Role.EVALUATOR)
    with pytest.raises(NotPermitted):
        accounts.create_user(actor, _data(), "abcdefgh12")
    with pytest.raises(NotPermitted):
        accounts.update_user(actor, victim, _data(username=victim.username, email=victim.email))
    with pytest.raises(NotPermitted):
        accounts.create_department(actor, "新部门", "NEW")


def test_update_user_audits_only_the_diff(db, make):
    admin, user = make.admin(), make.user(Role.EVALUATOR)
    accounts.update_user(admin, user, _data(username=user.username, email=user.email, name="改名"))
    ev = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert ev.after == {"name": "改名"} and list(ev.before) == ["name"]


def test_admin_cannot_demote_or_disable_self(db, make):
    admin = make.admin()
    with pytest.raises(ValidationError):
        accounts.update_user(admin, admin, _data(username=admin.username, email=admin.email, role=Role.EVALUATOR))
    with pytest.raises(NotPermitted):
        from procure.auth.models import UserStatus

        accounts.set_user_status(admin, admin, UserStatus.DISABLED)


def test_authenticate(db, make):
    user = make.user(Role.EVALUATOR, username="Eva")
    assert accounts.authenticate("eva", make.PASSWORD) == user
    assert user.last_login_at is not None
    assert accounts.authenticate("eva", "wrong") is None
    assert accounts.authenticate("nobody", "x") is None


def test_change_password_checks_and_rotates_session(db, make):
    user = make.user(Role.EVALUATOR)
    token = user.session_token
    with pytest.raises(ValidationError) as exc:
        accounts.change_password(user, user, "wrong-one1", "newpassword9")
    assert exc.value.field == "current_password"
    with pytest.raises(ValidationError):
        accounts.change_password(user, user, make.PASSWORD, make.PASSWORD)
    accounts.change_password(user, user, make.PASSWORD, "newpassword9")
    assert user.check_password("newpassword9") and user.session_token != token


def test_cannot_change_someone_elses_password(db, make):
    a, b = make.user(Role.EVALUATOR), make.user(Role.EVALUATOR)
    with pytest.raises(NotPermitted):
        accounts.change_password(a, b, make.PASSWORD, "newpassword9")


def test_reset_token_is_single_use(app, db, make):
    user = make.user(Role.EVALUATOR)
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        token = accounts.request_password_reset(user.email.upper())
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
        row = db.session.scalar(sa.select(PasswordResetToken))
        assert row.token_hash != token  # only the hash is stored
        accounts.reset_password(token, "brandnew123")
        db.session.commit()
        with pytest.raises(ValidationError, match="already been used"):
            accounts.reset_password(token, "another1234")


def test_reset_token_expires(app, db, make):
    from flask_babel import force_locale

    user = make.user(Role.EVALUATOR)
    with app.test_request_context(), force_locale("en"):
        token = accounts.request_password_reset(user.email)
        row = db.session.scalar(sa.select(PasswordResetToken))
        row.expires_at = utcnow() - timedelta(seconds=1)
        with pytest.raises(ValidationError, match="expired"):
            accounts.reset_password(token, "brandnew123")


def test_new_reset_request_revokes_older_links(app, db, make):
    user = make.user(Role.EVALUATOR)
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        first = accounts.request_password_reset(user.email)
        second = accounts.request_password_reset(user.email)
        with pytest.raises(ValidationError, match="not valid"):
            accounts.reset_password(first, "brandnew123")
        assert accounts.reset_password(second, "brandnew123") == user


def test_reset_for_unknown_or_disabled_address_sends_nothing(app, db, make):
    from procure.auth.models import UserStatus

    user = make.user(Role.EVALUATOR)
    accounts.set_user_status(make.admin(), user, UserStatus.DISABLED)
    with app.test_request_context():
        assert accounts.request_password_reset("nobody@example.org") is None
        assert accounts.request_password_reset(user.email) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_reset_email_is_in_the_recipients_language(app, db, make):
    zh = make.user(Role.EVALUATOR, locale="zh_CN")
    en = make.user(Role.EVALUATOR, locale="en")
    with app.test_request_context():
        accounts.request_password_reset(zh.email)
        accounts.request_password_reset(en.email)
    notes = {n.to_email: n for n in db.session.scalars(sa.select(Notification))}
    assert notes[en.email].subject == "Reset your Procure password"
    assert "重置" in notes[zh.email].subject
    assert "http://testserver.local/password/reset/" in notes[zh.email].body_text


def test_departments(db, make):
    admin = make.admin()
    dep = accounts.create_department(admin, " 市民政局 ", "mzj")
    assert (dep.name, dep.code) == ("市民政局", "MZJ")
    with pytest.raises(ValidationError) as exc:
        accounts.create_department(admin, "市民政局", "OTHER")
    assert exc.value.field == "name"
    with pytest.raises(ValidationError) as exc:
        accounts.create_department(admin, "别的", "MZJ")
    assert exc.value.field == "code"
    accounts.update_department(admin, dep, "市民政局（新）", "MZJ")
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "department.update")).after == {
        "name": "市民政局（新）"}


def test_database_refuses_org_user_without_org(db):
    user = User(username="x", email="x@example.org", name="x", role=Role.ORG, password_hash="x")
    db.session.add(user)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
