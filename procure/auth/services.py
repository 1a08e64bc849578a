"""Account operations. Each checks permission, changes the model, audits, flushes;
the caller commits once."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import column, func, select, table
from werkzeug.security import generate_password_hash

from .. import audit
from ..errors import NotPermitted, ValidationError
from ..extensions import db
from ..notifications.services import external_url, notify
from ..permissions import define, owned_by, require
from ..roles import DEPARTMENT_ROLES, Role
from ..timeutil import utcnow
from .models import USER_ALLOWED, USER_MACHINE, Department, PasswordResetToken, User, UserStatus  # noqa: F401

MIN_PASSWORD_LENGTH = 10

#: A user changes their own password only.
define("account.change_password", frozenset(Role), owned_by("id"), model=User)


def check_password_strength(password: str, field: str = "password") -> None:
    """At least 10 characters with letters and digits."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
                              field=field)
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise ValidationError(_l("The password must contain both letters and digits."), field=field)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(8))


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Records the login time."""
    user = db.session.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
    if user is None:
        # Spend the same time as a real check, so timing does not reveal user names.
        User(password_hash=_dummy_hash()).check_password(password or "")
        return None
    if not user.check_password(password or "") or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


@dataclass
class UserData:
    username: str
    email: str
    name: str
    role: Role
    locale: str = "zh_CN"
    department_id: int | None = None
    organization_id: int | None = None


#: The organizations table, by name: organizations sit above auth (an organization has
#: users), so auth checks that an organization exists without importing its model.
_ORGANIZATIONS = table("organizations", column("id"))


def _organization_exists(org_id: int) -> bool:
    return db.session.scalar(select(_ORGANIZATIONS.c.id).where(_ORGANIZATIONS.c.id == org_id)) is not None


def _validate_links(data: UserData) -> None:
    if data.role == Role.ORG:
        if not data.organization_id or not _organization_exists(data.organization_id):
            raise ValidationError(_l("An organization user must belong to an organization."),
                                  field="organization_id")
        data.department_id = None
    elif data.role in DEPARTMENT_ROLES:
        if not data.department_id or db.session.get(Department, data.department_id) is None:
            raise ValidationError(_l("Officers and finance officers must belong to a department."),
                                  field="department_id")
        data.organization_id = None
    else:
        data.organization_id = None
        if data.department_id and db.session.get(Department, data.department_id) is None:
            raise ValidationError(_l("Unknown department."), field="department_id")
    if data.locale not in current_app.config["LANGUAGES"]:
        raise ValidationError(_l("Unknown language."), field="locale")


def _check_unique(data: UserData, user_id: int | None) -> None:
    q = select(User.id).where(func.lower(User.username) == data.username.lower())
    if db.session.scalar(q) not in (None, user_id):
        raise ValidationError(_l("This user name is taken."), field="username")
    q = select(User.id).where(func.lower(User.email) == data.email.lower())
    if db.session.scalar(q) not in (None, user_id):
        raise ValidationError(_l("Another user has this email address."), field="email")


def create_user(actor, data: UserData, password: str | None = None, *, welcome: bool = True) -> User:
    """Create an active user (admin only) and send the welcome email, whose link lets
    the user set a password (single use, expiring: ``WELCOME_LINK_TTL``). Without an
    initial ``password`` the account can be entered only through that link.
    ``welcome=False`` (test data only) sends nothing and needs a password."""
    require(actor, "user.manage")
    data.username, data.email = data.username.strip(), data.email.strip().lower()
    _validate_links(data)
    _check_unique(data, None)
    if password:
        check_password_strength(password)
    user = User(username=data.username, email=data.email, name=data.name.strip(), role=data.role,
                locale=data.locale, department_id=data.department_id,
                organization_id=data.organization_id, status=UserStatus.ACTIVE)
    user.set_password(password or secrets.token_urlsafe(32))  # unknown to anyone: set through the link
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", user, after=user.snapshot())
    if welcome:
        send_welcome(user)
    elif not password:
        raise ValidationError(_l("Give the new user an initial password."), field="password")
    return user


def update_user(actor, user: User, data: UserData) -> User:
    """Change a user's details and role (admin only)."""
    require(actor, "user.manage")
    data.username, data.email = data.username.strip(), data.email.strip().lower()
    _validate_links(data)
    _check_unique(data, user.id)
    if user.id == getattr(actor, "id", None) and data.role != Role.ADMIN:
        raise ValidationError(_l("You cannot take the administrator role from yourself."), field="role")
    before = user.snapshot()
    user.username, user.email, user.name = data.username, data.email, data.name.strip()
    user.role, user.locale = data.role, data.locale
    user.department_id, user.organization_id = data.department_id, data.organization_id
    db.session.flush()
    b, a = audit.diff(before, user.snapshot())
    if a:
        audit.record(actor, "user.update", user, before=b, after=a)
    return user


def set_user_status(actor, user: User, status: UserStatus, reason: str | None = None) -> User:
    """active ⇄ disabled (admin only). Disabling ends the user's sessions."""
    require(actor, "user.manage")
    if user.id == getattr(actor, "id", None):
        raise NotPermitted(_l("You cannot disable your own account."))
    USER_MACHINE.transition(user, status, actor, reason=reason)
    user.session_token = secrets.token_hex(16)  # ends the sessions; not audited
    return user


