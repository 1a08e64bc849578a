"""Benchmark: import of a 20,000-row registry export, then a re-import that changes
every 10th row; and the peak memory of importing files of several sizes. Usage
(PostgreSQL, a throwaway database):

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_registry \\
        python bench/bench_import.py [rows]
    BENCH_DATABASE_URL=... python bench/bench_import.py --memory 5000 20000 100000

``--memory`` writes each file to a temporary CSV first, then imports it in a fresh
process (a new database each time), once with a bad last row (every row checked,
nothing written) and once whole, and reports that process's peak RSS
(``VmHWM``, else ``resource.getrusage(RUSAGE_SELF).ru_maxrss``) after the app has started and after the
import, so the figures hold the import only, not the making of the data.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import bench_app  # noqa: E402
from registry_data import csv_bytes  # noqa: E402


def _maxrss_mb() -> float:
    """Peak RSS of this process. VmHWM on Linux: after fork and exec, ``ru_maxrss`` may
    still count the parent's pages at the fork (which held the generated data)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _import_path(importer, path: str, filename: str):
    """The importer's streaming entry point when it has one; else the file's bytes."""
    if hasattr(importer, "import_file"):
        return importer.import_file(None, path, filename=filename)
    with open(path, "rb") as fh:
        data = fh.read()
    return importer.import_bytes(None, data, filename=filename)


def one(path: str, mode: str) -> None:
    """Import one file in this (fresh) process; print the figures as JSON. ``mode`` "check":
    the file's last row is bad, so every row is checked and nothing written."""
    app = bench_app()
    from procure.extensions import db
    from procure.organizations import importer

    with app.test_request_context():
        import openpyxl  # noqa: F401  (loaded by the xlsx path; part of the baseline)

        base = _maxrss_mb()
        t0 = time.perf_counter()
        result = _import_path(importer, path, "bench.csv")
        before_commit = _maxrss_mb()
        db.session.commit()
        elapsed = time.perf_counter() - t0
    assert result.applied == (mode == "import"), result.errors[:3]
    print(json.dumps({"base_mb": base, "before_commit_mb": before_commit, "peak_mb": _maxrss_mb(),
                      "seconds": elapsed}))


def _child(path: str, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", path, mode], check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def memory(sizes: list[int]) -> None:
    print("| rows | CSV MB | check only (last row bad): RSS grew MB, s | import: grew before commit MB "
          "| import: grew in all MB | import s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        data = csv_bytes(n)
        paths = {}
        for mode, body in (("import", data), ("check", data + "坏,91500000MA5U000000,公司\r\n".encode())):
            with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as fh:
                fh.write(body)
                paths[mode] = fh.name
        del data
        try:
            check, full = _child(paths["check"], "check"), _child(paths["import"], "import")
            size = os.path.getsize(paths["import"]) / 1e6
            print(f"| {n:,} | {size:.1f} | {check['peak_mb'] - check['base_mb']:.0f}, {check['seconds']:.1f} | "
                  f"{full['before_commit_mb'] - full['base_mb']:.0f} | {full['peak_mb'] - full['base_mb']:.0f} | "
                  f"{full['seconds']:.1f} |", flush=True)
        finally:
            for path in paths.values():
                os.unlink(path)


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
    if len(sys.argv) > 3 and sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "--memory":
        memory([int(a) for a in sys.argv[2:]] or [5000, 20000, 100000])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_ROWS", "20000")))
