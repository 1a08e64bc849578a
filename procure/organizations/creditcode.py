"""The unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters from the 31-character set 0–9 A–Y without I, O, Z, S, V:

=====  =========================================================
1      registration management department (登记管理部门); 5 = civil affairs (民政)
2      organization type within that department; for civil affairs
       1 社会团体, 2 民办非企业单位 / 社会服务机构, 3 基金会, 9 other
3–8    administrative division code (行政区划码), six digits
9–17   organization code (主体标识码)
18     check character: 31 − (Σ cᵢ·wᵢ mod 31), wᵢ = 3^(i−1) mod 31, 31 ↦ 0
=====  =========================================================
"""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

from .models import OrgKind

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, …

CIVIL_AFFAIRS = "5"
TYPE_DIGIT = {OrgKind.SOCIAL_GROUP: "1", OrgKind.SERVICE_ORG: "2", OrgKind.FOUNDATION: "3"}
KIND_OF_DIGIT = {v: k for k, v in TYPE_DIGIT.items()}


class CreditCodeError(ValueError):
    """The code is wrong; ``message`` (translatable) says how."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalize(raw: str | None) -> str:
    """Full-width characters to ASCII, spaces removed, upper case."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(text.split()).upper()


def check_character(first17: str) -> str:
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str | None, kind: OrgKind | None = None) -> str:
    """The normalized code, or CreditCodeError saying what is wrong. With ``kind`` the
    type digit must match it (filed organizations hold no code)."""
    code = normalize(raw)
    if not code:
        raise CreditCodeError(_l("The credit code is missing."))
    if len(code) != 18:
        raise CreditCodeError(_l("A credit code has 18 characters; this one has %(n)d.", n=len(code)))
    for pos, char in enumerate(code, start=1):
        if char not in VALUES:
            raise CreditCodeError(_l("Character %(pos)d (“%(c)s”) cannot appear in a credit code "
                                     "(letters I, O, S, V and Z are never used).", pos=pos, c=char))
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(_l("The check character is wrong: the last character should be “%(e)s”, "
                                 "not “%(c)s”; a character of the code was probably mistyped.",
                                 e=expected, c=code[17]))
    if code[0] != CIVIL_AFFAIRS:
        raise CreditCodeError(_l("The code starts with “%(c)s”, but organizations registered by civil "
                                 "affairs have codes starting with 5.", c=code[0]))
    if not code[2:8].isdigit():
        raise CreditCodeError(_l("Characters 3–8 must be the six digits of the division code."))
    if kind is not None:
        if kind == OrgKind.FILED:
            raise CreditCodeError(_l("A filed community organization holds no credit code."))
        want = TYPE_DIGIT[kind]
        if code[1] != want:
            found = KIND_OF_DIGIT.get(code[1])
            raise CreditCodeError(_l(
                "The second character is “%(c)s” (%(found)s), but a %(kind)s has “%(want)s” there.",
                c=code[1], found=found.label if found else _l("another type"), kind=kind.label, want=want))
    elif code[1] not in KIND_OF_DIGIT and code[1] != "9":
        raise CreditCodeError(_l("The second character “%(c)s” is not a civil-affairs organization type.",
                                 c=code[1]))
    return code


def kind_of(code: str) -> OrgKind | None:
    """The kind a valid code's type digit names (None for 9, other)."""
    return KIND_OF_DIGIT.get(code[1]) if len(code) > 1 else None
