"""Import of the national registry's export (.csv or .xlsx) into the registry.

Real exports are messy: UTF-8 with or without BOM or GB18030 from Excel, CRLF line ends,
dates written 2018-01-05, 2018/1/5 or 2018年1月5日, stray full-width spaces and
characters, lower-case codes, 民办非企业单位 also written 社会服务机构. Every row is
checked first; each bad row is reported with its line number in the file (the header is
line 1). Nothing is written when any row is bad, unless the caller asks for the good
rows only. A re-import updates organizations by credit code and says what changed.

The file is streamed, never held whole: a first pass reads it row by row (CSV through
an incremental decoder, xlsx through openpyxl's read-only mode) and keeps only the
errors (the first ``MAX_ERRORS``, and how many there are) and the credit codes seen
(16 bytes a code, for the duplicate check across the whole file); a second pass reads
it again and writes the good rows in batches of ``BATCH`` (one INSERT … RETURNING for
the new rows, one executemany UPDATE per set of changed columns, their audit events),
all in the caller's one transaction.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import os
import re
import unicodedata
import zipfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update

from .. import audit, permissions
from ..auth.models import User
from ..documents.models import Document
from ..documents.services import document_path, store_document
from ..errors import ValidationError
from ..extensions import db
from ..jobs import services as jobs
from ..jobs.models import Job
from ..parsing import has_control_chars
from ..timeutil import utcnow
from . import creditcode
from .models import CreditStanding, Organization, OrgKind, RegStatus

#: Header of the registry export → column. Headers are matched after NFKC and trimming.
COLUMNS = {
    "社会组织名称": "name", "名称": "name",
    "统一社会信用代码": "credit_code", "信用代码": "credit_code",
    "社会组织类型": "kind", "类型": "kind",
    "登记管理机关": "registration_authority",
    "业务主管单位": "supervisor",
    "法定代表人": "legal_representative",
    "成立登记日期": "registration_date", "成立日期": "registration_date", "登记日期": "registration_date",
    "住所": "address", "地址": "address",
    "登记状态": "status",
}
REQUIRED = ("name", "credit_code", "kind")
FIELDS = ("name", "kind", "registration_date", "registration_authority", "supervisor",
          "legal_representative", "address", "status")

KINDS = {
    "社会团体": OrgKind.SOCIAL_GROUP,
    "民办非企业单位": OrgKind.SERVICE_ORG, "社会服务机构": OrgKind.SERVICE_ORG, "民非": OrgKind.SERVICE_ORG,
    "基金会": OrgKind.FOUNDATION,
}
STATUSES = {"正常": RegStatus.NORMAL, "存续": RegStatus.NORMAL, "撤销": RegStatus.REVOKED,
            "注销": RegStatus.DEREGISTERED}
DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")

#: Files with more data rows than this are imported by a worker, with progress.
WORKER_THRESHOLD = 2000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Rows written per batch, and rows between two progress reports.
BATCH = 2000
#: Bad rows kept (with their line numbers) for the report; the count covers them all.
MAX_ERRORS = 1000
#: What an import reads: the bytes, a path, or a binary file object that can seek.
Source = bytes | str | os.PathLike | BinaryIO


class FileRejected(ValidationError):
    """The file as a whole cannot be read (not a CSV or xlsx, no header, …)."""


@dataclass
class RowError:
    line: int
    message: object

    def __str__(self) -> str:
        return f"{self.line}: {self.message}"


@dataclass
class ImportResult:
    total: int = 0
    created: list[str] = field(default_factory=list)
    #: credit code → {field: [old, new]}
    updated: dict[str, dict] = field(default_factory=dict)
    unchanged: int = 0
    #: The first ``MAX_ERRORS`` bad rows, in file order; ``error_count`` counts them all.
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    applied: bool = False

    @property
    def more_errors(self) -> int:
        """Bad rows found but not kept in ``errors``."""
        return self.error_count - len(self.errors)

    def as_dict(self) -> dict:
        return {"total": self.total, "created": len(self.created), "updated": self.updated,
                "unchanged": self.unchanged, "applied": self.applied,
                "errors": [{"line": e.line, "message": str(e.message)} for e in self.errors],
                "error_count": self.error_count, "more_errors": self.more_errors}


# --- reading -------------------------------------------------------------------------


def _text_cell(value) -> str:
    """Trim, turn full-width spaces into spaces and collapse runs of them."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = str(value).replace("\u3000", " ").replace("\ufeff", "")
    return " ".join(text.split())


