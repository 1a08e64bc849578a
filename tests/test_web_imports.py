"""A web worker does not load the libraries only documents need (issue 8: a web worker
≤ 150 MB after an hour of the key pages). WeasyPrint (PDF rendering), pyHanko (signing
and verifying PDFs) and openpyxl (spreadsheet exports) are some 50 MB a process together;
they are imported on first use, so a worker that serves pages and never renders a PDF,
signs or exports does not hold them (docs/benchmarks.md, "Web worker memory over an
hour"). The app is built in a fresh interpreter: this process has them all loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("weasyprint", "pyhanko", "pyhanko_certvalidator", "openpyxl", "fontTools")

CODE = """
import json, sys
from procure import create_app
app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
before = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
from procure import pdf
fetcher = pdf.PdfFetcher  # built on first use
print(json.dumps({"before": before, "after": "weasyprint" in sys.modules}))
"""


def test_the_app_does_not_load_the_document_libraries_until_used():
    out = subprocess.run([sys.executable, "-c", CODE % (HEAVY,)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["before"] == [], result
    assert result["after"] is True  # and the fetcher is WeasyPrint's, built on demand
