"""Every transition, allowed and forbidden, at the service level; each allowed one audited."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from procure import workflow
from procure.audit import AuditEvent
from procure.auth import services as accounts
from procure.auth.models import UserStatus
from procure.errors import InvalidTransition
from procure.notifications import services as outbox
from procure.notifications.models import ALLOWED as NOTE_ALLOWED
from procure.notifications.models import Notification, NotificationState
from procure.roles import Role

MACHINES = [
    ("user", UserStatus, accounts.USER_ALLOWED),
    ("notification", NotificationState, NOTE_ALLOWED),
]


@pytest.mark.parametrize(("name", "states", "allowed"), MACHINES)
def test_check_matches_the_map_for_every_pair(name, states, allowed):
    for a, b in itertools.product(states, states):
        if b in allowed.get(a, frozenset()):
            workflow.check(allowed, a, b)
        else:
            with pytest.raises(InvalidTransition):
                workflow.check(allowed, a, b)


def _transitions(db):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "transition")
                              .order_by(AuditEvent.seq)).all()


def test_user_disable_and_enable_are_audited(db, make):
    admin, user = make.admin(), make.user(Role.OFFICER)
    accounts.set_user_status(admin, user, UserStatus.DISABLED, reason="left the bureau")
    accounts.set_user_status(admin, user, UserStatus.ACTIVE)
    db.session.commit()
    events = _transitions(db)
    assert [(e.before, e.after) for e in events] == [
        ({"status": "active"}, {"status": "disabled", "reason": "left the bureau"}),
        ({"status": "disabled"}, {"status": "active"}),
    ]
    assert all(e.actor_id == admin.id for e in events)


@pytest.mark.parametrize("status", list(UserStatus))
def test_user_to_same_status_is_refused(db, make, status):
    admin, user = make.admin(), make.user(Role.FINANCE)
    user.status = status
    with pytest.raises(InvalidTransition):
        accounts.set_user_status(admin, user, status)


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
    assert _transitions(db)[-1].after["state"] == "sent"


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
                workflow.check(accounts.USER_ALLOWED, UserStatus.ACTIVE, UserStatus.ACTIVE)
            assert str(exc.value.message) == "Cannot change from “Active” to “Active”."
