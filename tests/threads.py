"""Real threads racing on PostgreSQL, each in its own app context and session, committing
or rolling back like a request (shared by the race tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from procure.errors import DomainError


def race(app, fns: Sequence[Callable], refusal: type[Exception] = DomainError):
    """Run each of ``fns`` (called with the thread's ``db``) in its own thread, released
    together. Returns (indexes that committed, [(index, error type name, message)] of the
    refusals); fails on any other error and on a thread that hangs (a deadlock)."""
    barrier = threading.Barrier(len(fns))
    ok, refused, errors = [], [], []

    def worker(i, fn):
        with app.app_context():
            from procure.extensions import db

            try:
                barrier.wait(timeout=60)  # generous: a loaded machine starts threads slowly
                fn(db)
                db.session.commit()
                ok.append(i)
            except refusal as exc:
                db.session.rollback()
                refused.append((i, type(exc).__name__, str(exc.message)))
            except Exception as exc:  # pragma: no cover - reported below
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    assert errors == [], errors
    return ok, refused
