"""Who is told what about calls (templates/email/tender_*.txt/.html). Before the opening
nothing names a bidder or counts bids: publication, clarifications and cancellation go to
the call's whole audience (bidders added to it, never listed), and no one is told that a
bid was submitted — the bidder's receipt is its page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User, UserStatus
from ..extensions import db
from ..notifications.services import app_path, notify, register_topic
from ..roles import Role

register_topic("tender.published", _l("New calls for bids"), roles={Role.ORG})
register_topic("tender.invited", _l("Invitations to bid"), roles={Role.ORG})
register_topic("tender.clarified", _l("Clarifications of calls"), roles={Role.ORG})
register_topic("tender.cancelled", _l("Calls cancelled"), roles={Role.ORG})
register_topic("tender.opened", _l("Opening records of your bids"), roles={Role.ORG, Role.OFFICER})
register_topic("tender.failed", _l("Failed tenders"), roles={Role.ORG, Role.OFFICER})
register_topic("tender.opening_blocked", _l("Openings waiting for the master key"), roles={Role.OFFICER,
                                                                                            Role.ADMIN})


def department_officers(tender) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == Role.OFFICER, User.department_id == tender.department_id,
        User.status == UserStatus.ACTIVE).order_by(User.id)))


def _tell(actor, people, name: str, tender, **context) -> None:
    notify([p for p in people if actor is None or p.id != actor.id], f"tender_{name}", tender,
           rule=f"tender.{name}", context=dict(context, tender=tender, actor=actor),
           link=app_path("tenders.call", tender_id=tender.id))


def published(actor, tender, people) -> None:
    _tell(actor, people, "published", tender)


def invited(actor, tender, people) -> None:
    """The invited organizations' staff (invited tender, single source): the call is for them."""
    _tell(actor, people, "invited", tender)


def clarified(actor, tender, clarification, people) -> None:
    _tell(actor, people, "clarified", tender, clarification=clarification)


def cancelled(actor, tender, reason: str, people) -> None:
    _tell(actor, people, "cancelled", tender, reason=reason)


def opened(tender, people, document_id: int | None) -> None:
    """After the opening: the bidders (and the department) get the opening record."""
    _tell(None, people, "opened", tender, document_id=document_id)


def failed(tender, people, reason: str) -> None:
    _tell(None, people, "failed", tender, reason=reason)


def opening_blocked(tender, message: str) -> None:
    admins = list(db.session.scalars(select(User).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)))
    notify(department_officers(tender) + admins, "tender_opening_blocked", tender, rule="tender.opening_blocked",
           context={"tender": tender, "message": message}, critical=True,
           dedupe_key=f"opening-blocked:{tender.id}:{tender.opening_at:%Y%m%d%H%M}",
           link=app_path("tenders.detail", tender_id=tender.id))
