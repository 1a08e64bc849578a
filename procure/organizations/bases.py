"""Incubation bases (孵化基地) and their residents: services (flush, audit, never commit)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, permissions
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..roles import Role
from ..workflow import STALE
from .models import IncubationBase, Organization, Residency

permissions.define("base.list", {Role.ADMIN, Role.OFFICER, Role.FINANCE})
#: Staff see every base; organization staff the bases their organization runs.
permissions.define("base.view", {Role.ADMIN, Role.OFFICER, Role.FINANCE, Role.ORG},
                   permissions.own_organization_or_staff("operator_id"), model=IncubationBase)
permissions.define("base.manage", {Role.ADMIN, Role.OFFICER}, model=IncubationBase)


def find_organization(text: str | None) -> Organization | None:
    """The organization with this credit code (any spelling) or exactly this name."""
    from .creditcode import normalize

    text = " ".join((text or "").split())
    if not text:
        return None
    return db.session.scalar(select(Organization).where(
        (Organization.credit_code == normalize(text)) | (Organization.name == text)).limit(1))


def _check(data: dict, base: IncubationBase | None = None) -> dict:
    data = {k: (" ".join(v.split()) or None) if isinstance(v, str) else v for k, v in data.items()}
    if "operator" in data:
        operator = find_organization(data.pop("operator"))
        data["operator_id"] = operator.id if operator else None
    if not data.get("name"):
        raise ValidationError(_l("The name is required."), field="name")
    if db.session.get(Organization, data.get("operator_id") or 0) is None:
        raise ValidationError(_l("Choose the organization that runs the base."), field="operator_id")
    if data.get("area_sqm") is not None and data["area_sqm"] <= 0:
        raise ValidationError(_l("The area must be positive."), field="area_sqm")
    clash = db.session.scalar(select(IncubationBase.id).where(IncubationBase.name == data["name"],
                                                              IncubationBase.id != (base.id if base else -1)))
    if clash:
        raise ValidationError(_l("Another base has this name."), field="name")
    return data


def create_base(actor, data: dict) -> IncubationBase:
    permissions.require(actor, "base.manage")
    base = IncubationBase(**_check(data))
    db.session.add(base)
    db.session.flush()
    audit.record(actor, "base.create", base, after=base.snapshot())
    return base


def update_base(actor, base: IncubationBase, data: dict) -> IncubationBase:
    permissions.require(actor, "base.manage", base)
    before = base.snapshot()
    for k, v in _check(dict(before, **data), base).items():
        setattr(base, k, v)
    db.session.flush()
    b, a = audit.diff(before, base.snapshot())
    if a:
        audit.record(actor, "base.update", base, before=b, after=a)
    return base


def add_resident(actor, base: IncubationBase, org: Organization, moved_in_on: date) -> Residency:
    """An organization moves in; it may reside at one base at a time."""
    permissions.require(actor, "base.manage", base)
    if org.id == base.operator_id:
        raise ValidationError(_l("The organization that runs the base cannot reside in it."), field="organization_id")
    if db.session.scalar(select(exists().where(Residency.organization_id == org.id,
                                               Residency.graduated_on.is_(None)))):
        raise ValidationError(_l("This organization already resides at a base."), field="organization_id")
    res = Residency(base_id=base.id, organization_id=org.id, moved_in_on=moved_in_on)
    db.session.add(res)
    db.session.flush()
    audit.record(actor, "residency.create", res, after={"base_id": base.id, "organization_id": org.id,
                                                         "moved_in_on": moved_in_on})
    return res


def graduate(actor, res: Residency, graduated_on: date) -> Residency:
    """The organization leaves the base (出壳) on ``graduated_on``."""
    permissions.require(actor, "base.manage", res.base)
    if res.graduated_on is not None:
        raise ValidationError(_l("This organization has already graduated."), field="graduated_on")
    if graduated_on < res.moved_in_on:
        raise ValidationError(_l("Graduation cannot precede moving in."), field="graduated_on")
    # compare-and-set: two officers recording the same departure at once, one wins
    moved = db.session.execute(update(Residency).where(Residency.id == res.id, Residency.graduated_on.is_(None))
                               .values(graduated_on=graduated_on).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict(STALE)
    set_committed_value(res, "graduated_on", graduated_on)
    audit.record(actor, "residency.graduate", res, before={"graduated_on": None},
                 after={"graduated_on": graduated_on})
    return res


def current_base_filter(stmt, base_id: int):
    """Organizations residing (not graduated) at ``base_id``."""
    return stmt.where(exists().where(Residency.organization_id == Organization.id, Residency.base_id == base_id,
                                     Residency.graduated_on.is_(None)))
