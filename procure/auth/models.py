"""Users, departments and password-reset tokens."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .. import workflow
from ..extensions import db, str_enum
from ..roles import Role
from ..timeutil import utcnow


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"

    @property
    def label(self):
        return {UserStatus.ACTIVE: _l("Active"), UserStatus.DISABLED: _l("Disabled")}[self]


#: active ⇄ disabled
USER_ALLOWED = {
    UserStatus.ACTIVE: frozenset({UserStatus.DISABLED}),
    UserStatus.DISABLED: frozenset({UserStatus.ACTIVE}),
}
USER_MACHINE = workflow.Machine("user", UserStatus, USER_ALLOWED, field="status", actions={
    UserStatus.DISABLED: "disable", UserStatus.ACTIVE: "enable"},
    labels={"disable": _l("Account disabled"), "enable": _l("Account enabled")})


class Department(db.Model):
    """A government department: a purchasing department (购买主体) or the finance bureau."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    #: Short code used in reference numbers, e.g. "MZJ".
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    users = relationship("User", back_populates="department", order_by="User.name")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(str_enum(Role), nullable=False)
    status: Mapped[UserStatus] = mapped_column(str_enum(UserStatus), nullable=False,
                                               default=UserStatus.ACTIVE)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: UI and email language, "zh_CN" or "en".
    locale: Mapped[str] = mapped_column(String(10), nullable=False, default="zh_CN")
    #: Part of the login cookie's identity: changing it (password change or reset)
    #: ends every other session of this user.
    session_token: Mapped[str] = mapped_column(String(64), nullable=False,
                                               default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)

    department = relationship("Department", back_populates="users", lazy="joined")
    organization = relationship("Organization", back_populates="users", lazy="joined")

    __table_args__ = (
        CheckConstraint("role <> 'org' OR organization_id IS NOT NULL", name="org_user_has_org"),
        CheckConstraint("role NOT IN ('officer', 'finance') OR department_id IS NOT NULL",
                        name="staff_user_has_department"),
    )

    # Flask-Login
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt, a memory-hard modern hash (tests may pick a
        # cheaper method through PASSWORD_HASH_METHOD to keep the suite fast).
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.session_token = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def snapshot(self) -> dict:
        """The audited fields (never the hash)."""
        return {
            "username": self.username, "email": self.email, "name": self.name,
            "role": self.role.value if self.role else None,
            "status": self.status.value if self.status else None,
            "department_id": self.department_id, "organization_id": self.organization_id,
            "locale": self.locale,
        }

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class PasswordResetToken(db.Model):
    """A single-use, expiring reset link. Only the SHA-256 of the token is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    is_revoked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    user = relationship("User")