_NOT_TEXT = _l("The file is neither UTF-8 nor GB18030 text, nor an .xlsx workbook.")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, judged by the bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    raise FileRejected(_NOT_TEXT)


def is_xlsx(data) -> bool:
    """An .xlsx workbook (bytes or a binary file object that can seek)?"""
    if isinstance(data, bytes | bytearray):
        data = io.BytesIO(data)
    pos = data.tell()
    try:
        if data.read(4) != b"PK\x03\x04":
            return False
        data.seek(pos)
        with zipfile.ZipFile(data) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        data.seek(pos)


@contextlib.contextmanager
def open_source(source: Source) -> Iterator[BinaryIO]:
    """The source as a binary file object that can seek (a path is opened and closed)."""
    if isinstance(source, bytes | bytearray):
        yield io.BytesIO(source)
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            yield fh
    else:
        source.seek(0)
        yield source


@dataclass
class FileFormat:
    """What a first look at the file found: ``kind`` "xlsx" or "csv", the CSV's text
    encoding, and the file's SHA-256."""
    kind: str
    encoding: str | None
    sha256: str


def sniff(fh: BinaryIO, chunk: int = 1 << 16) -> FileFormat:
    """Judge the file by its content, reading it once in chunks: an xlsx workbook, or
    CSV text in UTF-8 (with or without BOM) or else GB18030 (validated to the end, as
    decoding the whole file at once would)."""
    digest = hashlib.sha256()
    fh.seek(0)
    prefix = fh.read(4096)
    if not prefix:
        raise FileRejected(_l("The file is empty."))
    fh.seek(0)
    if is_xlsx(fh):
        while block := fh.read(chunk):
            digest.update(block)
        fh.seek(0)
        return FileFormat("xlsx", None, digest.hexdigest())
    if prefix.startswith(b"PK") or b"\x00" in prefix:
        raise FileRejected(_l("This is not a CSV or .xlsx file."))
    decoders = {"utf-8": codecs.getincrementaldecoder("utf-8")(),
                "gb18030": codecs.getincrementaldecoder("gb18030")()}
    while block := fh.read(chunk):
        digest.update(block)
        for name in list(decoders):
            try:
                decoders[name].decode(block)
            except UnicodeDecodeError:
                del decoders[name]
    for name in list(decoders):
        try:
            decoders[name].decode(b"", final=True)
        except UnicodeDecodeError:
            del decoders[name]
    fh.seek(0)
    if "utf-8" in decoders:
        encoding = "utf-8-sig" if prefix.startswith(b"\xef\xbb\xbf") else "utf-8"
    elif "gb18030" in decoders:
        encoding = "gb18030"
    else:
        raise FileRejected(_NOT_TEXT)
    return FileFormat("csv", encoding, digest.hexdigest())


def iter_table(fh: BinaryIO, fmt: FileFormat) -> Iterator[tuple[int, list]]:
    """(line number, cells) of each row of the file, header included, one at a time."""
    fh.seek(0)
    if fmt.kind == "xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # a damaged workbook
            raise FileRejected(_l("The workbook cannot be read.")) from exc
        try:
            for i, r in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                yield i, list(r)
        finally:
            wb.close()
        return
    text = io.TextIOWrapper(fh, encoding=fmt.encoding, newline="")
    try:
        reader = csv.reader(text)
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileRejected(_l("The CSV file is malformed near line %(n)d.", n=reader.line_num)) from exc
    finally:
        text.detach()  # the caller's file stays open


def read_table(data: Source) -> list[tuple[int, list]]:
    """[(line number, cells)] of a CSV or xlsx file, header included, judged by content
    (the whole table in memory: for small files and tests; imports stream)."""
    with open_source(data) as fh:
        return list(iter_table(fh, sniff(fh)))


def count_rows(source: Source) -> int:
    """Data rows in the file (read row by row; to decide whether a worker should import it)."""
    with open_source(source) as fh:
        return max(sum(1 for _ in iter_table(fh, sniff(fh))) - 1, 0)


# --- checking ------------------------------------------------------------------------


