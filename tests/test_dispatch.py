"""procure.dispatch: a task queued in a transaction is sent when the OUTERMOST
transaction commits, never when a savepoint is released, and is forgotten when its
savepoint or its transaction rolls back."""

from __future__ import annotations

import pytest

from procure import dispatch
from procure.roles import Role


@pytest.fixture()
def sent(db, monkeypatch):
    out: list[tuple[str, tuple]] = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args: out.append((name, args)))
    db.session.rollback()
    return out


def test_sent_after_the_outer_commit_not_at_a_savepoint_release(db, make, sent):
    make.user(Role.FINANCE)  # the transaction is open
    dispatch.after_commit("t.a", 1)
    with db.session.begin_nested():
        dispatch.after_commit("t.b", 2)
        with db.session.begin_nested():
            dispatch.after_commit("t.c", 3)
    assert sent == []  # two savepoints released: the outer transaction is still open
    assert dispatch.pending() == [("t.a", (1,)), ("t.b", (2,)), ("t.c", (3,))]
    db.session.commit()
    assert sent == [("t.a", (1,)), ("t.b", (2,)), ("t.c", (3,))]
    db.session.commit()  # an empty second commit sends nothing again
    assert len(sent) == 3 and dispatch.pending() == []


def test_a_rolled_back_savepoint_forgets_only_its_own_tasks(db, make, sent):
    make.user(Role.FINANCE)
    dispatch.after_commit("t.kept", 1)
    savepoint = db.session.begin_nested()
    dispatch.after_commit("t.dropped", 2)
    with db.session.begin_nested():
        dispatch.after_commit("t.dropped.inner", 3)
    savepoint.rollback()
    with db.session.begin_nested():
        dispatch.after_commit("t.kept.later", 4)
    db.session.commit()
    assert sent == [("t.kept", (1,)), ("t.kept.later", (4,))]


def test_a_rolled_back_transaction_sends_nothing(db, make, sent):
    make.user(Role.FINANCE)
    dispatch.after_commit("t.x", 1)
    with db.session.begin_nested():
        dispatch.after_commit("t.y", 2)
    db.session.rollback()
    db.session.commit()
    assert sent == [] and dispatch.pending() == []


def test_notify_is_dispatched_only_after_the_outer_commit(db, make, sent, app):
    """notify writes each row in a savepoint when given a dedupe key: the release must
    not send it (the worker would not find the row and drop it)."""
    from procure.notifications.services import SEND_TASK, notify

    users = make.users_bulk(3)
    with app.test_request_context():
        written = notify(users, "welcome", dedupe_key="d", context={"link": "http://x"})
        assert sent == [] and len(written) == 3
        db.session.commit()
    assert sent == [(SEND_TASK, (w.email.id,)) for w in written]


def test_a_failing_broker_does_not_fail_the_commit(db, make, app, monkeypatch):
    """Outside eager mode a send that cannot reach the broker is logged and left to the
    sweep."""
    celery = app.extensions["celery"]
    monkeypatch.setitem(celery.conf, "task_always_eager", False)

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(celery, "send_task", down)
    make.user(Role.FINANCE)
    dispatch.after_commit("workers.not_here.task", 1)
    db.session.commit()  # no exception
    assert dispatch.send("workers.not_here.task", 1) is False
