"""Queue a Celery task to be sent when the outermost transaction commits.

``after_commit("workers.mail.send_notification", note.id)`` remembers the task in the
session; it is sent (by name: services never import workers) only when the session's
root transaction commits, so a worker always finds the rows the task is about. A
savepoint (``begin_nested``) does not count: SQLAlchemy 2.x fires its ``after_commit``
event when a savepoint is released, while the outer transaction may still roll back. A
task queued inside a savepoint that is rolled back, or inside a root transaction that
is rolled back, is forgotten.

If the broker cannot be reached at that moment the task is lost; every caller keeps its
work in a table (outbox row, queued job) that a beat sweep sends again, so a lost send
only delays it.

How it tells the cases apart (see ``SessionTransaction.commit`` in SQLAlchemy's
``orm/session.py``): ``after_commit`` runs before the transaction is closed, so
``session.get_nested_transaction()`` is the savepoint being released, or None for the
root transaction; ``after_transaction_end`` runs after it is closed, for savepoints and
the root alike, committed or not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

#: Session.info keys: tasks waiting for their transaction, and tasks whose root
#: transaction has committed (sent once the transaction is closed).
_PENDING = "procure.dispatch.pending"
_READY = "procure.dispatch.ready"


@dataclass
class _Queued:
    name: str
    args: tuple
    #: The savepoint the task was queued in (None: the root transaction).
    owner: SessionTransaction | None = field(default=None, compare=False)


def after_commit(task_name: str, *args, session: Session | None = None) -> None:
    """Send the Celery task ``task_name(*args)`` once the current (outermost)
    transaction of ``session`` (default: ``db.session``) commits; forget it if that
    transaction, or the savepoint it was queued in, rolls back."""
    if session is None:
        from .extensions import db

        session = db.session()
    session.info.setdefault(_PENDING, []).append(
        _Queued(task_name, tuple(args), session.get_nested_transaction()))


def pending(session: Session | None = None) -> list[tuple[str, tuple]]:
    """The tasks waiting for the current transaction to commit (for tests)."""
    if session is None:
        from .extensions import db

        session = db.session()
    return [(q.name, q.args) for q in session.info.get(_PENDING, [])]


def send(task_name: str, *args) -> bool:
    """Send a task now (by name). False when the broker could not be reached; the
    caller's sweep will send it again. In eager mode (tests) the task's own error is
    raised."""
    celery = current_app.extensions.get("celery")
    if celery is None:
        return False
    task = celery.tasks.get(task_name)
    try:
        if task is not None:
            task.delay(*args)  # honours task_always_eager (tests)
        else:
            celery.send_task(task_name, args=list(args))
    except Exception:  # broker down: left for the sweep
        if celery.conf.task_always_eager:
            raise  # in eager mode this is the task's own error, not the broker's
        log.warning("could not send %s%r; left for the sweep", task_name, args, exc_info=True)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    queued = session.info.get(_PENDING)
    if not queued:
        return
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        # A savepoint released: its tasks now belong to the enclosing transaction.
        parent = savepoint.parent
        heir = parent if parent is not None and parent.nested else None
        for q in queued:
            if q.owner is savepoint:
                q.owner = heir
        return
    # The root transaction committed: send once it is closed (the session can then
    # begin a new transaction, which an eager task in tests needs).
    session.info.setdefault(_READY, []).extend(session.info.pop(_PENDING))


@event.listens_for(Session, "after_transaction_end")
def _on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        queued = session.info.get(_PENDING)
        if queued:  # still owned by this savepoint: it was rolled back
            session.info[_PENDING] = [q for q in queued if q.owner is not transaction]
        return
    if transaction.parent is not None:
        return
    # The root transaction ended: whatever still waits was rolled back.
    session.info.pop(_PENDING, None)
    ready = session.info.pop(_READY, None)
    for q in ready or ():
        send(q.name, *q.args)
