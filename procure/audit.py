"""The audit trail: an append-only, hash-chained log of every governed change.

Each event stores the SHA-256 of its own canonical content together with the hash of
the event before it, so an edited, deleted or inserted row breaks the chain, and
``flask audit verify`` names the first broken link.

Services ``record`` events during their transaction; they are appended to the chain
just before the transaction commits (``write_pending``, from a ``before_commit`` hook,
after the session's other changes are flushed). So the chain's lock is always the last
lock a transaction takes and is held for milliseconds: a service may audit first and
lock money rows second without ever deadlocking against another that does the opposite.

How appends are serialized (so concurrent writers cannot fork the chain):
* On PostgreSQL the append first takes a transaction-level advisory lock
  (``pg_advisory_xact_lock``); the next writer waits until the holder commits or rolls
  back, then reads the new head. The lock is released with the transaction, so the
  chain head and the change it records commit together.
* On SQLite a writing transaction holds the database's single write lock.
* Whatever the database, ``prev_hash`` and ``seq`` are UNIQUE: two events can never
  claim the same predecessor, so a fork is refused by the database itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, event, func, insert, or_, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.util import find_tables

from .extensions import db
from .timeutil import utcnow

GENESIS = "0" * 64

#: Human names of actions and object types for the audit pages; modules add theirs.
ACTION_LABELS: dict[str, object] = {}
OBJECT_LABELS: dict[str, object] = {}


def describe(action: str, object_type: str) -> tuple[str, str]:
    """(action, object type) as the user reads them; unknown codes are shown as they are."""
    return str(ACTION_LABELS.get(action, action)), str(OBJECT_LABELS.get(object_type, object_type))


#: Arbitrary constant naming the advisory lock that guards the chain head.
CHAIN_LOCK_KEY = 7_301_955_001


class AuditEvent(db.Model):
    """One governed change: who, what, when, from which state or values to which."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: Position in the chain, 1, 2, 3 … without gaps.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: e.g. "user.create", "user.update", "transition".
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str] = mapped_column(String(64), nullable=False)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)

    actor = relationship("User", lazy="joined")

    __table_args__ = (db.Index("ix_audit_events_object", "object_type", "object_id"),)

    def payload(self) -> dict:
        return _payload(self.seq, self.created_at, self.actor_id, self.action, self.object_type,
                        self.object_id, self.before, self.after, self.prev_hash)

    def compute_hash(self) -> str:
        return _hash(self.payload())


def _payload(seq, created_at, actor_id, action, object_type, object_id, before, after, prev_hash) -> dict:
    """What an event's hash covers (the same for a row read back and one being written)."""
    return {"seq": seq, "created_at": created_at.isoformat(timespec="microseconds"), "actor_id": actor_id,
            "action": action, "object_type": object_type, "object_id": object_id, "before": before,
            "after": after, "prev_hash": prev_hash}


def _hash(payload: dict) -> str:
    return hashlib.sha256(canonical(payload).encode()).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON-serializable in an audit event: {type(value).__name__}")


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_json_default)


def _plain(data: dict | None) -> dict | None:
    """Bring values to what JSON stores, so the hash computed now is the hash read back."""
    if data is None:
        return None
    return json.loads(canonical(data))


def _lock_chain() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})


def _head() -> tuple[int, str]:
    """(seq, hash) of the chain's last event, under the chain lock."""
    _lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (head.seq, head.hash) if head else (0, GENESIS)


#: Callables giving a SQL condition on AuditEvent true for events that no audit page may
#: show yet (e.g. the events of a sealed bid before its tender's opening): modules append.
HIDDEN_EVENTS: list = []


def shown_events(stmt):
    """``stmt`` (a select of AuditEvent) without the events still hidden by a seal."""
    for hidden in HIDDEN_EVENTS:
        stmt = stmt.where(~hidden())
    return stmt


def hidden_count() -> int:
    """How many events a seal still hides (to subtract from the chain's length)."""
    if not HIDDEN_EVENTS:
        return 0
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(or_(*(hidden() for hidden in HIDDEN_EVENTS)))) or 0


# --- sealed fields ------------------------------------------------------------------

#: Fields whose values never enter the chain, per object type: only their SHA-256 does.
#: Modules declare theirs with :func:`seal` (e.g. a bid's price before the opening).
SEALED_FIELDS: dict[str, frozenset[str]] = {}
SEALED_PREFIX = "sha256:"


def seal(object_type: str, *fields: str) -> None:
    """Declare ``fields`` of ``object_type`` sealed: audited as their hash only."""
    SEALED_FIELDS[object_type] = SEALED_FIELDS.get(object_type, frozenset()) | frozenset(fields)


def sealed_hash(value: Any) -> str:
    """What a sealed value becomes in the chain (comparable with the value once opened)."""
    return SEALED_PREFIX + hashlib.sha256(canonical(value).encode()).hexdigest()


def _seal(object_type: str, data: dict | None) -> dict | None:
    fields = SEALED_FIELDS.get(object_type)
    if not data or not fields:
        return data
    return {k: (sealed_hash(v) if k in fields and v is not None else v) for k, v in data.items()}


# --- recording: collected during the transaction, chained just before commit --------

