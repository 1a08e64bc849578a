"""The acceptance pages with the test client: the access table (another organization,
another department, an evaluator not assigned, anonymous), the whole journey through
the forms, and bad input refused with a clear message and nothing written."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from procure.acceptance.models import Acceptance, AcceptanceScore, AcceptanceState
from procure.roles import Role

from ..conftest import login
from .conftest import evaluating, scores_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture()
def world(make, db):
    aw = evaluating(make, db, n=3)
    other = make.active_contract()  # another organization, another department, a contract in force
    people = {
        "org": aw.org_user, "other_org": other.org_user, "officer": aw.officer, "other_officer": other.officer,
        "evaluator": aw.evaluators[0], "stranger_evaluator": make.user(Role.EVALUATOR),
        "finance": make.user(Role.FINANCE), "admin": make.admin(),
    }
    db.session.commit()
    return aw, other, people


def _as(client, user):
    from procure.extensions import limiter

    limiter.reset()  # many sign-ins in one test
    client.post("/logout")
    if user is not None:
        assert login(client, user.username).status_code == 302


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


GETS = {
    "/acceptances/{acc}": {"org", "officer", "evaluator", "finance", "admin"},
    "/acceptances/": {"org", "other_org", "officer", "other_officer", "evaluator", "stranger_evaluator", "finance",
                      "admin"},
    "/contracts/{other_contract}/acceptance": {"other_org"},
}
POSTS = {
    "/acceptances/{acc}/scores": "stranger_evaluator",
    "/acceptances/{acc}/declare": "stranger_evaluator",
    "/acceptances/{acc}/decide": "other_officer",
    "/acceptances/{acc}/third-party-scores": "other_officer",
    "/acceptances/{acc}/organize": "org",
    "/contracts/{other_contract}/acceptance": "org",
}


def test_access_table(client, world, db):
    aw, other, people = world
    ids = {"acc": aw.acc.id, "other_contract": other.contract.id}
    for path, allowed in GETS.items():
        url = path.format(**ids)
        _as(client, None)
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.location, url
        for name, user in people.items():
            _as(client, user)
            code = client.get(url).status_code
            assert code == (200 if name in allowed else 403), (url, name, code)
    before = (_count(db, Acceptance), _count(db, AcceptanceScore))
    for path, who in POSTS.items():
        _as(client, people[who])
        data = {"sc-score_budget_execution": "10", "sc-score_outputs": "50", "sc-score_outcomes": "30",
                "sc-score_satisfaction": "10", "decl-has_conflict": "no", "final_report": "x", "submit": "1"}
        assert client.post(path.format(**ids), data=data).status_code == 403, (path, who)
    assert (_count(db, Acceptance), _count(db, AcceptanceScore)) == before
    # Another organization's acceptance is not in its list either.
    _as(client, people["other_org"])
    assert f'data-acceptance="{aw.acc.id}"' not in client.get("/acceptances/").get_data(as_text=True)


def test_journey_through_the_forms(client, make, db):
    aw = make.active_contract()
    evaluators = [make.user(Role.EVALUATOR) for _ in range(3)]
    db.session.commit()
    url = f"/contracts/{aw.contract.id}/acceptance"
    _as(client, aw.org_user)
    page = client.get(url)
    assert page.status_code == 200 and _count(db, Acceptance) == 0  # opening the form writes nothing
    # Bad input: a text file disguised as a PNG, nothing written.
    resp = client.post(url, data={"final_report": "完成", "actuals-0": "300", "actuals-1": "1200",
                                  "opinion": (io.BytesIO(b"just text, not an image"), "opinion.png"),
                                  "submit": "1"}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "此处不接受该文件类型" in resp.get_data(as_text=True)
    assert _count(db, Acceptance) == 0
    # No opinion at all: refused with the reason, nothing written.
    resp = client.post(url, data={"final_report": "完成", "actuals-0": "300", "actuals-1": "1200", "submit": "1"})
    assert resp.status_code == 400 and "服务对象书面意见" in resp.get_data(as_text=True)
    assert _count(db, Acceptance) == 0
    # Three decimals in an actual: refused.
    resp = client.post(url, data={"final_report": "完成", "actuals-0": "300.001", "actuals-1": "1200",
                                  "opinion_text": "满意", "submit": "1"})
    assert resp.status_code == 400 and "最多两位小数" in resp.get_data(as_text=True)
    assert _count(db, Acceptance) == 0
    # The real thing: a scan of the opinion, submitted.
    resp = client.post(url, data={"final_report": "全年完成服务。", "actuals-0": "310", "actuals-1": "1250",
                                  "opinion": (io.BytesIO(PNG), "意见.png"), "submit": "1"},
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    acc = db.session.scalar(select(Acceptance))
    assert acc.state == AcceptanceState.SUBMITTED and acc.opinion_document_id is not None
    # The officer organizes: too few evaluators is refused with the reason.
    _as(client, aw.officer)
    resp = client.post(f"/acceptances/{acc.id}/organize", data={"org-evaluators": [str(evaluators[0].id)],
                                                                 "org-submit": "1"})
    assert resp.status_code == 400 and "至少须指定 3 名评审人员" in resp.get_data(as_text=True)
    resp = client.post(f"/acceptances/{acc.id}/organize",
                       data={"org-evaluators": [str(e.id) for e in evaluators], "org-submit": "1"})
    assert resp.status_code == 302
    for i, e in enumerate(evaluators):
        _as(client, e)
        assert client.post(f"/acceptances/{acc.id}/declare", data={"decl-has_conflict": "no",
                                                                   "decl-submit": "1"}).status_code == 302
        if i == 0:
            for bad, message in (("10.001", "最多两位小数"), ("11", "0"), ("abc", "数字")):
                resp = client.post(f"/acceptances/{acc.id}/scores", data={
                    "sc-score_budget_execution": bad, "sc-score_outputs": "40", "sc-score_outcomes": "25",
                    "sc-score_satisfaction": "9", "sc-submit": "1"})
                assert resp.status_code == 400 and message in resp.get_data(as_text=True), bad
                assert _count(db, AcceptanceScore) == 0
        data = {f"sc-score_{g}": v for g, v in scores_for("92").items()}
        assert client.post(f"/acceptances/{acc.id}/scores", data={**data, "sc-submit": "1"}).status_code == 302
    _as(client, aw.officer)
    assert client.post(f"/acceptances/{acc.id}/decide", data={"dec-note": "通过", "dec-submit": "1"}).status_code == 302
    page = client.get(f"/acceptances/{acc.id}").get_data(as_text=True)
    assert "92.00" in page and 'id="certificate"' in page
    db.session.expire_all()
    acc = db.session.get(Acceptance, acc.id)
    assert acc.state == AcceptanceState.PASSED and acc.certificate_document_id is not None
    cert = client.get(f"/documents/{acc.certificate_document_id}")
    assert cert.status_code == 200 and cert.data[:4] == b"%PDF"
    # Another organization cannot download the certificate or the opinion scan.
    other = make.user(Role.ORG)
    db.session.commit()
    _as(client, other)
    assert client.get(f"/documents/{acc.certificate_document_id}").status_code == 403
    assert client.get(f"/documents/{acc.opinion_document_id}").status_code == 403
