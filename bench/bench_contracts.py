"""Benchmark: the contract PDF (procure/contracts/rendering.py) against WeasyPrint alone on
the same final HTML (goal ≤ 1.3×), and the time of each party's signature on it.

No database: a version built in memory with a 12-installment schedule and 10 targets,
a CA in a temporary folder. Prints median and 95th percentile in milliseconds, wall
clock and this process's CPU time (steadier when the machine is shared).

    python bench/bench_contracts.py [N]
    BENCH_KEY_ALGORITHM=ec-p256 python bench/bench_contracts.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from weasyprint import HTML  # noqa: E402

from bench.bench_common import median_p95_ms as _ms  # noqa: E402
from procure import create_app, pades, signing  # noqa: E402
from procure.contracts.models import ContractVersion  # noqa: E402
from procure.contracts.rendering import render_version  # noqa: E402
from procure.pdf import STATIC_BASE, PdfFetcher  # noqa: E402


def _content() -> dict:
    start = date(2026, 3, 1)
    schedule = [{"position": i, "share": "8.00", "amount": "4802.88", "releases_on": "milestone",
                 "milestone": {"title": f"第{i + 1}阶段服务",
                               "due_on": (start + timedelta(days=25 * (i + 1))).isoformat(),
                               "deliverables": "服务记录、进度报告、满意度调查"}} for i in range(11)]
    schedule.append({"position": 11, "share": "12.00", "amount": "7204.32", "releases_on": "acceptance",
                     "milestone": None})
    return {"number": "HT-2026-00042", "title": "渝中区高龄独居老人居家养老服务",
            "parties": {"department": {"name": "重庆市民政局社会组织管理局", "code": "MZJ"},
                        "organization": {"name": "重庆市渝中区同心养老服务中心", "credit_code": "52500103MJ000000XX",
                                         "legal_representative": "张三", "address": "重庆市渝中区解放碑1号",
                                         "contact_name": "李四", "contact_phone": "023-12345678"}},
            "project": {"title": "渝中区高龄独居老人居家养老服务", "service_area": "重庆市渝中区",
                        "target_group": "高龄、独居、失能老人", "category": "养老服务", "fiscal_year": 2026},
            "service_content": "\n".join(["为辖区高龄独居老人提供助餐、探访、助洁、健康监测等居家养老服务。" * 3] * 8),
            "targets": [{"indicator": f"指标{i}", "unit": "人", "target_value": "300.00"} for i in range(10)],
            "amount": "60036.00", "period_start": "2026-03-01", "period_end": "2026-12-31", "is_continuous": False,
            "sign_due_on": "2026-03-30", "schedule": schedule}


def main(n: int = 10) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        algorithm = os.environ.get("BENCH_KEY_ALGORITHM", "rsa3072")
        app = create_app("testing", SIGNING_CA_DIR=tmp, SIGNING_TSA_URL=None, SIGNING_KEY_ALGORITHM=algorithm,
                         CELERY={"broker_url": "memory://", "task_ignore_result": True})
        with app.test_request_context():
            signing.init_ca()
            ca = signing.load_ca()
            keys = []
            for person, org in (("李华", "重庆市渝中区同心养老服务中心"), ("张伟", "重庆市民政局社会组织管理局")):
                cert, key = signing.new_certificate(ca, person, org, "0")
                keys.append(signing.SignerKey(cert, key, (ca.certificate,)))
            version = ContractVersion(number=1, reason="原合同", verify_code="bench12345ab", content=_content())
            render_version(version)  # warm up (fonts, templates)
            ours, alone, sign1, sign2, ours_cpu, alone_cpu = [], [], [], [], [], []
            for _ in range(n):
                t, c = time.perf_counter(), time.process_time()
                doc = render_version(version)
                ours.append(time.perf_counter() - t)
                ours_cpu.append(time.process_time() - c)
                t, c = time.perf_counter(), time.process_time()
                HTML(string=doc.html, base_url=STATIC_BASE, url_fetcher=PdfFetcher(app.static_folder)).write_pdf()
                alone.append(time.perf_counter() - t)
                alone_cpu.append(time.process_time() - c)
                t = time.perf_counter()
                once = pades.sign_pdf(doc.pdf, keys[0], field_name="sig_organization")
                sign1.append(time.perf_counter() - t)
                t = time.perf_counter()
                pades.sign_pdf(once, keys[1], field_name="sig_department")
                sign2.append(time.perf_counter() - t)
            ratio = statistics.median(ours) / statistics.median(alone)
            print(f"contract PDF ({len(doc.pdf) // 1024} KB), {n} runs, signing key {algorithm}")
            print(f"  render_version        {_ms(ours)}")
            print(f"  WeasyPrint alone      {_ms(alone)}")
            print(f"  ratio (medians)       {ratio:.2f}x  (goal <= 1.3x)")
            # CPU time of this process: what the render costs, whatever else runs on the machine.
            cpu_ratio = statistics.median(ours_cpu) / statistics.median(alone_cpu)
            print(f"  render_version CPU    {_ms(ours_cpu)}")
            print(f"  WeasyPrint alone CPU  {_ms(alone_cpu)}")
            print(f"  ratio (CPU medians)   {cpu_ratio:.2f}x")
            print(f"  first signature       {_ms(sign1)}")
            print(f"  second signature      {_ms(sign2)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
