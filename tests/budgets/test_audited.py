"""Every governed change of this issue leaves exactly one audit event of its kind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from procure import history
from procure.audit import AuditEvent
from procure.budgets import services as bs
from procure.projects import services as ps
from procure.roles import Role


def _count(db, action):
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def _world(make):
    officer = make.user(Role.OFFICER)
    appr = make.appropriation(officer.department, "1000.00")
    return officer, appr


CHANGES = {
    "appropriation.create": lambda m, o, a: m.appropriation(o.department, "5.00", source="central"),
    "appropriation.adjust": lambda m, o, a: bs.adjust_appropriation(m.finance(), a, "1.00", "追加"),
    "catalogue.create": lambda m, o, a: m.category(),
    "catalogue.update": lambda m, o, a: ps.save_category(m.admin(), (c := m.category()), c.code, "改名"),
    "project.create": lambda m, o, a: m.project(o),
    "project.update": lambda m, o, a: ps.record_beneficiaries_served(o, ps.submit_project(o, m.project(o)), 12),
    "ledger.commit": lambda m, o, a: (lambda p: bs.commit_funds(m.finance(), p.allocations[0].id, "5.00",
                                                                contract_id=m.contract(p).id))(
        m.approved_project(o, a, "10.00")),
}


@pytest.mark.parametrize("action", list(CHANGES))
def test_governed_change_is_audited(db, make, action):
    officer, appr = _world(make)
    before = _count(db, action)
    CHANGES[action](make, officer, appr)
    assert _count(db, action) == before + 1
    event = AuditEvent(action=action, object_type="projects", object_id="1")
    assert history.action_label(event) != action  # a readable label exists


def test_payment_and_transitions_are_audited(db, make):
    officer, appr = _world(make)
    p = make.project(officer)
    before = _count(db, "project.submit"), _count(db, "project.approve")
    ps.submit_project(officer, p)
    ps.approve_project(make.finance(), p, [(appr.id, "10.00")])
    assert (_count(db, "project.submit"), _count(db, "project.approve")) == (before[0] + 1, before[1] + 1)
    ev = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert ev.after["allocations"] == {str(appr.id): "10.00"}
    c = make.contract(p).id
    pay_id = make.payment(c, "3.33").id
    bs.commit_funds(make.finance(), p.allocations[0].id, "10.00", contract_id=c)
    bs.pay(make.finance(), p.allocations[0].id, "3.33", contract_id=c, payment_id=pay_id)
    assert _count(db, "ledger.pay") == 1
    bs.pay(make.finance(), p.allocations[0].id, "3.33", contract_id=c, payment_id=pay_id)  # a retry
    assert _count(db, "ledger.pay") == 1
