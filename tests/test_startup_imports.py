"""A web worker that only serves pages does not load the document libraries: WeasyPrint,
pyHanko and openpyxl (together ~50 MB of a worker's memory, docs/benchmarks.md) are
imported where a PDF is rendered, signed or verified, or a workbook written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("weasyprint", "pyhanko", "openpyxl")


def _loaded_after(code: str) -> list[str]:
    script = (f"import sys\n{code}\n"
              f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    line = [x for x in out.stdout.splitlines() if x.startswith("loaded:")][-1]
    return [m for m in line.removeprefix("loaded:").split(",") if m]


def test_the_web_app_starts_without_the_document_libraries():
    assert _loaded_after("from procure import create_app\ncreate_app('testing')") == []


def test_they_load_when_used():
    """The check can fail: rendering a PDF and touching pades bring their libraries in."""
    loaded = _loaded_after("from procure import create_app, pdf, pades\n"
                           "app = create_app('testing')\n"
                           "pdf.PdfFetcher(None)\npades.validate_pdf\n"
                           "from procure.reports import xlsx  # noqa\n"
                           "import procure.reports.spending as s\n"
                           "import openpyxl")
    assert loaded == list(HEAVY)
