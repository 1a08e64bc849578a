"""Who is told what during the evaluation, award and challenges (the people who must act
next): drawn members and called backups → declare; the officers when no backup is left;
members → score once the evaluation starts; the officers when a member submitted; the
bidders when the award is published, when the tender failed, and at the end (the winner
the notice of award, the others the result); the officers when a challenge is lodged and
when the award is final; the organization when its challenge is answered (or closed because
another challenge to the award was upheld). Never the
person who did it. Texts: ``templates/email/tender_*.txt``/``.html``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User, UserStatus
from ..extensions import db
from ..notifications.services import app_path, notify, register_topic
from ..roles import Role
from .models import Bid, BidState, Challenge, Tender

register_topic("tender.committee", _l("Evaluation committees you are drawn for"), roles={Role.EVALUATOR})
register_topic("tender.committee_short", _l("Committees short of a member"), roles={Role.OFFICER})
register_topic("tender.scoring", _l("Bids waiting for your scores"), roles={Role.EVALUATOR})
register_topic("tender.scores_submitted", _l("Committee members' scores submitted"), roles={Role.OFFICER})
register_topic("tender.result", _l("Results of the calls you bid on"), roles={Role.ORG})
register_topic("tender.challenge", _l("Challenges to awards"), roles={Role.OFFICER, Role.ORG})
register_topic("tender.final", _l("Awards become final"), roles={Role.OFFICER})


def department_officers(tender: Tender) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == Role.OFFICER, User.department_id == tender.department_id,
        User.status == UserStatus.ACTIVE).order_by(User.id)))


def org_staff(organization_ids) -> list[User]:
    ids = list(organization_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(
        User.role == Role.ORG, User.organization_id.in_(ids), User.status == UserStatus.ACTIVE).order_by(User.id)))


def bidders(tender: Tender) -> list[int]:
    """Organizations whose bids were opened."""
    return list(db.session.scalars(select(Bid.organization_id).where(
        Bid.tender_id == tender.id, Bid.opened_at.is_not(None), Bid.state != BidState.WITHDRAWN)))


def _tell(actor, people, template: str, tender: Tender, rule: str, endpoint: str, **context) -> None:
    actor_id = getattr(actor, "id", None)
    notify([p for p in people if p is not None and p.id != actor_id], template, tender, rule=rule,
           context=dict(context, tender=tender, actor=actor), link=app_path(endpoint, tender_id=tender.id))


def committee_drawn(actor, tender: Tender, users) -> None:
    _tell(actor, users, "evaluation_committee_drawn", tender, "tender.committee", "evaluation.member")


def backup_called(actor, tender: Tender, user) -> None:
    _tell(actor, [user], "evaluation_committee_backup", tender, "tender.committee", "evaluation.member")


def committee_short(actor, tender: Tender) -> None:
    _tell(actor, department_officers(tender), "evaluation_committee_short", tender, "tender.committee_short",
          "evaluation.committee")


def scoring_open(actor, tender: Tender, users) -> None:
    _tell(actor, users, "evaluation_scoring_open", tender, "tender.scoring", "evaluation.member")


def scores_submitted(actor, tender: Tender, member) -> None:
    _tell(actor, department_officers(tender), "evaluation_scores_submitted", tender, "tender.scores_submitted",
          "evaluation.results", member=member)


def tender_failed(actor, tender: Tender, reason: str) -> None:
    _tell(actor, org_staff(bidders(tender)), "evaluation_failed", tender, "tender.result", "evaluation.outcome",
          reason=reason)


def award_published(actor, tender: Tender, winner: Bid) -> None:
    _tell(actor, org_staff(bidders(tender)), "evaluation_award_published", tender, "tender.result",
          "evaluation.outcome", winner=winner)


def award_final(actor, tender: Tender, winner: Bid) -> None:
    """The winner gets the notice of award, the other bidders the result, the officers
    the news that the contract can be drafted."""
    _tell(actor, org_staff([winner.organization_id]), "evaluation_award_notice", tender, "tender.result",
          "evaluation.outcome", winner=winner)
    others = [o for o in bidders(tender) if o != winner.organization_id]
    _tell(actor, org_staff(others), "evaluation_award_result", tender, "tender.result", "evaluation.outcome",
          winner=winner)
    _tell(actor, department_officers(tender), "evaluation_award_final", tender, "tender.final", "evaluation.results",
          winner=winner)


def challenge_lodged(actor, tender: Tender, challenge: Challenge) -> None:
    _tell(actor, department_officers(tender), "evaluation_challenge_lodged", tender, "tender.challenge",
          "evaluation.challenges", challenge=challenge)


def challenge_answered(actor, tender: Tender, challenge: Challenge) -> None:
    _tell(actor, org_staff([challenge.organization_id]), "evaluation_challenge_answered", tender, "tender.challenge",
          "evaluation.outcome", challenge=challenge)


def challenge_closed(actor, tender: Tender, challenge: Challenge) -> None:
    """Another challenge to the same award was upheld: this one is closed, its
    challenger told why (the answer)."""
    _tell(actor, org_staff([challenge.organization_id]), "evaluation_challenge_closed", tender, "tender.challenge",
          "evaluation.outcome", challenge=challenge)


def award_set_aside(actor, tender: Tender, challenge: Challenge, members) -> None:
    """An upheld challenge sent the call back to evaluation: the bidders are told, the
    committee members are asked to review and submit their scores again."""
    _tell(actor, org_staff([o for o in bidders(tender) if o != challenge.organization_id]),
          "evaluation_award_set_aside", tender, "tender.result", "evaluation.outcome", challenge=challenge)
    _tell(actor, members, "evaluation_scoring_open", tender, "tender.scoring", "evaluation.member")
