"""Home is a work list (issue 12 item 1): finance sees the projects waiting for its budget
check, an officer the projects finance returned and those whose call is to be started —
each item linked with its next step; nobody sees another department's projects."""

from __future__ import annotations

from procure.projects.services import return_project, submit_project
from procure.queues import lists_for
from procure.roles import Role

from ..conftest import login


def _list(user, key):
    return {row["list"].key: row["items"] for row in lists_for(user)}.get(key)


def test_finance_and_officer_lists(app, make, db):
    officer, other = make.user(Role.OFFICER), make.user(Role.OFFICER)
    appr = make.appropriation(officer.department)
    waiting = make.project(officer, title="待审项目")
    submit_project(officer, waiting)
    returned = make.project(officer, title="退回项目")
    submit_project(officer, returned)
    return_project(make.finance(), returned, "请补充绩效目标")
    approved = make.approved_project(officer, appr, "50000.00", title="已批项目")
    make.project(other, title="别处项目")
    db.session.commit()
    with app.test_request_context():
        checks = _list(make.finance(), "project.budget_checks")
        assert [i.title for i in checks] == ["待审项目"]
        assert checks[0].url.endswith(f"/projects/{waiting.id}") and checks[0].due_at is not None
        assert [i.title for i in _list(officer, "project.returned")] == ["退回项目"]
        assert [i.title for i in _list(officer, "project.to_tender")] == ["已批项目"]
        assert _list(officer, "project.to_tender")[0].due_at == approved.period_start
        assert not _list(other, "project.returned") and not _list(other, "project.to_tender")
        assert _list(officer, "project.budget_checks") is None


def test_finance_home_lists_the_items(app, make, db, client):
    officer = make.user(Role.OFFICER)
    project = make.project(officer, title="社区养老服务项目")
    submit_project(officer, project)
    finance = make.finance()
    db.session.commit()
    login(client, finance.username)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "待您预算审核的项目" in html and "社区养老服务项目" in html and "审核预算并安排资金" in html
    assert f"/projects/{project.id}" in html
