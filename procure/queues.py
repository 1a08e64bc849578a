"""Work queues (core): each module registers, from its own package, what waits for its
users; the dashboard only reads them. A queue names the
permission action it needs and the model it counts: it is shown to whoever holds the
action, and counts, with the rule's own list filter, the rows of the model that match the
queue's condition. No queue names a role set or writes its own filter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from .extensions import db
from .permissions import can, visible


@dataclass(frozen=True)
class Queue:
    key: str
    #: The permission action the queue needs; its rule's filter narrows the count.
    action: str
    label: object
    #: The model whose rows are counted.
    model: type
    url: Callable  # (user) -> str
    #: The queue's own condition on the model (what "waiting" means), or None.
    where: Callable | None = None  # (user) -> SQL condition
    #: "danger" for things that went wrong, "primary" for ordinary work.
    tone: str = "primary"
    #: (user) -> bool: whether the card is shown at all (a seasonal warning); None: always.
    shown: Callable | None = None
    #: (user) -> int for a queue that counts no rows of ``model`` (a missing calendar
    #: year); the action still decides who sees it.
    counter: Callable | None = None

    def count_statement(self, user):
        """The SELECT count(*) of the queue (None for a queue with its own ``counter``)."""
        if self.counter is not None:
            return None
        stmt = select(func.count()).select_from(self.model)
        if self.where is not None:
            stmt = stmt.where(self.where(user))
        return visible(user, self.action, stmt, self.model)

    def count(self, user) -> int:
        if self.counter is not None:
            return self.counter(user)
        return db.session.scalar(self.count_statement(user)) or 0


QUEUES: list[Queue] = []


def register(queue: Queue) -> None:
    if queue not in QUEUES:
        QUEUES.append(queue)


def queues_for(user) -> list[dict]:
    """The user's queues with their counts: every count in one statement (one scalar
    subquery each), however many queues the user's role sees."""
    shown = [q for q in QUEUES if can(user, q.action) and (q.shown is None or q.shown(user))]
    stmts = {q.key: q.count_statement(user) for q in shown}
    counted = [key for key, stmt in stmts.items() if stmt is not None]
    counts: dict = {}
    if counted:
        row = db.session.execute(select(*(stmts[k].scalar_subquery() for k in counted))).one()
        counts = dict(zip(counted, row, strict=True))
    return [{"queue": q, "count": (counts.get(q.key) or 0) if q.counter is None else q.counter(user),
             "url": q.url(user)} for q in shown]


# --- work lists -------------------------------------------------------------------------
#
# A queue is a count; a work list is the items themselves, each with its due time and a
# link (an organization's open calls and bids, an evaluator's assignments, an officer's
# tenders by state). A module registers its lists from its ``worklists.py``; the list's
# ``items`` reads with the rule's own filter (``visible``), and the dashboard shows it to
# whoever holds ``action``.


@dataclass(frozen=True)
class WorkItem:
    title: str
    url: str
    #: What the item is at (a state's label) and what comes next.
    state: object = None
    step: object = None
    #: The next time that matters and what it is (a label).
    due_label: object = None
    due_at: object = None


@dataclass(frozen=True)
class WorkList:
    key: str
    action: str
    label: object
    #: (user) -> list[WorkItem]: the user's items, read with the action's filter.
    items: Callable
    #: Shown when the list is empty (None: the list is left out when empty).
    empty: object = None
    order: int = 0
    #: (user) -> text or None: a line under the list about related items that are not
    #: the user's to act on (e.g. contracts waiting for the other party's signature).
    note: Callable | None = None


WORKLISTS: list[WorkList] = []


def register_list(worklist: WorkList) -> None:
    if all(w.key != worklist.key for w in WORKLISTS):
        WORKLISTS.append(worklist)
        WORKLISTS.sort(key=lambda w: w.order)


def lists_for(user) -> list[dict]:
    """The work lists ``user`` may see, with their items (one query each)."""
    out = []
    for worklist in WORKLISTS:
        if not can(user, worklist.action):
            continue
        items = worklist.items(user)
        note = worklist.note(user) if worklist.note is not None else None
        if items or note or worklist.empty is not None:
            out.append({"list": worklist, "items": items, "note": note})
    return out
