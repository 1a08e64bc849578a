"""The bulk reminder path (``notifications.notify_bulk`` from ``engine.scan``): one
INSERT per batch, duplicates skipped by the unique key, the texts rendered once per
language, the new emails dispatched after the commit in batches; two scans racing on
PostgreSQL (real threads) write each email and notice once and dispatch it once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from procure import dispatch
from procure.notifications import services as notifications
from procure.notifications.models import Notice, Notification
from procure.notifications.services import SEND_BATCH_TASK
from procure.reminders import engine
from procure.roles import Role

from ..threads import race

ON = date(2026, 5, 24)  # 7 days before the 2025 annual report is due


def _late_orgs(make, n: int, *, names=None) -> list:
    users = []
    for i in range(n):
        org = make.organization((names or {}).get(i) or f"未报组织{i}", with_code=True,
                                registration_date=date(2020, 1, 1))
        users.append(make.user(Role.ORG, organization=org, locale="en" if i % 3 == 0 else "zh_CN"))
    make.commit()
    return users


def _reminders(db):
    db.session.expire_all()
    emails = db.session.scalars(sa.select(Notification).where(Notification.rule == "annual_report.due")).all()
    notices = db.session.scalars(sa.select(Notice).where(Notice.rule == "annual_report.due")).all()
    return emails, notices


def test_two_scans_racing_write_each_email_once_and_dispatch_it_once(app, db, make, monkeypatch):
    users = _late_orgs(make, 23)
    monkeypatch.setattr(engine, "BATCH", 5)  # several batches, several commits each
    sent, lock = [], threading.Lock()

    def record(name, *args):
        with lock:
            sent.append((name, args[0]))
        return True

    monkeypatch.setattr(dispatch, "send", record)
    counts = []

    def run(d):
        counts.append(engine.scan(ON, only=["annual_report.due"], checkpoint=d.session.commit))

    for _round in range(3):
        ok, refused = race(app, [run, run])
        assert sorted(ok) == [0, 1] and refused == []
    emails, notices = _reminders(db)
    assert sorted(n.recipient_id for n in emails) == sorted(u.id for u in users)
    assert sorted(n.user_id for n in notices) == sorted(u.id for u in users)
    # Between them the scans wrote each reminder once (counts add up to the recipients).
    assert sum(c.get("annual_report.due", 0) for c in counts) == len(users)
    assert {name for name, _ids in sent} == {SEND_BATCH_TASK}
    dispatched = Counter(i for _name, ids in sent for i in ids)
    assert dispatched == Counter(n.id for n in emails), "each new email dispatched once, after its commit"


def test_one_insert_per_batch_texts_rendered_once_per_language(app, db, make, monkeypatch):
    users = _late_orgs(make, 12, names={1: '<b>&"甲"</b> 协会'})
    orgs = {u.id: (u.organization.id, u.organization.name) for u in users}
    statements = []

    def count(conn, cursor, statement, params, context, many):
        statements.append(statement)

    renders = []
    compose = notifications._compose
    monkeypatch.setattr(notifications, "_compose", lambda *a, **kw: renders.append(a[1]) or compose(*a, **kw))
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            assert engine.scan(ON, only=["annual_report.due"]) == {"annual_report.due": 12}
            pending = dispatch.pending()
            db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    inserts = [s for s in statements if s.lstrip().upper().startswith(("INSERT INTO NOTICES",
                                                                         "INSERT INTO NOTIFICATIONS"))]
    assert len(inserts) == 2 and all("ON CONFLICT" in s.upper() for s in inserts)
    # Two languages: one stencil each, plus one ordinary render of a row to check it.
    assert len(renders) == 4
    emails, notices = _reminders(db)
    assert pending == [(SEND_BATCH_TASK, (sorted(n.id for n in emails),))]
    # The texts are those rendered row by row, each in the recipient's language, the
    # organization's name escaped in the HTML body only.
    by_user = {n.recipient_id: n for n in emails}
    for user in users:
        org_id, org_name = orgs[user.id]
        note = by_user[user.id]
        assert note.locale == user.locale
        with app.test_request_context():
            link = notifications.absolute_url(f"/organizations/{org_id}")
            subject, text, body_text, body_html = compose(
                user, "reminder_annual_report_due",
                {"org_name": org_name, "year": 2025, "due": "2026-05-31", "offset": 7, "days": 7, "link": link}, None)
        assert (note.subject, note.body_text, note.body_html) == (subject, body_text, body_html)
        assert next(n.text for n in notices if n.user_id == user.id) == text
    odd = by_user[users[1].id]
    assert '<b>&"甲"</b> 协会' in odd.body_text and "&lt;b&gt;&amp;" in odd.body_html and "<b>&" not in odd.body_html


@pytest.mark.sqlite
def test_the_bulk_path_and_batch_delivery_on_sqlite(tmp_path, services_ready):
    from flask_migrate import upgrade

    from procure import create_app
    from procure.extensions import db as sdb
    from procure.notifications import delivery
    from procure.notifications.models import NotificationState

    from ..conftest import app_config
    from ..factories import Factory

    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'bulk.sqlite'}"))
    with app.app_context():
        upgrade()
        make = Factory(sdb)
        users = _late_orgs(make, 5)
        with app.test_request_context():
            assert engine.scan(ON, only=["annual_report.due"]) == {"annual_report.due": 5}
            sdb.session.commit()
            assert engine.scan(ON, only=["annual_report.due"]) == {"annual_report.due": 0}
            sdb.session.commit()
        emails, notices = _reminders(sdb)
        assert sorted(n.recipient_id for n in emails) == sorted(u.id for u in users) and len(notices) == 5
        assert delivery.deliver_batch([n.id for n in emails]) == {}
        sdb.session.expire_all()
        assert {n.state for n in _reminders(sdb)[0]} == {NotificationState.SENT}
        sdb.session.remove()


def test_a_template_that_transforms_a_value_is_rendered_row_by_row(app, db, make, monkeypatch):
    from types import SimpleNamespace

    from jinja2 import ChoiceLoader, DictLoader

    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([DictLoader({
        "email/test_shout.txt": "{% extends 'email/base.txt' %}{% block subject %}{{ org_name|upper }}"
                                "{% endblock %}{% block body %}{{ org_name|truncate(12) }}{% endblock %}",
        "email/test_shout.html": "{% extends 'email/base.html' %}{% block body %}{{ org_name|upper }}"
                                 "{% endblock %}"}), app.jinja_env.loader]))
    people = [SimpleNamespace(id=u.id, email=u.email, name=u.name, locale="en") for u in make.users_bulk(3)]
    make.commit()
    items = [notifications.Outgoing(p, f"shout:{p.id}", {"org_name": f"association number {p.id} of the city"})
             for p in people]
    with app.test_request_context():
        written, ids = notifications.notify_bulk(items, "test_shout", rule="test.shout")
        db.session.commit()
    assert written == 3 and len(ids) == 3
    for note in db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids))):
        name = f"association number {note.recipient_id} of the city"
        assert note.subject == name.upper()
        assert name.upper() in note.body_html and name[:9] in note.body_text and name not in note.body_text