def change_password(actor, user: User, current: str, new: str) -> None:
    """The user changes their own password; other sessions end."""
    require(actor, "account.change_password", user)
    if not user.check_password(current or ""):
        raise ValidationError(_l("The current password is wrong."), field="current_password")
    if current == new:
        raise ValidationError(_l("The new password must differ from the current one."), field="new_password")
    check_password_strength(new, field="new_password")
    user.set_password(new)
    user.password_changed_at = utcnow()
    audit.record(actor, "user.password_change", user, after={"password_changed_at": user.password_changed_at})


def set_locale(user: User, locale: str) -> None:
    """The user's own language choice (not a governed change: no audit)."""
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationError(_l("Unknown language."))
    user.locale = locale


def reset_link_minutes() -> int:
    """How long a password reset link stays valid, in whole minutes (email and page)."""
    return int(current_app.config["PASSWORD_RESET_TTL"].total_seconds() // 60)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def welcome_link_hours() -> int:
    """How long the welcome email's set-password link stays valid, in whole hours."""
    return int(current_app.config["WELCOME_LINK_TTL"].total_seconds() // 3600)


def _issue_link(user: User, ttl) -> tuple[str, PasswordResetToken]:
    """A new single-use link token of ``user`` valid for ``ttl``; earlier unused links
    of the user are revoked. Returns the raw token (only its SHA-256 is stored)."""
    now = utcnow()
    for old in db.session.scalars(select(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None),
            PasswordResetToken.is_revoked.is_(False))):
        old.is_revoked = True
    token = secrets.token_urlsafe(32)
    row = PasswordResetToken(user_id=user.id, token_hash=_token_hash(token), created_at=now, expires_at=now + ttl)
    db.session.add(row)
    db.session.flush()
    return token, row


def send_welcome(user: User) -> str:
    """The welcome email: user name, role, and a link to set a password (single use,
    expiring after ``WELCOME_LINK_TTL``). Returns the raw token (tests only)."""
    token, row = _issue_link(user, current_app.config["WELCOME_LINK_TTL"])
    audit.record(None, "user.welcome_link_issued", user, after={"token_id": row.id})
    notify([user], "welcome", user, critical=True,
           context={"link": external_url("auth.reset_password", token=token), "hours": welcome_link_hours(),
                    "login": external_url("auth.login")})
    return token


def request_password_reset(email: str) -> str | None:
    """Queue a reset email for the active user with this address, if any.

    Returns the raw token (for the caller's tests only; views ignore it and always say
    the same thing, so the page does not reveal which addresses exist). Earlier unused
    links of the user are revoked.
    """
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None or not user.is_active:
        return None
    token, row = _issue_link(user, current_app.config["PASSWORD_RESET_TTL"])
    audit.record(None, "user.password_reset_requested", user, after={"token_id": row.id})
    # The notice has no link: the email's link carries the token, which stays out of the app.
    notify([user], "password_reset", user, critical=True,
           context={"link": external_url("auth.reset_password", token=token), "minutes": reset_link_minutes()})
    return token


def _usable_token(token: str) -> PasswordResetToken:
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token or ""))
                            .with_for_update())
    if row is None or row.is_revoked:
        raise ValidationError(_l("This reset link is not valid. Ask for a new one."))
    if row.used_at is not None:
        raise ValidationError(_l("This reset link has already been used. Ask for a new one."))
    if row.expires_at <= utcnow():
        raise ValidationError(_l("This reset link has expired. Ask for a new one."))
    if not row.user.is_active:
        raise ValidationError(_l("This account is disabled."))
    return row


def check_reset_token(token: str) -> User:
    """The user a usable reset token belongs to (ValidationError otherwise)."""
    return _usable_token(token).user


def reset_password(token: str, new: str) -> User:
    """Set a new password through a reset link; the link is used up."""
    row = _usable_token(token)
    check_password_strength(new, field="password")
    row.used_at = utcnow()
    user = row.user
    user.set_password(new)
    user.password_changed_at = row.used_at
    audit.record(user, "user.password_reset", user, after={"token_id": row.id})
    return user


def create_department(actor, name: str, code: str) -> Department:
    require(actor, "department.manage")
    name, code = name.strip(), code.strip().upper()
    _check_department_unique(name, code, None)
    dep = Department(name=name, code=code)
    db.session.add(dep)
    db.session.flush()
    audit.record(actor, "department.create", dep, after={"name": name, "code": code})
    return dep


def update_department(actor, dep: Department, name: str, code: str) -> Department:
    require(actor, "department.manage")
    name, code = name.strip(), code.strip().upper()
    _check_department_unique(name, code, dep.id)
    before = {"name": dep.name, "code": dep.code}
    dep.name, dep.code = name, code
    b, a = audit.diff(before, {"name": name, "code": code})
    if a:
        audit.record(actor, "department.update", dep, before=b, after=a)
    return dep


def _check_department_unique(name: str, code: str, dep_id: int | None) -> None:
    if db.session.scalar(select(Department.id).where(Department.name == name)) not in (None, dep_id):
        raise ValidationError(_l("A department with this name exists."), field="name")
    if db.session.scalar(select(Department.id).where(Department.code == code)) not in (None, dep_id):
        raise ValidationError(_l("A department with this code exists."), field="code")
