"""Milestone report pages over HTTP: the organization writes, uploads and submits; the
officer approves or requests a revision; bad input gets a clear message (never a 500);
another organization (or department) can open none of these pages (table-driven over
every route of the delivery blueprint)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from procure.delivery.models import MilestoneReport, ReportState
from procure.roles import Role
from tests.listhelp import export_table

from ..conftest import login
from .conftest import PNG, report_in

R = ReportState


@pytest.fixture()
def world(make, db):
    aw = make.active_contract()
    other = make.active_contract(officer=make.user(Role.OFFICER))
    aw.finance, aw.admin, aw.other = make.finance(), make.admin(), other
    db.session.commit()
    return aw


def _form(n_actuals=2, **kw):
    data = {"revision": "0", "narrative": "本期完成助餐服务。", "evidence_caption": ""}
    for i in range(n_actuals):
        data[f"actuals-{i}-actual"] = str(10 + i)
    data.update({"spending-0-category": "personnel", "spending-0-amount": "100.50", "spending-0-detail": "工资"})
    data.update(kw)
    return data


def _get(client, user, path):
    assert login(client, user.username).status_code == 302
    return client.get(path)


def test_organization_writes_and_submits_officer_reviews(client, world, db):
    aw = world
    m = aw.contract.milestones[0]
    login(client, aw.org_user.username)
    page = client.get(f"/contracts/{aw.contract.id}/milestones")
    assert page.status_code == 200 and f"/milestones/{m.id}/report".encode() in page.data
    assert client.get(f"/contracts/{aw.contract.id}").data.count(b"milestones-link") == 1
    page = client.get(f"/milestones/{m.id}/report")
    assert page.status_code == 200 and "服务对象人数".encode() in page.data
    data = _form(evidence_file=(io.BytesIO(PNG), "签到表.png"))
    resp = client.post(f"/milestones/{m.id}/report", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.data[:2000]
    report = db.session.scalar(select(MilestoneReport).where(MilestoneReport.milestone_id == m.id))
    assert report.state == R.DRAFT and len(report.evidence) == 1 and report.spending[0].amount == 100.5
    resp = client.post(f"/milestones/{m.id}/report/submit", data={"send-revision": str(report.revision)})
    assert resp.status_code == 302 and f"/reports/{report.id}" in resp.location
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200 and f"/reports/{report.id}/versions/1".encode() in page.data
    assert b'id="approve"' not in page.data  # the organization does not review
    client.post("/logout")
    login(client, aw.officer.username)
    db.session.expire_all()
    report = db.session.get(MilestoneReport, report.id)
    page = client.get(f"/reports/{report.id}")
    assert b'id="approve"' in page.data and b'id="request-revision"' in page.data
    # revision without a comment: a clear message
    resp = client.post(f"/reports/{report.id}/revision", data={"rev-revision": str(report.revision), "rev-comment": ""})
    assert resp.status_code == 400 and "意见必须填写".encode() in resp.data
    # a stale form: "someone else changed this first"
    resp = client.post(f"/reports/{report.id}/approve", data={"ok-revision": str(report.revision - 1)})
    assert resp.status_code == 400 and "刷新".encode() in resp.data
    resp = client.post(f"/reports/{report.id}/revision", data={"rev-revision": str(report.revision),
                                                               "rev-comment": "请补充照片"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(MilestoneReport, report.id).state == R.REVISION_REQUESTED
    assert client.get(f"/reports/{report.id}/versions/1").status_code == 200
    assert client.get(f"/reports/{report.id}/versions/2").status_code == 404


BAD = {
    "NUL in the narrative": {"narrative": "好\x00"},
    "control char in a description": {"spending-0-detail": "工\x07资"},
    "NUL in an actual": {"actuals-0-actual": "1\x00"},
    "three decimals": {"spending-0-amount": "1.005"},
    "unknown category": {"spending-0-category": "bribes"},
    "negative actual": {"actuals-0-actual": "-1"},
    "revision junk": {"revision": "9" * 40},
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gets_a_clear_message(client, world, db, case):
    aw = world
    m = aw.contract.milestones[0]
    login(client, aw.org_user.username)
    resp = client.post(f"/milestones/{m.id}/report", data=_form(**BAD[case]))
    assert resp.status_code == 400, resp.status_code
    assert b"alert-danger" in resp.data or b"invalid-feedback" in resp.data
    assert db.session.scalar(select(MilestoneReport).where(MilestoneReport.milestone_id == m.id)) is None


def test_disguised_evidence_refused_on_the_page(client, world, db):
    aw = world
    m = aw.contract.milestones[0]
    login(client, aw.org_user.username)
    resp = client.post(f"/milestones/{m.id}/report", data=_form(evidence_file=(io.BytesIO(b"MZ\x90\x00exe"), "p.png")),
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and b"PNG" in resp.data
    assert db.session.scalar(select(MilestoneReport).where(MilestoneReport.milestone_id == m.id)) is None


def _routes(aw, report):
    m = aw.contract.milestones[0]
    return {
        ("GET", f"/contracts/{aw.contract.id}/milestones"): None,
        ("GET", f"/milestones/{m.id}/report"): None,
        ("POST", f"/milestones/{m.id}/report"): _form(),
        ("POST", f"/milestones/{m.id}/report/submit"): {"send-revision": str(report.revision)},
        ("GET", f"/reports/{report.id}"): None,
        ("GET", f"/reports/{report.id}/versions/1"): None,
        ("POST", f"/reports/{report.id}/approve"): {"ok-revision": str(report.revision)},
        ("POST", f"/reports/{report.id}/revision"): {"rev-revision": str(report.revision), "rev-comment": "x"},
    }


def test_every_route_refuses_another_organization_and_department(client, world, db):
    aw = world
    report = report_in(db, aw, R.SUBMITTED)
    routes = _routes(aw, report)
    from procure.delivery.views import bp

    rules = {r.rule for r in client.application.url_map.iter_rules() if r.endpoint.startswith(bp.name + ".")}
    # every route of the blueprint is in the table, but the reports list: a list is
    # narrowed to what the user may see (the report is not listed for them)
    assert "/milestone-reports/" in rules and len(rules) - 1 == len({p for _m, p in routes}) == 7
    for user in (aw.other.org_user, aw.other.officer):
        client.post("/logout")
        login(client, user.username)
        for (method, path), data in routes.items():
            resp = client.get(path) if method == "GET" else client.post(path, data=data)
            assert resp.status_code == 403, (user.username, method, path, resp.status_code)
        resp = client.get("/milestone-reports/")
        assert resp.status_code == 200 and f'data-report="{report.id}"'.encode() not in resp.data
        assert aw.contract.number.encode() not in resp.data
        export = client.get("/milestone-reports/?export=xlsx")
        assert export.status_code == 200 and export_table(export.data)[1] == []
    client.post("/logout")
    assert "/login" in client.get("/milestone-reports/").location
    for (method, path), data in routes.items():
        resp = client.get(path) if method == "GET" else client.post(path, data=data)
        assert resp.status_code == 302 and "/login" in resp.location, (method, path)
    db.session.expire_all()
    assert db.session.get(MilestoneReport, report.id).state == R.SUBMITTED


@pytest.mark.parametrize("who,allowed", [
    ("org_user", {"milestones", "edit", "report", "version"}),
    ("officer", {"milestones", "report", "version"}),
    ("finance", {"milestones", "report", "version"}),
    ("admin", {"milestones", "report", "version"}),
])
def test_who_reads_what(client, world, db, who, allowed):
    aw = world
    report = report_in(db, aw, R.SUBMITTED)
    m = aw.contract.milestones[1]  # the second milestone has no report yet: its form opens
    pages = {"milestones": f"/contracts/{aw.contract.id}/milestones", "edit": f"/milestones/{m.id}/report",
             "report": f"/reports/{report.id}", "version": f"/reports/{report.id}/versions/1"}
    user = getattr(aw, who)
    for name, path in pages.items():
        resp = _get(client, user, path)
        assert resp.status_code == (200 if name in allowed else 403), (who, name, resp.status_code)
        client.post("/logout")


def test_dashboard_shows_what_is_due_next_and_what_waits_for_review(client, world, db):
    from datetime import date

    from procure.contracts.models import Milestone

    aw = world
    db.session.execute(Milestone.__table__.update().where(Milestone.id == aw.contract.milestones[0].id)
                       .values(due_on=date(2020, 1, 1)))
    db.session.commit()
    page = _get(client, aw.org_user, "/dashboard")
    assert page.status_code == 200 and b"worklist-delivery.due_next" in page.data
    assert f"/milestones/{aw.contract.milestones[0].id}/report".encode() in page.data
    client.post("/logout")
    other = _get(client, aw.other.org_user, "/dashboard")
    assert f"/milestones/{aw.contract.milestones[0].id}/report".encode() not in other.data
    client.post("/logout")
    report = report_in(db, aw, R.SUBMITTED)
    page = _get(client, aw.officer, "/dashboard")
    assert f"/reports/{report.id}".encode() in page.data
    client.post("/logout")
    assert f"/reports/{report.id}".encode() not in _get(client, aw.other.officer, "/dashboard").data


def test_pages_cost_the_same_number_of_queries_whatever_the_data(app, client, world, db):
    from ..querycount import page_statements

    aw = world
    report = report_in(db, aw, R.SUBMITTED)
    login(client, aw.officer.username)
    # (the dashboard's own activity feed costs one query per kind of object in it: not counted here)
    pages = [f"/contracts/{aw.contract.id}/milestones", f"/reports/{report.id}"]
    before = [page_statements(app, client, p) for p in pages]
    # more versions, more evidence and a second report
    from procure.delivery import services as ds

    from .conftest import full_data

    ds.request_revision(aw.officer, report, "补充")
    db.session.commit()
    ds.save_report(aw.org_user, aw.contract.milestones[0], full_data())
    ds.submit_report(aw.org_user, report)
    db.session.commit()
    report_in(db, aw, R.SUBMITTED, milestone=aw.contract.milestones[1])
    after = [page_statements(app, client, p) for p in pages]
    assert after == before, (before, after)
