"""Upload checks by content, not by name: a file is what its bytes say it is.

    checked = check_upload(form.file.data, {"pdf", "xlsx"}, max_bytes=20 * 1024 * 1024)
    doc = store_document(actor, checked.data, checked.filename, checked.content_type, "bid_attachment", bid)

A refused file raises ``ValidationError`` (a translated message, ``field`` = the form
field's name) before anything is stored.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..errors import ValidationError
from .services import clean_filename

#: The types an upload may be checked for, with the content type stored and served.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "csv": "text/csv",
    "txt": "text/plain",
}
LABELS = {"pdf": "PDF", "xlsx": "Excel (.xlsx)", "docx": "Word (.docx)", "png": "PNG", "jpeg": "JPEG",
          "csv": "CSV", "txt": _l("plain text")}
#: Text encodings accepted for CSV/text: UTF-8 (with or without BOM) and GB18030, which
#: covers the GBK files that Excel on Chinese Windows saves.
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed :func:`check_upload`."""

    data: bytes
    filename: str
    #: The detected type key ("pdf", "xlsx", …).
    type: str
    content_type: str


def _office_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in TEXT_ENCODINGS:
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def sniff(data: bytes, filename: str = "") -> str | None:
    """The type key that the bytes show, or None. Text is "csv" when the name says so,
    else "txt" (a CSV is text: only the name tells the two apart)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if _is_text(data):
        return "csv" if filename.lower().endswith(".csv") else "txt"
    return None


def size_label(n: int) -> str:
    """1 MB, 20 MB, 512 KB, 100 bytes."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} B"


def _types_label(allowed) -> str:
    return ", ".join(str(LABELS[t]) for t in sorted(allowed))


def check_upload(file_storage, allowed_types, max_bytes: int) -> CheckedUpload:
    """Read an uploaded file (werkzeug FileStorage) and accept it only if its content is
    one of ``allowed_types`` (keys of CONTENT_TYPES) and it has 1..``max_bytes`` bytes.

    Raises ValidationError with a translated message otherwise.
    """
    allowed = set(allowed_types)
    unknown = allowed - CONTENT_TYPES.keys()
    if unknown:
        raise ValueError(f"unknown upload types: {sorted(unknown)}")
    field = getattr(file_storage, "name", None) or None
    if file_storage is None or not getattr(file_storage, "filename", None):
        raise ValidationError(_l("Please choose a file."), field=field)
    data = file_storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(_l("The file is too large (at most %(size)s).", size=size_label(max_bytes)),
                              field=field)
    if not data:
        raise ValidationError(_l("The file is empty."), field=field)
    filename = clean_filename(file_storage.filename)
    kind = sniff(data, filename)
    if kind == "txt" and "csv" in allowed and "txt" not in allowed:
        kind = "csv"  # a text file named otherwise is still acceptable as CSV content
    if kind not in allowed:
        raise ValidationError(_l("This file type is not accepted here. Accepted: %(types)s.",
                                 types=_types_label(allowed)), field=field)
    return CheckedUpload(data=data, filename=filename, type=kind, content_type=CONTENT_TYPES[kind])
