"""Races on one project, on PostgreSQL with real threads (each its own session, committing
or rolling back like a request):

* finance A approves while finance B returns the same project, many times;
* two approvals of one project at once;
* a service that audits first and locks money second (the shape of signing a contract)
  against ``approve_project``, which locks money first.

Never an overspend, never a lost state, never a deadlock, never an unexpected error; the
refused request gets a message saying why ("someone else changed this first" or "cannot
change from … to …"). The figures are printed (run with ``-s``) and kept in the closing note.
"""

from __future__ import annotations

from decimal import Decimal

import pytest  # noqa: F401
from sqlalchemy import func, select

from procure import audit
from procure.audit import verify_chain
from procure.auth.models import User
from procure.budgets import ledger
from procure.budgets import services as bs
from procure.budgets.models import Allocation, Appropriation
from procure.projects import services as ps
from procure.projects.models import Project, ProjectState
from procure.roles import Role

from ..threads import race

S = ProjectState
ROUNDS = 25


def _project_money(db, project_id):
    db.session.expire_all()
    allocated = db.session.scalar(select(func.coalesce(func.sum(Allocation.allocated), 0))
                                  .where(Allocation.project_id == project_id))
    return db.session.get(Project, project_id), Decimal(allocated)


def test_approve_against_return_never_loses_a_state_or_money(app, db, make):
    officer, fin_a, fin_b = make.user(Role.OFFICER), make.finance(), make.user(Role.FINANCE)
    appr = make.appropriation(officer.department, "100000.00")
    db.session.commit()
    ids = {"officer": officer.id, "a": fin_a.id, "b": fin_b.id, "appr": appr.id}
    attempts = refusals = approved = returned = 0
    for _round in range(ROUNDS):
        project = make.project(officer, ceiling="100.00")
        ps.submit_project(officer, project)
        db.session.commit()
        pid = project.id

        def approve(d, pid=pid):
            ps.approve_project(d.session.get(User, ids["a"]), d.session.get(Project, pid),
                               [(ids["appr"], "100.00")])

        def give_back(d, pid=pid):
            ps.return_project(d.session.get(User, ids["b"]), d.session.get(Project, pid), "预算说明不全")

        ok, refused = race(app, [approve, give_back])
        attempts += 2
        refusals += len(refused)
        assert len(ok) == 1 and len(refused) == 1, (ok, refused)
        assert refused[0][1] in ("Conflict", "InvalidTransition")
        project, allocated = _project_money(db, pid)
        if ok == [0]:
            approved += 1
            assert project.state == S.APPROVED and allocated == Decimal("100.00")
        else:
            returned += 1
            assert project.state == S.DRAFT and allocated == 0
            # resubmitted and approved again, it holds its ceiling once, not twice
            officer = db.session.get(User, ids["officer"])
            ps.submit_project(officer, project)
            ps.approve_project(db.session.get(User, ids["a"]), project, [(ids["appr"], "100.00")])
            db.session.commit()
            assert _project_money(db, pid)[1] == Decimal("100.00")
    appr = db.session.get(Appropriation, ids["appr"])
    assert appr.allocated == Decimal("100.00") * ROUNDS  # every project exactly its ceiling
    assert bs.reconcile() == []
    assert verify_chain().ok
    print(f"\napprove vs return: {attempts} attempts, {refusals} refusals "
          f"({approved} approved first, {returned} returned first), overspends 0")


def test_two_approvals_of_one_project(app, db, make):
    officer, fin_a, fin_b = make.user(Role.OFFICER), make.finance(), make.user(Role.FINANCE)
    appr = make.appropriation(officer.department, "100000.00")
    db.session.commit()
    overs = 0
    for _round in range(ROUNDS):
        project = make.project(officer, ceiling="100.00")
        ps.submit_project(officer, project)
        db.session.commit()
        pid, aid = project.id, appr.id

        def approve(d, fin_id, pid=pid, aid=aid):
            ps.approve_project(d.session.get(User, fin_id), d.session.get(Project, pid), [(aid, "100.00")])

        ok, refused = race(app, [lambda d: approve(d, fin_a.id), lambda d: approve(d, fin_b.id)])
        assert len(ok) == 1 and len(refused) == 1
        project, allocated = _project_money(db, pid)
        overs += allocated > project.budget_ceiling
        assert project.state == S.APPROVED and allocated == Decimal("100.00")
    assert overs == 0 and bs.reconcile() == []
    print(f"\ntwo approvals: {2 * ROUNDS} attempts, {ROUNDS} refusals, overspends {overs}")


