"""Benchmark: PAdES signing and validation of a rendered Chinese document (procure/pades.py).

No database: a CA in a temporary folder (procure/signing.init_ca), two signers'
certificates made by it (signing.new_certificate), a contract-like PDF of ``PAGES`` pages
rendered by WeasyPrint with the footer hash and the QR code. Then, N times each: one
signature on the unsigned PDF, a second signature on top (the incremental update a
second party makes), and the validation of the twice-signed file. Prints median and
95th percentile in milliseconds, and the file sizes.

    python bench/bench_signing.py [N] [PAGES]          # RSA 3072 (the default)
    BENCH_KEY_ALGORITHM=ec-p256 python bench/bench_signing.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from bench.bench_common import median_p95_ms as _ms  # noqa: E402
from procure import create_app, pades, signing  # noqa: E402
from procure.pdf import render_pdf_hashed  # noqa: E402
from procure.qr import qr_svg  # noqa: E402


def main(n: int = 20, pages: int = 10) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        algorithm = os.environ.get("BENCH_KEY_ALGORITHM", "rsa3072")
        app = create_app("testing", SIGNING_CA_DIR=tmp, SIGNING_TSA_URL=None, SIGNING_KEY_ALGORITHM=algorithm,
                         CELERY={"broker_url": "memory://", "task_ignore_result": True})
        with app.test_request_context():
            signing.init_ca()
            ca = signing.load_ca()
            keys = []
            for person, org in (("李华", "同心社会工作服务中心"), ("张伟", "上海市某区民政局")):
                cert, key = signing.new_certificate(ca, person, org, "0")
                keys.append(signing.SignerKey(cert, key, (ca.certificate,)))
            text = "甲方委托乙方提供社区养老助餐服务，服务期限十二个月，按季度考核服务质量与满意度。"
            paragraphs = [text * 4] * (pages * 9)
            url = "https://procure.example.cn/v/7Kq2xZ"
            start = time.perf_counter()
            doc = render_pdf_hashed("pdf/signed_example.html", locale="zh_CN", title="政府购买服务合同", version=1,
                                    paragraphs=paragraphs, parties=[("甲方", "上海市某区民政局"),
                                                                    ("乙方", "同心社会工作服务中心")],
                                    verify_url=url, qr=qr_svg(url))
            render = time.perf_counter() - start
            first, second, validate = [], [], []
            for _ in range(n):
                t0 = time.perf_counter()
                once = pades.sign_pdf(doc.pdf, keys[0], field_name="Sig_organization", reason="合同签署")
                t1 = time.perf_counter()
                twice = pades.sign_pdf(once, keys[1], field_name="Sig_department", reason="合同签署")
                t2 = time.perf_counter()
                results = pades.validate_pdf(twice)
                t3 = time.perf_counter()
                assert [r.ok for r in results] == [True, True], [r.summary for r in results]
                first.append(t1 - t0)
                second.append(t2 - t1)
                validate.append(t3 - t2)
    actual = len(PdfReader(BytesIO(doc.pdf)).pages)
    print(f"keys: {algorithm}; document: {actual} pages, {len(doc.pdf) / 1024:.0f} KiB unsigned, "
          f"{len(twice) / 1024:.0f} KiB signed twice; render {render * 1000:.0f} ms")
    print(f"first signature    {_ms(first)}")
    print(f"second signature   {_ms(second)}")
    print(f"validate both      {_ms(validate)}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
