"""The one way to render a PDF: an HTML template under ``templates/pdf/`` through
WeasyPrint, with a locked-down URL fetcher.

Templates extend ``pdf/base.html`` (A4, margins, a running header block, page numbers
"第 N 页 / 共 M 页" in the footer) and use the installed Noto CJK fonts, so Chinese never
falls back to boxes. Call it inside an app context (a request or a Celery task)::

    pdf_bytes = render_pdf("pdf/budget_report.html", locale="zh_CN", title=..., rows=...)

Security: a template (or data pasted into it) must never make the renderer read a local
file or call out to the network. :class:`PdfFetcher` therefore refuses every URL except
``data:`` URIs and files of the app's own ``static/`` folder, which it reads from disk
itself (path confined to that folder, extension on an allow-list). A refused resource
is skipped with a warning (WeasyPrint's behaviour for unreachable resources) and listed
in ``PdfFetcher.refused``.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from .signing import CONTENT_HASH_SLOT, stamp_content_hash

log = logging.getLogger(__name__)

#: Relative URLs in PDF templates resolve against this base. The ``.invalid`` top-level
#: domain can never resolve (RFC 2606), and the fetcher maps the prefix to disk.
STATIC_BASE = "https://procure.invalid/static/"
#: File types a PDF template may take from ``static/``.
STATIC_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".css", ".woff", ".woff2", ".otf", ".ttf"})


@functools.cache
def _fetcher_class():
    """WeasyPrint (~45 MB) and openpyxl and pyHanko are imported where they are used, not
    when the app starts: a web worker that only serves pages never loads them (its RSS is
    in docs/benchmarks.md); the Celery worker loads them with its first document."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PdfFetcher(URLFetcher):
        """Serves ``data:`` URIs and allow-listed static files; refuses everything else."""

        def __init__(self, static_folder: str | Path | None):
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.static_folder = Path(static_folder).resolve() if static_folder else None
            #: URLs the template asked for and did not get (for tests and logs).
            self.refused: list[str] = []

        def fetch(self, url: str, headers=None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(STATIC_BASE) and self.static_folder is not None:
                path = self._static_path(url[len(STATIC_BASE):])
                if path is not None:
                    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
            self.refused.append(url)
            log.warning("PDF rendering refused to fetch %s", url[:200])
            raise ValueError(f"URL not allowed in PDF rendering: {url[:200]}")

        def _static_path(self, relative: str) -> Path | None:
            relative = relative.split("?", 1)[0].split("#", 1)[0]
            if not relative or "\\" in relative or "%" in relative:
                return None
            path = (self.static_folder / relative).resolve()
            if not path.is_relative_to(self.static_folder) or path.suffix.lower() not in STATIC_EXTENSIONS:
                return None
            return path if path.is_file() else None

    return PdfFetcher


def __getattr__(name: str):
    if name == "PdfFetcher":  # procure.pdf.PdfFetcher, as before, created on first use
        return _fetcher_class()
    raise AttributeError(name)


def page_label_css() -> Markup:
    """The footer's CSS ``content`` value, e.g. ``"第 " counter(page) " 页 / 共 " counter(pages) " 页"``,
    built from a translated string whose ``{page}`` and ``{pages}`` become CSS counters."""
    label = _("Page {page} of {pages}")
    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", label):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append('"' + piece.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"')
    return Markup(" ".join(parts))


def render_html(template_name: str, **ctx) -> str:
    """The template rendered to HTML, with what ``pdf/base.html`` needs."""
    ctx.setdefault("page_label_css", page_label_css())
    locale = get_locale()
    ctx.setdefault("pdf_lang", "zh-CN" if locale is None or locale.language == "zh" else str(locale).replace("_", "-"))
    return render_template(template_name, **ctx)


def render_pdf(template_name: str, *, locale: str | None = None, fetcher=None,
               **ctx) -> bytes:
    """Render ``templates/<template_name>`` with ``ctx`` to PDF bytes.

    ``locale`` ("zh_CN", "en") renders the document in that language whatever the
    current user's; by default the current locale is used. ``fetcher`` is for tests that
    inspect what was refused. Needs an app context.
    """
    return html_to_pdf(_render_html_in(locale, template_name, ctx), fetcher=fetcher)


def _render_html_in(locale: str | None, template_name: str, ctx: dict) -> str:
    if locale:
        with force_locale(locale):
            return render_html(template_name, **ctx)
    return render_html(template_name, **ctx)


def html_to_pdf(html: str, *, fetcher=None) -> bytes:
    """HTML (from :func:`render_html`) to PDF bytes through the locked-down fetcher."""
    if fetcher is None:
        fetcher = _fetcher_class()(current_app.static_folder)
    from weasyprint import HTML

    return HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher).write_pdf()


@dataclass(frozen=True)
class HashedPdf:
    """A rendered document that carries its own content hash (procure/signing.py)."""

    pdf: bytes
    #: The final HTML (the hash in place); keep it to prove the hash later.
    html: str
    content_sha256: str


def render_pdf_hashed(template_name: str, *, locale: str | None = None, fetcher=None,
                      **ctx) -> HashedPdf:
    """As :func:`render_pdf`, for a document that prints its content hash: the template
    gets ``content_sha256`` (print it where the footer should show it); it is rendered
    with the slot there, hashed, and the hash put in (:func:`procure.signing.stamp_content_hash`)."""
    ctx["content_sha256"] = CONTENT_HASH_SLOT
    html, digest = stamp_content_hash(_render_html_in(locale, template_name, ctx))
    return HashedPdf(html_to_pdf(html, fetcher=fetcher), html, digest)
