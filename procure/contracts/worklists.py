"""Contracts on the dashboard (issue 12 item 1): the contracts waiting for the signature
of the user's own party — the department's for an officer, the organization's for its
staff — as a queue count and a work list; a contract the user's party has signed already
waits for the other party and is not the user's work (the list says how many there are).
Officers also see the final awards whose contract is still to be drafted. Every read is
narrowed by the permission rule's own filter."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, false, func, select

from ..extensions import db
from ..permissions import visible
from ..queues import Queue, WorkItem, WorkList, register_list
from ..queues import register as register_queue
from ..tenders.models import Tender, TenderState
from . import services as cs
from .models import Contract, ContractState, ContractVersion, Signature, VersionState

LIMIT = 20
#: A contract's current version is signed while the contract waits for signatures (the
#: first ones) or is in force with an amendment rendered for signatures.
_SIGNING = (ContractState.PENDING_SIGNATURE, ContractState.ACTIVE)


def _ready(party_signed: bool, party):
    """Contracts with a version ready for signatures that ``party`` has (``party_signed``)
    or has not signed yet."""
    signed = exists().where(Signature.version_id == ContractVersion.id, Signature.party == party)
    return and_(Contract.state.in_(_SIGNING), exists().where(
        ContractVersion.contract_id == Contract.id, ContractVersion.state == VersionState.READY,
        signed if party_signed else ~signed))


def waiting_for_party(user):
    """Contracts waiting for the signature of ``user``'s party (none for a role that signs
    for no party)."""
    party = cs.party_of(user)
    return false() if party is None else _ready(False, party)


def waiting_for_other_party(user):
    """Contracts ``user``'s party has signed, waiting for the other party."""
    party = cs.party_of(user)
    return false() if party is None else _ready(True, party)


def _to_sign(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "contract.sign", select(
        Contract.id, Contract.number, Contract.title, Contract.state, Contract.sign_due_on), Contract)
        .where(waiting_for_party(user)).order_by(Contract.sign_due_on, Contract.id).limit(LIMIT)).all()
    return [WorkItem(f"{number} · {title}", url_for("contracts.detail", contract_id=cid), state.label,
                     _l("Sign the contract") if state == ContractState.PENDING_SIGNATURE
                     else _l("Sign the amendment"),
                     _l("Sign by"), due if state == ContractState.PENDING_SIGNATURE else None)
            for cid, number, title, state, due in rows]


def others_count(user) -> int:
    """How many contracts signed by ``user``'s party wait for the other party."""
    return db.session.scalar(visible(user, "contract.sign", select(func.count()).select_from(Contract), Contract)
                             .where(waiting_for_other_party(user))) or 0


#: A final award without its contract: the officer drafts it.
_NO_CONTRACT = and_(Tender.state == TenderState.FINAL, ~exists().where(Contract.tender_id == Tender.id))


def _to_draft(user) -> list[WorkItem]:
    rows = db.session.execute(visible(user, "tender.manage", select(
        Tender.id, Tender.title, Tender.award_notice_at), Tender)
        .where(_NO_CONTRACT).order_by(Tender.award_notice_at, Tender.id).limit(LIMIT)).all()
    return [WorkItem(title, url_for("contracts.new", tender_id=tid), TenderState.FINAL.label,
                     _l("Draft the contract"), _l("Award notice"), notice) for tid, title, notice in rows]


register_queue(Queue(
    "contract.sign", "contract.sign", _l("Contracts waiting for your signature"), Contract,
    lambda u: url_for("dashboard.index", _anchor="worklist-contract.to_sign"), where=waiting_for_party))


def _others_note(user):
    n = others_count(user)
    return _l("Signed by your side, waiting for the other party's signature: %(n)d.", n=n) if n else None


register_list(WorkList("contract.to_sign", "contract.sign", _l("Contracts waiting for your signature"), _to_sign,
                       order=13, note=_others_note))
register_list(WorkList("contract.to_draft", "contract.draft", _l("Final awards: contracts to draft"), _to_draft,
                       order=32))
