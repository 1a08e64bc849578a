"""check_upload: by content, not by name; and a refused file leaves nothing behind."""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook
from werkzeug.datastructures import FileStorage

from procure.documents.models import Document
from procure.documents.services import store_document
from procure.documents.uploads import CONTENT_TYPES, check_upload, sniff
from procure.errors import DomainError, ValidationError
from procure.roles import Role
from procure.web import ServiceFailed, perform

MB = 1024 * 1024


def _upload(data: bytes, filename: str, field: str = "file") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename, name=field)


def _xlsx() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "预算指标"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _zip(names) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in names:
            zf.writestr(name, "x")
    return out.getvalue()


@pytest.mark.parametrize("data, filename, kind", [
    (b"%PDF-1.7\n...", "申报书.pdf", "pdf"),
    (b"%PDF-1.4\n...", "no-extension", "pdf"),
    (_xlsx(), "指标.xlsx", "xlsx"),
    (_xlsx(), "renamed.pdf", "xlsx"),
    (_zip(["[Content_Types].xml", "word/document.xml"]), "a.docx", "docx"),
    (b"\x89PNG\r\n\x1a\n....", "photo.jpg", "png"),
    (b"\xff\xd8\xff\xe0....", "photo.png", "jpeg"),
    ("名称,金额\n社区养老,1000.00\n".encode(), "明细.csv", "csv"),
    ("名称,金额\n社区养老,1000.00\n".encode("gbk"), "明细.csv", "csv"),
    ("\ufeff名称,金额\n".encode(), "明细.csv", "csv"),
    (b"plain words", "readme.txt", "txt"),
    (b"MZ\x90\x00\x03\x00\x00\x00", "invoice.pdf", None),
    (_zip(["payload.exe"]), "book.xlsx", None),
    (_zip(["[Content_Types].xml", "other.xml"]), "book.xlsx", None),
    (b"PK\x03\x04 truncated", "book.xlsx", None),
    (b"\x00\x01\x02binary", "data.csv", None),
])
def test_sniff_by_content(data, filename, kind):
    assert sniff(data, filename) == kind


def test_accepts_allowed_content_with_its_real_type(app):
    checked = check_upload(_upload(_xlsx(), "预算/指标.xlsx"), {"xlsx", "csv"}, 5 * MB)
    assert checked.type == "xlsx" and checked.content_type == CONTENT_TYPES["xlsx"]
    assert checked.filename == "指标.xlsx" and checked.data.startswith(b"PK\x03\x04")
    # A text file is acceptable CSV content whatever its name.
    assert check_upload(_upload(b"a,b\n1,2\n", "export.dat"), {"csv"}, MB).type == "csv"


@pytest.mark.parametrize("data, filename, allowed, max_bytes, message", [
    (b"MZ\x90\x00", "invoice.pdf", {"pdf"}, MB, "This file type is not accepted here. Accepted: PDF."),
    (_xlsx(), "report.pdf", {"pdf", "csv"}, MB, "This file type is not accepted here. Accepted: CSV, PDF."),
    (b"%PDF-" + b"x" * 2048, "big.pdf", {"pdf"}, 1024, "The file is too large (at most 1 KB)."),
    (b"%PDF-" + b"x" * MB, "big.pdf", {"pdf"}, MB, "The file is too large (at most 1 MB)."),
    (b"%PDF-" + b"x" * 200, "big.pdf", {"pdf"}, 100, "The file is too large (at most 100 B)."),
    (b"", "empty.pdf", {"pdf"}, MB, "The file is empty."),
    (b"", "", {"pdf"}, MB, "Please choose a file."),
])
def test_refusals_have_clear_messages(app, data, filename, allowed, max_bytes, message):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(ValidationError) as err:
            check_upload(_upload(data, filename, field="attachment"), allowed, max_bytes)
        assert str(err.value.message) == message
        assert err.value.field == "attachment"


def test_unknown_type_key_is_a_programming_error(app):
    with pytest.raises(ValueError):
        check_upload(_upload(b"x", "x.txt"), {"exe"}, MB)


def _attach(actor, file_storage):
    """A service as a module would write it: check, then store."""
    checked = check_upload(file_storage, {"pdf"}, MB)
    return store_document(actor, checked.data, checked.filename, checked.content_type, "attachment")


def test_a_refused_file_leaves_nothing_on_disk_or_in_the_database(app, db, make, documents_dir):
    user = make.user(Role.ORG)
    make.commit()
    with app.test_request_context():
        with pytest.raises(ServiceFailed):
            perform(_attach, user, _upload(b"MZ\x90\x00 not a pdf", "发票.pdf"))
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0
    assert not documents_dir.exists() or not any(documents_dir.rglob("*"))


def test_a_service_failing_after_storing_leaves_nothing(app, db, make, documents_dir):
    user = make.user(Role.ORG)
    make.commit()

    def attach_then_refuse(actor, fs):
        _attach(actor, fs)
        raise DomainError("refused after storing")

    with app.test_request_context():
        with pytest.raises(ServiceFailed):
            perform(attach_then_refuse, user, _upload(b"%PDF-1.7 fine", "a.pdf"))
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0
    assert not any(p.is_file() for p in documents_dir.rglob("*"))
