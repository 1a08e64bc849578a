"""The import streams: checking holds the errors and the codes seen, never the rows, so
its peak memory does not grow with the file; every bad row is still reported with its
line number and nothing is written, for CSV and xlsx, across write batches."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
import sqlalchemy as sa

from procure.audit import AuditEvent
from procure.organizations import importer
from procure.organizations.creditcode import ALPHABET, check_character
from procure.organizations.models import Organization

HEADER = ["序号", "社会组织名称", "统一社会信用代码", "社会组织类型", "登记管理机关", "业务主管单位", "法定代表人",
          "成立登记日期", "住所", "登记状态"]


def code(n: int) -> str:
    serial = ""
    for _ in range(7):
        serial = ALPHABET[n % 31] + serial
        n //= 31
    first = "51500103MJ" + serial
    return first + check_character(first)


def rows(n: int) -> list[list]:
    """The header and ``n`` good rows of social groups (line i + 1 holds row i)."""
    return [HEADER] + [[i, f"重庆市渝中区第{i}号社会组织", code(i), "社会团体", "重庆市渝中区民政局", "",
                        f"法人{i}", f"20{i % 20:02d}-0{1 + i % 9}-1{i % 9}", f"重庆市渝中区测试路{i}号", "正常"]
                       for i in range(1, n + 1)]


def to_csv(table) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(table)
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(table) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    for row in table:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def spoil(table) -> list[int]:
    """Make some rows bad (before, inside and after the first write batch, and a duplicate
    code far from its first line); the bad rows' line numbers."""
    n = len(table) - 1
    table[3][3] = "公司"                                   # unknown type
    table[importer.BATCH - 1][2] = table[importer.BATCH - 1][2][:-1] + "0"  # wrong check character
    table[importer.BATCH + 5][7] = "去年春天"               # not a date
    table[n - 1][2] = table[10][2]                          # the code of line 11 again
    table[n][1] = ""                                        # no name (the last line)
    return [4, importer.BATCH, importer.BATCH + 6, n, n + 1]


def peak_of_checking(app, data: bytes) -> int:
    """Peak traced memory of importing a file whose last row is bad (it checks every row
    and writes nothing). The file's bytes exist before tracing starts."""
    with app.test_request_context():
        tracemalloc.start()
        try:
            result = importer.import_bytes(None, data)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert not result.applied and [e.line for e in result.errors] == [result.total + 1]
    return peak


def test_checking_memory_does_not_grow_with_the_file(app, db):
    n = 1000
    small, large = rows(n), rows(4 * n)
    small[-1][3] = large[-1][3] = "公司"
    small, large = to_csv(small), to_csv(large)
    peak_of_checking(app, small)  # warm: imports, compiled patterns, translations
    p_small, p_large = peak_of_checking(app, small), peak_of_checking(app, large)
    # Holding the rows (the old import) costs about 1.5 KB a row: 4x the rows was 4x the peak.
    assert p_large < 1.5 * p_small, (p_small, p_large)
    assert (p_large - p_small) / (3 * n) < 200, (p_small, p_large)  # bytes per extra row


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_bad_row_reported_and_nothing_written(app, db, tmp_path, fmt):
    table = rows(importer.BATCH + 500)
    bad = spoil(table)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(to_csv(table) if fmt == "csv" else to_xlsx(table))
    with app.test_request_context():
        result = importer.import_file(None, str(path), filename=path.name)
        db.session.commit()
    assert [e.line for e in result.errors] == bad and result.error_count == 5
    assert "11" in str(result.errors[3].message)  # the duplicate names its first line
    assert not result.applied and result.total == importer.BATCH + 500
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0

    with app.test_request_context(), open(path, "rb") as fh:  # a file object; only the good rows
        result = importer.import_file(None, fh, only_good=True)
        db.session.commit()
    assert result.applied and len(result.created) == importer.BATCH + 495
    assert [e.line for e in result.errors] == bad
    codes = set(db.session.scalars(sa.select(Organization.credit_code)))
    assert len(codes) == importer.BATCH + 495 and code(10) in codes and table[-2][2] in codes
    assert table[3][2] not in codes


def test_errors_kept_are_capped_and_the_rest_counted(app, db, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ERRORS", 2)
    table = rows(30)
    for i in (5, 9, 20):
        table[i][3] = "公司"
    with app.test_request_context():
        result = importer.import_bytes(None, to_csv(table))
        db.session.commit()
    assert [e.line for e in result.errors] == [6, 10] and result.error_count == 3 and result.more_errors == 1
    summary = result.as_dict()
    assert summary["error_count"] == 3 and summary["more_errors"] == 1 and len(summary["errors"]) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_encoding_judged_by_the_whole_file():
    """Text that is plain ASCII for its first 64 KB and GB18030 after it is GB18030, as
    when the whole file was decoded at once; a file that is neither is rejected."""
    ascii_part = b"a,b\r\n" * 20000
    assert len(ascii_part) > 65536
    for encoding, expected in (("gb18030", "gb18030"), ("utf-8", "utf-8")):
        with importer.open_source(ascii_part + "社会团体,重庆\r\n".encode(encoding)) as fh:
            assert importer.sniff(fh).encoding == expected
    with importer.open_source("社会团体".encode("utf-8-sig")) as fh:
        assert importer.sniff(fh).encoding == "utf-8-sig"
    with pytest.raises(importer.FileRejected), importer.open_source(b"\xff\xfe\xfd" * 10) as fh:
        importer.sniff(fh)
