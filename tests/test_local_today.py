"""Days are Beijing days: what the machine's own clock zone says never decides a date
(a server kept in UTC is still "yesterday" until 08:00 Beijing time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from procure.timeutil import local_today

ROOT = Path(__file__).resolve().parent.parent


def test_local_today_is_the_beijing_day():
    before = (datetime.now(UTC) + timedelta(hours=8)).date()
    today = local_today()
    after = (datetime.now(UTC) + timedelta(hours=8)).date()
    assert today in {before, after}


def test_no_code_asks_the_machine_for_its_day():
    naive = re.compile(r"\b(?:date\.today|datetime\.today)\(\)|\bdatetime\.now\(\)")
    found = [f"{path.relative_to(ROOT)}:{n}" for folder in ("procure", "workers")
             for path in (ROOT / folder).rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if naive.search(line)]
    assert found == []
