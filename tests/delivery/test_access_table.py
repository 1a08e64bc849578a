"""Who may read and act on what, over EVERY route of issue 11 (delivery reports, the
spending list and project spending report, payments, acceptance, the archive) and the
downloads of its documents (evidence, payment notice, certificate).

The routes come from ``app.url_map``: a route added to one of these blueprints without
a row in ``TABLE`` fails ``test_every_route_is_in_the_table``. Each route is tried, GET
and POST, with real data (``make.active_contract``) for two organizations A and B by:
anonymous (sent to sign in), organization B's staff, an officer of B's department and an
evaluator not assigned (refused with 403 or 404, nothing written — a refused POST
carries a form that would succeed if the check were missing), and finance, officer and
admin and A's own people (what their role allows: never 403/404). Lists are open to
more people but never show A's rows to B."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import sqlalchemy as sa

from procure.acceptance import services as asvc
from procure.delivery.models import ReportState
from procure.extensions import db as _db
from procure.payments import services as ps
from procure.payments.models import Payment
from procure.roles import Role

from ..conftest import login
from .conftest import report_in

ANON, ORG_A, ORG_B, OFF_A, OFF_B, FIN, ADMIN, EV_A, EV_X = (
    "anon", "org_a", "org_b", "officer_a", "officer_b", "finance", "admin", "evaluator_a", "evaluator_x")
ACTORS = (ANON, ORG_A, ORG_B, OFF_A, OFF_B, FIN, ADMIN, EV_A, EV_X)
SIGNED_IN = frozenset(ACTORS) - {ANON}
#: Everyone who may read A's objects (the department, finance, admin, A's staff).
READ_A = frozenset({ADMIN, FIN, OFF_A, ORG_A})
STAFF_LIST = frozenset({ADMIN, FIN, OFF_A, OFF_B})
PDF = b"%PDF-1.4\n%test\n" + b"1 0 obj\n<<>>\nendobj\n" * 4

#: endpoint → (allowed actors, is_list, POST data (callable of the world) or None).
#: A list page is open to more people but must not show A's rows to those not in READ_A.
TABLE: dict[str, tuple[frozenset, bool, object]] = {
    "delivery.milestones": (READ_A, False, None),
    "delivery.reports": (STAFF_LIST | {ORG_A, ORG_B}, True, None),
    "delivery.edit": (frozenset({ORG_A}), False,
                      lambda w: {"revision": "0", "narrative": "写入的叙述", "actuals-0-actual": "5"}),
    "delivery.submit": (frozenset({ORG_A}), False, lambda w: {"send-revision": ""}),
    "delivery.report": (READ_A, False, None),
    "delivery.version": (READ_A, False, None),
    "delivery.approve": (frozenset({OFF_A}), False, lambda w: {"ok-comment": "同意"}),
    "delivery.revision": (frozenset({OFF_A}), False, lambda w: {"rev-comment": "请补充"}),
    "spending.index": (STAFF_LIST, True, None),
    "project_spending.page": (READ_A, False, None),
    "project_spending.xlsx": (READ_A, False, None),
    "project_spending.pdf": (READ_A, False, lambda w: {}),
    "payments.index": (STAFF_LIST | {ORG_A, ORG_B}, True, None),
    "payments.contract_payments": (READ_A, False, None),
    "payments.request_installment": (frozenset({FIN, OFF_A}), False, lambda w: {}),
    "payments.detail": (READ_A, False, None),
    "payments.confirm": (frozenset({OFF_A}), False, lambda w: {"comment": "确认"}),
    "payments.approve": (frozenset({FIN}), False, lambda w: {"comment": "同意"}),
    "payments.reject": (frozenset({OFF_A, FIN}), False, lambda w: {"reject-reason": "不符", "reject-confirm": "y"}),
    "payments.record": (frozenset({FIN}), False,
                        lambda w: {"record-voucher_number": "PZ-1", "record-paid_on": date.today().isoformat(),
                                   "record-confirm": "y"}),
    "acceptance.index": (SIGNED_IN, True, None),
    "acceptance.report": (frozenset({ORG_A}), False,
                          lambda w: {"final_report": "总结", "opinion_text": "意见", "actuals-0": "1", "save": "1"}),
    "acceptance.detail": (READ_A | {EV_A}, False, None),
    "acceptance.organize": (frozenset({OFF_A}), False, lambda w: {"org-third_party_name": "某事务所"}),
    "acceptance.add_evaluator": (frozenset({OFF_A}), False, lambda w: {"add-evaluator": str(w.ev_spare)}),
    "acceptance.declare": (frozenset({EV_A}), False, lambda w: {"decl-has_conflict": "no"}),
    "acceptance.scores": (frozenset({EV_A}), False,
                          lambda w: {"sc-score_budget_execution": "10", "sc-score_outputs": "50",
                                     "sc-score_outcomes": "30", "sc-score_satisfaction": "10"}),
    "acceptance.third_party_scores": (frozenset({OFF_A}), False,
                                      lambda w: {"tp-score_budget_execution": "10", "tp-score_outputs": "50",
                                                 "tp-score_outcomes": "30", "tp-score_satisfaction": "10"}),
    "acceptance.decide": (frozenset({OFF_A}), False, lambda w: {"dec-note": "通过"}),
    "archive.index": (STAFF_LIST, True, None),
    # A's project is not closed: its record page is 404 to those who may read the archive.
    "archive.detail": (frozenset({ADMIN, FIN, OFF_A}), False, None),
    "archive.close": (frozenset({OFF_A}), False, lambda w: {"note": "结项"}),
}
BLUEPRINTS = {"delivery", "spending", "project_spending", "payments", "acceptance", "archive"}
#: Documents of issue 11 and who may download them.
DOCUMENTS = {"evidence": READ_A, "notice": READ_A, "certificate": READ_A | {EV_A}}


def _world(make, db) -> SimpleNamespace:
    """A: contract a1 (milestone reports approved/submitted, a payment with its notice,
    one milestone without a report, no acceptance) and contract a2 (same department and
    organization: acceptance under evaluation with evaluator_a, a certificate). B: its
    own contract, organization and department."""
    a1 = make.active_contract(shares=("20", "20", "30", "30"))
    approved = report_in(db, a1, ReportState.APPROVED, milestone=a1.contract.milestones[0])
    submitted = report_in(db, a1, ReportState.SUBMITTED, milestone=a1.contract.milestones[1])
    payment = db.session.scalar(sa.select(Payment).where(Payment.contract_id == a1.contract.id))
    fin = make.user(Role.FINANCE)
    ps.notice_rendered(fin, payment, PDF)
    a2 = make.active_contract(officer=a1.officer, org=a1.org)
    acc = asvc.open_final_report(a2.org_user, a2.contract)
    asvc.save_final_report(a2.org_user, acc, asvc.ReportData("总结", ["310", "1250.5"], "服务对象意见"), submit=True)
    ev_a, ev_2, ev_3, ev_spare, ev_x = (make.user(Role.EVALUATOR) for _ in range(5))
    asvc.organize_evaluation(a1.officer, acc, evaluator_ids=[str(ev_a.id), str(ev_2.id), str(ev_3.id)])
    cert = asvc.certificate_rendered(a1.officer, acc, PDF)
    b = make.active_contract()
    db.session.commit()
    users = {ORG_A: a1.org_user, ORG_B: b.org_user, OFF_A: a1.officer, OFF_B: b.officer, FIN: fin,
             ADMIN: make.admin(), EV_A: ev_a, EV_X: ev_x}
    db.session.commit()
    args = {"contract_id": a1.contract.id, "milestone_id": a1.contract.milestones[2].id,
            "report_id": submitted.id, "number": 1, "payment_id": payment.id,
            "installment_id": a1.contract.installments[2].id, "acceptance_id": acc.id,
            "project_id": a1.project.id}
    docs = {"evidence": approved.evidence[0].document_id, "notice": payment.notice_document_id,
            "certificate": cert.id}
    marks = [a1.contract.number, a2.contract.number, a1.project.title, a2.project.title]
    return SimpleNamespace(users={k: v.username for k, v in users.items()}, args=args, docs=docs, marks=marks,
                           ev_spare=ev_spare.id, b_contract=b.contract.id)


def snapshot() -> dict:
    """Rows per table: any write (services audit every change) shows here."""
    tables = [t.name for t in _db.metadata.sorted_tables]
    query = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in tables)
    with _db.engine.connect() as conn:
        counts = dict(conn.execute(sa.text(query)).all())
    # plus the state and revision of the objects a refused POST would move
    with _db.engine.connect() as conn:
        for t in ("milestone_reports", "payments", "acceptances", "acceptance_evaluators", "projects"):
            counts[t + ":rev"] = conn.execute(sa.text(f"SELECT string_agg(id || ':' || revision || ':' || state, ',' "
                                                      f"ORDER BY id) FROM {t}")).scalar()
    return counts


def _rules(app):
    return {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in BLUEPRINTS}


def test_every_route_is_in_the_table(app):
    assert set(_rules(app)) == set(TABLE), "add the new route to TABLE with who may use it"


def _url(app, endpoint, args) -> str:
    rule = _rules(app)[endpoint]
    with app.test_request_context():
        from flask import url_for
        return url_for(endpoint, **{k: args[k] for k in rule.arguments})


CASES = [(ep, m) for ep in TABLE for m in ("GET", "POST") if m in (
    {"GET"} if TABLE[ep][2] is None else ({"POST"} if ep not in ("delivery.edit", "acceptance.report")
                                          else {"GET", "POST"}))]


def _clients(app, world) -> dict:
    """One signed-in client per actor (anonymous: none signed in)."""
    clients = {}
    for actor in ACTORS:
        c = app.test_client()
        if actor != ANON:
            assert login(c, world.users[actor]).status_code == 302, actor
        clients[actor] = c
    return clients


def _send(client, method, url, data, world):
    return client.get(url) if method == "GET" else client.post(url, data=data(world))


def test_refused(app, client, make, db):
    """Anonymous → sign in; everyone else not allowed → 403/404 and nothing written, on
    every route (GET and POST)."""
    world = _world(make, db)
    clients = _clients(app, world)
    failures = []
    for endpoint, method in CASES:
        allowed, _is_list, data = TABLE[endpoint]
        url = _url(app, endpoint, world.args)
        for actor in ACTORS:
            if actor in allowed:
                continue
            before = snapshot()
            resp = _send(clients[actor], method, url, data, world)
            where = f"{actor} {method} {endpoint} {url} → {resp.status_code}"
            if actor == ANON:
                ok = resp.status_code == 302 and "/login" in resp.location
            else:
                ok = resp.status_code in (403, 404)
            if not ok:
                failures.append(where)
            elif snapshot() != before:
                failures.append("written: " + where)
    assert not failures, "\n".join(failures)


def test_allowed(app, client, make, db):
    """Those allowed get what their role allows (a page, a redirect or a form's refusal —
    never 403/404/500); lists never show A's rows to those who may not read A. Reads
    first, then the actions (which may write)."""
    world = _world(make, db)
    clients = _clients(app, world)
    failures = []
    for endpoint, method in sorted(CASES, key=lambda c: c[1]):
        allowed, is_list, data = TABLE[endpoint]
        url = _url(app, endpoint, world.args)
        for actor in sorted(allowed):
            resp = _send(clients[actor], method, url, data, world)
            where = f"{actor} {method} {endpoint} {url} → {resp.status_code}"
            expected = (404,) if endpoint == "archive.detail" else (200,) if method == "GET" and not is_list \
                and endpoint not in ("acceptance.report",) else (200, 302, 400)
            if resp.status_code not in expected:
                failures.append(where)
            if is_list and actor not in READ_A | {EV_A}:
                text = resp.get_data(as_text=True)
                if [m for m in world.marks if m in text]:
                    failures.append("A's row shown: " + where)
    assert not failures, "\n".join(failures)


def test_document_downloads(app, client, make, db):
    world = _world(make, db)
    clients = _clients(app, world)
    failures = []
    for kind, allowed in DOCUMENTS.items():
        url = f"/documents/{world.docs[kind]}"
        for actor in ACTORS:
            resp = clients[actor].get(url)
            where = f"{actor} GET {kind} {url} → {resp.status_code}"
            if actor == ANON:
                ok = resp.status_code == 302 and "/login" in resp.location
            elif actor in allowed:
                ok = resp.status_code == 200 and (resp.data.startswith(b"%PDF") or resp.data[:4] == b"\x89PNG")
            else:
                ok = resp.status_code in (403, 404)
            if not ok:
                failures.append(where)
    assert not failures, "\n".join(failures)
