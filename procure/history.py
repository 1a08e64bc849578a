"""Audit events as a person reads them: who, when, the action's label, and for each
field its label with the old and the new value — state codes as their labels, ids as
the names of their rows (linked when the reader may open their page), money, dates
and times (Asia/Shanghai) formatted, never a key or a dict.

Each domain module describes its own audited objects and actions in its
``procure/<module>/history.py`` (found by discovery, like ``models.py``)::

    history.describe_object("projects", _l("Project"), model=Project, name=lambda p: p.title,
                            endpoint=("projects.detail", "project_id"), permission="project.view",
                            fields={"state": Field(_l("State"), Enum(ProjectState)), ...})
    history.describe_actions({"project.approve": _l("Budget approved"), ...})

:func:`entries` renders a page of events with one query per object type it refers to,
whatever the number of events.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from .extensions import db
from .money import format_money
from .timeutil import local_date, local_datetime

#: Shown for an empty value (None, "", an empty list).
EMPTY = "—"

RefKey = tuple[str, str]


class Names:
    """Display names (and links) of the rows a page of events refers to."""

    def __init__(self, found: dict[RefKey, tuple[str, str | None]] | None = None):
        self.found = found or {}

    def link(self, object_type: str, object_id: Any) -> Markup:
        """The row's name, linked to its page when there is one the reader may open;
        a row that no longer exists (or of a type without names) reads "<label> #id"."""
        key = (object_type, str(object_id))
        kind = KINDS.get(object_type)
        label = str(kind.label) if kind else _("Record")
        if not str(object_id).isdigit():
            return Markup("")  # e.g. an import keyed by its file's hash: the type's label says it all
        if key in self.found:
            name, url = self.found[key]
            if url:
                return Markup('<a href="{}">{}</a>').format(url, name)
            return escape(name)
        return escape(f"{label} #{object_id}")


# --- value renderers ----------------------------------------------------------------

class Renderer:
    """Turns one stored value into readable HTML; ``refs`` names the rows it needs."""

    def refs(self, value: Any) -> Iterable[RefKey]:
        return ()

    def __call__(self, value: Any, names: Names) -> Markup:
        raise NotImplementedError


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def join(parts: Iterable[Markup]) -> Markup:
    """Items of a list, with the separator of the reader's language."""
    locale = get_locale()
    sep = "、" if locale is not None and locale.language == "zh" else ", "
    return Markup(sep).join(parts)


def pair(label: object, value: Markup) -> Markup:
    """``label: value`` with the colon of the reader's language."""
    return Markup(escape(_("%(label)s: %(value)s"))) % {
        "label": label if isinstance(label, Markup) else str(label), "value": value}


class Text(Renderer):
    """Any value in plain words: booleans as 是/否, lists joined, mappings as
    "key: value" (keys as they are, so give structured values their own renderer)."""

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        if isinstance(value, bool):
            return escape(_("Yes") if value else _("No"))
        if isinstance(value, list):
            return join(self(v, names) for v in value)
        if isinstance(value, dict):
            return join(pair(k, self(v, names)) for k, v in value.items())
        return escape(str(value))