@dataclass(slots=True)
class _Pending:
    created_at: datetime
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    before: dict | None
    after: dict | None
    #: The (sub)transaction that recorded it: a rolled-back savepoint drops its events.
    transaction: Any = None


def _pending(session) -> list[_Pending]:
    return session.info.setdefault("audit_pending", [])


def record(actor, action: str, obj_or_type: Any, object_id: Any = None, *,
           before: dict | None = None, after: dict | None = None) -> None:
    """Record an audit event of the current transaction (never commits).

    The event is appended to the hash chain just before the transaction commits, so the
    chain's lock is the last lock the transaction takes, held for milliseconds; a
    rollback drops it with the change it describes. ``obj_or_type`` is a model instance
    (its ``__tablename__`` and id are used) or a type name with ``object_id``. Sealed
    fields (:func:`seal`) are replaced by their hash here, before anything is stored.
    """
    if isinstance(obj_or_type, str):
        object_type, oid = obj_or_type, object_id
    else:
        if obj_or_type.id is None:
            db.session.flush()
        object_type, oid = obj_or_type.__tablename__, obj_or_type.id
    session = db.session()
    if session.get_transaction() is None:
        session.begin()  # so that a rollback from here on drops the event
    _pending(session).append(_Pending(
        utcnow(), getattr(actor, "id", actor), action, object_type, str(oid),
        _plain(_seal(object_type, before)), _plain(_seal(object_type, after)),
        session.get_nested_transaction() or session.get_transaction()))


def record_many(actor, items: Iterable[tuple[str, str, Any, dict | None, dict | None]]) -> int:
    """Record many events at once, as ``record`` would one by one. ``items`` are
    (action, object_type, object_id, before, after). Returns how many were recorded."""
    n = 0
    for action, object_type, oid, before, after in items:
        record(actor, action, object_type, oid, before=before, after=after)
        n += 1
    return n


def write_pending(session=None, *, batch: int = 5000) -> int:
    """Append the transaction's recorded events to the chain (one lock, one head read,
    bulk INSERTs). Called just before commit; flushes the session's other changes first
    so that the chain lock is the last lock taken. Returns how many were written."""
    session = session or db.session()
    items = session.info.get("audit_pending")
    if not items:
        return 0
    session.flush()
    items = session.info.pop("audit_pending", [])
    if not items:
        return 0
    seq, prev = _head()
    # Rows are built and inserted a batch at a time, and the pending list is consumed as
    # it goes: memory stays that of one batch however many events a long import recorded.
    items.reverse()
    written = 0
    while items:
        rows = []
        while items and len(rows) < batch:
            p = items.pop()
            seq += 1
            row = _payload(seq, p.created_at, p.actor_id, p.action, p.object_type, p.object_id,
                           p.before, p.after, prev)
            prev = _hash(row)
            row.update(created_at=p.created_at, hash=prev)
            rows.append(row)
        session.execute(insert(AuditEvent), rows)
        written += len(rows)
    return written


@event.listens_for(Session, "before_commit")
def _chain_before_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint: its events wait for the outer commit
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _chain_before_reading_it(state):
    # Like autoflush: a transaction that reads the audit trail after recording events sees
    # them (tests, a page that shows what it just did). It takes the chain lock early, so
    # services must not do this in the middle of their work.
    if state.is_select and state.session.info.get("audit_pending") and not state.session._flushing \
            and AuditEvent.__table__ in find_tables(state.statement, include_joins=True):
        write_pending(state.session)


@event.listens_for(Session, "after_commit")
def _savepoint_released(session):
    # Fired for a released savepoint too: its events now belong to the enclosing
    # transaction (and are written when that one commits).
    nested = session.get_nested_transaction()
    if nested is None:
        return
    for p in session.info.get("audit_pending", ()):
        if p.transaction is nested:
            p.transaction = nested.parent


@event.listens_for(Session, "after_transaction_end")
def _drop_after_rollback(session, transaction):
    items = session.info.get("audit_pending")
    if not items:
        return
    if transaction.parent is None:
        # The outer transaction ended without writing them: it was rolled back.
        session.info.pop("audit_pending", None)
    elif transaction.nested:
        # Still tagged with this savepoint: it was rolled back, and its events with it.
        session.info["audit_pending"] = [p for p in items if p.transaction is not transaction]


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first event whose link or content is wrong."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    while True:
        rows = db.session.execute(
            select(AuditEvent).where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            return ChainReport(True, checked)
        for ev in rows:
            if ev.seq != expected_seq:
                return ChainReport(False, checked, ev.seq, ev.id,
                                   f"expected event #{expected_seq}, found #{ev.seq} (deleted row)")
            if ev.prev_hash != prev_hash:
                return ChainReport(False, checked, ev.seq, ev.id,
                                   "prev_hash does not match the previous event (deleted or inserted row)")
            if ev.compute_hash() != ev.hash:
                return ChainReport(False, checked, ev.seq, ev.id,
                                   "content does not match its hash (edited row)")
            prev_hash, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
        db.session.expunge_all()


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - guard
    raise RuntimeError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):  # pragma: no cover - guard
    raise RuntimeError("audit events are append-only")
