"""procure.pdf: Chinese round-trips, a CJK font is embedded, nothing is fetched."""

from __future__ import annotations

import io
import subprocess
import threading
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader
from pypdf import PdfReader

from procure.pdf import STATIC_BASE, PdfFetcher, page_label_css, render_pdf

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
#: Common characters plus the rarer ones of money and ranks in our documents.
CHINESE = "政府购买服务预算执行情况表 社会组织孵化基地 壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整 履约验收绩效评价"


def _pdftotext(data: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture()
def sample_pdf(app):
    with app.test_request_context():
        return render_pdf("pdf/example.html", locale="zh_CN", title="预算执行情况表",
                          subtitle=CHINESE, rows=[("购买服务项目甲", Decimal("123456.78")),
                                                  ("社区养老服务", Decimal("1000"))])


def test_chinese_text_round_trips_through_pypdf_and_pdftotext(sample_pdf, tmp_path):
    assert sample_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(sample_pdf))
    via_pypdf = _squash("".join(page.extract_text() for page in reader.pages))
    via_poppler = _squash(_pdftotext(sample_pdf, tmp_path))
    for text in (via_pypdf, via_poppler):
        assert _squash(CHINESE) in text
        assert "预算执行情况表" in text
        assert "¥123,456.78" in text
        assert "\ufffd" not in text  # no unmapped glyph
        # The footer from pdf.css (zh page label, or the msgid until it is translated).
        assert "第1页/共1页" in text or "Page1of1" in text


def test_a_cjk_font_is_embedded_and_every_character_has_a_glyph(sample_pdf, tmp_path):
    pdf = tmp_path / "fonts.pdf"
    pdf.write_bytes(sample_pdf)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line and "Noto" in line]
    assert cjk, fonts
    # Columns: name type encoding emb sub uni object-id; every CJK font embedded ("yes").
    for line in cjk:
        assert line.split()[-5] == "yes", line
    # Every character of the sample came out as itself: none fell back to .notdef.
    text = _squash(_pdftotext(sample_pdf, tmp_path))
    missing = {ch for ch in _squash(CHINESE) if ch not in text}
    assert not missing


def test_page_one_rendered_to_png(sample_pdf):
    """Writes test-artifacts/pdf-example-1.png (git-ignored) for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "pdf-example.pdf"
    pdf.write_bytes(sample_pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "pdf-example")],
                   check=True)
    png = next(ARTIFACTS.glob("pdf-example-1.png"))
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000


def test_page_label_becomes_css_counters(app):
    with app.test_request_context():
        css = str(page_label_css())
    assert "counter(page)" in css and "counter(pages)" in css and "{page}" not in css


# ----- the locked-down fetcher -------------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body::after { content: 'FETCHED-OVER-HTTP' }")

    def log_message(self, *args):
        pass


@contextmanager
def _http_server():
    _Recorder.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _templates(app, **sources):
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader(sources), original])
    try:
        yield
    finally:
        app.jinja_env.loader = original
        app.jinja_env.cache.clear()


def test_file_and_external_urls_are_not_fetched(app, tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body::before { content: 'LEAKED-FROM-DISK' }")
    with _http_server() as (base, hits):
        evil = f"""{{% extends "pdf/base.html" %}}{{% block styles %}}
          <link rel="stylesheet" href="file://{secret}">
          <link rel="stylesheet" href="{base}/evil.css">
          <link rel="attachment" href="file:///etc/passwd">
          {{% endblock %}}{{% block content %}}<p>正文</p>
          <img src="file:///etc/passwd"><img src="http://example.com/x.png"><img src="{base}/x.png">
          <img src="/static/../../config.py"><img src="../../etc/passwd">{{% endblock %}}"""
        fetcher = PdfFetcher(app.static_folder)
        with _templates(app, **{"pdf/test_evil.html": evil}), app.test_request_context():
            data = render_pdf("pdf/test_evil.html", fetcher=fetcher)
        assert hits == []
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "正文" in text
    assert "LEAKED-FROM-DISK" not in text and "FETCHED-OVER-HTTP" not in text
    assert not reader.attachments
    assert b"root:x:0:0" not in data
    refused = " ".join(fetcher.refused)
    for url in ("file:///etc/passwd", "http://example.com/x.png", f"{base}/evil.css", str(secret)):
        assert url in refused


def test_fetcher_serves_data_uris_and_static_files_only(tmp_path):
    static = tmp_path / "static"
    (static / "img").mkdir(parents=True)
    (static / "img" / "logo.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "outside.png").write_bytes(b"outside")
    fetcher = PdfFetcher(static)
    assert fetcher.fetch(STATIC_BASE + "img/logo.png").read() == b"\x89PNG fake"
    assert fetcher.fetch("data:text/plain;base64,5Lit5paH").read() == "中文".encode()
    for url in (STATIC_BASE + "../outside.png", STATIC_BASE + "img/%2e%2e/..%2foutside.png",
                STATIC_BASE + "img/missing.png", "file:///etc/passwd", "http://example.com/x.png",
                "ftp://example.com/x", STATIC_BASE.replace("https", "http") + "img/logo.png"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
