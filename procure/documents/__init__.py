"""Stored files: every uploaded or generated file (DOMAIN.md §3 "Document").

Bytes live on disk, content-addressed (``<DOCUMENTS_DIR>/<sha256[:2]>/<sha256>``); the
``documents`` row holds the metadata, the object the file belongs to and the permission
action that guards its download. ``services.store_document`` stores, ``views.download``
serves after ``permissions.require``, ``uploads.check_upload`` checks an upload by its
content before anything is stored.
"""

from __future__ import annotations

from .. import permissions
from ..roles import Role


def _owner_or_admin(user, doc) -> bool:
    """The default guard of a document that belongs to no object: its owner, or an admin."""
    if user.role == Role.ADMIN:
        return True
    return doc is not None and getattr(doc, "owner_id", None) == user.id


#: The default ``permission`` of store_document: owner or admin. Object-bound documents
#: name their module's action instead (e.g. "budget.view", checked against the object).
permissions.define("document.view_own", frozenset(Role), _owner_or_admin)
