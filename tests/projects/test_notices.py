"""Project events tell the people who must act next, in their language, with a link to
the project — never the person who did it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from procure.auth.models import UserStatus
from procure.notifications.models import Mute, Notice, Notification
from procure.projects import services as ps
from procure.roles import Role

from ..conftest import login


@pytest.fixture()
def w(make, db):
    creator = make.user(Role.OFFICER, locale="en")
    dept = creator.department
    colleague = make.user(Role.OFFICER, department=dept, locale="zh_CN")
    gone = make.user(Role.OFFICER, department=dept)
    gone.status = UserStatus.DISABLED
    stranger = make.user(Role.OFFICER)  # another department
    fin = make.finance()
    fin2 = make.user(Role.FINANCE, locale="en")
    fin_off = make.user(Role.FINANCE)
    fin_off.status = UserStatus.DISABLED
    appr = make.appropriation(dept, "500000.00")
    project = make.project(creator, title="居家养老上门服务")
    make.commit()
    return dict(creator=creator, colleague=colleague, gone=gone, stranger=stranger, fin=fin, fin2=fin2,
                fin_off=fin_off, appr=appr, project=project, admin=make.admin())


def told(db, since: int = 0) -> dict[int, Notice]:
    """Notices written after id ``since``, by user; each with its email."""
    db.session.flush()
    notices = db.session.scalars(sa.select(Notice).where(Notice.id > since).order_by(Notice.id)).all()
    emails = db.session.scalars(sa.select(Notification).where(Notification.id > since)).all()
    assert sorted(e.recipient_id for e in emails) == sorted(n.user_id for n in notices)
    by_user = {n.user_id: n for n in notices}
    assert len(by_user) == len(notices), "someone was told twice"
    return by_user


def last_id(db) -> int:
    db.session.flush()
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Notice.id), 0)))


def test_submit_tells_every_active_finance_officer(db, w):
    ps.submit_project(w["creator"], w["project"])
    got = told(db)
    assert set(got) == {w["fin"].id, w["fin2"].id}
    p = w["project"]
    assert all(n.link == f"/projects/{p.id}" and n.rule == "project.submitted" for n in got.values())
    assert all(n.object_type == "projects" and n.object_id == str(p.id) for n in got.values())
    en = got[w["fin2"].id].text
    assert "居家养老上门服务" in en and w["creator"].name in en and "budget check" in en
    zh = got[w["fin"].id].text
    assert "居家养老上门服务" in zh and w["creator"].name in zh and "等待预算审核" in zh and "¥100,000.00" in zh
    mail = db.session.scalar(sa.select(Notification).where(Notification.recipient_id == w["fin2"].id))
    assert mail.subject == "Project “居家养老上门服务” waits for your budget check"
    assert f"/projects/{p.id}" in mail.body_text and f"/projects/{p.id}" in mail.body_html


def test_approve_tells_the_department_and_the_creator_not_the_approver(db, w):
    ps.submit_project(w["creator"], w["project"])
    # The creator has since moved to another department: still told about their project.
    w["creator"].department_id = w["stranger"].department_id
    since = last_id(db)
    ps.approve_project(w["fin"], w["project"], [(w["appr"].id, "80000.00")])
    got = told(db, since)
    assert set(got) == {w["creator"].id, w["colleague"].id}
    assert got[w["creator"].id].text == (f"{w['fin'].name} approved the funds for “居家养老上门服务”: "
                                         "CN¥80,000.00 allocated.")
    assert "已审核通过" in got[w["colleague"].id].text and "¥80,000.00" in got[w["colleague"].id].text
    assert all(n.link == f"/projects/{w['project'].id}" for n in got.values())


def test_return_tells_the_department_with_the_reason(db, w):
    ps.submit_project(w["creator"], w["project"])
    since = last_id(db)
    ps.return_project(w["fin"], w["project"], "绩效目标不够具体")
    got = told(db, since)
    assert set(got) == {w["creator"].id, w["colleague"].id}
    assert got[w["creator"].id].text == f"{w['fin'].name} returned “居家养老上门服务”: 绩效目标不够具体"
    assert got[w["colleague"].id].text == f"{w['fin'].name} 退回了「居家养老上门服务」：绩效目标不够具体"
    mail = db.session.scalar(sa.select(Notification).where(Notification.recipient_id == w["colleague"].id,
                                                           Notification.rule == "project.returned"))
    assert mail.subject == "项目「居家养老上门服务」已退回" and "绩效目标不够具体" in mail.body_text


def test_cancel_of_a_draft_tells_the_department_only(db, w):
    ps.cancel_project(w["creator"], w["project"], "不再需要")
    got = told(db)
    assert set(got) == {w["colleague"].id}
    assert got[w["colleague"].id].text == f"{w['creator'].name} 撤销了「居家养老上门服务」：不再需要"


@pytest.mark.parametrize("approved", [False, True], ids=["submitted", "approved"])
def test_cancel_after_finance_saw_it_tells_finance_too(db, w, approved):
    ps.submit_project(w["creator"], w["project"])
    if approved:
        ps.approve_project(w["fin"], w["project"], [(w["appr"].id, "80000.00")])
    since = last_id(db)
    ps.cancel_project(w["creator"], w["project"], "服务对象已由其他项目覆盖")
    got = told(db, since)
    assert set(got) == {w["colleague"].id, w["fin"].id, w["fin2"].id}
    mail = db.session.scalar(sa.select(Notification).where(Notification.recipient_id == w["fin2"].id,
                                                           Notification.rule == "project.cancelled"))
    assert ("CN¥80,000.00 reserved for it went back" in mail.body_text) is approved


def test_cancel_by_finance_tells_the_department_and_the_other_finance_officers(db, w):
    ps.submit_project(w["creator"], w["project"])
    ps.approve_project(w["fin"], w["project"], [(w["appr"].id, "80000.00")])
    since = last_id(db)
    ps.cancel_project(w["fin"], w["project"], "预算调减")
    assert set(told(db, since)) == {w["creator"].id, w["colleague"].id, w["fin2"].id}


def test_a_refused_transition_tells_nobody(db, w):
    from procure.errors import ValidationError

    with pytest.raises(ValidationError):
        ps.return_project(w["fin"], w["project"], "  ")
    ps.submit_project(w["creator"], w["project"])
    since = last_id(db)
    with pytest.raises(ValidationError):
        ps.approve_project(w["fin"], w["project"], [])
    assert told(db, since) == {}


def test_a_muted_project_topic_is_respected(db, w):
    db.session.add(Mute(user_id=w["fin2"].id, rule="project.submitted"))
    ps.submit_project(w["creator"], w["project"])
    assert set(told(db)) == {w["fin"].id}


def test_the_finance_officer_opens_the_notice_and_lands_on_the_project(client, db, w):
    p = w["project"]
    ps.submit_project(w["creator"], p)
    db.session.commit()
    login(client, w["fin2"].username)
    page = client.get("/notices/?show=unread").get_data(as_text=True)
    assert "居家养老上门服务" in page and "1 unread" in page
    # The topic can be muted there; the page lists what goes to finance, not the
    # organizations' reminders or the officers' project news.
    assert "Projects waiting for the budget check" in page
    assert "Annual report due" not in page and "Project funds approved" not in page
    notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == w["fin2"].id))
    resp = client.post(f"/notices/{notice.id}/open")
    assert resp.status_code == 302 and resp.location.endswith(f"/projects/{p.id}")
    assert client.get(resp.location).status_code == 200
    assert client.post("/notices/mute", data={"rule": "project.submitted", "muted": "1"}).status_code == 302
    assert db.session.scalar(sa.select(Mute.rule).where(Mute.user_id == w["fin2"].id)) == "project.submitted"


def test_a_submission_through_the_page_is_told_in_each_recipients_language(client, db, make):
    # The officer works in Chinese; one finance officer reads English, the other Chinese.
    # The notices are committed with the submission; the officer's own page stays Chinese.
    officer = make.user(Role.OFFICER, locale="zh_CN")
    fin_zh = make.user(Role.FINANCE, locale="zh_CN")
    fin_en = make.user(Role.FINANCE, locale="en")
    project = make.project(officer, title="社区心理援助")
    make.commit()
    login(client, officer.username)
    resp = client.post(f"/projects/{project.id}/submit", follow_redirects=True)
    assert resp.status_code == 200 and "已提交预算审核。" in resp.get_data(as_text=True)
    db.session.expire_all()
    got = told(db)
    assert set(got) == {fin_zh.id, fin_en.id}
    en, zh = got[fin_en.id].text, got[fin_zh.id].text
    assert en.startswith(f"{officer.name} (") and "“社区心理援助” for the budget check" in en
    assert zh.startswith(f"{officer.name}（") and "「社区心理援助」，等待预算审核" in zh
    mails = {m.recipient_id: m for m in db.session.scalars(sa.select(Notification))}
    assert mails[fin_en.id].subject == "Project “社区心理援助” waits for your budget check"
    assert mails[fin_zh.id].subject == "项目「社区心理援助」等待您的预算审核"
    assert "Hello" not in mails[fin_zh.id].body_text and "您好" not in mails[fin_en.id].body_text
