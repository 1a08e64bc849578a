"""Permissions in one place, for one object and for lists.

A *rule* (one per action, e.g. ``"project.view"``) says which roles may perform the
action and, with a :class:`Scope`, on which objects. A scope defines **together** the
check on one object and the SQL condition that selects the same objects, so

* ``can(user, action, obj)`` / ``require(...)`` decide for one object, and
* ``visible(user, action, Model_or_select)`` narrows a list to what the user may see,

from the same definition; no list writes its own filter, and a test walks every rule of
the registry on generated data to prove the two agree (tests/test_permissions.py).

Scopes compose with ``|`` and ``&``: ``role_in(Role.ADMIN) | owned_by("requested_by_id")``.
The owner scopes (own organization, own department, own record) exist once, here.

Grants held in a table (``grants``: an evaluator's assignment to a tender, with the
conflict-of-interest declaration) count in both: :func:`granted`.

A *sealed* rule (``sealed_until="opens_at"``) has no bypass for any role, admin included:
before the object's opening time ``can`` is False and the filter excludes it. The fields
whose values must never appear in clear (the audit trail stores only their hash) are
declared per object type with :func:`seal` in :data:`SEALED_FIELDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Select,
    String,
    UniqueConstraint,
    and_,
    cast,
    column,
    exists,
    false,
    or_,
    select,
    table,
    true,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from . import audit
from .errors import Conflict, NotPermitted
from .extensions import db
from .roles import Role
from .timeutil import utcnow
from .workflow import STALE

ALL = frozenset(Role)


class _NoObject:
    """``can(user, action)`` without an object: only the role is checked. An object that
    is given but None (a lookup that found nothing) is checked by the scope, which refuses
    it unless the user's role alone suffices."""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "NO_OBJECT"


NO_OBJECT: Any = _NoObject()


def _real(user):
    """The user behind Flask-Login's ``current_user`` proxy: a check reads the user's
    attributes several times, and each read through the proxy looks the user up again."""
    get = getattr(user, "_get_current_object", None)
    return get() if get is not None else user


def _signed_in(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False)) and bool(user.is_active)


# --- scopes ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Scope:
    """Which objects of a rule a user may act on, as a one-object check and as SQL.

    ``check(user, obj) -> bool`` and ``where(user, model) -> SQL boolean`` must select the
    same objects. ``where`` is None for a check that cannot be expressed in SQL (then the
    rule has no list filter and ``visible`` refuses it)."""

    check: Callable[[Any, Any], bool]
    where: Callable[[Any, type], Any] | None
    name: str

    def __or__(self, other: Scope) -> Scope:
        where = None
        if self.where is not None and other.where is not None:
            def where(u, m, a=self.where, b=other.where):
                return or_(a(u, m), b(u, m))
        return Scope(lambda u, o: self.check(u, o) or other.check(u, o), where, f"({self.name} | {other.name})")

    def __and__(self, other: Scope) -> Scope:
        where = None
        if self.where is not None and other.where is not None:
            def where(u, m, a=self.where, b=other.where):
                return and_(a(u, m), b(u, m))
        return Scope(lambda u, o: self.check(u, o) and other.check(u, o), where, f"({self.name} & {other.name})")

    def __repr__(self) -> str:
        return f"Scope{self.name}"


def role_in(*roles: Role) -> Scope:
    """The user's role alone decides (every object, or none)."""
    roles_ = frozenset(roles)
    return Scope(lambda u, o: u.role in roles_,
                 lambda u, m: true() if u.role in roles_ else false(),
                 f"[role in {sorted(r.value for r in roles_)}]")


def user_matches(attr: str, user_attr: str) -> Scope:
    """Objects whose ``attr`` equals the user's ``user_attr`` (never when the user's is None)."""

    def check(user, obj) -> bool:
        mine = getattr(user, user_attr, None)
        return mine is not None and obj is not None and getattr(obj, attr, None) == mine

    def where(user, model):
        mine = getattr(user, user_attr, None)
        return false() if mine is None else getattr(model, attr) == mine

    return Scope(check, where, f"[{attr} = user.{user_attr}]")


def own_organization(attr: str = "organization_id") -> Scope:
    """Objects of the user's organization (``attr`` names the organization key; "id" for
    an Organization itself)."""
    return user_matches(attr, "organization_id")


def own_department(attr: str = "department_id") -> Scope:
    """Objects of the user's department."""
    return user_matches(attr, "department_id")


def owned_by(attr: str) -> Scope:
    """Objects whose ``attr`` is the user (their requester, owner, recipient; "id" for the
    user's own account)."""
    return user_matches(attr, "id")