def parse_date(raw) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = unicodedata.normalize("NFKC", _text_cell(raw))
    if not text:
        return None
    m = DATE_RE.match(text)
    if not m:
        raise ValueError(text)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def header_map(header: list) -> dict[int, str]:
    out = {}
    for i, cell in enumerate(header):
        name = unicodedata.normalize("NFKC", _text_cell(cell)).replace(" ", "")
        if name in COLUMNS and COLUMNS[name] not in out.values():
            out[i] = COLUMNS[name]
    missing = [c for c in REQUIRED if c not in out.values()]
    if missing:
        raise FileRejected(_l("The header (line 1) lacks the columns 社会组织名称, 统一社会信用代码 and "
                              "社会组织类型; is this the registry export?"))
    return out


def check_row(cells: list, columns: dict[int, str]) -> dict:
    """The row as registry values, or ValueError with the reason (translatable)."""
    raw = {col: (cells[i] if i < len(cells) else None) for i, col in columns.items()}
    if any(isinstance(v, str) and has_control_chars(v, multiline=True) for v in raw.values()):
        raise ValueError(_l("The row contains control characters (such as a NUL byte); is the file damaged?"))
    row: dict = {}
    row["name"] = _text_cell(raw.get("name"))
    if not row["name"]:
        raise ValueError(_l("The name is missing."))
    if len(row["name"]) > 200:
        raise ValueError(_l("The name is longer than 200 characters."))
    kind_text = unicodedata.normalize("NFKC", _text_cell(raw.get("kind"))).replace(" ", "")
    kind = KINDS.get(kind_text)
    if kind is None:
        raise ValueError(_l("Unknown type “%(t)s” (expected 社会团体, 民办非企业单位/社会服务机构 or 基金会).",
                            t=kind_text))
    row["kind"] = kind
    try:
        row["credit_code"] = creditcode.validate(_text_cell(raw.get("credit_code")), kind)
    except creditcode.CreditCodeError as exc:
        raise ValueError(exc.message) from exc
    try:
        row["registration_date"] = parse_date(raw.get("registration_date"))
    except ValueError as exc:
        raise ValueError(_l("The date “%(d)s” is not a date (write 2018-01-05, 2018/1/5 or 2018年1月5日).",
                            d=_text_cell(raw.get("registration_date")))) from exc
    status_text = unicodedata.normalize("NFKC", _text_cell(raw.get("status"))).replace(" ", "")
    if status_text and status_text not in STATUSES:
        raise ValueError(_l("Unknown registration status “%(s)s”.", s=status_text))
    row["status"] = STATUSES.get(status_text, RegStatus.NORMAL)
    for col, label, limit in (("registration_authority", _l("Registration authority"), 120),
                              ("supervisor", _l("Business supervisor"), 120),
                              ("legal_representative", _l("Legal representative"), 60),
                              ("address", _l("Address"), 300)):
        value = _text_cell(raw.get(col))
        if len(value) > limit:
            raise ValueError(_l("%(c)s is longer than %(n)d characters.", c=label, n=limit))
        row[col] = value or None
    return row


