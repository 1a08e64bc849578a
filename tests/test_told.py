"""After an action the page says what happened and who was told (procure/told.py): the
people the service notified, by role, named from the users it already held; nobody when
the action failed (its rollback told no one)."""

from __future__ import annotations

import html
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from procure.auth.models import UserStatus
from procure.roles import Role
from procure.told import told_sentence

from .conftest import login


@pytest.fixture()
def w(make, db):
    creator = make.user(Role.OFFICER, locale="en")
    colleague = make.user(Role.OFFICER, department=creator.department)
    fin = make.finance()
    fin2 = make.user(Role.FINANCE)
    fin_off = make.user(Role.FINANCE)
    fin_off.status = UserStatus.DISABLED
    make.appropriation(creator.department, "500000.00")
    project = make.project(creator, title="居家养老上门服务")
    make.commit()
    return SimpleNamespace(creator=creator, colleague=colleague, fin=fin, fin2=fin2, fin_off=fin_off,
                           project=project)


def _flashes(page: str) -> str:
    return html.unescape(page)


def test_submit_and_return_say_who_was_told(client, w):
    login(client, w.creator.username)
    page = _flashes(client.post(f"/projects/{w.project.id}/submit", follow_redirects=True).get_data(as_text=True))
    assert "Submitted for the budget check. Notified: Finance officer " in page
    sentence = page.split("Notified: Finance officer ", 1)[1].split(".", 1)[0]
    assert set(sentence.split(", ")) == {w.fin.name, w.fin2.name}  # the active finance officers, nobody else
    assert w.fin_off.name not in sentence

    again = _flashes(client.post(f"/projects/{w.project.id}/submit", follow_redirects=True).get_data(as_text=True))
    assert "Notified" not in again  # refused: nobody was told

    client.post("/logout")
    login(client, w.fin.username)  # zh_CN
    page = _flashes(client.post(f"/projects/{w.project.id}/return", data={"ret-reason": "预算测算依据不足"},
                                follow_redirects=True).get_data(as_text=True))
    assert "。已通知：项目主管 " in page  # what happened, then who was told
    names = page.split("已通知：项目主管 ", 1)[1].split("。", 1)[0]
    assert w.creator.name in names.split("、")


def test_the_sentence_groups_by_role_and_shortens_long_lists(app):
    people = [SimpleNamespace(id=i, name=f"财务{i}", role=Role.FINANCE) for i in range(7)]
    people.append(SimpleNamespace(id=9, name="李明", role=Role.OFFICER))
    with app.test_request_context(), force_locale("zh_CN"):
        assert told_sentence(people) == "已通知：财务人员 财务0、财务1、财务2、财务3、财务4 等 2 人；项目主管 李明。"
        assert told_sentence([]) == ""
    with app.test_request_context(), force_locale("en"):
        assert told_sentence(people[-2:]) == "Notified: Finance officer 财务6; Program officer 李明."
