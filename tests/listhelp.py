"""Reading a list page and its spreadsheet export back, to compare them
(procure.listing): the table's rows and totals row from the HTML, the header, rows and
totals row from the xlsx (openpyxl)."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import lxml.html
from openpyxl import load_workbook


def _text(el) -> str:
    return " ".join(el.text_content().split())


def page_table(html: str, table_id: str) -> tuple[list[str], list[list[str]], list[str] | None]:
    """(header labels, rows of cell texts, totals row or None) of the table ``table_id``."""
    doc = lxml.html.fromstring(html)
    table = doc.get_element_by_id(table_id)
    heads = [_text(th).rstrip("▲▼ ").strip() for th in table.xpath("./thead/tr/th")]
    body = table.xpath("./tbody/tr[@*[starts-with(name(), 'data-')]]")
    rows = [[_text(td) for td in tr.xpath("./td")] for tr in body]
    foot = table.xpath("./tfoot/tr")
    return heads, rows, [_text(td) for td in foot[0].xpath("./td")] if foot else None


def page_ids(html: str, table_id: str, attr: str) -> list[int]:
    doc = lxml.html.fromstring(html)
    return [int(v) for v in doc.get_element_by_id(table_id).xpath(f"./tbody/tr/@data-{attr}")]


def export_table(data: bytes) -> tuple[list, list[list], list | None, list]:
    """(header, rows, totals row or None, the lines above the header) of an exported list."""
    ws = load_workbook(BytesIO(data)).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    head_at = 4  # title, unit, filters, exported; then the header
    above, header, body = values[:head_at], values[head_at], values[head_at + 1:]
    totals = body[-1] if body and isinstance(body[-1][0], str) and body[-1][0].startswith(("合计", "Total")) else None
    if totals is not None:
        body = body[:-1]
    return header, body, totals, above


def money(text: str) -> Decimal:
    """An amount as the page shows it ("¥1,234.50", "1,234.50") as a Decimal."""
    cleaned = "".join(ch for ch in text if ch.isdigit() or ch in ".-")
    return Decimal(cleaned or "0")


def xl_money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def assert_export_matches(client, url: str, table_id: str) -> tuple[list, list[list]]:
    """GET the list at ``url`` (one page holding every row) and its export: same header,
    same rows in the same order (first column's text; money columns' amounts), same
    totals. Returns the export's header and rows."""
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    heads, rows, foot = page_table(resp.get_data(as_text=True), table_id)
    sep = "&" if "?" in url else "?"
    exp = client.get(f"{url}{sep}export=xlsx")
    assert exp.status_code == 200 and exp.mimetype.endswith("spreadsheetml.sheet")
    header, body, totals, above = export_table(exp.data)
    assert above[1][0] == "单位：元"
    assert [str(h) for h in header] == heads
    assert len(body) == len(rows)
    for page_row, xl_row in zip(rows, body, strict=True):
        assert page_row[0] == str(xl_row[0])
        for i, v in enumerate(xl_row):
            if isinstance(v, (int, float)) and not isinstance(v, bool) and "," in page_row[i] or "¥" in page_row[i]:
                assert money(page_row[i]) == xl_money(v), (heads[i], page_row[i], v)
    if foot is not None:
        assert totals is not None
        for i, v in enumerate(totals[1:], start=1):
            if v is not None:
                assert money(foot[i]) == xl_money(v), (heads[i], foot[i], v)
    return header, body


def job_export(client, url: str) -> tuple[bytes, dict]:
    """GET the export of the list at ``url`` when it is written by a job (the threshold
    set below the list's size): the answer is the job's progress page; the job (run at
    once by the eager test worker) offers the file there. Returns (file, job status)."""
    sep = "&" if "?" in url else "?"
    resp = client.get(f"{url}{sep}export=xlsx")
    assert resp.status_code == 302 and "/jobs/" in resp.location, (resp.status_code, resp.location)
    page = client.get(resp.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "job-progress" in html
    back = lxml.html.fromstring(html).get_element_by_id("job-back").get("href")
    # the link back is the list as it was asked for (without the export)
    assert [urlsplit(back).path, parse_qs(urlsplit(back).query)] == [urlsplit(url).path, parse_qs(urlsplit(url).query)]
    job_id = int(re.search(r"/jobs/(\d+)/progress", resp.location).group(1))
    status = client.get(f"/jobs/{job_id}").json
    assert status["state"] == "done" and status["download_url"], status
    data = client.get(status["download_url"])
    assert data.status_code == 200 and data.mimetype.endswith("spreadsheetml.sheet")
    return data.data, status
