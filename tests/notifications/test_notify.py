"""notify: the email and the in-app notice written together in the caller's transaction,
in each recipient's language; the optional dedupe key; mutes; recipients without email."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from procure import dispatch
from procure.notifications import services as notifications
from procure.notifications.models import Mute, Notice, Notification
from procure.notifications.services import SEND_TASK
from procure.roles import Role


def _count(conn_or_session, model) -> int:
    return conn_or_session.scalar(sa.select(sa.func.count()).select_from(model.__table__))


@pytest.fixture()
def people(make):
    zh = make.user(Role.OFFICER, locale="zh_CN")
    en = make.user(Role.OFFICER, locale="en")
    make.commit()
    return zh, en


def _welcome(users, **kw):
    return notifications.notify(users, "welcome", context={"link": "https://example.org/login"}, **kw)


def test_email_and_notice_are_written_in_the_callers_transaction(db, people):
    zh, en = people
    written = _welcome([zh, en], link="/dashboard")
    assert len(written) == 2 and all(w.email is not None for w in written)
    # Flushed into this transaction, visible to it …
    assert _count(db.session, Notice) == 2 and _count(db.session, Notification) == 2
    assert dispatch.pending() == [(SEND_TASK, (w.email.id,)) for w in written]
    # … but not committed: another connection sees nothing yet.
    with db.engine.connect() as other:
        assert _count(other, Notice) == 0 and _count(other, Notification) == 0
    db.session.commit()
    with db.engine.connect() as other:
        assert _count(other, Notice) == 2 and _count(other, Notification) == 2
    note = db.session.scalar(sa.select(Notification).where(Notification.recipient_id == en.id))
    assert note.to_email == en.email and note.rule == "welcome"
    assert note.dedupe_key is None and note.message_id.startswith(f"<notification-{note.id}-")
    notice = db.session.scalar(sa.select(Notice).where(Notice.user_id == en.id))
    assert notice.link == "/dashboard" and notice.rule == "welcome" and not notice.is_critical


def test_nothing_remains_after_a_rollback(db, people):
    _welcome(people, dedupe_key="welcome-again")
    db.session.rollback()
    assert _count(db.session, Notice) == 0 and _count(db.session, Notification) == 0
    assert dispatch.pending() == []


def test_texts_in_each_recipients_language_subject_from_the_template(db, people):
    zh, en = people
    _welcome([zh, en])
    by_user = {n.recipient_id: n for n in db.session.scalars(sa.select(Notification))}
    notices = {n.user_id: n for n in db.session.scalars(sa.select(Notice))}
    assert by_user[en.id].subject == "Your Procure account" and by_user[en.id].locale == "en"
    assert by_user[en.id].body_text.startswith(f"Hello {en.name},")
    assert "Your user name is" in by_user[en.id].body_html and "program officer" in by_user[en.id].body_text.lower()
    assert notices[en.id].text.startswith("Welcome to Procure. Your user name is")
    assert by_user[zh.id].subject == "您的 Procure 账号" and by_user[zh.id].locale == "zh_CN"
    assert "您好" in by_user[zh.id].body_text and "欢迎使用 Procure" in notices[zh.id].text
    # The subject is not repeated in the body; the link the caller gave is in both parts.
    assert "Your Procure account" not in by_user[en.id].body_text
    assert "https://example.org/login" in by_user[en.id].body_text


def test_the_same_dedupe_key_never_yields_a_second_email_or_notice(db, people):
    zh, en = people
    assert len(_welcome([zh], dedupe_key="welcome")) == 1
    db.session.commit()
    # The same key: nothing for zh again, but en (a new recipient) gets theirs.
    written = _welcome([zh, en], dedupe_key="welcome")
    assert [w.user_id for w in written] == [en.id]
    assert _welcome([zh, en], dedupe_key="welcome") == []
    db.session.commit()
    assert _count(db.session, Notice) == 2 and _count(db.session, Notification) == 2
    assert {n.dedupe_key for n in db.session.scalars(sa.select(Notice))} == {f"welcome:{zh.id}", f"welcome:{en.id}"}
    # Without a key every call writes: one-off messages are never merged.
    _welcome([zh])
    _welcome([zh])
    assert _count(db.session, Notice) == 4


def test_a_key_written_by_a_concurrent_writer_loses_quietly(db, people):
    # Another transaction committed the email with this key between our check and our
    # insert: the unique index refuses ours; the savepoint keeps the caller's work.
    zh, en = people
    db.session.add(Notification(dedupe_key=f"welcome:{zh.id}", rule="welcome", to_email=zh.email, locale="zh_CN",
                                subject="s", body_text="b", body_html="b", recipient_id=zh.id))
    db.session.commit()
    written = _welcome([zh, en], dedupe_key="welcome")
    assert [w.user_id for w in written] == [en.id]
    db.session.commit()
    assert db.session.scalars(sa.select(Notice.user_id)).all() == [en.id]


def test_mutes_are_respected_unless_critical(db, people):
    zh, en = people
    db.session.add(Mute(user_id=en.id, rule="welcome"))
    db.session.commit()
    assert [w.user_id for w in _welcome([zh, en])] == [zh.id]
    assert [w.user_id for w in _welcome([zh, en], critical=True)] == [zh.id, en.id]
    assert db.session.scalar(sa.select(Notice).where(Notice.user_id == en.id)).is_critical
    # A mute of another topic changes nothing.
    assert len(_welcome([zh, en], rule="other.topic")) == 2


def test_recipients_without_email_still_get_the_notice(db, people):
    zh, _en = people
    no_mail = SimpleNamespace(id=zh.id, email="", name=zh.name, locale="en", username=zh.username, role=zh.role)
    [w] = _welcome([no_mail, None])
    assert w.email is None and w.notice.text.startswith("Welcome to Procure")
    assert _count(db.session, Notification) == 0 and _count(db.session, Notice) == 1
    assert dispatch.pending() == []


def test_each_recipient_is_told_once_per_call(db, people):
    zh, _en = people
    assert len(_welcome([zh, zh])) == 1


def test_a_template_without_subject_is_refused(app, db, people, tmp_path):
    with pytest.raises(LookupError, match="subject"):
        notifications.notify(people[:1], "base")