class CodeLines:
    """Credit code → the line it first appears on, for a whole file in two flat arrays
    (16 bytes a code, open addressing on a 64-bit BLAKE2 digest of the code), instead of
    a dict of strings (about 130 bytes a code). Two different codes share a digest with
    odds of about 1 in 36 million at a million rows; such a row would be reported as
    a duplicate, never written over another organization."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._keys = array("q", bytes(8 * capacity))
        self._lines = array("q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @staticmethod
    def _key(code: str) -> int:
        key = int.from_bytes(hashlib.blake2b(code.encode(), digest_size=8).digest(), "little", signed=True)
        return key or 1  # 0 marks an empty slot

    def _slot(self, key: int) -> int:
        i = key & self._mask
        keys = self._keys
        while keys[i] != 0 and keys[i] != key:
            i = (i + 1) & self._mask
        return i

    def setdefault(self, code: str, line: int) -> int:
        """The line ``code`` first appeared on; ``line`` when it is new (and now kept)."""
        key = self._key(code)
        i = self._slot(key)
        if self._keys[i] == key:
            return self._lines[i]
        self._keys[i], self._lines[i] = key, line
        self._n += 1
        if self._n * 2 > len(self._keys):
            self._grow()
        return line

    def get(self, code: str) -> int | None:
        key = self._key(code)
        i = self._slot(key)
        return self._lines[i] if self._keys[i] == key else None

    def _grow(self) -> None:
        keys, lines = self._keys, self._lines
        capacity = len(keys) * 2
        self._keys, self._lines = array("q", bytes(8 * capacity)), array("q", bytes(8 * capacity))
        self._mask = capacity - 1
        for key, line in zip(keys, lines, strict=True):
            if key:
                i = self._slot(key)
                self._keys[i], self._lines[i] = key, line


@dataclass
class Checked:
    """What the first pass keeps: counts, the first bad rows, the codes seen."""
    fmt: FileFormat
    columns: dict[int, str]
    codes: CodeLines
    good: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0


def _body(rows: Iterator[tuple[int, list]]) -> Iterator[tuple[int, list]]:
    """The data rows (blank rows skipped) after the header, which must exist."""
    for line, cells in rows:
        if any(_text_cell(c) for c in cells):
            yield line, cells


def check_file(fh: BinaryIO, progress: Callable | None = None, total: int | None = None) -> Checked:
    """First pass: check every row, keeping only the first ``MAX_ERRORS`` errors, how
    many there are, and the codes seen. ``progress(done, total)`` every ``BATCH`` rows."""
    fmt = sniff(fh)
    rows = iter_table(fh, fmt)
    header = next(rows, None)
    if header is None:
        raise FileRejected(_l("The file is empty."))
    checked = Checked(fmt, header_map(header[1]), CodeLines())
    for i, (line, cells) in enumerate(_body(rows), start=1):
        error = None
        try:
            row = check_row(cells, checked.columns)
        except ValueError as exc:
            error = exc.args[0]
        else:
            first = checked.codes.setdefault(row["credit_code"], line)
            if first != line:
                error = _l("The credit code %(c)s already appears on line %(l)d.", c=row["credit_code"], l=first)
            else:
                checked.good += 1
        if error is not None:
            checked.error_count += 1
            if len(checked.errors) < MAX_ERRORS:
                checked.errors.append(RowError(line, error))
        if progress and i % BATCH == 0:
            progress(i, total)
    return checked


def good_rows(fh: BinaryIO, checked: Checked) -> Iterator[tuple[int, dict]]:
    """Second pass: the good rows again, one at a time (a row is good when it checks and
    is the first of its code, as in the first pass)."""
    rows = iter_table(fh, checked.fmt)
    next(rows, None)
    for line, cells in _body(rows):
        try:
            row = check_row(cells, checked.columns)
        except ValueError:
            continue
        if checked.codes.get(row["credit_code"]) == line:
            yield line, row


# --- writing -------------------------------------------------------------------------


def _plain(value):
    return value.value if isinstance(value, RegStatus | OrgKind) else value


def apply_rows(actor, good: list[tuple[int, dict]], result: ImportResult) -> None:
    """Create or update organizations by credit code, one batch of good rows (flushes,
    never commits): one look-up, one INSERT … RETURNING, one executemany UPDATE per set
    of changed columns, and their audit events."""
    cols = [Organization.id, Organization.credit_code, *(getattr(Organization, f) for f in FIELDS)]
    existing = {rec["credit_code"]: rec for rec in db.session.execute(select(*cols).where(
        Organization.credit_code.in_([row["credit_code"] for _line, row in good]))).mappings()}
    new_rows, changed_rows, events = [], [], []
    for _line, row in good:
        old = existing.get(row["credit_code"])
        if old is None:
            new_rows.append(row)
            continue
        changes = {f: [_plain(old[f]), _plain(row[f])] for f in FIELDS if _plain(old[f]) != _plain(row[f])}
        if not changes:
            result.unchanged += 1
            continue
        result.updated[row["credit_code"]] = changes
        changed_rows.append({"id": old["id"], **{f: row[f] for f in changes}})
        events.append(("organization.update", "organizations", old["id"],
                       {f: v[0] for f, v in changes.items()}, {f: v[1] for f, v in changes.items()}))
    if new_rows:
        now = utcnow()
        chunk = [dict(r, created_at=now, credit_standing=CreditStanding.NORMAL) for r in new_rows]
        ids = db.session.execute(insert(Organization).returning(Organization.id, Organization.credit_code,
                                                                sort_by_parameter_order=True), chunk).all()
        for (oid, code), row in zip(ids, chunk, strict=True):
            result.created.append(code)
            events.append(("organization.create", "organizations", oid, None,
                           {"credit_code": code, **{f: _plain(row[f]) for f in FIELDS}}))
    # Group updates by the set of changed columns: executemany needs the same keys.
    by_keys: dict[tuple, list] = {}
    for row in changed_rows:
        by_keys.setdefault(tuple(sorted(row)), []).append(row)
    for rows in by_keys.values():
        db.session.execute(update(Organization), rows)
    audit.record_many(actor, events)


def import_file(actor, source: Source, *, only_good: bool = False, filename: str = "",
                progress: Callable | None = None, total: int | None = None) -> ImportResult:
    """Check the file and, when every row is good (or ``only_good``), write it, reading
    it twice row by row (``source``: bytes, a path or a binary file object that can
    seek). ``progress(phase, done, total)``; ``total`` is the expected row count, if
    known, for the checking phase. ``actor`` None is the command line (the operator).
    Flushes, never commits."""
    if actor is not None:
        permissions.require(actor, "organization.import")
    with open_source(source) as fh:
        checked = check_file(fh, progress=(lambda d, t: progress("checking", d, t)) if progress else None,
                             total=total)
        result = ImportResult(total=checked.good + checked.error_count, errors=checked.errors,
                              error_count=checked.error_count)
        if checked.error_count and not only_good:
            return result
        batch: list[tuple[int, dict]] = []
        done = 0
        for item in good_rows(fh, checked):
            batch.append(item)
            if len(batch) == BATCH:
                apply_rows(actor, batch, result)
                done += len(batch)
                batch = []
                if progress:
                    progress("writing", done, checked.good)
        if batch:
            apply_rows(actor, batch, result)
            if progress:
                progress("writing", done + len(batch), checked.good)
    result.applied = True
    audit.record(actor, "organization.import", "imports", checked.fmt.sha256[:16],
                 after={"filename": filename[:200], "rows": result.total, "created": len(result.created),
                        "updated": len(result.updated), "unchanged": result.unchanged,
                        "skipped_bad_rows": checked.error_count})
    db.session.flush()
    return result


def import_bytes(actor, data: bytes, **kw) -> ImportResult:
    """``import_file`` of a file's bytes."""
    return import_file(actor, data, **kw)


