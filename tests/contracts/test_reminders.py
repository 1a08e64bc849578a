"""Contract reminders: not yet signed as the signing period runs out, and ending soon —
to the department's officers and the organization's staff, once each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from procure.contracts.models import Contract
from procure.notifications.models import Notice
from procure.reminders import engine
from procure.roles import Role

from .conftest import draft_data, final_award


def test_unsigned_and_ending_reminders(make, db):
    from procure.contracts import services as cs

    award = final_award(make, db)
    other = make.user(Role.OFFICER)  # another department: not told
    contract = cs.draft_contract(award.officer, award.tender, draft_data())
    db.session.commit()
    contract = db.session.get(Contract, contract.id)
    day = contract.sign_due_on - timedelta(days=3)
    assert engine.scan(day, only=["contract.unsigned"]) == {"contract.unsigned": 2}
    assert engine.scan(day, only=["contract.unsigned"]) == {"contract.unsigned": 0}  # once
    assert engine.scan(day - timedelta(days=1), only=["contract.unsigned"]) == {}  # not an offset
    told = {n.user_id for n in db.session.scalars(select(Notice).where(Notice.rule == "contract.unsigned"))}
    assert told == {award.officer.id, award.org_user.id} and other.id not in told
    # a contract that is not in force gets no "ending" reminder; one in force does
    ending = contract.period_end - timedelta(days=30)
    assert engine.scan(ending, only=["contract.ending"]) == {}
    contract.state = "active"
    db.session.flush()
    assert engine.scan(ending, only=["contract.ending"]) == {"contract.ending": 2}
