"""The navigation bar: each module registers its entries; the template shows those the
current user's role permits (the views and services check again)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from .permissions import NO_OBJECT, can

#: The administration dropdown, which several modules add pages to.
ADMIN_GROUP = _l("Administration")


@dataclass(frozen=True)
class NavItem:
    label: object
    endpoint: str
    permission: str
    #: Items with the same group appear in one dropdown (e.g. administration).
    group: object | None = None
    order: int = 100
    #: (user) -> url_for values, for endpoints that need them; None hides the item.
    values: object = None


ITEMS: list[NavItem] = []


def register(item: NavItem) -> None:
    if item not in ITEMS:
        ITEMS.append(item)


def items_for(user) -> list[dict]:
    """[{label, url, group}] for the user, ordered."""
    out = []
    for item in sorted(ITEMS, key=lambda i: i.order):
        values = item.values(user) if item.values else {}
        if values is None:
            continue
        obj = values.pop("_obj", NO_OBJECT)
        if can(user, item.permission, obj):
            out.append({"label": item.label, "url": url_for(item.endpoint, **values), "group": item.group})
    return out
