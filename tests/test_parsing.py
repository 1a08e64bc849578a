"""procure.parsing: each parser refuses what the database or Python would choke on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask

from procure import parsing
from procure.errors import ValidationError

HOSTILE = ["", "  ", "abc", "-1", "1.5", "²", "１２", "1e3", "+5", "1_000", "9" * 400, "a\x00b", None]


@pytest.mark.parametrize("raw", HOSTILE)
def test_parse_int_refuses_junk(raw):
    assert parsing.parse_int(raw, max_value=10**9) is None


def test_parse_int_bounds():
    assert parsing.parse_int(" 42 ") == 42
    assert parsing.parse_int("0") == 0
    assert parsing.parse_int("5", min_value=6) is None
    assert parsing.parse_int(str(2**31 - 1)) == 2**31 - 1
    assert parsing.parse_int(str(2**31)) is None
    assert parsing.parse_int(str(2**63), max_value=parsing.MAX_BIGINT) is None


def test_parse_id():
    assert parsing.parse_id("7") == 7
    assert parsing.parse_id(7) == 7
    assert parsing.parse_id("0") is None
    assert parsing.parse_id(str(2**31)) is None


def test_years_and_dates():
    assert parsing.parse_year("2026") == 2026
    assert parsing.parse_year("9" * 400) is None
    assert parsing.parse_year("1899") is None
    assert parsing.parse_date("2026-02-28") == date(2026, 2, 28)
    for raw in ("2026-02-30", "26-02-28", "99999-01-01", "0001-01-01", "2026-02-28\x00", None):
        assert parsing.parse_date(raw) is None


def test_check_fiscal_year():
    this = date.today().year
    assert parsing.check_fiscal_year(str(this)) == this
    assert parsing.check_fiscal_year(this) == this
    for raw in ("1999", str(this + parsing.YEARS_AHEAD + 1), "9" * 400, "²⁰²⁶", "a\x00b", None):
        with pytest.raises(ValidationError) as err:
            parsing.check_fiscal_year(raw, "year")
        assert err.value.field == "year"


def test_parse_amount():
    assert parsing.parse_amount("1,234.50") == Decimal("1234.50")
    for raw in ("9" * 400, "1e999999999", "NaN", "a\x00b", "0.001", "-1", "0"):
        with pytest.raises(ValidationError):
            parsing.parse_amount(raw)
    with pytest.raises(TypeError):
        parsing.parse_amount(0.1)


def test_control_characters():
    assert parsing.has_control_chars("a\x00b")
    assert parsing.has_control_chars("a\x1bb")
    assert parsing.has_control_chars("a\x85b")  # C1
    assert parsing.has_control_chars("line\nbreak")
    assert not parsing.has_control_chars("line\r\nbreak\tand tab", multiline=True)
    assert parsing.has_control_chars("a\x00b", multiline=True)
    assert not parsing.has_control_chars("同心养老 ＡＢＣ №1 é")


def test_page_arguments():
    app = Flask(__name__)
    cases = {"": 1, "3": 3, "0": 1, "-2": 1, "x": 1, str(2**64): parsing.MAX_PAGE, "9" * 400: 1}
    for raw, want in cases.items():
        with app.test_request_context("/", query_string={"page": raw, "per_page": raw}):
            assert parsing.page_arg() == want, raw
            per_page = parsing.per_page_arg(20)
            assert 1 <= per_page <= parsing.MAX_PER_PAGE


def test_id_converter_bounds():
    app = Flask(__name__)
    app.url_map.converters["int"] = parsing.IdConverter
    app.add_url_rule("/x/<int:item_id>", "x", lambda item_id: str(item_id))
    client = app.test_client()
    assert client.get("/x/5").data == b"5"
    assert client.get(f"/x/{parsing.MAX_ID}").status_code == 200
    for too_big in (parsing.MAX_ID + 1, 2**63, 10**30, "9" * 400, "9" * 5000):  # int() refuses 5000 digits
        assert client.get(f"/x/{too_big}").status_code == 404
