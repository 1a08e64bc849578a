"""rmb_upper against both rules of DOMAIN.md §3, their printed examples, and cn2an."""

from __future__ import annotations

import random
from decimal import Decimal

import cn2an
import pytest

from procure.money import rmb_upper


@pytest.mark.parametrize("amount, upper", [
    # 会计基础工作规范 第五十二条: 整 after 元 and after 角, never after 分.
    ("0", "零元整"), ("0.00", "零元整"), ("1", "壹元整"), ("0.50", "伍角整"), ("0.05", "伍分"),
    ("0.55", "伍角伍分"), ("12.30", "壹拾贰元叁角整"), ("12.34", "壹拾贰元叁角肆分"),
    # 壹拾 at the start, never a bare 拾.
    ("10", "壹拾元整"), ("11", "壹拾壹元整"), ("110", "壹佰壹拾元整"), ("100000.00", "壹拾万元整"),
    ("100000000", "壹亿元整"), ("1000000000000", "壹万亿元整"),
    # The central bank's examples (with 整 after 角 where the first rule requires it).
    ("1409.50", "壹仟肆佰零玖元伍角整"), ("6007.14", "陆仟零柒元壹角肆分"),
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"), ("107000.53", "壹拾万柒仟元零伍角叁分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"), ("325.04", "叁佰贰拾伍元零肆分"),
    # The brief's table.
    ("100.50", "壹佰元零伍角整"), ("1004.06", "壹仟零肆元零陆分"),
    ("123456.78", "壹拾贰万叁仟肆佰伍拾陆元柒角捌分"), ("1010.10", "壹仟零壹拾元零壹角整"),
    # Zeros inside and across 万/亿 sections: one 零 per run, none at a section's end.
    ("10.05", "壹拾元零伍分"), ("10001", "壹万零壹元整"), ("10010", "壹万零壹拾元整"),
    ("10100", "壹万零壹佰元整"), ("11000", "壹万壹仟元整"), ("100010000", "壹亿零壹万元整"),
    ("100001000", "壹亿零壹仟元整"), ("100100000", "壹亿零壹拾万元整"), ("1001000000", "壹拾亿零壹佰万元整"),
    ("200000.01", "贰拾万元零壹分"), ("99999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    # Negative amounts.
    ("-12.30", "负壹拾贰元叁角整"), ("-0.05", "负伍分"),
])
def test_table(amount, upper):
    assert rmb_upper(Decimal(amount)) == upper


def test_accepts_int_and_str_refuses_float_and_part_fen():
    assert rmb_upper(10) == rmb_upper("10.00") == "壹拾元整"
    with pytest.raises(TypeError):
        rmb_upper(0.1)
    for bad in ("1.005", "abc", "NaN", "Infinity", "10000000000000000"):
        with pytest.raises(ValueError):
            rmb_upper(bad)


def test_integer_part_agrees_with_cn2an():
    """cn2an reads whole yuan the same way (it differs only after 角, where it writes no 整)."""
    rng = random.Random(20261125)
    numbers = [rng.randrange(1, 10 ** rng.randint(1, 13)) for _ in range(3000)]
    numbers += [int(s) for s in ("10", "100", "1001", "10010", "100100", "1000001", "10000010", "100000001")]
    for n in numbers:
        assert rmb_upper(n) == cn2an.an2cn(str(n), "rmb"), n


def test_differs_from_cn2an_only_where_the_rules_say():
    assert cn2an.an2cn("100.50", "rmb") == "壹佰元伍角"
    assert rmb_upper("100.50") == "壹佰元零伍角整"
