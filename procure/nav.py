"""The navigation bar: each module registers its entries; the template shows those the
current user's role permits (the views and services check again)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from .permissions import NO_OBJECT, can

#: Menus grouped by task (issue 12 item 5), each a dropdown that several modules add
#: pages to. A group of which the user may open one page only shows as that page.
PROCUREMENT_GROUP = _l("Procurement")
FUNDS_GROUP = _l("Budget and funds")
REGISTRY_GROUP = _l("Organizations")
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
    """The menu of ``user``, in order: ``{label, url}`` for a page, ``{label, children}``
    for a group (at the place of its first page) with its pages in order; a group with a
    single page the user may open becomes that page."""
    out: list[dict] = []
    groups: dict[str, dict] = {}
    for item in sorted(ITEMS, key=lambda i: i.order):
        values = item.values(user) if item.values else {}
        if values is None:
            continue
        obj = values.pop("_obj", NO_OBJECT)
        if not can(user, item.permission, obj):
            continue
        entry = {"label": item.label, "url": url_for(item.endpoint, **values)}
        if item.group is None:
            out.append(entry)
            continue
        key = str(item.group)
        if key not in groups:
            groups[key] = {"label": item.group, "children": []}
            out.append(groups[key])
        groups[key]["children"].append(entry)
    return [g["children"][0] if "children" in g and len(g["children"]) == 1 else g for g in out]
