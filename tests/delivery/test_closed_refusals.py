"""A closed (archived) project refuses changes at the services' entry points with the
friendly message of ``projects.services.ensure_open`` (its title, "closed and
archived"), before the archive's flush guard is reached: one refusal per package
(contracts, delivery, payments, acceptance), nothing written."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from procure.acceptance import services as asvc
from procure.acceptance.models import AcceptanceState
from procure.contracts import services as cs
from procure.delivery import services as ds
from procure.delivery.models import ReportState
from procure.errors import RecordClosed
from procure.payments import services as ps
from procure.projects.models import Project, ProjectState
from procure.roles import Role

from .conftest import full_data, report_in
from .test_access_table import snapshot


def _close(db, project_id: int) -> None:
    """Mark the project closed behind the services (the close itself is tested in
    tests/archive)."""
    db.session.execute(sa.update(Project.__table__).where(Project.__table__.c.id == project_id)
                       .values(state=ProjectState.CLOSED))
    db.session.commit()
    db.session.expire_all()


def _refused(db, en, fn, *args, **kw) -> None:
    title = db.session.scalar(sa.select(Project.title).where(Project.state == ProjectState.CLOSED))
    before = snapshot()
    with pytest.raises(RecordClosed) as exc:
        fn(*args, **kw)
    db.session.rollback()
    message = en(exc.value.message)
    assert "closed and archived" in message and title in message, message
    assert snapshot() == before


@pytest.fixture()
def world(make, db):
    aw = make.active_contract()
    approved = report_in(db, aw, ReportState.APPROVED)  # raises the first installment's payment
    aw.fin = make.user(Role.FINANCE)
    db.session.commit()
    aw.approved = approved
    return aw


def test_delivery_refuses_a_report_on_a_closed_project(world, db, en):
    _close(db, world.project.id)
    milestone = world.contract.milestones[1]
    _refused(db, en, ds.save_report, world.org_user, milestone, full_data(len(ds.blank_actuals(world.contract))))
    assert ds.report_of(milestone) is None


def test_payments_refuse_a_payment_on_a_closed_project(world, db, en):
    from procure.payments.models import Payment

    payment = db.session.scalar(sa.select(Payment).where(Payment.contract_id == world.contract.id))
    _close(db, world.project.id)
    _refused(db, en, ps.confirm_payment, world.officer, payment, comment="确认")
    _refused(db, en, ps.request_payment, world.fin, world.contract.installments[1])


def test_acceptance_refuses_a_final_report_on_a_closed_project(world, db, en):
    _close(db, world.project.id)
    _refused(db, en, asvc.open_final_report, world.org_user, world.contract)
    assert asvc.acceptance_of(world.contract) is None


def test_contracts_refuse_a_termination_of_a_closed_project(world, db, en):
    _close(db, world.project.id)
    _refused(db, en, cs.terminate_contract, world.officer, world.contract, "提前终止", "0.00")


def test_a_lapsed_rectification_of_a_closed_project_is_left_alone(world, db, make):
    """The daily lapse must not trip over a closed project (the guard would refuse the
    whole batch): its failed acceptance stays as it is, the others lapse."""
    from procure.acceptance.models import Acceptance

    other = make.active_contract()
    rows = []
    for aw in (world, other):
        acc = Acceptance(contract_id=aw.contract.id, organization_id=aw.contract.organization_id,
                         state=AcceptanceState.FAILED, round=1, final_report="", actuals=[],
                         created_by_id=aw.org_user.id, decided_by_id=aw.officer.id, rectify_by=date(2026, 1, 1))
        db.session.add(acc)
        rows.append(acc)
    db.session.commit()
    ids = [r.id for r in rows]
    _close(db, world.project.id)
    done = asvc.lapse_rectifications(date(2026, 6, 1))
    db.session.commit()
    assert done == [ids[1]]
    assert db.session.get(Acceptance, ids[0]).state == AcceptanceState.FAILED
