"""Invitation lists (邀请招标, 单一来源): the officer picks the organizations a call is
for from the registry; only they may read the call (besides the public portal), see it
on their dashboard and bid. A single-source call names its one organization in the call
itself (``Tender.single_source_organization_id``), which is its invitation list.
Public tenders and the other methods are open to every eligible organization.

Invitations are added while the call is a draft or open for bids (organizations invited
after the publication are told at once), and removed only from a draft. Each change is
audited; the invited organizations' staff are told by email and in-app notice."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select

from .. import audit
from ..auth.models import User, UserStatus
from ..errors import InvalidTransition, ValidationError
from ..extensions import db
from ..organizations.models import Organization
from ..organizations.services import Reason
from ..parsing import parse_id
from ..permissions import require
from ..projects.models import ProcurementMethod
from ..roles import Role
from ..timeutil import utcnow
from . import notices
from .models import Tender, TenderInvitation, TenderState

#: The methods whose call is for invited organizations only.
INVITED_METHODS = frozenset({ProcurementMethod.INVITED_TENDER, ProcurementMethod.SINGLE_SOURCE})
#: Registry search: most organizations listed.
SEARCH_LIMIT = 20


def by_invitation(tender: Tender) -> bool:
    return tender.method in INVITED_METHODS


def invited_ids(tender: Tender) -> set[int]:
    ids = set(db.session.scalars(select(TenderInvitation.organization_id)
                                 .where(TenderInvitation.tender_id == tender.id)))
    if tender.single_source_organization_id:
        ids.add(tender.single_source_organization_id)
    return ids


def invited(tender: Tender) -> list[Organization]:
    """The invited organizations, by name."""
    ids = invited_ids(tender)
    if not ids:
        return []
    return list(db.session.scalars(select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)))


def may_answer(tender: Tender, organization_id: int | None) -> bool:
    """Whether the organization may answer the call: any call not by invitation, or one
    it is invited to."""
    if not by_invitation(tender):
        return True
    return organization_id is not None and organization_id in invited_ids(tender)


def answer_clause(model, organization_id: int | None):
    """``may_answer`` as SQL on the Tender ``model`` (for list filters)."""
    if organization_id is None:
        return model.method.not_in(list(INVITED_METHODS))
    return or_(model.method.not_in(list(INVITED_METHODS)),
               model.single_source_organization_id == organization_id,
               exists().where(TenderInvitation.tender_id == model.id,
                              TenderInvitation.organization_id == organization_id))


def refusal(tender: Tender, org: Organization | None) -> Reason | None:
    """The reason an organization may not bid on a call by invitation, if it may not."""
    if org is None or may_answer(tender, org.id):
        return None
    return Reason("not_invited", _l("This call is by invitation (%(method)s): only the organizations the purchasing "
                                    "department invited may bid, and %(name)s is not among them.",
                                    method=tender.method.label, name=org.name))


def search(query: str, tender: Tender | None = None) -> list[Organization]:
    """Registry organizations whose name or credit code contains ``query`` (not yet
    invited to ``tender``), by name."""
    q = (query or "").strip()
    if not q or len(q) > 100:
        return []
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = select(Organization).where(or_(Organization.name.ilike(like, escape="\\"),
                                          Organization.credit_code.ilike(like, escape="\\")))
    if tender is not None:
        taken = invited_ids(tender)
        if taken:
            stmt = stmt.where(Organization.id.not_in(taken))
    return list(db.session.scalars(stmt.order_by(Organization.name).limit(SEARCH_LIMIT)))


def _check(actor, tender: Tender) -> None:
    require(actor, "tender.manage", tender)
    if tender.method != ProcurementMethod.INVITED_TENDER:
        raise ValidationError(_l("Only an invited tender has an invitation list; a single-source call names its "
                                 "one organization in the call."))


def invite(actor, tender: Tender, organization_id) -> TenderInvitation:
    """Add an organization of the registry to the invitation list (draft or open call);
    once the call is published, its staff are told at once."""
    _check(actor, tender)
    if tender.state not in (TenderState.DRAFT, TenderState.PUBLISHED) or (
            tender.state == TenderState.PUBLISHED and tender.deadline_at <= utcnow()):
        raise InvalidTransition(_l("Organizations are invited before the bid deadline."))
    org_id = parse_id(organization_id)
    org = db.session.get(Organization, org_id) if org_id is not None else None
    if org is None:
        raise ValidationError(_l("Choose an organization of the registry."), field="organization_id")
    if org.id in invited_ids(tender):
        raise ValidationError(_l("%(name)s is already invited.", name=org.name), field="organization_id")
    row = TenderInvitation(tender_id=tender.id, organization_id=org.id, invited_by_id=actor.id, invited_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "tender.invite", tender, after={"organization_id": org.id})
    if tender.state == TenderState.PUBLISHED:
        notices.invited(actor, tender, staff([org.id]))
    return row


def uninvite(actor, tender: Tender, organization_id) -> None:
    """Remove an organization from the invitation list of a draft call."""
    _check(actor, tender)
    if tender.state != TenderState.DRAFT:
        raise InvalidTransition(_l("An invitation is withdrawn only before the call is published."))
    org_id = parse_id(organization_id)
    row = db.session.scalar(select(TenderInvitation).where(TenderInvitation.tender_id == tender.id,
                                                           TenderInvitation.organization_id == org_id))
    if row is None:
        raise ValidationError(_l("This organization is not invited."), field="organization_id")
    db.session.delete(row)
    db.session.flush()
    audit.record(actor, "tender.uninvite", tender, before={"organization_id": org_id})


def staff(organization_ids) -> list:
    ids = list(organization_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.role == Role.ORG, User.status == UserStatus.ACTIVE,
                                                      User.organization_id.in_(ids)).order_by(User.id)))
