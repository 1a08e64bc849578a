"""The hash-chained audit trail."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from procure import audit
from procure.audit import AuditEvent, verify_chain


def _events(db, n=5):
    for i in range(n):
        audit.record(None, "test.event", "things", i, before={"v": i}, after={"v": i + 1})
    db.session.commit()


def test_chain_holds_and_links(db):
    _events(db, 5)
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    for a, b in zip(rows, rows[1:], strict=False):
        assert b.prev_hash == a.hash
    report = verify_chain()
    assert report.ok and report.checked == 5


def test_record_many_continues_the_chain_as_record_would(db):
    from decimal import Decimal

    _events(db, 2)
    n = audit.record_many(None, [("test.bulk", "things", i, None, {"amount": Decimal("1.50"), "i": i})
                                 for i in range(3)])
    assert audit.record_many(None, []) == 0
    audit.record(None, "test.event", "things", 99)
    db.session.commit()
    assert n == 3
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[2].after == {"amount": "1.50", "i": 0}
    report = verify_chain()
    assert report.ok and report.checked == 6


def test_edited_row_is_detected(db):
    _events(db)
    db.session.execute(sa.text("UPDATE audit_events SET after = :a WHERE seq = 3"), {"a": '{"v": 999}'})
    db.session.commit()
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == 3
    assert "edited" in report.reason


def test_deleted_row_is_detected(db):
    _events(db)
    db.session.execute(sa.text("DELETE FROM audit_events WHERE seq = 2"))
    db.session.commit()
    report = verify_chain()
    assert not report.ok and report.broken_seq == 3


def test_deleted_last_rows_leave_a_valid_prefix(db):
    # Truncating the tail cannot be seen from the chain alone; the prefix stays valid.
    _events(db)
    db.session.execute(sa.text("DELETE FROM audit_events WHERE seq = 5"))
    db.session.commit()
    assert verify_chain().ok


def test_inserted_row_is_detected(db):
    _events(db)
    # Make room after #2 and insert a well-formed event there. It cannot claim #2 as its
    # predecessor (prev_hash is UNIQUE and #3 holds it), so it names another hash.
    db.session.execute(sa.text("UPDATE audit_events SET seq = seq + 100 WHERE seq > 2"))
    db.session.execute(sa.text("UPDATE audit_events SET seq = seq - 99 WHERE seq > 100"))
    second = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 2))
    forged = AuditEvent(seq=3, created_at=second.created_at, actor_id=None, action="forged",
                        object_type="things", object_id="x", before=None, after={"v": 0},
                        prev_hash="a" * 64)
    forged.hash = forged.compute_hash()
    db.session.add(forged)
    db.session.commit()
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == 3 and "inserted" in report.reason


def test_cli_verify_exit_codes(app, db):
    _events(db, 3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "OK: 3 events" in ok.output
    db.session.execute(sa.text("UPDATE audit_events SET action = 'x' WHERE seq = 2"))
    db.session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "#2" in bad.output


def test_orm_refuses_update_and_delete(db):
    _events(db, 1)
    ev = db.session.scalar(sa.select(AuditEvent))
    ev.action = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_fork_is_refused_by_the_database(db):
    _events(db, 2)
    head = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.seq == 2))
    fork = AuditEvent(seq=99, created_at=head.created_at, action="fork", object_type="t", object_id="1",
                      prev_hash=head.prev_hash, hash="f" * 64)
    db.session.add(fork)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_concurrent_writers_do_not_fork_the_chain(app, db):
    """Eight threads, each with its own connection and transaction, append at once."""
    errors: list[Exception] = []
    barrier = threading.Barrier(8)

    def writer(n):
        with app.app_context():
            try:
                barrier.wait()
                for i in range(5):
                    audit.record(None, "concurrent", "things", f"{n}-{i}", after={"n": n, "i": i})
                    db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain()
    assert report.ok and report.checked == 40


def _actions(db):
    return [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq))]


def test_events_are_chained_at_commit_and_dropped_with_a_rollback(db):
    audit.record(None, "test.kept", "things", 1)
    try:
        with db.session.begin_nested():
            audit.record(None, "test.in_rolled_back_savepoint", "things", 2)
            raise RuntimeError("undo the savepoint")
    except RuntimeError:
        pass
    with db.session.begin_nested():
        audit.record(None, "test.in_released_savepoint", "things", 3)
    assert db.session.info.get("audit_pending")  # nothing written before the commit
    db.session.commit()
    audit.record(None, "test.rolled_back", "things", 4)
    db.session.rollback()
    db.session.commit()
    assert _actions(db) == ["test.kept", "test.in_released_savepoint"]
    assert verify_chain().ok


def test_the_chain_lock_is_not_taken_before_commit(app, db):
    """Recording an event takes no lock: another transaction can append meanwhile."""
    audit.record(None, "test.first_recorded", "things", 1)
    with app.app_context():
        from procure.extensions import db as other

        audit.record(None, "test.other", "things", 2)
        other.session.commit()  # would wait forever on the chain lock if record() took it
        other.session.remove()
    db.session.commit()
    assert _actions(db) == ["test.other", "test.first_recorded"]
    assert verify_chain().ok