# --- the import job (large files, run by a worker) ------------------------------------

#: The job kind of a registry import, and the task that runs it.
IMPORT_JOB = "organization.import"
RUN_TASK = "workers.registry.run_import"
jobs.register_task(IMPORT_JOB, RUN_TASK)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PHASES = {"checking": _l("Checking the rows"), "writing": _l("Writing the organizations")}


def request_import(actor, data: bytes, *, filename: str, only_good: bool, total: int) -> Job:
    """Queue the import of a large file: the file is kept as a document of the job and
    a worker imports it after the commit (flushes, never commits)."""
    permissions.require(actor, "organization.import")
    filename = filename[:200] or "upload.csv"
    job = jobs.create_job(actor, IMPORT_JOB, {"filename": filename, "only_good": bool(only_good), "rows": total})
    doc = store_document(actor, data, filename, XLSX_TYPE if is_xlsx(data) else "text/csv",
                         "registry_import", obj=job, permission="job.view")
    job.params = dict(job.params, document_id=doc.id)
    db.session.flush()
    return job


def run_import_job(job: Job) -> dict:
    """The work of an import job (run by ``jobs.run_job``): import the job's file as its
    requester, reporting progress. Returns the summary its page shows; with bad rows and
    not "only the good ones", nothing is written and the job fails with that summary."""
    actor = db.session.get(User, job.requested_by_id)
    path = document_path(db.session.get(Document, job.params["document_id"]))
    with force_locale(getattr(actor, "locale", None) or "zh_CN"):
        result = import_file(actor, path, only_good=job.params.get("only_good", False),
                             filename=job.params.get("filename", ""), total=job.params.get("rows"),
                             progress=lambda phase, d, t: jobs.job_progress(job.id, d, t, str(PHASES[phase])))
        summary = result.as_dict()
        if not result.applied:
            raise jobs.JobRefused(_l("Nothing was imported: %(n)d row(s) are wrong. Fix them, or choose to "
                                     "import only the good rows.", n=result.error_count), result=summary)
        summary["message"] = str(_l("Imported: %(c)d new, %(u)d updated, %(n)d unchanged.",
                                    c=len(result.created), u=len(result.updated), n=result.unchanged))
    return summary
