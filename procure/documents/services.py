"""Storing documents: bytes on disk by SHA-256, metadata in the ``documents`` table.

``store_document`` flushes, never commits (the caller commits once). The file is written
before the row is flushed; if the transaction then rolls back, a file this transaction
created is removed again (see ``_forget_new_files_on_rollback``), so a refused or failed
action leaves nothing behind. Identical content is stored once on disk and may back
several rows.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import audit, permissions
from ..extensions import db
from .models import Document

#: Session.info key listing the files written in the current transaction.
_NEW_FILES = "procure.documents.new_files"


def documents_dir() -> Path:
    """Where the bytes live: config DOCUMENTS_DIR, else ``<instance>/documents``."""
    configured = current_app.config.get("DOCUMENTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "documents"


def storage_path(sha256: str) -> Path:
    """``<DOCUMENTS_DIR>/<sha256[:2]>/<sha256>`` for a hex SHA-256."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a hex SHA-256")
    return documents_dir() / sha256[:2] / sha256


def document_path(doc: Document) -> Path:
    return storage_path(doc.sha256)


def clean_filename(filename: str, default: str = "document") -> str:
    """The base name without directories or control characters, at most 255 characters
    (Chinese kept as it is)."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        return default
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 16 else name[:255]
    return name


def _write_blob(data: bytes, sha256: str) -> bool:
    """Write the bytes under their hash (atomically). True if this call created the file."""
    path = storage_path(sha256)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def store_document(actor, data: bytes, filename: str, content_type: str, kind: str, obj: Any = None,
                   permission: str = "document.view_own") -> Document:
    """Store ``data`` as a Document belonging to ``obj`` (a model instance, or None).

    ``permission`` names the action a user needs to download it, checked with
    ``permissions.require(user, permission, obj)`` (with the document itself as the object
    when ``obj`` is None). The caller checks that ``actor`` may add the file. Audited as
    "document.create"; flushes, never commits.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("data must be bytes")
    if permission not in permissions.RULES:
        raise ValueError(f"unknown permission action {permission!r}")
    data = bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()
    doc = Document(
        kind=kind, filename=clean_filename(filename), content_type=content_type[:100], size=len(data),
        sha256=sha256, owner_id=getattr(actor, "id", actor),
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None else None,
        permission_action=permission,
    )
    if _write_blob(data, sha256):
        db.session.info.setdefault(_NEW_FILES, []).append(str(storage_path(sha256)))
    db.session.add(doc)
    db.session.flush()
    audit.record(actor, "document.create", doc, after=doc.snapshot())
    return doc


def read_document(doc: Document) -> bytes:
    """The stored bytes (no permission check: callers check first)."""
    return document_path(doc).read_bytes()


def _model_for_table(table: str):
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def target_of(doc: Document):
    """The object the document belongs to, or None (then the document guards itself)."""
    if doc.object_type is None:
        return None
    model = _model_for_table(doc.object_type)
    if model is None:
        return None
    key = doc.object_id
    return db.session.get(model, int(key) if key is not None and key.isdigit() else key)


def permission_object(doc: Document):
    """What ``permissions.require`` is checked against for this document."""
    return target_of(doc) if doc.object_type is not None else doc


@event.listens_for(Session, "after_commit")
def _keep_new_files(session) -> None:
    if session.in_nested_transaction():  # a savepoint released, not the commit
        return
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_new_files_on_rollback(session, previous_transaction) -> None:
    """Remove files written by the rolled-back transaction (nothing half-written).

    A file is only removed if no committed row refers to it, since a parallel transaction
    may have stored the same bytes meanwhile."""
    if not session.is_active or previous_transaction.parent is not None:
        return
    paths = session.info.pop(_NEW_FILES, None)
    if not paths:
        return
    for path in paths:
        sha = Path(path).name
        try:
            still_used = session.connection().execute(
                Document.__table__.select().with_only_columns(Document.id)
                .where(Document.sha256 == sha).limit(1)).first()
        except Exception:  # pragma: no cover - the database is gone; keep the file
            continue
        if still_used is None:
            Path(path).unlink(missing_ok=True)
