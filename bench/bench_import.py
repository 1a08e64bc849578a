"""Benchmark: import of a 20,000-row registry export, then a re-import that changes
every 10th row. Usage (PostgreSQL, a throwaway database):

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_registry \\
        python bench/bench_import.py [rows]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import bench_app  # noqa: E402
from registry_data import csv_bytes  # noqa: E402


def main(n: int = 20000) -> None:
    app = bench_app()
    from procure.extensions import db
    from procure.organizations import importer

    data = csv_bytes(n)
    with app.test_request_context():
        t0 = time.perf_counter()
        result = importer.import_bytes(None, data, filename="bench.csv")
        db.session.commit()
        t1 = time.perf_counter()
        print(f"import {n} rows ({len(data) / 1e6:.1f} MB): {t1 - t0:.2f} s, created {len(result.created)}")
        text = data.decode("utf-8-sig").replace("测试路1", "新路1")
        t0 = time.perf_counter()
        result = importer.import_bytes(None, text.encode("utf-8-sig"), filename="bench2.csv")
        db.session.commit()
        t1 = time.perf_counter()
        print(f"re-import {n} rows: {t1 - t0:.2f} s, updated {len(result.updated)}, unchanged {result.unchanged}")
        t0 = time.perf_counter()
        result = importer.import_bytes(None, data, filename="bench3.csv")
        db.session.rollback()
        print(f"check-only pass (all unchanged but the updated ones): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_ROWS", "20000")))
