"""Each role's home lists exactly the items that role must act on in the demo, each with
a working action (issue 12).

What a role must act on is computed here from the database with plain queries, written
apart from the work-list code (procure/*/worklists.py); the dashboard's lists must hold
exactly those items (by their links). Each item's link then answers 200 and leads to the
page where the action is done: the form (or the link to it) is on that page."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from procure.demo import DEMO_PASSWORD

from .conftest import login

#: Roles of the demo, by user name.
ROLES = ["admin", "officer", "officer2", "finance", "finance2", "expert", "tongxin", "kangle"]

SECTION = re.compile(r'<section[^>]*data-worklist="([^"]+)"[^>]*>(.*?)</section>', re.S)
ITEM = re.compile(r'<tr><td><a href="([^"]+)">')


def _home(client) -> dict[str, list[str]]:
    """The work lists on the dashboard: {list key: [item links]}."""
    resp = client.get("/dashboard")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    return {key: ITEM.findall(body) for key, body in SECTION.findall(html)}


def _scalars(db, sql: str, **params) -> list:
    return list(db.session.execute(sa.text(sql), params).scalars())


def _expected(db, username: str) -> dict[str, list[str]]:
    """What ``username`` must act on in the demo, from plain queries: {list key: links}."""
    user = db.session.execute(sa.text(
        "SELECT id, role, department_id, organization_id FROM users WHERE username = :u"), {"u": username}).one()
    uid, role, dep, org = user
    now = datetime.utcnow()  # noqa: DTZ003 - stored times are naive UTC
    out: dict[str, list[str]] = {}
    if role == "finance":
        out["project.budget_checks"] = [f"/projects/{i}" for i in _scalars(
            db, "SELECT id FROM projects WHERE state = 'submitted'")]
        # not the payments this officer may not approve (separation of duties)
        out["payment.to_approve"] = [f"/payments/{i}" for i in _scalars(
            db, "SELECT id FROM payments p WHERE waiting_for = 'finance'"
            " AND :u IS DISTINCT FROM requested_by_id AND :u IS DISTINCT FROM reviewed_by_id"
            " AND NOT EXISTS (SELECT 1 FROM payment_approvals a WHERE a.payment_id = p.id AND a.user_id = :u)",
            u=uid)]
        out["payment.to_record"] = [f"/payments/{i}" for i in _scalars(
            db, "SELECT id FROM payments WHERE state = 'approved'")]
    elif role == "officer":
        out["project.returned"] = [f"/projects/{i}" for i in _scalars(
            db, "SELECT id FROM projects WHERE department_id = :d AND state = 'draft' AND state_reason IS NOT NULL",
            d=dep)]
        out["project.to_tender"] = [f"/projects/{i}" for i in _scalars(
            db, "SELECT id FROM projects p WHERE department_id = :d AND state = 'approved'"
            # a project whose call is drafted is listed once, under the calls
            " AND NOT EXISTS (SELECT 1 FROM tenders t WHERE t.project_id = p.id AND t.state = 'draft')", d=dep)]
        out["tender.department"] = [f"/tenders/{i}" for i in _scalars(
            db, "SELECT id FROM tenders WHERE department_id = :d"
            " AND state IN ('draft', 'published', 'closed', 'evaluating', 'awarded')", d=dep)]
        out["tender.challenges"] = [f"/evaluation/tenders/{i}/challenges" for i in _scalars(
            db, "SELECT t.id FROM challenges c JOIN tenders t ON t.id = c.tender_id"
            " WHERE c.state = 'open' AND t.department_id = :d", d=dep)]
        out["delivery.to_review"] = [f"/reports/{i}" for i in _scalars(
            db, "SELECT r.id FROM milestone_reports r JOIN contracts c ON c.id = r.contract_id"
            " WHERE r.state = 'submitted' AND c.department_id = :d", d=dep)]
        out["acceptance.department"] = [f"/acceptances/{i}" for i in _scalars(
            db, "SELECT a.id FROM acceptances a JOIN contracts c ON c.id = a.contract_id"
            " WHERE a.state IN ('submitted', 'evaluating') AND c.department_id = :d", d=dep)]
        out["payment.to_confirm"] = [f"/payments/{i}" for i in _scalars(
            db, "SELECT id FROM payments WHERE waiting_for = 'officer' AND department_id = :d", d=dep)]
    if role in ("officer", "org"):
        # contracts whose version ready for signatures lacks the signature of the user's party
        party = "department" if role == "officer" else "organization"
        out["contract.to_sign"] = [f"/contracts/{i}" for i in _scalars(
            db, "SELECT c.id FROM contracts c JOIN contract_versions v ON v.contract_id = c.id"
            " WHERE v.state = 'ready' AND c.state IN ('pending_signature', 'active')"
            " AND (c.department_id = :d OR c.organization_id = :o)"
            " AND NOT EXISTS (SELECT 1 FROM contract_signatures s WHERE s.version_id = v.id AND s.party = :p)",
            d=dep if role == "officer" else None, o=org if role == "org" else None, p=party)]
    if role == "officer":
        out["contract.to_draft"] = [f"/contracts/new/{i}" for i in _scalars(
            db, "SELECT id FROM tenders t WHERE state = 'final' AND department_id = :d"
            " AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.tender_id = t.id)", d=dep)]
    if role == "evaluator":
        out["tender.assignments"] = [f"/evaluation/tenders/{i}/member" for i in _scalars(
            db, "SELECT t.id FROM committee_members m JOIN tenders t ON t.id = m.tender_id"
            " WHERE m.user_id = :u AND m.state IN ('drawn', 'declared')"
            " AND t.state IN ('published', 'closed', 'evaluating')", u=uid)]
        out["acceptance.assignments"] = [f"/acceptances/{i}" for i in _scalars(
            db, "SELECT a.id FROM acceptance_evaluators e JOIN acceptances a ON a.id = e.acceptance_id"
            " WHERE e.user_id = :u AND e.state IN ('assigned', 'declared') AND a.state = 'evaluating'"
            " AND e.round = a.round", u=uid)]
    elif role == "org":
        rating, kind = db.session.execute(sa.text(
            "SELECT rating_level, kind FROM organizations WHERE id = :o"), {"o": org}).one()
        out["tender.open_calls"] = [f"/tenders/calls/{i}" for i in _scalars(
            db, "SELECT id FROM tenders t WHERE state = 'published' AND published_at <= :now AND deadline_at > :now"
            " AND (single_source_organization_id IS NULL OR single_source_organization_id = :o)"
            " AND (method <> 'invited' OR EXISTS (SELECT 1 FROM tender_invitations i"
            "      WHERE i.tender_id = t.id AND i.organization_id = :o))"
            " AND (:kind <> 'filed' OR admit_filed) AND (min_rating IS NULL OR min_rating <= :rating)"
            # a call the organization has bid on is listed under its bids, not here
            " AND NOT EXISTS (SELECT 1 FROM bids b WHERE b.tender_id = t.id AND b.organization_id = :o)",
            now=now, o=org, kind=kind, rating=rating or 0)]
        out["tender.own_bids"] = _scalars(
            db, "SELECT b.tender_id FROM bids b JOIN tenders t ON t.id = b.tender_id WHERE b.organization_id = :o"
            " AND t.state IN ('published', 'closed', 'evaluating', 'awarded')", o=org)
        out["delivery.due_next"] = [f"/milestones/{i}/report" for i in _scalars(
            db, "SELECT m.id FROM contract_milestones m JOIN contracts c ON c.id = m.contract_id"
            " LEFT JOIN milestone_reports r ON r.milestone_id = m.id"
            " WHERE c.organization_id = :o AND c.state = 'active'"
            " AND (r.id IS NULL OR r.state IN ('draft', 'revision_requested'))", o=org)]
        out["acceptance.organization"] = [f"/contracts/{i}/acceptance" for i in _scalars(
            db, "SELECT c.id FROM contracts c WHERE c.organization_id = :o AND c.state = 'active'"
            " AND c.id NOT IN (SELECT contract_id FROM acceptances WHERE state <> 'draft')"
            " UNION ALL SELECT a.contract_id FROM acceptances a WHERE a.organization_id = :o"
            " AND a.state = 'failed'", o=org)]
    return out


#: Where each list's action is done: a pattern the item's page must hold (its form, or
#: the link to the form).
ACTION = {
    "project.budget_checks": r'action="/projects/\d+/approve"',
    "project.returned": r'action="/projects/\d+/submit"|href="/projects/\d+/edit"',
    "project.to_tender": r'href="/tenders/new\?project_id=\d+"',
    "tender.department": r'action="/tenders/\d+/publish"|href="/evaluation/tenders/\d+[^"]*"|/tenders/\d+',
    "tender.challenges": r'action="/evaluation/challenges/\d+/answer"',
    "delivery.to_review": r'action="/reports/\d+/approve"',
    "acceptance.department": r'action="/acceptances/\d+/(organize|decide|third-party-scores)"',
    "payment.to_confirm": r'action="/payments/\d+/confirm"',
    "payment.to_approve": r'action="/payments/\d+/approve"',
    "payment.to_record": r'action="/payments/\d+/record"',
    "tender.assignments": r'action="/evaluation/tenders/\d+/(declare|scores)"',
    "acceptance.assignments": r'action="/acceptances/\d+/(declare|scores)"',
    "tender.open_calls": r'href="/tenders/calls/\d+/bid"',
    "contract.to_sign": r'action="/contracts/\d+/sign"',
    "contract.to_draft": r'action="/contracts/new/\d+"|<form method="post"',
    "tender.own_bids": r'<form method="post"|href="/tenders/calls/\d+/bid"|/evaluation/tenders/\d+',
    "delivery.due_next": r'<form method="post"',
    "acceptance.organization": r'<form method="post"',
}


def _same_items(role, listed: dict, expected: dict) -> None:
    for key, links in expected.items():
        got = listed.get(key, [])
        if key == "tender.own_bids":  # the link depends on the bid's state: compare the calls
            got = sorted(int(re.search(r"/(\d+)", u).group(1)) for u in got)
            links = sorted(links)
        assert sorted(got) == sorted(links), f"{role}: {key} lists {got}, must list {links}"
    extra = {k: v for k, v in listed.items() if k not in expected and v}
    assert not extra, f"{role}: lists items it has no business with: {extra}"


@pytest.mark.parametrize("role", ROLES)
def test_home_lists_what_the_role_must_act_on(client, demo_loaded, db, role):
    expected = _expected(db, role)
    assert login(client, role, DEMO_PASSWORD).status_code == 302
    listed = _home(client)
    _same_items(role, listed, expected)
    # the demo gives every role except the admin something to do
    assert role == "admin" or any(expected.values()), f"{role}: nothing to act on in the demo"
    for key, links in listed.items():
        for url in links:
            resp = client.get(url)
            assert resp.status_code == 200, f"{role}: {key} item {url} answered {resp.status_code}"
            html = resp.get_data(as_text=True)
            assert re.search(ACTION[key], html), f"{role}: {key} item {url} has no action ({ACTION[key]})"



QUEUE = re.compile(r'data-queue="([^"]+)">\s*<div class="card-body">\s*<div class="count[^"]*">(\d+)</div>')


@pytest.mark.parametrize("role", ["officer2", "kangle", "tongxin"])
def test_cards_count_what_the_lists_hold(client, demo_loaded, db, role):
    """A card counts the items of its list: the signatures card only the contracts waiting
    for this user's party (kangle signed the 社工站 contract: it waits for the bureau), the
    open calls card only the calls not bid on yet."""
    expected = _expected(db, role)
    assert login(client, role, DEMO_PASSWORD).status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    cards = {key: int(n) for key, n in QUEUE.findall(html)}
    assert cards["contract.sign"] == len(expected["contract.to_sign"])
    if role != "officer2":
        assert cards["tender.open_calls"] == len(expected["tender.open_calls"])
    bid_on = set(_scalars(db, "SELECT b.tender_id FROM bids b JOIN users u ON u.organization_id = b.organization_id"
                              " WHERE u.username = :u", u=role))
    listed = _home(client)
    calls = {int(re.search(r"/(\d+)$", u).group(1)) for u in listed.get("tender.open_calls", [])}
    assert not calls & bid_on, f"{role}: calls already bid on listed as open calls: {calls & bid_on}"


def test_signed_by_one_side_waits_for_the_other(client, demo_loaded, db):
    """The demo's 社工站 contract is signed by kangle and waits for officer2's department:
    it is officer2's to sign, and kangle's home only notes it waits for the other party."""
    waiting = _scalars(db, "SELECT c.id FROM contracts c WHERE c.state = 'pending_signature'")
    assert waiting, "the demo has a contract waiting for signatures"
    assert login(client, "kangle", DEMO_PASSWORD).status_code == 302
    html = client.get("/dashboard").get_data(as_text=True)
    assert not _home(client).get("contract.to_sign")
    assert 'class="text-muted small worklist-note"' in html
    client.post("/logout")
    assert login(client, "officer2", DEMO_PASSWORD).status_code == 302
    assert sorted(_home(client)["contract.to_sign"]) == sorted(f"/contracts/{i}" for i in waiting)


@pytest.mark.parametrize("role", ["officer", "officer2"])
def test_no_past_year_project_waits_for_a_call(client, demo_loaded, db, role):
    """A city's past years are done: the projects waiting for a call on an officer's home
    are this year's (the demo takes the earlier years' projects through, or cancels them)."""
    assert login(client, role, DEMO_PASSWORD).status_code == 302
    home = _home(client)
    listed = home.get("project.to_tender", []) + home.get("tender.department", [])
    assert listed, f"{role}: the demo has this year's projects or calls to work on"
    years = set(_scalars(db, "SELECT fiscal_year FROM projects WHERE id = ANY(:ids)"
                             " OR id IN (SELECT project_id FROM tenders WHERE id = ANY(:ids_t))",
                         ids=[int(u.rsplit("/", 1)[1]) for u in listed if u.startswith("/projects/")],
                         ids_t=[int(u.rsplit("/", 1)[1]) for u in listed if u.startswith("/tenders/")]))
    assert years == {datetime.utcnow().year}  # noqa: DTZ003 - the demo's years are UTC years