def _audit_then_lock_money(d, actor_id, appr_id):
    """The shape of signing a contract: audit a transition first, then lock money."""
    actor = d.session.get(User, actor_id)
    audit.record(actor, "test.sign", "contracts", 1, after={"state": "signed"})
    appr = ledger.lock_for_money(appropriation_ids=[appr_id]).appropriation(appr_id)
    appr.reference = f"签约 {actor_id}"


def test_audit_first_then_money_never_deadlocks_with_approve(app, db, make):
    officer, fin = make.user(Role.OFFICER), make.finance()
    appr = make.appropriation(officer.department, "100000.00")
    other = make.appropriation(officer.department, "100000.00", source="lottery")
    db.session.commit()
    appr_ids = sorted([appr.id, other.id])
    done = 0
    for _round in range(ROUNDS):
        project = make.project(officer, ceiling="200.00")
        ps.submit_project(officer, project)
        db.session.commit()
        pid = project.id

        def approve(d, pid=pid):
            ps.approve_project(d.session.get(User, fin.id), d.session.get(Project, pid),
                               [(i, "100.00") for i in appr_ids])

        ok, refused = race(app, [approve, lambda d: _audit_then_lock_money(d, fin.id, appr_ids[-1])])
        assert sorted(ok) == [0, 1] and refused == []
        done += 2
    assert verify_chain().ok
    print(f"\naudit-first vs approve: {done} transactions, 0 deadlocks")


def test_the_refused_request_reads_the_conflict_message(app, db, make, client):
    """Over HTTP: B opened the page before A approved; B's return then says someone else
    changed it first (Chinese), and the project stays approved with its money."""
    from tests.conftest import login

    officer, fin_a, fin_b = make.user(Role.OFFICER), make.finance(), make.user(Role.FINANCE)
    appr = make.appropriation(officer.department, "1000.00")
    project = make.project(officer, ceiling="100.00")
    ps.submit_project(officer, project)
    db.session.commit()
    ps.approve_project(db.session.get(User, fin_a.id), db.session.get(Project, project.id),
                       [(appr.id, "100.00")])
    db.session.commit()
    login(client, fin_b.username)
    resp = client.post(f"/projects/{project.id}/return", data={"ret-reason": "不全"}, follow_redirects=True)
    assert resp.status_code in (200, 400, 409)  # a message, never a 500
    text = resp.get_data(as_text=True)
    assert "无法从" in text and "已批准" in text, text[:3000]
    db.session.expire_all()
    assert db.session.get(Project, project.id).state == S.APPROVED


def test_stale_transition_is_a_conflict_at_the_service(app, db, make):
    officer, fin = make.user(Role.OFFICER), make.finance()
    appr = make.appropriation(officer.department, "1000.00")
    project = make.project(officer, ceiling="100.00")
    ps.submit_project(officer, project)
    db.session.commit()
    stale = db.session.get(Project, project.id)
    _ = stale.state  # loaded as submitted
    with app.app_context():
        from procure.extensions import db as other

        ps.approve_project(other.session.get(User, fin.id), other.session.get(Project, project.id),
                           [(appr.id, "100.00")])
        other.session.commit()
        other.session.remove()
    from procure.errors import Conflict

    with pytest.raises(Conflict) as exc:
        ps.return_project(db.session.get(User, fin.id), stale, "晚了")
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("zh_CN"):
        assert "刷新" in str(exc.value.message)
    db.session.rollback()
    assert db.session.get(Project, project.id).state == S.APPROVED


