"""store_document: hash, storage layout, audit, and nothing left behind on rollback."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from procure.audit import AuditEvent
from procure.documents.models import Document
from procure.documents.services import clean_filename, read_document, storage_path, store_document, target_of
from procure.roles import Role


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_store_document_hashes_writes_and_audits(db, make, documents_dir):
    user = make.user(Role.FINANCE)
    data = "预算执行情况".encode() * 100
    doc = store_document(user, data, "报告/../预算执行情况表.pdf", "application/pdf", "budget_report")
    sha = hashlib.sha256(data).hexdigest()
    assert (doc.sha256, doc.size, doc.owner_id) == (sha, len(data), user.id)
    assert doc.filename == "预算执行情况表.pdf"
    assert doc.permission_action == "document.view_own" and doc.object_type is None
    path = documents_dir / sha[:2] / sha
    assert storage_path(sha) == path and path.read_bytes() == data
    assert read_document(doc) == data
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "document.create"))
    assert event.object_id == str(doc.id) and event.after["sha256"] == sha


def test_identical_content_is_stored_once_on_disk(db, make, documents_dir):
    user = make.user(Role.OFFICER)
    a = store_document(user, b"same bytes", "a.txt", "text/plain", "note")
    b = store_document(user, b"same bytes", "b.txt", "text/plain", "note")
    assert a.id != b.id and a.sha256 == b.sha256
    assert len(_files(documents_dir)) == 1


def test_document_belongs_to_an_object(db, make, documents_dir):
    org = make.organization()
    doc = store_document(make.admin(), b"%PDF-1.7 x", "x.pdf", "application/pdf", "org_file", obj=org,
                         permission="organization.users.view")
    assert (doc.object_type, doc.object_id) == ("organizations", str(org.id))
    assert target_of(doc) is org


def test_rollback_removes_the_file_it_wrote_but_not_older_ones(db, make, documents_dir):
    user = make.user(Role.OFFICER)
    kept = store_document(user, b"committed before", "a.txt", "text/plain", "note")
    make.commit()
    store_document(user, b"committed before", "again.txt", "text/plain", "note")
    store_document(user, b"new in this transaction", "b.txt", "text/plain", "note")
    assert len(_files(documents_dir)) == 2
    db.session.rollback()
    assert _files(documents_dir) == [storage_path(kept.sha256)]
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 1


def test_refuses_unknown_permission_and_non_bytes(db, make, documents_dir):
    user = make.user(Role.OFFICER)
    with pytest.raises(ValueError):
        store_document(user, b"x", "x.txt", "text/plain", "note", permission="no.such.action")
    with pytest.raises(TypeError):
        store_document(user, "text", "x.txt", "text/plain", "note")
    assert _files(documents_dir) == []


@pytest.mark.parametrize("raw, clean", [
    ("预算.pdf", "预算.pdf"), ("C:\\Users\\x\\报告.xlsx", "报告.xlsx"), ("../../etc/passwd", "passwd"),
    ("a\x00b\r\n.txt", "ab.txt"), ("", "document"), ("..", "document"), ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
])
def test_clean_filename(raw, clean):
    assert clean_filename(raw) == clean


def test_a_released_savepoint_does_not_keep_the_file_of_a_rolled_back_transaction(db, make, documents_dir):
    """SQLAlchemy fires after_commit when a savepoint is released: that is not the
    transaction's commit, and its files must still go on the outer rollback."""
    user = make.user(Role.OFFICER)
    make.commit()
    store_document(user, b"written, then rolled back", "c.txt", "text/plain", "note")
    with db.session.begin_nested():
        pass
    db.session.rollback()
    assert _files(documents_dir) == []
