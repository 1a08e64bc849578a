"""Registry import: every real spelling, encodings, line numbers, all-or-nothing,
re-import by credit code, the CLI, the upload page and the worker path."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from procure.audit import verify_chain
from procure.documents.models import Document
from procure.jobs.models import Job
from procure.organizations import importer
from procure.organizations.models import Organization, OrgKind, RegStatus
from procure.roles import Role

from ..conftest import login

SAMPLE = Path("/work/shared/data/registry-sample.csv")
if not SAMPLE.exists():  # CI: shared/ sits beside the clone
    SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "registry-sample.csv"


def sample_rows() -> list[list[str]]:
    with open(SAMPLE, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def to_csv(rows, *, encoding="utf-8", bom=False, newline="\r\n") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def snapshot(db) -> list[tuple]:
    db.session.expire_all()
    return [(o.credit_code, o.name, o.kind, o.registration_date, o.registration_authority, o.supervisor,
             o.legal_representative, o.address, o.status)
            for o in db.session.scalars(sa.select(Organization).order_by(Organization.credit_code))]


def run(app, data: bytes, **kw) -> importer.ImportResult:
    from procure.extensions import db

    with app.test_request_context():
        result = importer.import_bytes(None, data, **kw)
        db.session.commit()
    return result


def messy(rows: list[list[str]]) -> list[list[str]]:
    """Every spelling a real export uses, spread over the sample's rows."""
    out = [rows[0]]
    for i, row in enumerate(rows[1:]):
        row = list(row)
        y, m, d = (int(x) for x in row[7].split("-"))
        row[7] = [f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日", f" {y}年{m:02d}月{d:02d}日\u3000"][i % 4]
        if i % 3 == 0:
            row[2] = row[2].lower()
        if i % 5 == 1:
            row[2] = "".join(chr(ord(c) + 0xFEE0) for c in row[2])  # full-width code
        if row[3] == "民办非企业单位" and i % 2:
            row[3] = "社会服务机构"
        if i % 4 == 2:
            row[1] = "\u3000" + row[1] + " "
            row[3] = row[3] + "\u3000"
        out.append(row)
    return out


def test_clean_sample(app, db):
    result = run(app, SAMPLE.read_bytes())
    assert result.applied and len(result.created) == 30 and not result.errors
    orgs = snapshot(db)
    assert len(orgs) == 30
    first = db.session.scalar(sa.select(Organization).where(Organization.credit_code == "51500105MJTH3BJ13E"))
    assert (first.name, first.kind, first.registration_date, first.registration_authority, first.status) == (
        "重庆市江北区阳光协会", OrgKind.SOCIAL_GROUP, date(2021, 4, 2), "重庆市江北区民政局", RegStatus.NORMAL)
    assert verify_chain().ok


@pytest.mark.parametrize("variant", ["utf8-bom-crlf", "utf8-lf", "gb18030-crlf", "xlsx"])
def test_every_spelling_gives_the_clean_result(app, db, variant):
    run(app, SAMPLE.read_bytes())
    clean = snapshot(db)
    from procure.extensions import db as _db
    from tests.conftest import truncate_all

    _db.session.remove()
    truncate_all(_db.engine)
    rows = messy(sample_rows())
    if variant == "utf8-bom-crlf":
        data = to_csv(rows, bom=True)
    elif variant == "utf8-lf":
        data = to_csv(rows, newline="\n")
    elif variant == "gb18030-crlf":
        data = to_csv(rows, encoding="gb18030")
    else:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        for i, row in enumerate(rows):
            if i and i % 2:  # real date cells on some rows
                y, m, d = (int(x) for x in sample_rows()[i][7].split("-"))
                row = [*row[:7], datetime(y, m, d), *row[8:]]
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
    result = run(app, data)
    assert not result.errors, [str(e) for e in result.errors]
    assert snapshot(db) == clean


def test_gb18030_and_utf8_bom_give_the_same_result(app, db):
    rows = messy(sample_rows())
    run(app, to_csv(rows, encoding="gb18030"))
    a = snapshot(db)
    from procure.extensions import db as _db
    from tests.conftest import truncate_all

    _db.session.remove()
    truncate_all(_db.engine)
    run(app, to_csv(rows, bom=True))
    assert snapshot(db) == a and len(a) == 30


def bad_file() -> bytes:
    rows = sample_rows()
    rows[2][2] = rows[2][2][:-1] + ("0" if rows[2][2][-1] != "0" else "1")  # line 3: check character
    rows[4][7] = "2018-13-45"  # line 5: not a date
    rows[6][3] = "公司"  # line 7: unknown type
    rows[8][2] = rows[1][2]  # line 9: duplicate of line 2
    rows[10][1] = ""  # line 11: no name
    return to_csv(rows)


def test_bad_rows_import_nothing_and_are_reported_with_their_lines(app, db):
    result = run(app, bad_file())
    assert not result.applied
    assert [e.line for e in result.errors] == [3, 5, 7, 9, 11]
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("en"):
            text = [str(e) for e in result.errors]
    assert "check character" in text[0] and "2018-13-45" in text[1] and "公司" in text[2]
    assert "line 2" in text[3] and "name" in text[4]
    assert snapshot(db) == []


def test_only_good_rows(app, db):
    result = run(app, bad_file(), only_good=True)
    assert result.applied and len(result.created) == 25 and len(result.errors) == 5
    assert len(snapshot(db)) == 25


def test_line_numbers_count_physical_lines(app, db):
    rows = sample_rows()[:4]
    rows[1][8] = "重庆市\n渝中区"  # a quoted field spanning two lines
    rows[3][2] = "bad"
    result = run(app, to_csv(rows))
    assert [e.line for e in result.errors] == [5]


def test_reimport_updates_by_code_and_says_what_changed(app, db):
    run(app, SAMPLE.read_bytes())
    rows = sample_rows()
    rows[1][8] = "重庆市江北区新地址1号"
    rows[2][6] = "新法人"
    result = run(app, to_csv(rows))
    assert result.applied and result.created == [] and result.unchanged == 28
    assert result.updated == {rows[1][2]: {"address": ["重庆市江北区观音桥街道47号", "重庆市江北区新地址1号"]},
                              rows[2][2]: {"legal_representative": ["赵芳秀", "新法人"]}}
    assert len(snapshot(db)) == 30
    assert verify_chain().ok


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n\x00\x00\x00", b"PK\x03\x04 not really a workbook",
                                  "名称,地址\n甲,乙\n".encode()])
