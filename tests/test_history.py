"""Histories read as a person would write them (procure/history.py): labels, names
linked, states, money and dates formatted, in a constant number of queries; and every
audit action the code writes has a label."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from flask_babel import force_locale

from procure import history
from procure.audit import AuditEvent
from procure.roles import Role

ROOT = Path(__file__).resolve().parent.parent


def _events(db, object_type: str, object_id) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.seq)).all()


def _text(entry: history.Entry) -> str:
    return " | ".join([entry.who, entry.action, str(entry.object_name)] +
                      [f"{c.label}: {c.new}" if c.old is None else f"{c.label}: {c.old} → {c.new}"
                       for c in entry.changes])


def test_project_history_reads_in_chinese_with_names_states_and_money(app, db, make):
    dep = make.department("民政局测试处")
    officer = make.user(Role.OFFICER, department=dep)
    appr = make.appropriation(officer.department)
    project = make.approved_project(officer, appr, "80000.00", title="居家养老测试项目")
    make.commit()
    admin = make.admin()
    with app.test_request_context(), force_locale("zh_CN"):
        rows = history.entries(_events(db, "projects", project.id), admin)
        text = "\n".join(_text(r) for r in rows)
    created, submitted, approved = rows
    assert created.action == "已创建项目"
    assert "名称: 居家养老测试项目" in text
    name = str(created.object_name)
    assert f'href="/projects/{project.id}"' in name and "居家养老测试项目" in name
    # department id → its name, linked to its page for the admin
    assert officer.department.name in text and f'href="/admin/departments/{officer.department.id}"' in text
    assert "公开招标" in text  # the method's label, not public_tender
    assert "¥100,000.00" in text  # the ceiling, formatted
    assert "2026年3月1日" in text  # a date, in Chinese
    assert "服务对象人数" in text and "是" in text  # the targets, as records
    # the approval: state labels and the appropriation it draws on, by name, with the amount
    assert "资金已批准" in text and "待预算审核" in text
    assert "¥80,000.00" in text and "一般公共预算" in text
    for raw in ("{'", "['", "None", "public_tender", "submitted", "approved", "draft", "_id", "transition"):
        assert raw not in text, (raw, text)
    assert all(r.who == officer.name or r.who == make.finance().name for r in rows)


def test_a_state_change_reads_as_old_and_new_labels(app, db, make):
    """The "transition" events written so far read "State changed: A → B"."""
    officer = make.user(Role.OFFICER)
    project = make.project(officer)
    from procure.projects.services import submit_project

    submit_project(officer, project)
    make.commit()
    with app.test_request_context(), force_locale("zh_CN"):
        last = history.entries(_events(db, "projects", project.id), officer)[-1]
    if last.event.action == "transition":
        assert last.action == "状态变更：草稿 → 待预算审核"
    else:  # the named actions ("project.submit") carry the state as a field change
        assert last.action == "提交预算审核"
        assert any(str(c.old) == "草稿" and str(c.new) == "待预算审核" for c in last.changes)


def test_links_only_to_pages_the_reader_may_open(app, db, make):
    officer = make.user(Role.OFFICER)
    project = make.project(officer)
    org_user = make.user(Role.ORG)
    make.commit()
    with app.test_request_context():
        events = _events(db, "projects", project.id)
        for_admin = history.entries(events, make.admin())[0]
        for_org = history.entries(events, org_user)[0]
    assert "<a " in str(for_admin.object_name)
    assert "<a " not in str(for_org.object_name) and project.title in str(for_org.object_name)


def test_names_load_in_a_constant_number_of_queries(app, db, make):
    def queries_for(n: int) -> int:
        for i in range(n):
            dep = make.department(f"查询计数部门{n}-{i}")
            make.appropriation(dep, year=2026)
        make.commit()
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type.in_(
            ["appropriations", "departments"])).order_by(AuditEvent.seq.desc()).limit(2 * n)).all()
        count = 0

        def count_it(*_args, **_kw):
            nonlocal count
            count += 1

        sa.event.listen(db.engine, "before_cursor_execute", count_it)
        try:
            with app.test_request_context():
                rows = history.entries(events, make.admin())
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count_it)
        assert len(rows) == 2 * n
        return count

    assert queries_for(2) == queries_for(8)


def _written_actions() -> set[str]:
    """Every audit action key written as a literal in the code."""
    found = set()
    record = re.compile(r"audit\.record\(\s*[^,]+,\s*\"([a-z_]+\.[a-z_]+)\"")
    batch = re.compile(r"\(\s*\"([a-z_]+\.[a-z_]+)\",\s*\"[a-z_]+\",")  # record_many's items
    fund_moves = re.compile(r"\"(ledger\.[a-z_]+)\"")
    for path in (ROOT / "procure").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        found.update(record.findall(source))
        if "record_many" in source:
            found.update(batch.findall(source))
        found.update(fund_moves.findall(source))
    return found


def test_every_action_written_has_a_label(app):
    actions = _written_actions()
    assert {"project.create", "user.create", "organization.update", "ledger.pay"} <= actions
    history.load()
    with app.test_request_context(), force_locale("zh_CN"):
        unlabeled = []
        for action in sorted(actions):
            ev = AuditEvent(action=action, object_type="projects", object_id="1", before=None, after=None)
            if history.action_label(ev) == action:
                unlabeled.append(action)
    assert unlabeled == []
    # and the state-machine actions named in issue 7
    for action in ("project.submit", "project.approve", "project.return", "project.cancel",
                   "notification.send", "notification.fail", "notification.requeue",
                   "job.start", "job.done", "job.fail"):
        assert action in history.ACTIONS, action


def test_every_described_field_and_type_is_translated(app):
    """A label left in English would show in a Chinese history."""
    history.load()
    with app.test_request_context(), force_locale("zh_CN"):
        for object_type, kind in history.KINDS.items():
            assert re.search(r"[\u4e00-\u9fff]", str(kind.label)), object_type
            for key, fld in kind.fields.items():
                if not fld.hidden:
                    assert re.search(r"[\u4e00-\u9fff]", str(fld.label)), (object_type, key, str(fld.label))
        for action, label in history.ACTIONS.items():
            assert re.search(r"[\u4e00-\u9fff]", str(label)), action


def test_english_readers_get_english_labels_and_separators(app, db, make):
    officer = make.user(Role.OFFICER, locale="en")
    project = make.project(officer, title="Home care")
    make.commit()
    with app.test_request_context(), force_locale("en"):
        created = history.entries(_events(db, "projects", project.id), officer)[0]
        text = _text(created)
    assert created.action == "Project created"
    assert "Budget ceiling: CN¥100,000.00" in text and "Procurement method: Public tender" in text
    assert "Indicator: 服务对象人数, Unit: 人" in text  # fields of a record, English separators


def test_audit_page_filters_by_object_and_reads_in_chinese(app, db, make, client):
    from .conftest import login

    officer = make.user(Role.OFFICER)
    project = make.project(officer, title="筛选测试项目")
    admin = make.admin()
    make.commit()
    login(client, admin.username)
    page = client.get("/admin/audit?object_type=projects").get_data(as_text=True)
    assert "筛选测试项目" in page and "已创建项目" in page
    assert "创建账号" not in page  # the users' events are filtered out
    assert '<option value="projects" selected>项目</option>' in page
    assert f'href="/projects/{project.id}"' in page
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert "创建账号" in everything and "user.create" not in everything
