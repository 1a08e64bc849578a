"""Emails an official would send: in the name of the department the object belongs to,
signed by it, with a do-not-reply line; the address stays the no-reply one."""

from __future__ import annotations

import email

from procure.notifications.delivery import _message
from procure.notifications.services import notify
from procure.roles import Role


def test_project_email_goes_out_in_the_departments_name(app, make, db):
    officer = make.user(Role.OFFICER)
    project = make.project(officer)
    reader = make.user(Role.FINANCE)
    [w] = notify([reader], "welcome", project, context={"link": "http://x"})
    db.session.commit()
    dept = officer.department.name
    note = w.email
    assert note.sender_name == dept
    assert dept in note.body_text and "请勿直接回复" in note.body_text
    assert dept in note.body_html
    parsed = email.message_from_bytes(_message(note).as_bytes())
    name, addr = email.utils.parseaddr(str(email.header.make_header(email.header.decode_header(parsed["From"]))))
    assert name == dept and addr == "noreply@example.org"


def test_email_without_department_is_signed_by_the_system(app, make, db):
    user = make.user(Role.EVALUATOR)
    [w] = notify([user], "welcome", user, context={"link": "http://x"})
    db.session.commit()
    assert w.email.sender_name is None  # the default sender, "Procure <noreply@…>"
    assert "Procure 政府购买服务管理系统" in w.email.body_text