def test_unreadable_files_are_rejected(app, db, data):
    with app.test_request_context(), pytest.raises(importer.FileRejected):
        importer.import_bytes(None, data)


def test_cli(app, db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(bad_file())
    runner = app.test_cli_runner()
    out = runner.invoke(args=["orgs", "import", str(path)])
    assert out.exit_code == 1
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    assert [ln.split(":")[0] for ln in lines] == ["3", "5", "7", "9", "11"]
    assert snapshot(db) == []
    out = runner.invoke(args=["orgs", "import", "--only-good", str(path)])
    assert out.exit_code == 0 and "25 new" in out.stdout
    path.write_bytes(SAMPLE.read_bytes())
    out = runner.invoke(args=["orgs", "import", str(path)])
    assert out.exit_code == 0 and "5 new" in out.stdout and "25 unchanged" in out.stdout


def test_upload_page(client, make, db):
    officer = make.user(Role.OFFICER, locale="en")
    make.commit()
    login(client, officer.username)
    resp = client.post("/organizations/import", data={"file": (io.BytesIO(bad_file()), "export.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Nothing was imported" in page and "<td>3</td>" in page and "check character" in page
    assert snapshot(db) == []
    resp = client.post("/organizations/import", data={"file": (io.BytesIO(SAMPLE.read_bytes()), "export.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and b"30 new" in resp.data
    assert len(snapshot(db)) == 30


def test_upload_checked_by_content_and_size(client, make, db, app):
    officer = make.user(Role.OFFICER, locale="en")
    make.commit()
    login(client, officer.username)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    resp = client.post("/organizations/import", data={"file": (io.BytesIO(png), "registry.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and b"not a CSV" in resp.data
    app.config["REGISTRY_IMPORT_MAX_BYTES"] = 1024
    try:
        resp = client.post("/organizations/import", data={"file": (io.BytesIO(b"x" * 200_000), "big.csv")},
                           content_type="multipart/form-data")
        assert resp.status_code == 413
    finally:
        del app.config["REGISTRY_IMPORT_MAX_BYTES"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert snapshot(db) == []


def test_large_files_go_to_the_worker_with_progress(client, make, db, monkeypatch):
    """A large file becomes a job of the one job system: its file a stored document, its
    progress and result through /jobs/<id>, its page the import's result."""
    monkeypatch.setattr(importer, "WORKER_THRESHOLD", 5)
    officer = make.user(Role.OFFICER, locale="en")
    make.commit()
    login(client, officer.username)
    resp = client.post("/organizations/import", data={"file": (io.BytesIO(SAMPLE.read_bytes()), "export.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and "/organizations/import/" in resp.location
    job = db.session.scalar(sa.select(Job))
    assert job.kind == importer.IMPORT_JOB and job.requested_by_id == officer.id
    status = client.get(f"/jobs/{job.id}", headers={"Accept": "application/json"}).json  # eager: finished
    assert status["state"] == "done" and status["done"] == status["total"] == 30
    assert status["result"]["created"] == 30 and status["result"]["applied"] is True
    page = client.get(resp.location)
    assert page.status_code == 200 and b"Imported: 30 new, 0 updated, 0 unchanged." in page.data
    doc = db.session.get(Document, job.params["document_id"])
    assert doc.object_type == "jobs" and doc.object_id == str(job.id) and doc.kind == "registry_import"
    assert doc.sha256 == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    # a rejected file: nothing written, the rows' errors with their line numbers
    resp = client.post("/organizations/import", data={"file": (io.BytesIO(bad_file()), "bad.csv")},
                       content_type="multipart/form-data")
    bad_id = int(resp.location.rstrip("/").rsplit("/", 1)[1])
    status = client.get(f"/jobs/{bad_id}", headers={"Accept": "application/json"}).json
    assert status["state"] == "failed" and "Nothing was imported: 5 row(s)" in status["message"]
    assert [e["line"] for e in status["result"]["errors"]] == [3, 5, 7, 9, 11]
    page = client.get(resp.location)
    assert page.status_code == 200 and page.data.count(b"<tr><td>") >= 5 and b"import-errors" in page.data
    assert len(snapshot(db)) == 30
    # another officer cannot watch this job
    other = make.user(Role.OFFICER)
    make.commit()
    c2 = client.application.test_client()
    login(c2, other.username)
    assert c2.get(f"/jobs/{bad_id}", headers={"Accept": "application/json"}).status_code == 403
    assert c2.get(resp.location).status_code == 403
    assert verify_chain().ok


def test_the_import_job_is_sent_only_after_its_commit(app, db, make, monkeypatch):
    """The task goes to the worker when the transaction commits, not before; a rolled
    back request sends nothing."""
    from procure import dispatch

    sent = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args: sent.append((name, args)))
    officer = make.user(Role.OFFICER)
    make.commit()
    with app.test_request_context():
        job = importer.request_import(officer, SAMPLE.read_bytes(), filename="x.csv", only_good=False, total=30)
        assert sent == [] and dispatch.pending() == [(importer.RUN_TASK, (job.id,))]
        db.session.rollback()
        assert sent == [] and dispatch.pending() == []
        job = importer.request_import(officer, SAMPLE.read_bytes(), filename="x.csv", only_good=False, total=30)
        db.session.commit()
        assert sent == [(importer.RUN_TASK, (job.id,))]


@pytest.mark.parametrize("role", ["anon", "owner", *Role])
def test_job_pages_per_role(client, make, db, app, role, monkeypatch):
    """The job page and its JSON: the officer who uploaded and admins; nobody else."""
    from procure import dispatch

    monkeypatch.setattr(dispatch, "send", lambda name, *args: None)  # stays queued
    owner = make.user(Role.OFFICER)
    with app.test_request_context():
        job = importer.request_import(owner, SAMPLE.read_bytes(), filename="x.csv", only_good=False, total=30)
    make.commit()
    user = owner if role == "owner" else (make.admin() if role == Role.ADMIN else
                                          None if role == "anon" else make.user(role))
    make.commit()
    if user is not None:
        login(client, user.username)
    for path in (f"/organizations/import/{job.id}", f"/jobs/{job.id}"):
        resp = client.get(path)
        if role == "anon":
            assert resp.status_code in (302, 401)
        else:
            assert resp.status_code == (200 if role in ("owner", Role.ADMIN) else 403), (role, path)


def test_another_kind_of_job_is_not_an_import_page(client, make, db):
    from procure.jobs import services as jobs

    officer = make.user(Role.OFFICER)
    job = jobs.create_job(officer, "k")
    make.commit()
    login(client, officer.username)
    assert client.get(f"/organizations/import/{job.id}").status_code == 404


def test_too_long_cell_names_the_column_by_its_label(app, db):
    rows = sample_rows()[:2]
    rows[1][rows[0].index("住所")] = "长" * 301
    result = run(app, to_csv(rows))
    assert not result.applied
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        message = str(result.errors[0].message)
    assert "Address is longer than 300 characters" in message and "address" not in message


def test_cli_records_the_named_user(app, db, make, tmp_path):
    from procure.audit import AuditEvent

    officer = make.user(Role.OFFICER)
    make.commit()
    email, officer_id = officer.email, officer.id
    path = tmp_path / "export.csv"
    path.write_bytes(SAMPLE.read_bytes())
    runner = app.test_cli_runner()
    out = runner.invoke(args=["orgs", "import", "--user", "nobody@example.invalid", str(path)])
    assert out.exit_code == 2 and snapshot(db) == []
    out = runner.invoke(args=["orgs", "import", "--user", email, str(path)])
    assert out.exit_code == 0, out.output
    actors = set(db.session.scalars(sa.select(AuditEvent.actor_id).where(
        AuditEvent.action.in_(["organization.create", "organization.import"]))))
    assert actors == {officer_id}
    assert verify_chain().ok
    finance = make.user(Role.FINANCE)
    make.commit()
    out = runner.invoke(args=["orgs", "import", "--user", finance.email, str(path)])
    assert out.exit_code == 2 and "rejected" in out.output


def test_a_large_file_with_only_the_good_rows(client, make, db, monkeypatch):
    """The "only the good rows" choice goes with the job: the good rows are written and
    the bad ones listed with their line numbers on the job's page."""
    monkeypatch.setattr(importer, "WORKER_THRESHOLD", 5)
    officer = make.user(Role.OFFICER, locale="en")
    make.commit()
    login(client, officer.username)
    resp = client.post("/organizations/import", data={"file": (io.BytesIO(bad_file()), "bad.csv"), "only_good": "y"},
                       content_type="multipart/form-data")
    job = db.session.scalar(sa.select(Job))
    assert job.params["only_good"] is True and job.state.value == "done"
    assert job.result["created"] == 25 and [e["line"] for e in job.result["errors"]] == [3, 5, 7, 9, 11]
    page = client.get(resp.location).get_data(as_text=True)
    assert "Imported: 25 new, 0 updated, 0 unchanged." in page and "<td>11</td>" in page
    assert len(snapshot(db)) == 25
