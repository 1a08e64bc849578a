"""The unified social credit code: check character and structure (GB 32100-2015)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from flask_babel import force_locale

from procure.organizations.creditcode import ALPHABET, CreditCodeError, kind_of, normalize, validate
from procure.organizations.models import OrgKind

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "registry-sample.csv"
KINDS = {"社会团体": OrgKind.SOCIAL_GROUP, "民办非企业单位": OrgKind.SERVICE_ORG, "社会服务机构": OrgKind.SERVICE_ORG,
         "基金会": OrgKind.FOUNDATION}


def sample_codes() -> list[tuple[str, OrgKind]]:
    if not SAMPLE.exists():  # the shared data sits beside the worktree
        SAMPLE_ALT = Path("/work/shared/data/registry-sample.csv")
        path = SAMPLE_ALT
    else:
        path = SAMPLE
    with open(path, encoding="utf-8-sig") as fh:
        return [(r["统一社会信用代码"], KINDS[r["社会组织类型"]]) for r in csv.DictReader(fh)]


CODES = sample_codes()


def test_sample_has_codes():
    assert len(CODES) == 30


@pytest.mark.parametrize(("code", "kind"), CODES)
def test_valid_codes_pass(app, code, kind):
    with app.test_request_context():
        assert validate(code, kind) == code
        assert kind_of(code) == kind


def test_every_single_character_corruption_fails(app):
    with app.test_request_context():
        for code, kind in CODES:
            for pos in range(18):
                for char in ALPHABET + "IOSVZ*a":
                    if char == code[pos] or (char == "a" and code[pos] == "A"):
                        continue
                    bad = code[:pos] + char + code[pos + 1:]
                    with pytest.raises(CreditCodeError):
                        validate(bad, kind)
                    with pytest.raises(CreditCodeError):
                        validate(bad)


def _message(raw, kind=None) -> str:
    with force_locale("en"):
        with pytest.raises(CreditCodeError) as info:
            validate(raw, kind)
        return str(info.value.message)


def test_messages_say_what_is_wrong(app):
    code, kind = CODES[0]
    with app.test_request_context():
        assert "18 characters" in _message(code[:17])
        assert "Character 5" in _message(code[:4] + "O" + code[5:])
        bad_check = code[:17] + ("0" if code[17] != "0" else "1")
        assert "check character" in _message(bad_check) and f"“{code[17]}”" in _message(bad_check)
        assert "missing" in _message("  ")


def test_kind_mismatch_is_caught(app):
    group = next(c for c, k in CODES if k == OrgKind.SOCIAL_GROUP)
    with app.test_request_context():
        msg = _message(group, OrgKind.SERVICE_ORG)
        assert "second character" in msg and "Social group" in msg and "“2”" in msg
        assert "no credit code" in _message(group, OrgKind.FILED)


def test_not_civil_affairs(app):
    from procure.organizations.creditcode import check_character

    first = "91500000MA5UABCDE"  # an enterprise (registration department 9)
    with app.test_request_context():
        assert "start" in _message(first + check_character(first))


def test_normalization_full_width_lower_case_and_spaces(app):
    code, kind = CODES[0]
    full = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    with app.test_request_context():
        assert normalize(" " + full + "\u3000") == code
        assert validate(full, kind) == code
