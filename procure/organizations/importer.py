"""Import of the national registry's export (.csv or .xlsx) into the registry.

Real exports are messy: UTF-8 with or without BOM or GB18030 from Excel, CRLF line ends,
dates written 2018-01-05, 2018/1/5 or 2018年1月5日, stray full-width spaces and
characters, lower-case codes, 民办非企业单位 also written 社会服务机构. Every row is
checked first; each bad row is reported with its line number in the file (the header is
line 1). Nothing is written when any row is bad, unless the caller asks for the good
rows only. A re-import updates organizations by credit code and says what changed.

Writing is in bulk (one INSERT … RETURNING for the new rows, one executemany UPDATE for
the changed ones, audit events appended to the chain in one batch), so 20,000 rows take
seconds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update

from .. import audit, permissions
from ..auth.models import User
from ..documents.models import Document
from ..documents.services import read_document, store_document
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
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    def as_dict(self) -> dict:
        return {"total": self.total, "created": len(self.created), "updated": self.updated,
                "unchanged": self.unchanged, "applied": self.applied,
                "errors": [{"line": e.line, "message": str(e.message)} for e in self.errors]}


# --- reading -------------------------------------------------------------------------


def _text_cell(value) -> str:
    """Trim, turn full-width spaces into spaces and collapse runs of them."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = str(value).replace("\u3000", " ").replace("\ufeff", "")
    return " ".join(text.split())


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, judged by the bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileRejected(_l("The file is neither UTF-8 nor GB18030 text, nor an .xlsx workbook.")) from exc


def is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def read_table(data: bytes) -> list[tuple[int, list]]:
    """[(line number, cells)] of a CSV or xlsx file, header included, judged by content."""
    if not data:
        raise FileRejected(_l("The file is empty."))
    if is_xlsx(data):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # a damaged workbook
            raise FileRejected(_l("The workbook cannot be read.")) from exc
        ws = wb.worksheets[0]
        rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
        wb.close()
        return rows
    if data.startswith(b"PK") or b"\x00" in data[:4096]:
        raise FileRejected(_l("This is not a CSV or .xlsx file."))
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, start = [], 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRejected(_l("The CSV file is malformed near line %(n)d.", n=reader.line_num)) from exc
    return rows


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


def check_table(table: list[tuple[int, list]], progress: Callable | None = None
                ) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """Good rows and bad rows (with line numbers) of a read table."""
    if not table:
        raise FileRejected(_l("The file is empty."))
    columns = header_map(table[0][1])
    good, bad, seen = [], [], {}
    body = [(n, cells) for n, cells in table[1:] if any(_text_cell(c) for c in cells)]
    for i, (line, cells) in enumerate(body, start=1):
        try:
            row = check_row(cells, columns)
        except ValueError as exc:
            bad.append(RowError(line, exc.args[0]))
        else:
            if row["credit_code"] in seen:
                bad.append(RowError(line, _l("The credit code %(c)s already appears on line %(l)d.",
                                             c=row["credit_code"], l=seen[row["credit_code"]])))
            else:
                seen[row["credit_code"]] = line
                good.append((line, row))
        if progress and i % 1000 == 0:
            progress(i, len(body))
    return good, bad


# --- writing -------------------------------------------------------------------------


def _plain(value):
    return value.value if isinstance(value, RegStatus | OrgKind) else value


def apply_rows(actor, good: list[tuple[int, dict]], result: ImportResult,
               progress: Callable | None = None) -> None:
    """Create or update organizations by credit code (flushes, never commits)."""
    codes = [row["credit_code"] for _line, row in good]
    existing: dict[str, dict] = {}
    cols = [Organization.id, Organization.credit_code, *(getattr(Organization, f) for f in FIELDS)]
    for start in range(0, len(codes), 5000):
        for rec in db.session.execute(select(*cols).where(
                Organization.credit_code.in_(codes[start:start + 5000]))).mappings():
            existing[rec["credit_code"]] = dict(rec)
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
    now = utcnow()
    for start in range(0, len(new_rows), 2000):
        chunk = [dict(r, created_at=now, credit_standing=CreditStanding.NORMAL) for r in new_rows[start:start + 2000]]
        ids = db.session.execute(insert(Organization).returning(Organization.id, Organization.credit_code,
                                                                sort_by_parameter_order=True), chunk).all()
        for (oid, code), row in zip(ids, chunk, strict=True):
            result.created.append(code)
            events.append(("organization.create", "organizations", oid, None,
                           {"credit_code": code, **{f: _plain(row[f]) for f in FIELDS}}))
        if progress:
            progress(start + len(chunk), len(new_rows))
    # Group updates by the set of changed columns: executemany needs the same keys.
    by_keys: dict[tuple, list] = {}
    for row in changed_rows:
        by_keys.setdefault(tuple(sorted(row)), []).append(row)
    for rows in by_keys.values():
        db.session.execute(update(Organization), rows)
    audit.record_many(actor, events)
    result.applied = True


def import_bytes(actor, data: bytes, *, only_good: bool = False, filename: str = "",
                 progress: Callable | None = None) -> ImportResult:
    """Check the file and, when every row is good (or ``only_good``), write it.
    ``actor`` None is the command line (the operator). Flushes, never commits."""
    if actor is not None:
        permissions.require(actor, "organization.import")
    table = read_table(data)
    good, bad = check_table(table, progress=(lambda d, t: progress("checking", d, t)) if progress else None)
    result = ImportResult(total=len(good) + len(bad), errors=bad)
    if bad and not only_good:
        return result
    apply_rows(actor, good, result, progress=(lambda d, t: progress("writing", d, t)) if progress else None)
    audit.record(actor, "organization.import", "imports", hashlib.sha256(data).hexdigest()[:16],
                 after={"filename": filename[:200], "rows": result.total, "created": len(result.created),
                        "updated": len(result.updated), "unchanged": result.unchanged,
                        "skipped_bad_rows": len(bad)})
    db.session.flush()
    return result


def count_rows(data: bytes) -> int:
    """Data rows in the file (cheap enough to decide whether a worker should import it)."""
    return max(len(read_table(data)) - 1, 0)


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
    data = read_document(db.session.get(Document, job.params["document_id"]))
    with force_locale(getattr(actor, "locale", None) or "zh_CN"):
        result = import_bytes(actor, data, only_good=job.params.get("only_good", False),
                              filename=job.params.get("filename", ""),
                              progress=lambda phase, d, t: jobs.job_progress(job.id, d, t, str(PHASES[phase])))
        summary = result.as_dict()
        if not result.applied:
            raise jobs.JobRefused(_l("Nothing was imported: %(n)d row(s) are wrong. Fix them, or choose to "
                                     "import only the good rows.", n=len(result.errors)), result=summary)
        summary["message"] = str(_l("Imported: %(c)d new, %(u)d updated, %(n)d unchanged.",
                                    c=len(result.created), u=len(result.updated), n=result.unchanged))
    return summary
