"""The roles of DOMAIN.md §2."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    FINANCE = "finance"
    ORG = "org"
    EVALUATOR = "evaluator"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.OFFICER: _l("Program officer"),
    Role.FINANCE: _l("Finance officer"),
    Role.ORG: _l("Organization staff"),
    Role.EVALUATOR: _l("Evaluator"),
}

#: Roles whose users belong to a department (purchasing or finance).
DEPARTMENT_ROLES = frozenset({Role.OFFICER, Role.FINANCE})
