"""Languages, money and time formatting."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from procure.money import format_money, to_money

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_chinese_catalog_is_complete_and_consistent():
    with open(ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    with open(ROOT / "translations/messages.pot", "rb") as fh:
        template = read_po(fh)
    missing = [m.id for m in template if m.id and m.id not in catalog]
    assert missing == [], "run pybabel update: strings missing from the zh catalog"
    for msg in catalog:
        if not msg.id:
            continue
        assert msg.string, f"untranslated: {msg.id!r}"
        assert not msg.fuzzy, f"fuzzy: {msg.id!r}"
        assert sorted(PLACEHOLDER.findall(msg.id)) == sorted(PLACEHOLDER.findall(msg.string)), msg.id


def test_template_catalog_is_up_to_date(tmp_path):
    """Every translatable string in the code is in messages.pot (pybabel extract)."""
    import subprocess
    import sys

    out = tmp_path / "fresh.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(out), "."], cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as fh:
        fresh = {m.id for m in read_po(fh) if m.id}
    with open(ROOT / "translations/messages.pot", "rb") as fh:
        committed = {m.id for m in read_po(fh) if m.id}
    assert fresh - committed == set(), "run: pybabel extract -F babel.cfg -k _l -o translations/messages.pot ."


def test_money_is_decimal_and_formatted_for_zh_cn(app):
    assert to_money("123456.785") == Decimal("123456.79")
    with pytest.raises(TypeError):
        to_money(0.1)
    with app.test_request_context():
        assert format_money(Decimal("1234567.8")) == "¥1,234,567.80"
        with force_locale("en"):
            assert format_money(Decimal("12.3")) == "CN¥12.30"


def test_times_are_shown_in_shanghai(app):
    with app.test_request_context():
        shown = app.jinja_env.filters["dt"](datetime(2026, 1, 1, 16, 30))  # stored UTC
        assert "2026" in shown and "00:30" in shown and ("1月2日" in shown or "01-02" in shown)


def test_large_amounts_are_quoted_as_reports_do(app):
    from procure.money import format_large_amount

    assert format_large_amount(Decimal("40030000.00"), "zh_CN") == "4,003.00万元"
    assert format_large_amount(Decimal("40030000.00"), "en") == "40.03 million yuan"


def test_translations_follow_force_locale_and_language_switches(app):
    """procure/babelctx.py keeps the translations found on the context: they change with
    ``force_locale`` (e-mails in the recipient's language) and with the session's language."""
    from flask import session
    from flask_babel import gettext, refresh

    with app.test_request_context():
        session["lang"] = "zh_Hans_CN"
        zh = gettext("Projects")
        assert zh != "Projects"
        with force_locale("en"):
            assert gettext("Projects") == "Projects"
            with force_locale("zh_Hans_CN"):
                assert gettext("Projects") == zh
            assert gettext("Projects") == "Projects"
        assert gettext("Projects") == zh
        session["lang"] = "en"
        refresh()
        assert gettext("Projects") == "Projects"


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("fmt", ["short", "medium", "long", "yyyy-MM-dd HH:mm"])
def test_fast_datetime_formats_equal_babels(app, lang, fmt):
    """procure.timeutil's parsed-once patterns give Flask-Babel's own output."""
    from flask import session
    from flask_babel import format_date, format_datetime

    from procure.timeutil import local_date, local_datetime, to_local

    moments = [datetime(2026, 1, 1, 0, 0), datetime(2026, 6, 30, 15, 59, 59), datetime(2025, 12, 31, 16, 0, 1)]
    with app.test_request_context():
        session["lang"] = lang
        for moment in moments:
            assert local_datetime(moment, fmt) == format_datetime(to_local(moment), fmt)
            if not any(c in fmt for c in "Hm"):
                assert local_date(moment.date(), fmt) == format_date(moment.date(), fmt)
