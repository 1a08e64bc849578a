"""Bad input on every POST form of issue 11 (milestone reports and their review,
payments, the final report and the evaluation, closing a project, the spending PDF):
a NUL byte, other control characters, a 10,000-character string, amounts with three
decimals, negative numbers, ids that do not exist or are not numbers. Each is refused
with a clear message in the user's language (Chinese here) on the page, never a 500,
and nothing is written (no row count, state or revision changes).

Table-driven: ``FORMS`` names, per endpoint, the world it needs, who posts, a valid
base form and the hostile values per field; ``test_every_post_form_is_in_the_table``
fails when a POST route of these blueprints has no row."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from procure.acceptance import services as asvc
from procure.delivery import services as ds
from procure.delivery.models import ReportState
from procure.payments import services as ps
from procure.payments.models import Payment
from procure.roles import Role

from ..acceptance.conftest import OPINION, REPORT, scores_for
from ..conftest import login
from ..payments.conftest import world as payments_world
from .conftest import full_data, report_in
from .test_access_table import BLUEPRINTS, snapshot

NUL = "说明\x00"
CTRL = "说明\x07\x1b"
LONG = "字" * 10_000
THREE = "12.345"
NEG = "-5"
BAD_IDS = ("999999999", "abc", str(2**64), "-1")
TEXT = (NUL, CTRL)
TEXT_LONG = (NUL, CTRL, LONG)
AMOUNT = (NUL, CTRL, LONG, THREE, NEG, "1e400", "NaN")
CJK = re.compile(r"[\u4e00-\u9fff]")
ERRORS = (re.compile(r'<div class="invalid-feedback[^"]*">(.*?)</div>', re.S),
          re.compile(r'class="alert alert-(?:danger|warning)[^"]*"[^>]*>(.*?)</div>', re.S),
          re.compile(r'<(?:div|p|span) class="[^"]*text-danger[^"]*"[^>]*>(.*?)</(?:div|p|span)>', re.S))


# --- the worlds ------------------------------------------------------------------------

def _delivery(make, db):
    """A contract in force: milestone 0 reported and submitted, milestone 1 a draft,
    milestone 2 without a report (and no acceptance yet)."""
    aw = make.active_contract(shares=("20", "20", "30", "30"))
    submitted = report_in(db, aw, ReportState.SUBMITTED, milestone=aw.contract.milestones[0])
    draft = ds.save_report(aw.org_user, aw.contract.milestones[1], full_data(len(ds.blank_actuals(aw.contract))))
    db.session.commit()
    return SimpleNamespace(org=aw.org_user.username, officer=aw.officer.username, contract=aw.contract.id,
                           project=aw.project.id, m_new=aw.contract.milestones[2].id,
                           m_draft=aw.contract.milestones[1].id, draft_rev=draft.revision, report=submitted.id,
                           report_rev=submitted.revision, n_actuals=len(ds.blank_actuals(aw.contract)))


def _payments(make, db):
    """Payments at each step: p0 waits for the officer, p1 for finance, p2 approved."""
    ns = payments_world(make, db, shares=("20", "20", "20", "40"), approved=(0, 1, 2))
    ps_ = list(db.session.scalars(sa.select(Payment).where(Payment.contract_id == ns.contract.id)
                                  .order_by(Payment.id)))
    for p in ps_[1:]:
        ps.confirm_payment(ns.officer, p, comment="核对无误")
    ps.approve_payment(ns.fin1, ps_[2])
    db.session.commit()
    return SimpleNamespace(officer=ns.officer.username, fin1=ns.fin1.username, fin2=ns.fin2.username,
                           contract=ns.contract.id, p0=ps_[0].id, p1=ps_[1].id, p2=ps_[2].id,
                           inst=ns.contract.installments[3].id)


def _acceptance(make, db, *, evaluated_by=None):
    aw = make.active_contract()
    acc = asvc.open_final_report(aw.org_user, aw.contract)
    asvc.save_final_report(aw.org_user, acc, asvc.ReportData(REPORT, ["310", "1250.5"], OPINION), submit=True)
    evaluators = [make.user(Role.EVALUATOR) for _ in range(4)]
    if evaluated_by == "committee":
        asvc.organize_evaluation(aw.officer, acc, evaluator_ids=[str(e.id) for e in evaluators[:3]])
        asvc.declare(evaluators[1], acc, False)
    elif evaluated_by == "ready":  # every evaluator scored: the decision may be taken
        asvc.organize_evaluation(aw.officer, acc, evaluator_ids=[str(e.id) for e in evaluators[:3]])
        for e in evaluators[:3]:
            asvc.declare(e, acc, False)
            asvc.submit_scores(e, acc, scores_for(85))
    elif evaluated_by == "third_party":
        asvc.organize_evaluation(aw.officer, acc, third_party_name="重庆某绩效评价事务所")
    db.session.commit()
    return SimpleNamespace(officer=aw.officer.username, acc=acc.id, ev_new=evaluators[0].username,
                           ev_declared=evaluators[1].username, spare=evaluators[3].id)


def _committee(make, db):
    return _acceptance(make, db, evaluated_by="committee")


def _ready(make, db):
    return _acceptance(make, db, evaluated_by="ready")


def _third_party(make, db):
    return _acceptance(make, db, evaluated_by="third_party")


def _closable(make, db):
    from ..archive.test_closing import _complete, report

    aw = make.active_contract()
    report(db, aw.contract, aw.contract.milestones[0], ReportState.APPROVED, [("personnel", "100.00")], aw.org_user)
    _complete(db, aw)
    make.commit()
    return SimpleNamespace(officer=aw.officer.username, project=aw.project.id)


def _scores(prefix):
    base = {f"{prefix}-score_budget_execution": "8", f"{prefix}-score_outputs": "40",
            f"{prefix}-score_outcomes": "25", f"{prefix}-score_satisfaction": "9", f"{prefix}-comment": "良好"}
    cases = {f"{prefix}-score_outputs": AMOUNT + ("51",), f"{prefix}-comment": TEXT_LONG}
    return base, cases


#: endpoint → (world builder, who posts (attribute), url (callable of the world), base form
#: (callable of the world), {field: hostile values}).
FORMS = {
    "delivery.edit": (_delivery, "org", lambda w: f"/milestones/{w.m_new}/report",
                      lambda w: {"revision": "0", "narrative": "本期完成服务",
                                 **{f"actuals-{i}-actual": "5" for i in range(w.n_actuals)},
                                 "spending-0-category": "personnel", "spending-0-amount": "100.00",
                                 "spending-0-detail": "工资", "evidence_caption": "签到表"},
                      {"narrative": (NUL, "字" * 20_001), "actuals-0-actual": AMOUNT,
                       "spending-0-amount": AMOUNT, "spending-0-category": (NUL, "no-such-category"),
                       "spending-0-detail": TEXT_LONG, "evidence_caption": TEXT_LONG,
                       "revision": (NUL, LONG, "abc")}),
    "delivery.submit": (_delivery, "org", lambda w: f"/milestones/{w.m_draft}/report/submit",
                        lambda w: {"send-revision": str(w.draft_rev)},
                        {"send-revision": (NUL, CTRL, LONG, "abc", "-1", str(2**64))}),
    "delivery.approve": (_delivery, "officer", lambda w: f"/reports/{w.report}/approve",
                         lambda w: {"ok-revision": str(w.report_rev), "ok-comment": "同意"},
                         {"ok-comment": (CTRL, LONG), "ok-revision": (NUL, LONG, "abc", "-1")}),
    "delivery.revision": (_delivery, "officer", lambda w: f"/reports/{w.report}/revision",
                          lambda w: {"rev-revision": str(w.report_rev), "rev-comment": "请补充照片"},
                          {"rev-comment": (NUL, CTRL, LONG, ""), "rev-revision": (NUL, "abc", "-1")}),
    "project_spending.pdf": (_delivery, "officer", lambda w: f"/reports/project-spending/{w.project}/pdf",
                             lambda w: {}, {}),
    "payments.request_installment": (_payments, "fin1",
                                     lambda w: f"/contracts/{w.contract}/payments/request/{w.inst}",
                                     lambda w: {}, {}),
    "payments.confirm": (_payments, "officer", lambda w: f"/payments/{w.p0}/confirm",
                         lambda w: {"comment": "核对无误"},
                         {"comment": (NUL, CTRL, LONG), "revision": (NUL, LONG, "abc", "-1")}),
    "payments.approve": (_payments, "fin2", lambda w: f"/payments/{w.p1}/approve",
                         lambda w: {"comment": "同意"},
                         {"comment": (NUL, CTRL, LONG), "revision": (NUL, LONG, "abc", "-1")}),
    "payments.reject": (_payments, "officer", lambda w: f"/payments/{w.p0}/reject",
                        lambda w: {"reject-reason": "金额不符", "reject-confirm": "y"},
                        {"reject-reason": (NUL, CTRL, LONG, ""), "reject-confirm": (NUL, ""),
                         "reject-revision": (NUL, "abc")}),
    "payments.record": (_payments, "fin2", lambda w: f"/payments/{w.p2}/record",
                        lambda w: {"record-voucher_number": "PZ-2026-9", "record-paid_on": date.today().isoformat(),
                                   "record-confirm": "y"},
                        {"record-voucher_number": TEXT_LONG + ("",), "record-paid_on": (NUL, "2026-13-45", LONG,
                                                                                          "2999-01-01"),
                         "record-revision": (NUL, "abc")}),
    "acceptance.report": (_delivery, "org", lambda w: f"/contracts/{w.contract}/acceptance",
                          lambda w: {"final_report": "全年完成服务", "actuals-0": "310", "actuals-1": "1250.5",
                                     "opinion_text": "满意", "submit": "1"},
                          {"final_report": (NUL, "字" * 20_001), "actuals-0": AMOUNT,
                           "opinion_text": (NUL, LONG), "revision": (NUL, "abc", LONG)}),
    "acceptance.organize": (_acceptance, "officer", lambda w: f"/acceptances/{w.acc}/organize",
                            lambda w: {"org-third_party_name": "某事务所"},
                            {"org-third_party_name": TEXT_LONG, "org-evaluators": BAD_IDS}),
    "acceptance.add_evaluator": (_committee, "officer",
                                 lambda w: f"/acceptances/{w.acc}/evaluators",
                                 lambda w: {"add-evaluator": str(w.spare)},
                                 {"add-evaluator": (NUL, *BAD_IDS)}),
    "acceptance.declare": (_committee, "ev_new",
                           lambda w: f"/acceptances/{w.acc}/declare",
                           lambda w: {"decl-has_conflict": "yes", "decl-note": "曾为该机构顾问"},
                           {"decl-has_conflict": (NUL, "maybe"), "decl-note": (NUL, CTRL, LONG, "")}),
    "acceptance.scores": (_committee, "ev_declared",
                          lambda w: f"/acceptances/{w.acc}/scores", lambda w: _scores("sc")[0], _scores("sc")[1]),
    "acceptance.third_party_scores": (_third_party, "officer",
                                      lambda w: f"/acceptances/{w.acc}/third-party-scores",
                                      lambda w: _scores("tp")[0], _scores("tp")[1]),
    "acceptance.decide": (_ready, "officer",
                          lambda w: f"/acceptances/{w.acc}/decide", lambda w: {"dec-note": "通过"},
                          {"dec-note": (NUL, CTRL, LONG)}),
    "archive.close": (_closable, "officer", lambda w: f"/archive/{w.project}/close",
                      lambda w: {"note": "结项"}, {"note": (NUL, CTRL, LONG)}),
}
#: Wrong ids in the path of a POST: 404, nothing written.
WRONG_PATHS = {
    "delivery.edit": "/milestones/{bad}/report", "delivery.submit": "/milestones/{bad}/report/submit",
    "delivery.approve": "/reports/{bad}/approve", "delivery.revision": "/reports/{bad}/revision",
    "project_spending.pdf": "/reports/project-spending/{bad}/pdf",
    "payments.request_installment": "/contracts/{contract}/payments/request/{bad}",
    "payments.confirm": "/payments/{bad}/confirm", "payments.approve": "/payments/{bad}/approve",
    "payments.reject": "/payments/{bad}/reject", "payments.record": "/payments/{bad}/record",
    "acceptance.report": "/contracts/{bad}/acceptance", "acceptance.organize": "/acceptances/{bad}/organize",
    "acceptance.add_evaluator": "/acceptances/{bad}/evaluators", "acceptance.declare": "/acceptances/{bad}/declare",
    "acceptance.scores": "/acceptances/{bad}/scores",
    "acceptance.third_party_scores": "/acceptances/{bad}/third-party-scores",
    "acceptance.decide": "/acceptances/{bad}/decide", "archive.close": "/archive/{bad}/close",
}


def test_every_post_form_is_in_the_table(app):
    posts = {r.endpoint for r in app.url_map.iter_rules()
             if r.endpoint.split(".")[0] in BLUEPRINTS and "POST" in (r.methods or ())}
    assert posts == set(FORMS) == set(WRONG_PATHS)


def _errors(html: str) -> list[str]:
    found = []
    for rx in ERRORS:
        found += [re.sub(r"<[^>]+>", "", m).strip() for m in rx.findall(html)]
    return [f for f in found if f]


def _group(endpoint) -> str:
    return FORMS[endpoint][0].__name__


#: Endpoints sharing a world are tried on one (a refusal writes nothing, so the world
#: stays as built); each endpoint's valid form is sent at the end.
GROUPS = sorted({_group(e) for e in FORMS})


@pytest.mark.parametrize("group", GROUPS)
def test_hostile_input(app, client, make, db, group):
    endpoints = [e for e in FORMS if _group(e) == group]
    world = FORMS[endpoints[0]][0](make, db)
    clients = {}
    failures = []
    for endpoint in endpoints:
        _build, who, url_of, base_of, cases = FORMS[endpoint]
        if who not in clients:
            clients[who] = app.test_client()
            assert login(clients[who], getattr(world, who)).status_code == 302
        client = clients[who]
        url = url_of(world)
        for field, values in cases.items():
            for value in values:
                data = {**base_of(world), field: value}
                before = snapshot()
                resp = client.post(url, data=data, follow_redirects=True)
                where = f"{endpoint} {field}={value[:20]!r}… → {resp.status_code}"
                if resp.status_code >= 500:
                    failures.append("500: " + where)
                    continue
                errors = _errors(resp.get_data(as_text=True))
                if not errors:
                    failures.append("no message on the page: " + where)
                elif not any(CJK.search(e) for e in errors):
                    failures.append(f"message not in Chinese: {where}: {errors}")
                if snapshot() != before:
                    failures.append("written: " + where)
        for bad in ("999999999", str(2**64)):
            before = snapshot()
            path = WRONG_PATHS[endpoint].format(bad=bad, contract=getattr(world, "contract", 0))
            resp = client.post(path, data=base_of(world))
            if resp.status_code != 404:
                failures.append(f"wrong id {path} → {resp.status_code}")
            if snapshot() != before:
                failures.append(f"written: wrong id {path}")
    # the valid forms still go through (the refusals came from the bad values)
    for endpoint in endpoints:
        _build, who, url_of, base_of, _cases = FORMS[endpoint]
        resp = clients[who].post(url_of(world), data=base_of(world), follow_redirects=True)
        if resp.status_code >= 500:
            failures.append(f"valid form {endpoint} → {resp.status_code}")
    assert not failures, "\n".join(failures)
