"""How the history of accounts and departments reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..history import Choice, DateTime, Enum, Field, Ref, describe_actions, describe_object
from ..roles import Role
from .models import Department, User, UserStatus

LOCALES = {"zh_CN": _l("Simplified Chinese"), "en": _l("English")}

describe_object("users", _l("User"), model=User, name=lambda u: u.name,
                endpoint=("admin.user_edit", "user_id"), permission="user.manage", state_field="status",
                fields={
                    "username": Field(_l("User name")), "name": Field(_l("Full name")),
                    "email": Field(_l("Email address")),
                    "role": Field(_l("Role"), Enum(Role)), "status": Field(_l("Status"), Enum(UserStatus)),
                    "department_id": Field(_l("Department"), Ref("departments")),
                    "organization_id": Field(_l("Organization"), Ref("organizations")),
                    "locale": Field(_l("Language"), Choice(LOCALES)),
                    "password_changed_at": Field(_l("Password changed at"), DateTime()),
                    "token_id": Field(_l("Reset link"), hidden=True),
                })
describe_object("departments", _l("Department"), model=Department, name=lambda d: d.name,
                endpoint=("admin.department_form", "dep_id"), permission="department.manage",
                fields={"name": Field(_l("Name")), "code": Field(_l("Code"))})

describe_actions({
    "user.create": _l("Account created"), "user.update": _l("Account changed"),
    "user.disable": _l("Account disabled"), "user.enable": _l("Account enabled"),
    "user.password_change": _l("Password changed"), "user.password_reset": _l("Password reset by link"),
    "user.password_reset_requested": _l("Password reset requested"),
    "user.welcome_link_issued": _l("Welcome email with a set-password link sent"),
    "department.create": _l("Department created"), "department.update": _l("Department changed"),
})
