"""The final award's pages show the officer's next step: "draft the contract" (the
contracts module's page, offered through tenders.followups) while no contract exists,
then the contract's link."""

from __future__ import annotations

from procure.extensions import limiter
from procure.roles import Role
from procure.tenders import followups
from tests.conftest import login


def _steps(user, tender):
    from flask import current_app

    with current_app.test_request_context():
        return followups.next_steps(user, tender)


def _page(client, user, path):
    limiter.reset()
    c = client.application.test_client()
    assert login(c, user.username).status_code == 302
    return c.get(path)


def test_draft_the_contract_then_its_link(client, db, make):
    aw = make.awarded()
    db.session.commit()
    steps = _steps(aw.officer, aw.tender)
    assert [s.key for s in steps] == ["draft-contract"]
    assert steps[0].url == f"/contracts/new/{aw.tender.id}"
    for path in (f"/evaluation/tenders/{aw.tender.id}/results", f"/tenders/{aw.tender.id}"):
        page = _page(client, aw.officer, path).get_data(as_text=True)
        assert 'id="draft-contract"' in page and f'href="/contracts/new/{aw.tender.id}"' in page
    # Not for people who cannot draft, nor before the award is final.
    assert _steps(aw.org_user, aw.tender) == []
    assert _steps(make.user(Role.FINANCE), aw.tender) == []
    db.session.rollback()


def test_the_contract_link_once_drafted(client, db, make):
    ac = make.active_contract()
    db.session.commit()
    steps = _steps(ac.officer, ac.tender)
    assert [(s.key, s.url, s.is_action) for s in steps] == [
        ("contract-link", f"/contracts/{ac.contract.id}", False)]
    page = _page(client, ac.officer, f"/evaluation/tenders/{ac.tender.id}/results").get_data(as_text=True)
    assert 'id="contract-link"' in page and 'id="draft-contract"' not in page


def test_no_step_before_final(db, make):
    from procure.tenders.models import TenderState

    aw = make.awarded()
    aw.tender.state = TenderState.AWARDED
    assert _steps(aw.officer, aw.tender) == []