#: Administrators, every object.
ADMIN = role_in(Role.ADMIN)
#: The government side (administrator, program officer, finance officer), every object.
STAFF = role_in(Role.ADMIN, Role.OFFICER, Role.FINANCE)


def own_organization_or_staff(attr: str = "organization_id") -> Scope:
    """Staff see every object; organization staff those of their own organization."""
    return STAFF | own_organization(attr)


def own_or_admin(attr: str) -> Scope:
    """An administrator, or the user named by ``attr`` (requester, owner)."""
    return ADMIN | owned_by(attr)


def related(attr: str, scope: Scope) -> Scope:
    """``scope`` applied to the object's many-to-one relationship ``attr`` (e.g. a bid's
    tender, a contract's project): ``related("project", own_department())``. An object
    without one is refused."""

    def check(user, obj) -> bool:
        target = getattr(obj, attr, None) if obj is not None else None
        return target is not None and scope.check(user, target)

    where = None
    if scope.where is not None:
        def where(user, model):
            rel = getattr(model, attr)
            return rel.has(scope.where(user, rel.property.mapper.class_))

    return Scope(check, where, f"[{attr}: {scope.name}]")


def held_through(table_name: str, key: str, attr: str = "organization_id",
                 user_attr: str = "organization_id") -> Scope:
    """Objects that a row of ``table_name`` points at by ``key`` while its ``attr`` is the
    user's ``user_attr`` (never when the user's is None): the projects an organization
    holds a contract for, ``held_through("contracts", "project_id")``. The table is named
    by string, so a lower module admits owners that a higher module records."""
    rows = table(table_name, column(key), column(attr))

    def held(mine, object_id):
        return exists().where(rows.c[key] == object_id, rows.c[attr] == mine)

    def check(user, obj) -> bool:
        mine = getattr(user, user_attr, None)
        if mine is None or obj is None or getattr(obj, "id", None) is None:
            return False
        return bool(db.session.scalar(select(held(mine, obj.id))))

    def where(user, model):
        mine = getattr(user, user_attr, None)
        return false() if mine is None else held(mine, model.id).correlate(model)

    return Scope(check, where, f"[{table_name}.{key} with {attr} = user.{user_attr}]")


def granted(kind: str, *, without_conflict: bool = True) -> Scope:
    """Objects for which the user holds an active grant of ``kind`` in the ``grants``
    table; with ``without_conflict`` (the default) only after the user declared no
    conflict of interest for it."""

    def conditions(user, object_type: str) -> list:
        conds = [Grant.user_id == user.id, Grant.object_type == object_type, Grant.kind == kind,
                 Grant.revoked_at.is_(None)]
        if without_conflict:
            conds += [Grant.conflict_declared_at.is_not(None), Grant.has_conflict.is_(False)]
        return conds

    def check(user, obj) -> bool:
        if obj is None or getattr(obj, "id", None) is None or user.id is None:
            return False
        return bool(db.session.scalar(select(exists().where(
            *conditions(user, obj.__tablename__), Grant.object_id == str(obj.id)))))

    def where(user, model):
        if user.id is None:
            return false()
        return exists().where(*conditions(user, model.__tablename__),
                              Grant.object_id == cast(model.id, String)).correlate(model)

    name = f"[grant {kind}{' without conflict' if without_conflict else ''}]"
    return Scope(check, where, name)


def sealed_until(attr: str, now: Callable[[], datetime] = utcnow) -> Scope:
    """Objects whose opening time ``attr`` is set and has come. Use it as a rule's
    ``sealed_until`` (see :class:`Rule`) so that no role bypasses it. ``attr`` may be a
    column or a hybrid property (e.g. the opening time of a bid's tender)."""

    def check(user, obj) -> bool:
        at = getattr(obj, attr, None) if obj is not None else None
        return at is not None and at <= now()

    def where(user, model):
        col = getattr(model, attr)
        return and_(col.is_not(None), col <= now())

    return Scope(check, where, f"[sealed until {attr}]")


_sealed_scope = sealed_until  # ``define`` takes a parameter of the same name


def _as_scope(scope) -> Scope | None:
    if scope is None or isinstance(scope, Scope):
        return scope
    if callable(scope):  # a one-object check only (kept for old callers): no list filter
        return Scope(scope, None, f"[{getattr(scope, '__name__', 'check')}]")
    raise TypeError(f"not a scope: {scope!r}")