def _edit_data(project, title):
    from procure.projects.services import ProjectData, TargetData

    return ProjectData(
        title=title, category_id=project.category_id, fiscal_year=project.fiscal_year,
        service_area=project.service_area, target_group=project.target_group,
        budget_ceiling=project.budget_ceiling, method=project.method.value,
        period_start=project.period_start, period_end=project.period_end,
        targets=[TargetData("服务对象人数", "人", "300", True)])


def test_two_officers_saving_one_draft_never_overwrite_each_other(app, db, make):
    """Both loaded the form at the same revision: one save lands, the other is told
    someone else changed it first; the project holds exactly the saved one's title."""
    officer = make.user(Role.OFFICER)
    other = make.user(Role.OFFICER, department=officer.department)
    project = make.project(officer)
    db.session.commit()
    pid, seen = project.id, project.revision
    wins = {}
    for _round in range(10):
        def save(d, uid, title, seen=seen):
            p = d.session.get(Project, pid)
            ps.update_project(d.session.get(User, uid), p, _edit_data(p, title), seen_revision=seen)

        ok, refused = race(app, [lambda d: save(d, officer.id, "甲的标题"),
                                 lambda d: save(d, other.id, "乙的标题")])
        assert len(ok) == 1 and [r[1] for r in refused] == ["Conflict"], (ok, refused)
        db.session.expire_all()
        project = db.session.get(Project, pid)
        assert project.title == ("甲的标题", "乙的标题")[ok[0]]
        assert project.revision == seen + 1
        wins[ok[0]] = wins.get(ok[0], 0) + 1
        seen = project.revision
    assert verify_chain().ok
    print(f"\ntwo saves of one draft: 20 attempts, 10 conflicts, winners {wins}")


def test_an_edit_against_a_submission_never_changes_a_submitted_project(app, db, make):
    officer = make.user(Role.OFFICER)
    outcomes = set()
    for _round in range(10):
        project = make.project(officer, title="原标题")
        db.session.commit()
        pid, seen = project.id, project.revision

        def edit(d, pid=pid, seen=seen):
            p = d.session.get(Project, pid)
            ps.update_project(d.session.get(User, officer.id), p, _edit_data(p, "改后的标题"), seen_revision=seen)

        def submit(d, pid=pid):
            ps.submit_project(d.session.get(User, officer.id), d.session.get(Project, pid))

        ok, refused = race(app, [edit, submit])
        db.session.expire_all()
        project = db.session.get(Project, pid)
        if ok == [0, 1] or ok == [1, 0]:
            # the edit landed first and the submission came after it: both fine, in order
            assert project.state == S.SUBMITTED and project.title == "改后的标题"
            outcomes.add("edit then submit")
        else:
            assert len(ok) == 1 and len(refused) == 1, (ok, refused)
            if ok == [1]:
                assert project.state == S.SUBMITTED and project.title == "原标题"
                outcomes.add("submit first, edit refused")
            else:
                assert project.state == S.DRAFT and project.title == "改后的标题"
                outcomes.add("edit first, submit refused")
    assert outcomes
    print(f"\nedit vs submit: {sorted(outcomes)}")


def test_a_form_loaded_before_another_save_is_refused_over_http(app, db, make, client):
    from tests.conftest import login

    officer = make.user(Role.OFFICER)
    project = make.project(officer, title="原标题")
    db.session.commit()
    login(client, officer.username)
    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert 'name="revision"' in page
    ps.update_project(officer, project, _edit_data(project, "别人先改"))
    db.session.commit()
    form = {"title": "我后改的", "category_id": str(project.category_id), "fiscal_year": str(project.fiscal_year),
            "service_area": project.service_area, "target_group": project.target_group,
            "budget_ceiling": str(project.budget_ceiling), "method": project.method.value,
            "period_start": project.period_start.isoformat(), "period_end": project.period_end.isoformat(),
            "targets-0-indicator": "服务对象人数", "targets-0-unit": "人", "targets-0-target_value": "300",
            "revision": "1"}
    resp = client.post(f"/projects/{project.id}/edit", data=form)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "刷新" in text
    assert "我后改的" in text  # what the user typed is still in the form
    db.session.expire_all()
    assert db.session.get(Project, project.id).title == "别人先改"
