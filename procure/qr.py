"""QR codes as SVG (segno), for a short verification link printed on a document.

:func:`qr_svg` gives inline SVG markup, for a WeasyPrint template (``{{ qr }}``) or a web
page; :func:`qr_data_uri` the same as a ``data:`` URI for an ``<img src>``. Neither
refers to any outside resource, so the PDF renderer's locked-down fetcher
(:class:`procure.pdf.PdfFetcher`) has nothing to fetch: paths only, black on white, no
fonts, no images. The code is sized in millimetres (the SVG has a viewBox and no pixel
size), error correction level M (15%: a crease or stamp over it still reads).
"""

from __future__ import annotations

import segno
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .errors import ValidationError

#: Longest text encoded (a short link is far shorter; version 10-M holds 213 bytes).
MAX_TEXT = 200


def _code(text: str) -> segno.QRCode:
    text = str(text or "")
    if not text or len(text.encode("utf-8")) > MAX_TEXT or any(ord(c) < 32 for c in text):
        raise ValidationError(_l("A QR code holds a short link of at most %(n)s characters.", n=MAX_TEXT))
    return segno.make(text, error="m", micro=False, boost_error=False)


def qr_svg(text: str, *, size_mm: float = 25, border: int = 2) -> Markup:
    """Inline ``<svg>`` of the QR code of ``text`` (e.g. a verification link), ``size_mm``
    square including a quiet zone of ``border`` modules. Safe to put in a template."""
    svg = _code(text).svg_inline(border=border, omitsize=True, svgclass="procure-qr", lineclass=None,
                                 dark="#000", light="#fff")
    size = f"{float(size_mm):g}mm"
    return Markup(svg.replace("<svg ", f'<svg style="width:{size};height:{size}" ', 1))


def qr_data_uri(text: str, *, border: int = 2) -> str:
    """The QR code of ``text`` as a ``data:image/svg+xml`` URI (for ``<img src>``)."""
    return _code(text).svg_data_uri(border=border, omitsize=True, dark="#000", light="#fff")