# --- rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may perform an action: ``roles``, then ``scope`` on the object, then the seal.

    ``model`` is the class of the objects the rule is checked against (its list filter
    selects from it). ``sealed`` (from ``sealed_until``) is applied after everything
    else, to every role: there is no bypass."""

    roles: frozenset
    scope: Scope | None = None
    model: type | None = None
    sealed: Scope | None = None

    @property
    def has_filter(self) -> bool:
        """Whether ``visible`` can list the objects of this rule."""
        return all(s is None or s.where is not None for s in (self.scope, self.sealed))


RULES: dict[str, Rule] = {}


def define(action: str, roles: Iterable[Role], scope: Scope | Callable | None = None, *,
           model: type | None = None, sealed_until: str | Scope | None = None) -> Rule:
    """Add a module's rule (each module defines its own actions at import).

    ``scope`` a :class:`Scope` (check and filter together; a bare callable is a check
    without a filter); ``model`` the objects' class; ``sealed_until`` the name of the
    opening-time attribute before which nobody may see the object."""
    sealed = _sealed_scope(sealed_until) if isinstance(sealed_until, str) else sealed_until
    rule = Rule(frozenset(roles), _as_scope(scope), model, sealed)
    old = RULES.get(action)
    if old is not None and (old.roles, old.model, old.scope and old.scope.name, old.sealed and old.sealed.name) != (
            rule.roles, rule.model, rule.scope and rule.scope.name, rule.sealed and rule.sealed.name):
        raise ValueError(f"permission {action!r} defined twice")
    RULES[action] = rule
    return rule


def can(user, action: str, obj=NO_OBJECT) -> bool:
    """True when ``user`` may perform ``action`` (on ``obj``). Without ``obj`` only the
    role is checked (may the user do this at all); with an object — even None — its
    scope and seal decide too."""
    rule = RULES[action]
    user = _real(user)
    if not _signed_in(user) or user.role not in rule.roles:
        return False
    if obj is NO_OBJECT:
        return True
    if rule.scope is not None and not rule.scope.check(user, obj):
        return False
    if rule.sealed is not None and not rule.sealed.check(user, obj):
        return False
    return True


def require(user, action: str, obj=NO_OBJECT) -> None:
    """Raise NotPermitted unless ``user`` may perform ``action`` (on ``obj``)."""
    if not can(user, action, obj):
        raise NotPermitted(_l("You are not allowed to do this."))


def filter_for(user, action: str, model: type | None = None):
    """The SQL condition selecting the objects of ``model`` (default: the rule's model)
    on which ``user`` may perform ``action``: exactly those ``can`` admits."""
    rule = RULES[action]
    model = model if model is not None else rule.model
    if not rule.has_filter:
        raise TypeError(f"permission {action!r} has a one-object check without a list filter")
    user = _real(user)
    if not _signed_in(user) or user.role not in rule.roles:
        return false()
    parts = [s.where(user, model) for s in (rule.scope, rule.sealed) if s is not None]
    if parts and model is None:
        raise TypeError(f"permission {action!r}: name the model to filter")
    return and_(true(), *parts)


def visible(user, action: str, stmt_or_model, model: type | None = None) -> Select:
    """``stmt_or_model`` (a model class, or a select over it) narrowed to the objects on
    which ``user`` may perform ``action``. ``model`` names the filtered class when the
    select's first entity is not it (e.g. ``select(func.count()).select_from(M)``)."""
    if isinstance(stmt_or_model, type):
        model = model or stmt_or_model
        stmt = select(stmt_or_model)
    else:
        stmt = stmt_or_model
        if model is None:
            model = RULES[action].model or stmt.column_descriptions[0].get("entity")
    return stmt.where(filter_for(user, action, model))


# --- grants ---------------------------------------------------------------------------


class Grant(db.Model):
    """A right a user holds on one object, given by someone allowed to give it (e.g. an
    evaluator's assignment to a tender). Rules count it through :func:`granted`."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    #: The object's table name and id (as in the audit trail).
    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str] = mapped_column(String(64), nullable=False)
    #: What the grant allows, e.g. "evaluator".
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: The grantee's conflict-of-interest declaration: None until declared.
    has_conflict: Mapped[bool | None] = mapped_column(Boolean)
    conflict_declared_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        UniqueConstraint("user_id", "object_type", "object_id", "kind", name="uq_grants_user_object_kind"),
        Index("ix_grants_object", "object_type", "object_id", "kind"),
        CheckConstraint("(has_conflict IS NULL) = (conflict_declared_at IS NULL)", name="declaration_complete"),
    )

    def snapshot(self) -> dict:
        return {"user_id": self.user_id, "object_type": self.object_type, "object_id": self.object_id,
                "kind": self.kind, "has_conflict": self.has_conflict,
                "revoked": self.revoked_at is not None}


def _grant_row(user_id: int, obj, kind: str) -> Grant | None:
    return db.session.scalar(select(Grant).where(
        Grant.user_id == user_id, Grant.object_type == obj.__tablename__, Grant.object_id == str(obj.id),
        Grant.kind == kind))


def grant(actor, user, obj, kind: str, *, permission: str) -> Grant:
    """Give ``user`` a grant of ``kind`` on ``obj``; ``actor`` needs ``permission`` on
    ``obj``. A revoked grant is given again with a fresh (undeclared) conflict
    declaration. Audited as "grant.create"; flushes, never commits."""
    from . import audit

    require(actor, permission, obj)
    if obj.id is None:
        db.session.flush()
    row = _grant_row(user.id, obj, kind)
    if row is not None and row.revoked_at is None:
        return row
    if row is None:
        row = Grant(user_id=user.id, object_type=obj.__tablename__, object_id=str(obj.id), kind=kind)
        db.session.add(row)
    row.created_at, row.created_by_id = utcnow(), getattr(actor, "id", None)
    row.revoked_at = row.revoked_by_id = row.has_conflict = row.conflict_declared_at = None
    db.session.flush()
    audit.record(actor, "grant.create", row, after=row.snapshot())
    return row


def revoke(actor, user, obj, kind: str, *, permission: str) -> Grant | None:
    """Withdraw ``user``'s grant of ``kind`` on ``obj`` (kept, marked revoked). Audited
    as "grant.revoke"; flushes, never commits."""
    from . import audit

    require(actor, permission, obj)
    row = _grant_row(user.id, obj, kind)
    if row is None or row.revoked_at is not None:
        return row
    before = row.snapshot()
    row.revoked_at, row.revoked_by_id = utcnow(), getattr(actor, "id", None)
    db.session.flush()
    audit.record(actor, "grant.revoke", row, before=before, after=row.snapshot())
    return row


def declare_conflict(actor, obj, kind: str, has_conflict: bool) -> Grant:
    """The grantee's conflict-of-interest declaration for their grant on ``obj``.

    Accepts an undeclared grant (either answer) or one declared without conflict (only
    a conflict may be declared later: a declared conflict is final). Compare-and-set:
    a concurrent declaration fails with Conflict. Audited as "grant.declare"."""
    from . import audit

    row = _grant_row(getattr(actor, "id", None), obj, kind) if _signed_in(actor) else None
    if row is None or row.revoked_at is not None:
        raise NotPermitted(_l("You are not allowed to do this."))
    before = row.snapshot()
    if row.has_conflict is True or (row.has_conflict is False and not has_conflict):
        raise Conflict(_l("The declaration has already been made."))
    now = utcnow()
    done = db.session.execute(
        update(Grant).where(Grant.id == row.id, Grant.has_conflict.is_(None) if row.has_conflict is None
                            else Grant.has_conflict.is_(False))
        .values(has_conflict=bool(has_conflict), conflict_declared_at=now)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(STALE)
    db.session.refresh(row)
    audit.record(actor, "grant.declare", row, before=before, after=row.snapshot())
    return row


# --- sealed fields --------------------------------------------------------------------

#: object type (table name) -> fields whose values are sealed: the audit trail stores only
#: their hash, and no page shows them before the object's sealed rule opens. The one
#: registry is the audit trail's, which applies it when events are recorded.
SEALED_FIELDS = audit.SEALED_FIELDS


def seal(object_type: str, fields: Iterable[str]) -> None:
    """Declare ``fields`` of ``object_type`` (a table name) sealed."""
    audit.seal(object_type, *fields)


def sealed_fields(object_type: str) -> frozenset[str]:
    """The sealed fields of ``object_type`` (empty when none)."""
    return SEALED_FIELDS.get(object_type, frozenset())


#: How the grant actions read in histories (the fallback registry: procure.history is
#: above this module).
audit.ACTION_LABELS.update({"grant.create": _l("Access granted"), "grant.declare": _l("Conflict of interest declared"),
                            "grant.revoke": _l("Access revoked")})


# --- the foundation's own rules (modules define theirs at import) -----------------------

define("user.manage", {Role.ADMIN})
define("department.manage", {Role.ADMIN})
define("outbox.view", {Role.ADMIN})
define("policy.view", {Role.ADMIN})
define("audit.view", {Role.ADMIN})
define("dashboard.view", ALL)