class Number(Renderer):
    """An integer or decimal, grouped as the reader's language writes it."""

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        try:
            shown = format_decimal(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            shown = str(value)
        return escape(shown)


class Money(Renderer):
    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        try:
            return escape(format_money(Decimal(str(value))))
        except (InvalidOperation, ValueError):
            return escape(str(value))


class Date(Renderer):
    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return escape(str(value))
        return escape(local_date(day, "medium"))


class DateTime(Renderer):
    """A stored naive-UTC time, shown in Asia/Shanghai."""

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        try:
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        except ValueError:
            return escape(str(value))
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return escape(local_datetime(moment, "medium"))


class Enum(Renderer):
    """A code of a ``StrEnum`` with a ``label`` property, shown as its label."""

    def __init__(self, enum_cls):
        self.enum_cls = enum_cls

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        try:
            return escape(str(self.enum_cls(value).label))
        except ValueError:
            return escape(str(value))


class Choice(Renderer):
    """A code from a fixed mapping (code → label); other values are shown as they are
    (so free text may share the field with a few coded values)."""

    def __init__(self, labels: Mapping[str, object]):
        self.labels = labels

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        return escape(str(self.labels.get(str(value), value)))


class Ref(Renderer):
    """The id of a row of ``object_type``: its name, linked to its page."""

    def __init__(self, object_type: str):
        self.object_type = object_type

    def refs(self, value):
        return () if _is_empty(value) else ((self.object_type, str(value)),)

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        return names.link(self.object_type, value)


class Records(Renderer):
    """A list of records (dicts), each as "label value, label value", one per line."""

    def __init__(self, fields: Mapping[str, Field]):
        self.fields = fields

    def _items(self, value):
        return value if isinstance(value, list) else [value]

    def refs(self, value):
        for item in self._items(value or []):
            if isinstance(item, dict):
                for k, v in item.items():
                    fld = self.fields.get(k)
                    if fld is not None:
                        yield from fld.render.refs(v)

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        lines = []
        for item in self._items(value):
            if not isinstance(item, dict):
                lines.append(Text()(item, names))
                continue
            lines.append(join(pair(fld.label, fld.render(item.get(k), names)) for k, fld in self.fields.items()
                              if not fld.hidden and k in item and not _is_empty(item.get(k))))
        return Markup("<br>").join(lines)


class Pairs(Renderer):
    """A mapping rendered key by key, e.g. {appropriation id: amount}."""

    def __init__(self, key: Renderer, value: Renderer):
        self.key, self.value = key, value

    def refs(self, value):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from self.key.refs(k)
                yield from self.value.refs(v)

    def __call__(self, value, names):
        if _is_empty(value):
            return escape(EMPTY)
        if not isinstance(value, dict):
            return Text()(value, names)
        return join(pair(self.key(k, names), self.value(v, names)) for k, v in value.items())


# --- the registry -------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    label: object
    render: Renderer = field(default_factory=Text)
    #: Recorded for the chain, not shown (hashes, token ids).
    hidden: bool = False


@dataclass
class ObjectKind:
    label: object
    fields: dict[str, Field] = field(default_factory=dict)
    #: The model whose rows these ids name; ``name(row)`` is shown for a row.
    model: Any = None
    name: Callable[[Any], str] | None = None
    #: (endpoint, its id argument) of the row's page, and the permission to open it
    #: (checked against the row).
    endpoint: tuple[str, str] | None = None
    permission: str | None = None
    #: The field that holds the state (for the old "transition" events).
    state_field: str = "state"
    #: Loader options for the names query (e.g. ``joinedload`` of what ``name`` reads).
    options: tuple = ()


KINDS: dict[str, ObjectKind] = {}
ACTIONS: dict[str, object] = {}

#: Fields that mean the same on every object.
COMMON_FIELDS: dict[str, Field] = {
    "reason": Field(_l("Reason")),
    "note": Field(_l("Note")),
}


def describe_object(object_type: str, label: object, *, fields: Mapping[str, Field] | None = None,
                    **options) -> ObjectKind:
    """Describe how events of ``object_type`` (a table name) read; a module calls this
    from its ``history.py``. Describing a type again adds fields to it."""
    kind = KINDS.get(object_type)
    if kind is None:
        kind = KINDS[object_type] = ObjectKind(label=label, **options)
    else:
        kind.label = label
        for key, value in options.items():
            setattr(kind, key, value)
    kind.fields.update(fields or {})
    return kind


def describe_actions(labels: Mapping[str, object]) -> None:
    """Labels of audit actions ("project.approve" → "Budget approved")."""
    ACTIONS.update(labels)


_loaded = False


def load() -> None:
    """Import every module's ``history.py`` once (they register at import)."""
    global _loaded
    if _loaded:
        return
    from .modules import submodules

    submodules("history")
    _loaded = True


# --- rendering ----------------------------------------------------------------------

@dataclass
class Change:
    label: object
    #: None when the event has no old value (a creation, or an extra detail).
    old: Markup | None
    new: Markup | None


@dataclass
class Entry:
    """One event as shown: who, when, what, which object, and the field changes."""

    event: Any
    when: str
    who: str
    action: str
    object_label: str
    object_name: Markup
    changes: list[Change]


def _field(kind: ObjectKind | None, key: str) -> Field | None:
    if kind is not None and key in kind.fields:
        return kind.fields[key]
    return COMMON_FIELDS.get(key)


def _field_or_default(kind: ObjectKind | None, key: str) -> Field:
    return _field(kind, key) or Field(key)


def action_label(event, names: Names | None = None) -> str:
    """The event's action as the user reads it."""
    load()
    if event.action == "transition":
        kind = KINDS.get(event.object_type)
        key = kind.state_field if kind else "state"
        before, after = event.before or {}, event.after or {}
        if key not in after and len(before) == 1:
            key = next(iter(before))
        fld = _field_or_default(kind, key)
        names = names or Names()
        return _("State changed: %(old)s → %(new)s", old=fld.render(before.get(key), names).striptags(),
                 new=fld.render(after.get(key), names).striptags())
    label = ACTIONS.get(event.action)
    if label is None:
        from . import audit

        label = getattr(audit, "ACTION_LABELS", {}).get(event.action, event.action)
    return str(label)


def object_label(object_type: str) -> str:
    load()
    kind = KINDS.get(object_type)
    if kind is not None:
        return str(kind.label)
    from . import audit

    return str(getattr(audit, "OBJECT_LABELS", {}).get(object_type, object_type))


def _changes(event, kind: ObjectKind | None, names: Names) -> list[Change]:
    before, after = event.before or {}, event.after or {}
    # in the order the module describes its fields (the chain stores keys sorted)
    order = {key: i for i, key in enumerate([*(kind.fields if kind else ()), *COMMON_FIELDS])}
    keys = sorted({*after, *before}, key=lambda k: (order.get(k, len(order)), k))
    if event.action == "transition":
        state_key = kind.state_field if kind else "state"
        if state_key not in after and len(before) == 1:
            state_key = next(iter(before))
        keys = [k for k in keys if k != state_key]
    changes = []
    for key in keys:
        fld = _field_or_default(kind, key)
        if fld.hidden or (key not in before and _is_empty(after.get(key))):
            continue  # nothing to read: a hidden field, or an empty value set at creation
        old = fld.render(before[key], names) if key in before else None
        new = fld.render(after[key], names) if key in after else (escape(EMPTY) if event.before is not None else None)
        changes.append(Change(fld.label, old, new))
    return changes


def _refs(event, kind: ObjectKind | None, with_fields: bool = True) -> Iterable[RefKey]:
    """The rows an event names: its object, and (``with_fields``) those its values refer to."""
    yield (event.object_type, str(event.object_id))
    if not with_fields:
        return
    for data in (event.before or {}, event.after or {}):
        for key, value in data.items():
            fld = _field(kind, key)
            if fld is not None:
                yield from fld.render.refs(value)


def load_names(refs: Iterable[RefKey], viewer=None) -> Names:
    """Names and links of the referenced rows: one query per object type."""
    from .permissions import can

    load()
    wanted: dict[str, set[str]] = defaultdict(set)
    for object_type, object_id in refs:
        kind = KINDS.get(object_type)
        if kind is not None and kind.model is not None and kind.name is not None and str(object_id).isdigit():
            wanted[object_type].add(str(object_id))
    found: dict[RefKey, tuple[str, str | None]] = {}
    for object_type, ids in wanted.items():
        kind = KINDS[object_type]
        rows = db.session.scalars(select(kind.model).options(*kind.options)
                                    .where(kind.model.id.in_([int(i) for i in ids]))).unique()
        for row in rows:
            url = None
            may_open = kind.permission is None or (viewer is not None and can(viewer, kind.permission, row))
            if kind.endpoint and may_open:
                endpoint, arg = kind.endpoint
                url = url_for(endpoint, **{arg: row.id})
            found[(object_type, str(row.id))] = (str(kind.name(row)), url)
    return Names(found)


def entries(events: Iterable, viewer=None, *, changes: bool = True) -> list[Entry]:
    """A page of audit events as readable rows (names loaded in one query per type).

    ``viewer`` is the user reading them: names are linked to the pages they may open.
    Without ``changes`` only the events' own objects are named (a summary list).
    """
    load()
    events = list(events)
    refs = [ref for ev in events for ref in _refs(ev, KINDS.get(ev.object_type), changes)]
    names = load_names(refs, viewer)
    rows = []
    for ev in events:
        kind = KINDS.get(ev.object_type)
        rows.append(Entry(
            event=ev,
            when=local_datetime(ev.created_at, "medium"),
            who=ev.actor.name if ev.actor is not None else _("System"),
            action=action_label(ev, names),
            object_label=object_label(ev.object_type),
            object_name=names.link(ev.object_type, ev.object_id),
            changes=_changes(ev, kind, names) if changes else [],
        ))
    return rows
