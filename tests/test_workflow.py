"""Every state machine of the registry: every allowed and every forbidden pair; each
allowed move audited under its own action name; a stale read refused (compare-and-set)."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

import procure.models  # noqa: F401 - every module's machines registered
from procure import workflow
from procure.audit import AuditEvent
from procure.auth import services as accounts
from procure.auth.models import UserStatus
from procure.errors import Conflict, InvalidTransition
from procure.notifications import services as outbox
from procure.notifications.models import Notification, NotificationState
from procure.roles import Role


def test_registry_holds_every_machine():
    names = set(workflow.MACHINES)
    assert {"project", "user", "notification", "job", "credit_entry", "rating", "annual_report"} <= names


@pytest.mark.parametrize("name", sorted(workflow.MACHINES))
def test_check_matches_the_map_for_every_pair(name):
    m = workflow.MACHINES[name]
    for a, b in itertools.product(m.states, m.states):
        if b in m.allowed[a]:
            m.check(a, b)
            assert m.action(a, b).startswith(m.prefix + ".")
        else:
            with pytest.raises(InvalidTransition):
                m.check(a, b)


@pytest.mark.parametrize("name", sorted(workflow.MACHINES))
def test_every_allowed_move_reads_as_a_chinese_label(app, name):
    from flask_babel import force_locale

    from procure import history

    m = workflow.MACHINES[name]
    with app.test_request_context(), force_locale("zh_CN"):
        for a in m.states:
            for b in m.allowed[a]:
                ev = AuditEvent(action=m.action(a, b), object_type="x", object_id="1", before=None, after=None)
                label = history.action_label(ev)
                assert label != ev.action and not label.isascii(), (ev.action, label)


def _transitions(db, machine="user"):
    m = workflow.MACHINES[machine]
    actions = {m.action(a, b) for a in m.states for b in m.allowed[a]}
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.in_(actions))
                              .order_by(AuditEvent.seq)).all()


def test_user_disable_and_enable_are_audited(db, make):
    admin, user = make.admin(), make.user(Role.OFFICER)
    accounts.set_user_status(admin, user, UserStatus.DISABLED, reason="left the bureau")
    accounts.set_user_status(admin, user, UserStatus.ACTIVE)
    db.session.commit()
    events = _transitions(db)
    assert [(e.action, e.before, e.after["status"]) for e in events] == [
        ("user.disable", {"status": "active"}, "disabled"),
        ("user.enable", {"status": "disabled"}, "active"),
    ]
    assert events[0].after["reason"] == "left the bureau"
    assert all(e.actor_id == admin.id for e in events)


@pytest.mark.parametrize("status", list(UserStatus))
def test_user_to_same_status_is_refused(db, make, status):
    admin, user = make.admin(), make.user(Role.FINANCE)
    user.status = status
    with pytest.raises(InvalidTransition):
        accounts.set_user_status(admin, user, status)


def test_a_stale_read_is_refused_not_overwritten(app, db, make):
    """Another session moves the row first; this session's read is stale: Conflict, and
    the other session's state stands."""
    admin, user = make.admin(), make.user(Role.OFFICER)
    db.session.commit()
    user = db.session.get(type(user), user.id)
    assert user.status == UserStatus.ACTIVE  # read now, acted on below
    with app.app_context():
        from procure.extensions import db as other

        other_user = other.session.get(type(user), user.id)
        other_admin = other.session.get(type(admin), admin.id)
        accounts.set_user_status(other_admin, other_user, UserStatus.DISABLED, reason="first")
        other.session.commit()
        other.session.remove()
    with pytest.raises(Conflict):
        accounts.set_user_status(admin, user, UserStatus.DISABLED, reason="second")
    db.session.rollback()
    assert db.session.get(type(user), user.id).status == UserStatus.DISABLED
    assert [e.after["reason"] for e in _transitions(db)] == ["first"]


def _note(db, state=NotificationState.QUEUED):
    note = Notification(dedupe_key=f"k-{state}", rule="test", to_email="a@example.org", locale="zh_CN",
                        subject="s", body_text="t", body_html="h", state=state)
    db.session.add(note)
    db.session.flush()
    return note


def test_notification_queued_to_sent(db):
    note = _note(db)
    outbox.mark_sent(note)
    assert note.state == NotificationState.SENT and note.sent_at is not None and note.attempts == 1
    db.session.commit()
    assert _transitions(db, "notification")[-1].action == "notification.send"


def test_notification_fails_for_good_after_max_attempts(app, db):
    note = _note(db)
    delays = [outbox.record_failure(note, "421 try later") for _ in range(app.config["MAIL_MAX_ATTEMPTS"])]
    assert all(d is not None for d in delays[:-1]) and delays[-1] is None
    assert delays[:3] == [0.5, 1.0, 2.0]  # exponential, capped at MAIL_RETRY_MAX_SECONDS
    assert note.state == NotificationState.FAILED


def test_notification_permanent_failure(db):
    note = _note(db)
    assert outbox.record_failure(note, "550 no such user", permanent=True) is None
    assert note.state == NotificationState.FAILED


def test_failed_notification_requeued_by_admin(db, make):
    note = _note(db, NotificationState.FAILED)
    outbox.requeue(make.admin(), note)
    assert note.state == NotificationState.QUEUED


@pytest.mark.parametrize("state", [NotificationState.QUEUED, NotificationState.SENT])
def test_requeue_refused_unless_failed(db, make, state):
    note = _note(db, state)
    with pytest.raises(InvalidTransition):
        outbox.requeue(make.admin(), note)


def test_sent_notification_cannot_be_sent_or_failed_again(db):
    note = _note(db, NotificationState.SENT)
    with pytest.raises(InvalidTransition):
        outbox.mark_sent(note)
    with pytest.raises(InvalidTransition):
        outbox.record_failure(note, "x", permanent=True)


def test_invalid_transition_message_is_translated(app, db):
    from flask_babel import force_locale

    with app.test_request_context():
        with force_locale("en"):
            with pytest.raises(InvalidTransition) as exc:
                workflow.MACHINES["user"].check(UserStatus.ACTIVE, UserStatus.ACTIVE)
            assert str(exc.value.message) == "Cannot change from “Active” to “Active”."
