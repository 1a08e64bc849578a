"""State machines as data, and the one transition helper every service calls.

Each stateful model has one :class:`Machine`: its ``StrEnum`` of states, the allowed map,
the column that holds the state and the audit prefix. Machines register themselves in
:data:`MACHINES`, so one test walks every allowed and every forbidden pair of all of them.

A transition is compare-and-set: ``UPDATE … SET state = :to WHERE id = :id AND state =
:from``, where ``:from`` is the state the service read. When another transaction changed
the row first (it waits for that one's lock, then finds the state moved), no row matches
and the service gets :class:`~procure.errors.Conflict` — "someone else changed this first,
reload" — instead of overwriting the other person's work.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from . import audit
from .errors import Conflict, InvalidTransition
from .extensions import db

Allowed = Mapping[enum.StrEnum, frozenset]

#: Every state machine, by name.
MACHINES: dict[str, Machine] = {}

STALE = _l("Someone else changed this first. Reload the page to see the current state, then try again.")


#: The optional column counting an object's saved versions (see :func:`claim_revision`).
REVISION = "revision"


def claim_revision(obj, seen: int | None, **unchanged) -> None:
    """Compare-and-set for an edit: take the next revision of ``obj`` if it is still at
    ``seen`` (the revision the user's form was loaded at; ``None``: the one this request
    read) and its columns still hold ``unchanged`` (e.g. ``state=S.DRAFT``).

    Call it before changing any attribute: it writes ``revision = seen + 1`` with one
    ``UPDATE … WHERE id = :id AND revision = :seen``, which holds the row until the
    commit, so two people saving the same form never overwrite each other — the later
    one gets :class:`~procure.errors.Conflict` and keeps what they typed.
    """
    model = type(obj)
    seen = getattr(obj, REVISION) if seen is None else seen
    pk = inspect(model).primary_key[0]
    where = [pk == inspect(obj).identity[0], getattr(model, REVISION) == seen]
    where += [getattr(model, k) == v for k, v in unchanged.items()]
    result = db.session.execute(update(model).where(*where).values({REVISION: seen + 1})
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(STALE)
    set_committed_value(obj, REVISION, seen + 1)


def _label(state) -> str:
    return getattr(state, "label", state)


def check(allowed: Allowed, current: enum.StrEnum, to: enum.StrEnum) -> None:
    """Raise InvalidTransition unless ``current → to`` is in ``allowed``."""
    if to not in allowed.get(current, frozenset()):
        raise InvalidTransition(
            _l("Cannot change from “%(current)s” to “%(to)s”.", current=_label(current), to=_label(to)))


class Machine:
    """The states of one model and the moves between them.

    ``actions`` names each move for the audit trail: a mapping of target state (or
    ``(from, to)`` pair, which wins) to a verb, e.g. ``{S.APPROVED: "approve"}``; the
    event's action is ``"<prefix>.<verb>"``. A move without a name is audited as
    ``"<prefix>.<target state>"``. ``labels`` give each verb its translated label for the
    histories (a test requires one for every allowed move).
    """

    def __init__(self, name: str, states: type[enum.StrEnum], allowed: Allowed, *, field: str = "state",
                 prefix: str | None = None, actions: Mapping | None = None,
                 labels: Mapping[str, object] | None = None):
        if name in MACHINES:
            raise ValueError(f"state machine {name!r} defined twice")
        unknown = [s for s in allowed if s not in states] + [t for v in allowed.values() for t in v
                                                              if t not in states]
        if unknown:
            raise ValueError(f"{name}: states not in {states.__name__}: {unknown}")
        self.name, self.states, self.field = name, states, field
        self.allowed: dict = {s: frozenset(allowed.get(s, ())) for s in states}
        self.prefix = prefix or name
        self.actions = dict(actions or {})
        #: How the audit trail names each move (verb → translated label).
        audit.ACTION_LABELS.update({f"{self.prefix}.{verb}": label for verb, label in (labels or {}).items()})
        MACHINES[name] = self

    def can(self, current, to) -> bool:
        return to in self.allowed.get(current, frozenset())

    def check(self, current, to) -> None:
        check(self.allowed, current, to)

    def action(self, current, to) -> str:
        verb = self.actions.get((current, to)) or self.actions.get(to) or str(to.value)
        return f"{self.prefix}.{verb}"

    def transition(self, obj, to, actor, *, reason: str | None = None, extra: dict | None = None,
                   values: dict | None = None, action: str | None = None):
        """Move ``obj`` from the state it was read in to ``to``, compare-and-set, and audit.

        ``values`` are other columns written by the same UPDATE; ``extra`` adds facts to
        the audit event's ``after``. Raises InvalidTransition when the map forbids the
        move, Conflict when the row is no longer in the state it was read in. Flushes,
        never commits.
        """
        current = getattr(obj, self.field)
        self.check(current, to)
        model = type(obj)
        pk = inspect(model).primary_key[0]
        column = getattr(model, self.field)
        changes = {self.field: to, **(values or {})}
        where = [pk == inspect(obj).identity[0], column == current]
        if REVISION in inspect(model).columns:
            # The object's edits and moves share one counter: a move made on what this
            # request read refuses to apply over an edit saved in between, and vice versa.
            where.append(getattr(model, REVISION) == getattr(obj, REVISION))
            changes[REVISION] = getattr(obj, REVISION) + 1
        result = db.session.execute(
            update(model).where(*where).values(changes)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Conflict(STALE)
        for key, value in changes.items():
            set_committed_value(obj, key, value)
        after = {self.field: to.value, **(values or {})}
        if reason:
            after["reason"] = reason
        if extra:
            after.update(extra)
        audit.record(actor, f"{self.prefix}.{action}" if action else self.action(current, to), obj,
                     before={self.field: current.value}, after=after)
        return obj


    def transition_many(self, model, ids, current, to, actor, *, values: dict | None = None,
                        extra: dict | None = None, extra_by_id: Mapping | None = None) -> list:
        """Move every row of ``model`` among ``ids`` that is still in ``current`` to ``to``
        in ONE compare-and-set statement (``UPDATE … WHERE id IN (…) AND state = :current
        RETURNING id``), and audit each moved row as :meth:`transition` would. ``values``
        are other columns written by the same UPDATE (SQL expressions allowed, e.g.
        ``attempts + 1``); ``extra`` adds facts to every event's ``after``, ``extra_by_id``
        (id → dict) to one row's. Returns the ids
        moved (a row another transaction moved first is simply not among them: the caller
        decides whether that is a conflict). Flushes, never commits."""
        self.check(current, to)
        ids = list(ids)
        if not ids:
            return []
        pk = inspect(model).primary_key[0]
        column = getattr(model, self.field)
        changes = {self.field: to, **(values or {})}
        moved = list(db.session.scalars(
            update(model).where(pk.in_(ids), column == current).values(changes).returning(pk)
            .execution_options(synchronize_session=False)))
        after = {self.field: to.value, **(extra or {})}
        audit.record_many(actor, ((self.action(current, to), model.__tablename__, oid, {self.field: current.value},
                                   {**after, **(extra_by_id or {}).get(oid, {})}) for oid in moved))
        return moved
