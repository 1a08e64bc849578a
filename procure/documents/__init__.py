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
from .models import Document

#: The default ``permission`` of store_document (a document that belongs to no object):
#: its owner, or an admin. Object-bound documents name their module's action instead
#: (e.g. "budget.view", checked against the object).
permissions.define("document.view_own", frozenset(Role), permissions.own_or_admin("owner_id"), model=Document)
